//! Log and state formats. A format is one file here plus one line in [`REGISTRY`].
//!
//! Each format can tell from a file's first lines whether the file is its own (`sniff`), parse
//! the whole file into a [`SourceBuilder`] (`parse`), and render a record's raw bytes as text.
//! Each declares sample lines, which the registry test checks: every sample must be recognised
//! as its own format and parse with nothing unparsed.

use std::borrow::Cow;

use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::{MAX_DISPLAY_LINE, SourceBuilder, flag};
use crate::model::time::{Micros, UNTIMED};

pub mod app_command;
pub mod cf_env;
pub mod cf_logs;
pub mod cf_revisions;
pub mod circleci;
pub mod generic;
pub mod gunicorn;
pub mod gunicorn_config;
pub mod journal_export;
pub mod journal_json;
pub mod journal_short;
pub mod netstat;
pub mod nginx_access;
pub mod nginx_config;
pub mod nginx_error;
pub mod nginx_log_format;
pub mod ps;
pub mod python_logging;
pub mod ss;
pub mod systemctl_cat;
pub mod systemctl_list_units;
pub mod systemctl_show;
pub mod systemctl_status;

/// Every format sitrep recognises, most specific first (earlier wins a tie when sniffing).
pub static REGISTRY: &[&dyn Format] = &[
    &journal_export::JournalExport,
    &journal_json::JournalJson,
    &nginx_config::NginxConfig,
    &systemctl_show::SystemctlShow,
    &systemctl_cat::SystemctlCat,
    &systemctl_status::SystemctlStatus,
    &systemctl_list_units::SystemctlListUnits,
    &circleci::CircleCi,
    &cf_revisions::CfRevisions,
    &cf_env::CfEnv,
    &ss::Ss,
    &netstat::Netstat,
    &ps::Ps,
    &nginx_error::NginxError,
    &cf_logs::CfLogs,
    &nginx_access::NginxAccess,
    &gunicorn::Gunicorn,
    &journal_short::JournalShortPrecise,
    &journal_short::JournalShortIso,
    &journal_short::JournalShort,
    &python_logging::PythonLogging,
    &gunicorn_config::GunicornConfig,
];

/// What a parser may need to know beyond the file itself.
#[derive(Debug, Clone)]
pub struct ParseCtx {
    /// Year for formats that print none (`journalctl -o short`): the capture's year.
    pub year: i32,
    /// Month of the capture, so `Dec` lines in a January capture go to the year before.
    pub month: u32,
    /// Midnight (UTC micros) of the capture day, for formats that print only a time of day.
    pub day_start: Micros,
    /// `log_format` directives read from the same host's `nginx -T`.
    pub log_formats: Vec<nginx_log_format::LogFormat>,
}

impl Default for ParseCtx {
    fn default() -> Self {
        ParseCtx {
            year: 1970,
            month: 12,
            day_start: 0,
            log_formats: Vec::new(),
        }
    }
}

impl ParseCtx {
    /// A context for a capture taken in `month` of `year`.
    pub fn captured_in(year: i32, month: u32) -> ParseCtx {
        ParseCtx {
            year,
            month,
            ..ParseCtx::default()
        }
    }
}

/// The first lines of a file and its name: what sniffing looks at.
pub struct Head<'a> {
    pub name: &'a str,
    /// Up to [`HEAD_LINES`] lines, `\r` stripped, blank lines skipped; lines longer than
    /// [`SNIFF_LINE`] are skipped (one odd line must not hide a file's format), unless the
    /// file has no other: then their first [`SNIFF_LINE`] bytes stand for them.
    pub lines: Vec<&'a [u8]>,
    /// Lines skipped for being longer than [`SNIFF_LINE`].
    pub long_lines: usize,
    /// The first bytes of the file, for formats that are not line-based.
    pub bytes: &'a [u8],
}

pub const HEAD_LINES: usize = 40;
/// Longest line sniffing looks at.
pub const SNIFF_LINE: usize = 16 * 1024;
/// How far into a file sniffing looks for its first lines.
const SNIFF_REACH: usize = 4 << 20;

impl<'a> Head<'a> {
    pub fn new(name: &'a str, data: &'a [u8]) -> Head<'a> {
        let bytes = &data[..data.len().min(64 * 1024)];
        let reach = &data[..data.len().min(SNIFF_REACH)];
        let (mut lines, mut long) = (Vec::new(), Vec::new());
        let mut at = 0;
        while at < reach.len() && lines.len() < HEAD_LINES {
            let end = memchr::memchr(b'\n', &reach[at..]).map_or(reach.len(), |i| at + i);
            let line = trim_cr(&reach[at..end]);
            at = end + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if line.len() > SNIFF_LINE {
                long.push(&line[..SNIFF_LINE]);
            } else {
                lines.push(line);
            }
        }
        let long_lines = long.len();
        if lines.is_empty() {
            lines = long.into_iter().take(HEAD_LINES).collect();
        }
        Head {
            name,
            lines,
            long_lines,
            bytes,
        }
    }

    /// The file name without directories.
    pub fn base_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(self.name)
    }
}

/// One format.
pub trait Format: Sync {
    fn id(&self) -> FormatId;
    /// 0 (not this format) to 100 (certainly this format).
    fn sniff(&self, head: &Head) -> u8;
    fn parse(&self, data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder);
    /// Sample inputs: each must sniff as this format and parse with no unparsed line.
    fn samples(&self) -> &'static [&'static str];
    /// Text of one record for people, when the raw bytes are not it (JSON, export).
    fn render(&self, _raw: &[u8]) -> Option<String> {
        None
    }
    /// How the words of a record's text lie in its bytes: what a search of the raw bytes
    /// (the rules' one scan) may assume. A format that renders must say.
    fn text_from(&self) -> TextFrom {
        TextFrom::Bytes
    }
    /// The parsed fields of one record (name, value), read on demand for display and queries.
    fn fields(&self, _raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// How the text of a record is made from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFrom {
    /// The text is the bytes (lossy UTF-8, `\r` dropped, long lines cut with a marker): a
    /// word of the text is in the bytes.
    Bytes,
    /// The text joins field values copied from the bytes with `[`, `]`, `: ` and line breaks:
    /// a word with none of those is in the bytes, unless the value was escaped (a `\` in
    /// the bytes) or written as an array of byte values (`":[`).
    FieldValues,
    /// The text is composed from the bytes: nothing can be assumed.
    Composed,
}

/// How the text of records of format `id` is made from their bytes.
pub fn text_from(id: FormatId) -> TextFrom {
    lookup(id).map_or(TextFrom::Bytes, |f| f.text_from())
}

/// `(name, value)` pairs with lossy UTF-8 values.
pub fn field(name: &str, value: &[u8]) -> (String, String) {
    (
        name.to_string(),
        String::from_utf8_lossy(value).into_owned(),
    )
}

pub fn lookup(id: FormatId) -> Option<&'static dyn Format> {
    if id == FormatId::Generic {
        return Some(&generic::Generic);
    }
    REGISTRY.iter().copied().find(|f| f.id() == id)
}

/// Text of a record: the format's rendering, else lossy UTF-8 with `\r` removed and lines
/// longer than [`MAX_DISPLAY_LINE`] cut with a marker.
pub fn display_text(id: FormatId, raw: &[u8]) -> Cow<'_, str> {
    if let Some(s) = lookup(id).and_then(|f| f.render(raw)) {
        return Cow::Owned(s);
    }
    plain_text(raw)
}

pub fn plain_text(raw: &[u8]) -> Cow<'_, str> {
    // memchr, not a byte loop: a record may be a 500 MB line, and this runs for every look.
    let clean = raw.len() <= MAX_DISPLAY_LINE && memchr::memchr(b'\r', raw).is_none();
    if clean {
        return String::from_utf8_lossy(raw);
    }
    let mut out = String::with_capacity(raw.len().min(MAX_DISPLAY_LINE * 2));
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', raw).chain(std::iter::once(raw.len()));
    for (i, end) in ends.enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = trim_cr(&raw[start..end]);
        start = end + 1;
        if line.len() > MAX_DISPLAY_LINE {
            out.push_str(&String::from_utf8_lossy(&line[..MAX_DISPLAY_LINE]));
            out.push_str(&format!(" [… line cut: {} bytes in all]", line.len()));
        } else {
            out.push_str(&String::from_utf8_lossy(line));
        }
    }
    Cow::Owned(out)
}

pub fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// What a line-based format makes of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// The line starts a record.
    Start {
        ts: Micros,
        sev: Severity,
        zoneless: bool,
    },
    /// The line belongs to the record before it.
    Continue,
    /// The line is a record of its own that prints no time (a message an app server wrote to
    /// stderr between its prefixed lines): it takes the time of the record before it.
    Inherit { sev: Severity },
    /// The line should start a record but does not match the format.
    Unparsed,
}

impl Line {
    pub fn start(ts: Micros, sev: Severity) -> Line {
        Line::Start {
            ts,
            sev,
            zoneless: false,
        }
    }

    pub fn start_zoneless(ts: Micros, sev: Severity) -> Line {
        Line::Start {
            ts,
            sev,
            zoneless: true,
        }
    }
}

/// Walk `data` line by line, feeding each line (without `\n` or `\r`) to `scan`.
/// `scan` also gets the builder so it can raise the last record's severity.
pub fn parse_lines(
    data: &[u8],
    out: &mut SourceBuilder,
    mut scan: impl FnMut(&[u8], &mut SourceBuilder) -> Line,
) {
    let mut pos = 0usize;
    let mut line_no = 0usize;
    while pos < data.len() {
        line_no += 1;
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let line = trim_cr(&data[pos..end]);
        crate::ingest::reclaim::progress(pos);
        let long = line.len() > MAX_DISPLAY_LINE;
        match scan(line, out) {
            Line::Start { ts, sev, zoneless } => {
                let mut f = if long { flag::LONG_LINE } else { 0 };
                if zoneless {
                    f |= flag::ZONELESS;
                }
                out.push(pos, line_no, ts, sev, f);
            }
            Line::Continue => out.continue_last(pos, line_no, long),
            Line::Inherit { sev } => push_inherited(out, pos, line_no, sev, long, 0),
            Line::Unparsed => {
                push_inherited(out, pos, line_no, Severity::Info, long, flag::UNPARSED)
            }
        }
        pos = end + 1;
    }
}

/// Push a record that prints no time of its own: it takes the time (and zone flag) of the record
/// before it, else stays untimed.
fn push_inherited(
    out: &mut SourceBuilder,
    pos: usize,
    line_no: usize,
    sev: Severity,
    long: bool,
    extra: u8,
) {
    let (ts, inherited) = match out.ts.last() {
        Some(t) if *t != UNTIMED => (*t, flag::TIME_INHERITED),
        _ => (UNTIMED, 0),
    };
    let prev_zoneless = out.flags.last().map_or(0, |f| f & flag::ZONELESS);
    let mut f = extra | inherited | prev_zoneless;
    if long {
        f |= flag::LONG_LINE;
    }
    out.push(pos, line_no, ts, sev, f);
}

/// Score a line format on the head: the share of record-start lines among lines that are not
/// continuations, 0 when no line starts a record.
pub fn sniff_lines(head: &Head, mut scan: impl FnMut(&[u8]) -> Line) -> u8 {
    let (mut starts, mut bad) = (0u32, 0u32);
    for line in &head.lines {
        match scan(line) {
            Line::Start { .. } => starts += 1,
            Line::Continue | Line::Inherit { .. } => {}
            Line::Unparsed => bad += 1,
        }
    }
    if starts == 0 {
        return 0;
    }
    (starts * 100 / (starts + bad)) as u8
}

/// Parse `text` with `format` and return the builder (samples and tests).
pub fn parse_str(format: &dyn Format, text: &str, ctx: &ParseCtx) -> SourceBuilder {
    let mut b = SourceBuilder::default();
    format.parse(text.as_bytes(), ctx, &mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sniff::sniff;

    #[test]
    fn every_sample_is_recognised_as_its_own_format_and_fully_parsed() {
        for format in REGISTRY
            .iter()
            .chain([&generic::Generic as &dyn Format].iter())
        {
            assert!(
                !format.samples().is_empty(),
                "{} declares no sample",
                format.id()
            );
            for sample in format.samples() {
                let name = "sample";
                if format.id() != FormatId::Generic {
                    let got = sniff(name, sample.as_bytes());
                    assert_eq!(
                        got,
                        format.id(),
                        "sample of {} sniffed as {got}:\n{sample}",
                        format.id()
                    );
                }
                let b = parse_str(*format, sample, &ParseCtx::captured_in(2023, 4));
                assert!(
                    b.stats.records > 0,
                    "{}: no record from\n{sample}",
                    format.id()
                );
                assert_eq!(
                    b.stats.unparsed,
                    0,
                    "{}: unparsed lines in\n{sample}",
                    format.id()
                );
            }
        }
    }

    #[test]
    fn a_format_that_renders_its_records_says_how_their_words_lie_in_the_bytes() {
        for format in REGISTRY.iter() {
            for sample in format.samples() {
                let b = parse_str(*format, sample, &ParseCtx::captured_in(2023, 4));
                let data = sample.as_bytes();
                for (i, start) in b.starts.iter().enumerate() {
                    let end = b.starts.get(i + 1).map_or(data.len(), |e| *e as usize);
                    let raw = &data[*start as usize..end];
                    if format.render(raw).is_some() {
                        assert_ne!(
                            format.text_from(),
                            TextFrom::Bytes,
                            "{} renders its records but says their text is their bytes",
                            format.id()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unparsed_lines_are_kept_with_the_time_before_them() {
        let mut b = SourceBuilder::default();
        parse_lines(b"a\nb\r\n\nc", &mut b, |l, _| match l {
            b"a" => Line::start(5, Severity::Info),
            b"b" => Line::Unparsed,
            _ => Line::Continue,
        });
        assert_eq!(b.starts, vec![0, 2]);
        assert_eq!(b.ts, vec![5, 5]);
        assert_eq!(b.flags[1], flag::UNPARSED | flag::TIME_INHERITED);
        assert_eq!(b.stats.continuations, 2);
        assert_eq!(b.lines, vec![1, 2]);
    }

    #[test]
    fn long_lines_are_cut_for_display_only() {
        let raw = vec![b'x'; MAX_DISPLAY_LINE + 10];
        let t = plain_text(&raw);
        assert!(t.ends_with("bytes in all]"));
        assert!(t.len() < raw.len() + 64);
    }
}
