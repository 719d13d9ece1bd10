//! `journalctl -o export` (the binary-safe stream: `KEY=value` lines, or `KEY`, a 64-bit
//! little-endian length and raw bytes for values holding newlines or binary data; entries end
//! with a blank line), and `journalctl -o verbose` (a header line with the time and cursor, then
//! indented `KEY=value` lines), which carries the same fields.

use crate::ingest::formats::{Format, Head, ParseCtx};
use crate::ingest::level_guess;
use crate::ingest::multiline::Traceback;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::{SourceBuilder, flag};
use crate::model::time::{Micros, UNTIMED};

pub struct JournalExport;

/// One field of an entry: name and value bytes.
pub type Field<'a> = (&'a [u8], &'a [u8]);

/// Read the export entry starting at `pos`: its fields and the position after it.
/// Stops at a blank line or the end of the data. A binary field that declares more bytes
/// than the stream holds is cut where the next entry begins (`\n\n__CURSOR=`, else the next
/// blank line), which is read on: the third value says so.
pub fn read_entry(data: &[u8], mut pos: usize) -> (Vec<Field<'_>>, usize, bool) {
    let mut fields = Vec::new();
    while pos < data.len() {
        if data[pos] == b'\n' {
            return (fields, pos + 1, false);
        }
        let line_end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let line = &data[pos..line_end];
        if let Some(eq) = memchr::memchr(b'=', line) {
            fields.push((&line[..eq], &line[eq + 1..]));
            pos = (line_end + 1).min(data.len());
            continue;
        }
        // Binary field: NAME\n, u64 LE length, bytes, \n.
        let len_at = line_end + 1;
        let Some(len_bytes) = data.get(len_at..len_at + 8) else {
            return (fields, data.len(), false);
        };
        let mut le = [0u8; 8];
        le.copy_from_slice(len_bytes);
        let len = u64::from_le_bytes(le);
        let start = len_at + 8;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|e| *e <= data.len());
        let Some(end) = end else {
            let rest = data.get(start..).unwrap_or_default();
            let next = memchr::memmem::find(rest, b"\n\n__CURSOR=")
                .or_else(|| memchr::memmem::find(rest, b"\n\n"));
            return match next {
                Some(i) => {
                    fields.push((line, &rest[..i]));
                    (fields, start + i + 2, true)
                }
                None => {
                    fields.push((line, rest));
                    (fields, data.len(), true)
                }
            };
        };
        fields.push((line, &data[start..end]));
        pos = (end + 1).min(data.len());
    }
    (fields, pos, false)
}

fn get<'a>(fields: &[Field<'a>], key: &[u8]) -> Option<&'a [u8]> {
    fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn number(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// `t=` in a cursor is the realtime timestamp in hex.
fn cursor_time(cursor: &[u8]) -> Option<Micros> {
    let s = std::str::from_utf8(cursor).ok()?;
    let t = s.split(';').find_map(|p| p.strip_prefix("t="))?;
    i64::from_str_radix(t, 16).ok()
}

fn is_verbose(data: &[u8]) -> bool {
    let first = data.split(|c| *c == b'\n').next().unwrap_or_default();
    verbose_header(first).is_some()
}

/// `Mon 2023-04-10 22:08:59.159090 UTC [s=...;t=...;x=...]`: the time from the cursor.
fn verbose_header(line: &[u8]) -> Option<Micros> {
    if line.first().is_none_or(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let open = memchr::memrchr(b'[', line)?;
    let inner = line[open + 1..].strip_suffix(b"]")?;
    if !inner.starts_with(b"s=") {
        return None;
    }
    cursor_time(inner)
}

/// Text of one entry: `IDENT[PID]: MESSAGE`.
fn entry_text(fields: &[Field]) -> String {
    let mut out = String::new();
    let ident = get(fields, b"SYSLOG_IDENTIFIER").or_else(|| get(fields, b"_COMM"));
    if let Some(ident) = ident {
        out.push_str(&String::from_utf8_lossy(ident));
        if let Some(pid) = get(fields, b"_PID") {
            out.push('[');
            out.push_str(&String::from_utf8_lossy(pid));
            out.push(']');
        }
        out.push_str(": ");
    }
    out.push_str(&String::from_utf8_lossy(
        get(fields, b"MESSAGE").unwrap_or_default(),
    ));
    out
}

fn parse_verbose(data: &[u8], out: &mut SourceBuilder) {
    crate::ingest::formats::parse_lines(data, out, |line, _| match verbose_header(line) {
        Some(t) => crate::ingest::formats::Line::start(t, Severity::Info),
        None => crate::ingest::formats::Line::Continue,
    });
    // Severity comes from the PRIORITY line inside each entry.
    for row in 0..out.starts.len() {
        let start = out.starts[row] as usize;
        let end = out.starts.get(row + 1).map_or(data.len(), |e| *e as usize);
        let body = &data[start..end];
        if let Some(i) = memchr::memmem::find(body, b"\n    PRIORITY=")
            && let Some(p) = body.get(i + 14).filter(|c| c.is_ascii_digit())
        {
            out.sev[row] = Severity::from_priority(p - b'0');
        }
    }
}

impl Format for JournalExport {
    fn id(&self) -> FormatId {
        FormatId::JournalExport
    }

    fn sniff(&self, head: &Head) -> u8 {
        let first = head.lines.first().copied().unwrap_or_default();
        if first.starts_with(b"__CURSOR=") || first.starts_with(b"__REALTIME_TIMESTAMP=") {
            return 100;
        }
        if is_verbose(head.bytes) {
            return 95;
        }
        0
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        if is_verbose(data) {
            parse_verbose(data, out);
            return;
        }
        let mut pos = 0;
        let mut line = 1usize;
        let mut tb = Traceback::default();
        let mut writer: Vec<u8> = Vec::new();
        let mut cut = 0usize;
        while pos < data.len() {
            let (fields, next, short) = read_entry(data, pos);
            if short {
                cut += 1;
            }
            let lines_here = memchr::memchr_iter(b'\n', &data[pos..next]).count().max(1);
            if fields.is_empty() {
                out.continue_last(pos, line, false);
                out.stats.continuations += lines_here - 1;
            } else {
                let ts = get(&fields, b"__REALTIME_TIMESTAMP")
                    .and_then(number)
                    .or_else(|| get(&fields, b"__CURSOR").and_then(cursor_time));
                let msg = get(&fields, b"MESSAGE").unwrap_or_default();
                let who = [
                    get(&fields, b"_PID").unwrap_or_default(),
                    get(&fields, b"SYSLOG_IDENTIFIER").unwrap_or_default(),
                ]
                .join(&b'/');
                let same = who.len() > 1 && who == writer;
                if same && tb.continues(msg) {
                    out.continue_last(pos, line, false);
                    out.raise_last(Severity::Error);
                    out.stats.continuations += lines_here - 1;
                } else {
                    if !same {
                        tb.reset();
                        writer = who;
                        tb.continues(msg);
                    }
                    let sev = match get(&fields, b"PRIORITY").and_then(number) {
                        Some(p) => Severity::from_priority(p.clamp(0, 7) as u8),
                        None => level_guess::guess(msg),
                    };
                    let sev = if tb.inside() {
                        sev.min(Severity::Error)
                    } else {
                        sev
                    };
                    match ts {
                        Some(t) => out.push(pos, line, t, sev, 0),
                        None => {
                            let prev = out.ts.last().copied().unwrap_or(UNTIMED);
                            out.push(pos, line, prev, sev, flag::UNPARSED | flag::TIME_INHERITED)
                        }
                    }
                    out.stats.continuations += lines_here - 1;
                }
            }
            line += lines_here;
            pos = next;
        }
        if cut > 0 {
            out.notes.push(format!(
                "{cut} entr{} held a binary field that declares more bytes than the stream holds \
                 (a damaged export): each was cut where the next entry begins, and reading went on",
                if cut == 1 { "y" } else { "ies" }
            ));
        }
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "__CURSOR=s=6b1f;i=1a2b;b=9d0e;m=3f1;t=5f9b0c1d2e3f4;x=7a6b\n__REALTIME_TIMESTAMP=1681385044000000\nPRIORITY=3\nSYSLOG_IDENTIFIER=systemd\n_PID=1\nMESSAGE=gunicorn.service: Failed with result 'exit-code'.\n\n\
             __CURSOR=s=6b1f;i=1a2c;b=9d0e;m=3f2;t=5f9b0c1d2e3f5;x=7a6c\n__REALTIME_TIMESTAMP=1681385045000000\nPRIORITY=6\nMESSAGE=Started gunicorn.service.\n\n",
            "Thu 2023-04-13 11:24:04.000000 UTC [s=6b1f;i=1a2b;b=9d0e;m=3f1;t=5f935f6473d00;x=7a6b]\n    PRIORITY=3\n    _PID=1\n    MESSAGE=gunicorn.service: Failed with result 'exit-code'.\n",
        ]
    }

    fn text_from(&self) -> super::TextFrom {
        super::TextFrom::FieldValues
    }

    fn render(&self, raw: &[u8]) -> Option<String> {
        if is_verbose(raw) {
            return None;
        }
        let mut out = String::new();
        let mut pos = 0;
        while pos < raw.len() {
            let (fields, next, _) = read_entry(raw, pos);
            if !fields.is_empty() {
                if out.is_empty() {
                    out.push_str(&entry_text(&fields));
                } else {
                    // Entries joined into one record show the writer once.
                    out.push('\n');
                    let msg = get(&fields, b"MESSAGE").unwrap_or_default();
                    out.push_str(&String::from_utf8_lossy(msg));
                }
            }
            if next <= pos {
                break;
            }
            pos = next;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;

    #[test]
    fn binary_fields_are_read_by_length() {
        let mut data =
            b"__REALTIME_TIMESTAMP=1681385044000000\nPRIORITY=6\n_PID=7\nMESSAGE\n".to_vec();
        let msg = b"line one\nline two\x1b[0m";
        data.extend_from_slice(&(msg.len() as u64).to_le_bytes());
        data.extend_from_slice(msg);
        data.extend_from_slice(b"\n\n__REALTIME_TIMESTAMP=1681385045000000\nMESSAGE=next\n\n");
        let (fields, _, _) = read_entry(&data, 0);
        assert_eq!(get(&fields, b"MESSAGE"), Some(&msg[..]));
        let mut b = SourceBuilder::default();
        JournalExport.parse(&data, &ParseCtx::default(), &mut b);
        assert_eq!(b.stats.records, 2);
        assert_eq!(b.lines, vec![1, 8]);
        let text = JournalExport
            .render(&data[..b.starts[1] as usize])
            .unwrap_or_default();
        assert_eq!(text, "line one\nline two\u{1b}[0m");
    }

    #[test]
    fn verbose_takes_time_from_the_cursor() {
        let b = parse_str(
            &JournalExport,
            JournalExport.samples()[1],
            &ParseCtx::default(),
        );
        assert_eq!(b.stats.records, 1);
        assert_eq!(
            crate::model::time::format_utc(b.ts[0]),
            "2023-04-13T11:24:04.000000Z"
        );
        assert_eq!(b.sev[0], Severity::Error);
    }

    #[test]
    fn a_truncated_binary_field_ends_without_panic() {
        let data = b"MESSAGE\n\xff\xff\xff\xff\xff\xff\xff\x7f";
        let (fields, next, short) = read_entry(data, 0);
        assert_eq!(fields.len(), 1);
        assert_eq!(next, data.len());
        assert!(short);
    }

    #[test]
    fn a_field_longer_than_the_stream_loses_no_entry_after_it() {
        // Entry 1's MESSAGE declares 1 GiB and holds 5 bytes; entries 2 and 3 follow.
        let mut data =
            b"__CURSOR=s=a;t=5f93634c2be6f\n__REALTIME_TIMESTAMP=1681386092000000\nMESSAGE\n"
                .to_vec();
        data.extend_from_slice(&(1u64 << 30).to_le_bytes());
        data.extend_from_slice(b"hello\n\n");
        for (i, t) in [(2, 1681386093000000u64), (3, 1681386094000000)] {
            data.extend_from_slice(
                format!("__CURSOR=s=a;t={t:x}\n__REALTIME_TIMESTAMP={t}\nMESSAGE=entry {i}\n\n")
                    .as_bytes(),
            );
        }
        let b = parse_str_bytes(&data);
        assert_eq!(b.starts.len(), 3, "{:?}", b.notes);
        assert!(
            b.notes
                .iter()
                .any(|n| n.starts_with("1 entry held a binary field that declares more bytes")),
            "{:?}",
            b.notes
        );
    }

    fn parse_str_bytes(data: &[u8]) -> SourceBuilder {
        let mut b = SourceBuilder::default();
        JournalExport.parse(data, &ParseCtx::default(), &mut b);
        b
    }
}
