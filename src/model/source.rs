//! One source (one file) held as its raw bytes plus columnar arrays: no per-record `String`.

use std::borrow::Cow;
use std::ops::Deref;

use super::format_id::FormatId;
use super::severity::Severity;
use super::time::{Micros, Offset, TzReason, UNTIMED};

/// Record flags, one byte per record.
pub mod flag {
    /// The record's first line did not match its source's format (kept as a record anyway).
    pub const UNPARSED: u8 = 1;
    /// A line of the record is longer than [`super::MAX_DISPLAY_LINE`]; display truncates it.
    pub const LONG_LINE: u8 = 2;
    /// The record has no time of its own and took the time of the record before it.
    pub const TIME_INHERITED: u8 = 4;
    /// The record carries a time that was read without a zone.
    pub const ZONELESS: u8 = 8;
    /// Another access log of the host holds the same request: shown, counted once.
    pub const DUPLICATE: u8 = 16;
}

/// What a record of a file that shrank after it was read shows instead of its text.
pub const GONE: &[u8] = b"[text gone: the file shrank on disk after sitrep read it (rotated?); reopen it to read it again]";

/// Lines longer than this are kept whole but cut for display, with a marker.
pub const MAX_DISPLAY_LINE: usize = 1 << 20;

/// The raw bytes of a source: read into memory or mapped from a file.
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped(super::guarded_map::GuardedMap),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}

/// Counts `sitrep sources` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    pub records: usize,
    pub continuations: usize,
    pub unparsed: usize,
    pub untimed: usize,
}

/// The zone a source's times were read in, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneUsed {
    pub offset: Option<Offset>,
    pub reason: TzReason,
}

/// A parsed source. Rows are in file order; `order` is the time-order permutation when the
/// file is not already sorted.
#[derive(Debug)]
pub struct Source {
    /// Path inside the bundle (or as given), e.g. `nginx/access.log.1`.
    pub file: String,
    /// The rotation group this file belongs to, e.g. `nginx/access.log`.
    pub group: String,
    pub host: String,
    pub format: FormatId,
    pub data: Bytes,
    pub starts: Vec<u64>,
    pub lines: Vec<u32>,
    pub ts: Vec<Micros>,
    pub sev: Vec<Severity>,
    pub flags: Vec<u8>,
    pub order: Option<Vec<u32>>,
    pub stats: SourceStats,
    pub zone: ZoneUsed,
    /// Messages about this source a user should see (truncated archive, bad bytes...).
    pub notes: Vec<String>,
}

impl Source {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Raw bytes of record `row` (file order), without its final line break.
    pub fn raw(&self, row: usize) -> &[u8] {
        let start = self.starts[row] as usize;
        let end = self
            .starts
            .get(row + 1)
            .map_or(self.data.len(), |e| *e as usize);
        let mut r = &self.data[start..end];
        // A record of a mapped file that shrank after it was read is zeros now.
        if r.first() == Some(&0) && matches!(&self.data, Bytes::Mapped(m) if m.shrank()) {
            return GONE;
        }
        while let Some((last, rest)) = r.split_last() {
            if *last == b'\n' || *last == b'\r' {
                r = rest;
            } else {
                break;
            }
        }
        r
    }

    /// Row of the `i`-th record in time order.
    pub fn row_in_time_order(&self, i: usize) -> usize {
        match &self.order {
            Some(p) => p[i] as usize,
            None => i,
        }
    }

    /// Time of the `i`-th record in time order.
    pub fn time_at(&self, i: usize) -> Micros {
        self.ts[self.row_in_time_order(i)]
    }

    /// Number of timed records (they come first in time order; untimed sort last).
    pub fn timed_len(&self) -> usize {
        self.len() - self.stats.untimed
    }

    /// First index in time order whose time is `>= t`.
    pub fn seek(&self, t: Micros) -> usize {
        let (mut lo, mut hi) = (0, self.timed_len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.time_at(mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub fn first_time(&self) -> Option<Micros> {
        (self.timed_len() > 0).then(|| self.time_at(0))
    }

    pub fn last_time(&self) -> Option<Micros> {
        let n = self.timed_len();
        (n > 0).then(|| self.time_at(n - 1))
    }

    /// Hand the file's pages back to the page cache, when it is mapped (a pass over many
    /// records does this now and then; pages come back on the next read).
    pub fn release_pages(&self) {
        if let Bytes::Mapped(m) = &self.data {
            crate::ingest::reclaim::release_all(m);
        }
    }

    /// Text of a record for people: lossy UTF-8, `\r` dropped, long lines cut with a marker.
    pub fn text(&self, row: usize) -> Cow<'_, str> {
        crate::ingest::formats::display_text(self.format, self.raw(row))
    }

    /// Lines `skip..skip + take` of record `row`'s text as [`Source::text`] shows it, each cut
    /// to `max_line` bytes with a marker: what a pane can show of a record, found without
    /// copying or decoding the rest of it (a record may hold a million lines).
    pub fn text_lines(
        &self,
        row: usize,
        skip: usize,
        take: usize,
        max_line: usize,
    ) -> Vec<Cow<'_, str>> {
        let raw = self.raw(row);
        let max_line = max_line.clamp(1, MAX_DISPLAY_LINE);
        // Formats that render their records (journal entries) are shown as rendered.
        if let Some(full) = crate::ingest::formats::lookup(self.format).and_then(|f| f.render(raw))
        {
            return full
                .split('\n')
                .skip(skip)
                .take(take)
                .map(|l| Cow::Owned(cut_line(l.as_bytes(), max_line).into_owned()))
                .collect();
        }
        let mut out = Vec::with_capacity(take.min(1024));
        let mut start = match skip {
            0 => 0,
            n => match nth_line_start(raw, n) {
                Some(i) => i,
                None => return out,
            },
        };
        let first = start;
        let ends = memchr::memchr_iter(b'\n', &raw[first..])
            .map(move |i| i + first)
            .chain(std::iter::once(raw.len()));
        for end in ends {
            if out.len() >= take {
                break;
            }
            let line = crate::ingest::formats::trim_cr(&raw[start..end]);
            out.push(cut_line(line, max_line));
            start = end + 1;
        }
        out
    }

    /// The first line of record `row`'s text, cut to `max_line` bytes, read alone.
    pub fn first_line(&self, row: usize, max_line: usize) -> Cow<'_, str> {
        self.text_lines(row, 0, 1, max_line)
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// How many lines record `row`'s text has.
    pub fn line_count(&self, row: usize) -> usize {
        let raw = self.raw(row);
        if let Some(full) = crate::ingest::formats::lookup(self.format).and_then(|f| f.render(raw))
        {
            return full.split('\n').count();
        }
        memchr::memchr_iter(b'\n', raw).count() + 1
    }
}

/// Builds a [`Source`]'s columns while a parser walks the bytes.
#[derive(Debug, Default)]
pub struct SourceBuilder {
    pub starts: Vec<u64>,
    pub lines: Vec<u32>,
    pub ts: Vec<Micros>,
    pub sev: Vec<Severity>,
    pub flags: Vec<u8>,
    pub stats: SourceStats,
    pub notes: Vec<String>,
}

impl SourceBuilder {
    pub fn with_capacity(n: usize) -> Self {
        SourceBuilder {
            starts: Vec::with_capacity(n),
            lines: Vec::with_capacity(n),
            ts: Vec::with_capacity(n),
            sev: Vec::with_capacity(n),
            flags: Vec::with_capacity(n),
            ..Default::default()
        }
    }

    /// Start a record at byte `start`, 1-based line `line`.
    pub fn push(&mut self, start: usize, line: usize, ts: Micros, sev: Severity, flags: u8) {
        self.starts.push(start as u64);
        self.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        self.ts.push(ts);
        self.sev.push(sev);
        self.flags.push(flags);
        self.stats.records += 1;
        if flags & flag::UNPARSED != 0 {
            self.stats.unparsed += 1;
        }
    }

    /// The line at `start` belongs to the last record; a record is opened if there is none.
    pub fn continue_last(&mut self, start: usize, line: usize, long: bool) {
        match self.flags.last_mut() {
            Some(f) => {
                if long {
                    *f |= flag::LONG_LINE;
                }
                self.stats.continuations += 1;
            }
            None => {
                let flags = if long { flag::LONG_LINE } else { 0 };
                self.push(start, line, UNTIMED, Severity::Info, flags)
            }
        }
    }

    /// Raise the last record's severity to `sev` if that is worse.
    pub fn raise_last(&mut self, sev: Severity) {
        if let Some(s) = self.sev.last_mut() {
            *s = (*s).min(sev);
        }
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// Where line `n` (0-based) of `raw` starts, if it has that many.
fn nth_line_start(raw: &[u8], n: usize) -> Option<usize> {
    memchr::memchr_iter(b'\n', raw).nth(n - 1).map(|i| i + 1)
}

/// One line for display: lossy UTF-8, cut to `max` bytes with a marker saying how long it was.
fn cut_line(line: &[u8], max: usize) -> Cow<'_, str> {
    if line.len() <= max {
        return String::from_utf8_lossy(line);
    }
    let mut s = String::from_utf8_lossy(&line[..max]).into_owned();
    s.push_str(&format!(" [… line cut: {} bytes in all]", line.len()));
    Cow::Owned(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Source {
        let files = crate::ingest::bundle::BundleFiles {
            name: "x".into(),
            manifest: None,
            entries: vec![crate::ingest::bundle::Entry {
                path: "app/app.log".into(),
                data: Bytes::Owned(text.as_bytes().to_vec()),
                mtime: None,
                notes: Vec::new(),
            }],
            notes: Vec::new(),
            loose: false,
        };
        let mut incident = crate::ingest::load_files(files, &Default::default());
        incident.sources.remove(0)
    }

    #[test]
    fn text_lines_window_the_record_as_text_shows_it() {
        let s = one(
            "2023-04-13 11:20:01,123 ERROR app: boom\r\nTraceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: x\n2023-04-13 11:20:02,000 INFO app: ok\n",
        );
        let row = (0..s.len()).find(|r| s.text(*r).contains("boom")).unwrap();
        let whole: Vec<String> = s.text(row).split('\n').map(String::from).collect();
        assert_eq!(s.line_count(row), whole.len());
        for skip in 0..=whole.len() {
            let got: Vec<String> = s
                .text_lines(row, skip, 2, 1 << 20)
                .into_iter()
                .map(|c| c.into_owned())
                .collect();
            let want: Vec<String> = whole.iter().skip(skip).take(2).cloned().collect();
            assert_eq!(got, want, "skip {skip}");
        }
        assert_eq!(s.first_line(row, 1 << 20), whole[0]);
        // A long line is cut, saying how long it was.
        let cut = s.first_line(row, 10);
        assert!(cut.starts_with("2023-04-13"), "{cut}");
        assert!(cut.ends_with("[… line cut: 39 bytes in all]"), "{cut}");
    }
}
