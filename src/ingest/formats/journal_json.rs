//! `journalctl -o json` (one object per line) and `-o json-pretty` (objects over several lines).
//! Times are `__REALTIME_TIMESTAMP`, UTC microseconds; `MESSAGE` may be a string, a byte array
//! (journald's form for text that is not valid UTF-8 or holds control bytes), or null.
//!
//! Ingest reads only a few keys with byte searches; whole objects are parsed only when a record
//! is shown.

use memchr::memmem::Finder;
use serde_json::Value;

use crate::ingest::formats::{Format, Head, ParseCtx};
use crate::ingest::level_guess;
use crate::ingest::multiline::Traceback;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::{MAX_DISPLAY_LINE, SourceBuilder, flag};
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED};

pub struct JournalJson;

/// Byte searches for the keys ingest needs, built once per file.
struct Keys {
    realtime: Finder<'static>,
    source_realtime: Finder<'static>,
    priority: Finder<'static>,
    pid: Finder<'static>,
    ident: Finder<'static>,
    message: Finder<'static>,
    comm: Finder<'static>,
}

impl Keys {
    /// The finders, built once: building one costs more than searching a short line.
    fn new() -> &'static Keys {
        static KEYS: std::sync::OnceLock<Keys> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| Keys {
            realtime: Finder::new(b"\"__REALTIME_TIMESTAMP\""),
            source_realtime: Finder::new(b"\"_SOURCE_REALTIME_TIMESTAMP\""),
            priority: Finder::new(b"\"PRIORITY\""),
            pid: Finder::new(b"\"_PID\""),
            ident: Finder::new(b"\"SYSLOG_IDENTIFIER\""),
            message: Finder::new(b"\"MESSAGE\""),
            comm: Finder::new(b"\"_COMM\""),
        })
    }
}

/// The raw value after `"KEY"` and its colon: starts at the value's first byte.
fn value_after<'a>(obj: &'a [u8], key: &Finder) -> Option<&'a [u8]> {
    let i = key.find(obj)? + key.needle().len();
    let rest = &obj[i..];
    let skip = rest
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b':'))?;
    Some(&rest[skip..])
}

/// A string value's raw bytes (escapes left as they are), or `None` for non-strings.
fn string_value<'a>(obj: &'a [u8], key: &Finder) -> Option<&'a [u8]> {
    let v = value_after(obj, key)?.strip_prefix(b"\"")?;
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'\\' => i += 2,
            b'"' => return Some(&v[..i]),
            _ => i += 1,
        }
    }
    None
}

fn digits(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// The first bytes of MESSAGE, unescaped enough to recognise traceback lines.
fn message_head(obj: &[u8], keys: &Keys) -> Vec<u8> {
    let Some(v) = value_after(obj, &keys.message) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(64);
    if let Some(s) = v.strip_prefix(b"\"") {
        let mut i = 0;
        while i < s.len() && out.len() < 64 {
            match s[i] {
                b'"' => break,
                b'\\' => {
                    out.push(match s.get(i + 1) {
                        Some(b't') => b'\t',
                        Some(b'n') => b'\n',
                        Some(c) => *c,
                        None => break,
                    });
                    i += 2;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
    } else if let Some(arr) = v.strip_prefix(b"[") {
        let end = memchr::memchr(b']', arr).unwrap_or(arr.len());
        for n in arr[..end].split(|c| *c == b',').take(64) {
            let n = n.trim_ascii();
            if let Some(b) = std::str::from_utf8(n)
                .ok()
                .and_then(|s| s.parse::<u8>().ok())
            {
                out.push(b);
            }
        }
    }
    out
}

/// Objects of a file: one per line, or pretty-printed over lines from `{` to `}`.
/// Calls `each(start, end, first_line, lines_in_object)`.
fn for_each_object(data: &[u8], mut each: impl FnMut(usize, usize, usize, usize)) {
    let mut pos = 0;
    let mut line_no = 0;
    let mut open: Option<(usize, usize, usize)> = None;
    while pos < data.len() {
        line_no += 1;
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let line = data[pos..end].trim_ascii_end();
        crate::ingest::reclaim::progress(pos);
        match &mut open {
            Some((start, first, count)) => {
                *count += 1;
                if line == b"}" {
                    each(*start, end, *first, *count);
                    open = None;
                }
            }
            None if line == b"{" => open = Some((pos, line_no, 1)),
            None => each(pos, end, line_no, 1),
        }
        pos = end + 1;
    }
    if let Some((start, first, count)) = open {
        each(start, data.len(), first, count);
    }
}

impl Format for JournalJson {
    fn id(&self) -> FormatId {
        FormatId::JournalJson
    }

    fn sniff(&self, head: &Head) -> u8 {
        let b = head.bytes.trim_ascii_start();
        if !b.starts_with(b"{") {
            return 0;
        }
        let first = &b[..b.len().min(8192)];
        let k = Keys::new();
        if k.realtime.find(first).is_some() && k.message.find(first).is_some()
            || memchr::memmem::find(first, b"\"__CURSOR\"").is_some()
        {
            95
        } else {
            0
        }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let keys = Keys::new();
        let mut last_writer: (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
        let mut tb = Traceback::default();
        for_each_object(data, |start, end, line, count| {
            let obj = &data[start..end];
            let trimmed = obj.trim_ascii();
            if trimmed.is_empty() {
                out.continue_last(start, line, false);
                return;
            }
            let long = obj.len() > MAX_DISPLAY_LINE;
            let ts = string_value(obj, &keys.realtime)
                .or_else(|| string_value(obj, &keys.source_realtime))
                .and_then(digits);
            let whole = trimmed.starts_with(b"{") && trimmed.ends_with(b"}");
            let Some(ts) = ts.filter(|_| whole) else {
                // A cut or foreign line: kept, flagged, placed at its own time if it has one.
                let prev = out.ts.last().copied().unwrap_or(UNTIMED);
                let (t, inherited) = match ts {
                    Some(t) => (t, 0),
                    None if prev == UNTIMED => (UNTIMED, 0),
                    None => (prev, flag::TIME_INHERITED),
                };
                out.push(start, line, t, Severity::Info, flag::UNPARSED | inherited);
                out.stats.continuations += count - 1;
                return;
            };
            let pid = string_value(obj, &keys.pid).unwrap_or_default();
            let ident = string_value(obj, &keys.ident).unwrap_or_default();
            let msg = message_head(obj, keys);
            // Lines of one message arrive together: same process, within a second.
            let close = out
                .ts
                .last()
                .is_some_and(|t| ts.abs_diff(*t) <= MICROS_PER_SEC.unsigned_abs());
            let same_writer =
                close && !pid.is_empty() && last_writer.0 == pid && last_writer.1 == ident;
            if same_writer && tb.continues(&msg) {
                out.continue_last(start, line, long);
                out.stats.continuations += count - 1;
                out.raise_last(Severity::Error);
                return;
            }
            if !same_writer {
                tb.reset();
                last_writer = (pid.to_vec(), ident.to_vec());
                tb.continues(&msg);
            }
            let sev = match string_value(obj, &keys.priority).and_then(digits) {
                Some(p) => Severity::from_priority(p.clamp(0, 7) as u8),
                None => level_guess::guess(&msg),
            };
            let sev = if tb.inside() {
                sev.min(Severity::Error)
            } else {
                sev
            };
            out.push(
                start,
                line,
                ts as Micros,
                sev,
                if long { flag::LONG_LINE } else { 0 },
            );
            out.stats.continuations += count - 1;
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            concat!(
                r#"{"__CURSOR":"s=6b1f0c2a;i=1a2b;b=9d0e;m=3f1;t=5f9b0c1d2e3f4;x=7a6b","__REALTIME_TIMESTAMP":"1681385044000000","__MONOTONIC_TIMESTAMP":"3537875131","PRIORITY":"6","SYSLOG_IDENTIFIER":"gunicorn","_PID":"788990","_SYSTEMD_UNIT":"gunicorn.service","_TRANSPORT":"stdout","MESSAGE":"Traceback (most recent call last):"}"#,
                "\n",
                r#"{"__CURSOR":"s=6b1f0c2a;i=1a2c;b=9d0e;m=3f2;t=5f9b0c1d2e3f5;x=7a6c","__REALTIME_TIMESTAMP":"1681385044000100","PRIORITY":"6","SYSLOG_IDENTIFIER":"gunicorn","_PID":"788990","_SYSTEMD_UNIT":"gunicorn.service","MESSAGE":"  File \"/srv/app/app/__init__.py\", line 2, in <module>"}"#,
                "\n",
                r#"{"__CURSOR":"s=6b1f0c2a;i=1a2d;b=9d0e;m=3f3;t=5f9b0c1d2e3f6;x=7a6d","__REALTIME_TIMESTAMP":"1681385045000000","PRIORITY":"3","SYSLOG_IDENTIFIER":"systemd","_PID":"1","UNIT":"gunicorn.service","MESSAGE":"gunicorn.service: Failed with result 'exit-code'."}"#,
                "\n",
                r#"{"__CURSOR":"s=6b1f0c2a;i=1a2e;b=9d0e;m=3f4;t=5f9b0c1d2e3f7;x=7a6e","__REALTIME_TIMESTAMP":"1681385046000000","PRIORITY":"6","SYSLOG_IDENTIFIER":"app","_PID":"42","MESSAGE":[27,91,51,49,109,114,101,100,27,91,48,109]}"#,
                "\n"
            ),
            "{\n\t\"__CURSOR\" : \"s=1;i=2;b=3;m=4;t=5;x=6\",\n\t\"__REALTIME_TIMESTAMP\" : \"1681385044000000\",\n\t\"PRIORITY\" : \"4\",\n\t\"MESSAGE\" : \"low disk\"\n}\n",
        ]
    }

    /// The first entry's fields, named as sitrep shows them first (unit, identifier, pid,
    /// priority, host, cursor), then every journal field under its own name.
    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let Some(Ok(Value::Object(o))) = serde_json::Deserializer::from_slice(raw)
            .into_iter::<Value>()
            .next()
        else {
            return Vec::new();
        };
        let mut v = Vec::new();
        for (name, keys) in [
            ("unit", &["_SYSTEMD_UNIT", "UNIT", "USER_UNIT"][..]),
            ("identifier", &["SYSLOG_IDENTIFIER", "_COMM"][..]),
            ("pid", &["_PID", "SYSLOG_PID"][..]),
            ("priority", &["PRIORITY"][..]),
            ("host", &["_HOSTNAME"][..]),
            ("cursor", &["__CURSOR"][..]),
        ] {
            if let Some(val) = keys.iter().find_map(|k| o.get(*k)) {
                v.push((name.to_string(), field_text(Some(val))));
            }
        }
        v.extend(o.iter().map(|(k, val)| (k.clone(), field_text(Some(val)))));
        v
    }

    fn text_from(&self) -> super::TextFrom {
        super::TextFrom::FieldValues
    }

    fn render(&self, raw: &[u8]) -> Option<String> {
        if let Some(fast) = render_one_line(raw) {
            return Some(fast);
        }
        let mut out = String::new();
        for v in serde_json::Deserializer::from_slice(raw).into_iter::<Value>() {
            let Ok(Value::Object(o)) = v else {
                return None;
            };
            // Entries joined into one record (a traceback) show the writer once.
            if !out.is_empty() {
                out.push('\n');
                out.push_str(&field_text(o.get("MESSAGE")));
                continue;
            }
            let ident = o
                .get("SYSLOG_IDENTIFIER")
                .or_else(|| o.get("_COMM"))
                .and_then(Value::as_str);
            if let Some(ident) = ident {
                out.push_str(ident);
                if let Some(pid) = o.get("_PID").and_then(Value::as_str) {
                    out.push('[');
                    out.push_str(pid);
                    out.push(']');
                }
                out.push_str(": ");
            }
            out.push_str(&field_text(o.get("MESSAGE")));
        }
        Some(out)
    }
}

/// `ident[pid]: MESSAGE` of a record that is one object on one line with a string MESSAGE,
/// read with byte searches (the common case, and the one on every hot path); `None` sends the
/// caller to the full JSON parse.
fn render_one_line(raw: &[u8]) -> Option<String> {
    if memchr::memchr(b'\n', raw).is_some() {
        return None;
    }
    let keys = Keys::new();
    let msg = unescape(string_value(raw, &keys.message)?)?;
    let ident = match string_value(raw, &keys.ident) {
        Some(v) => Some(unescape(v)?),
        None => string_value(raw, &keys.comm).and_then(unescape),
    };
    let mut out = String::with_capacity(msg.len() + 32);
    if let Some(ident) = ident {
        out.push_str(&ident);
        if let Some(pid) = string_value(raw, &keys.pid) {
            out.push('[');
            out.push_str(&String::from_utf8_lossy(pid));
            out.push(']');
        }
        out.push_str(": ");
    }
    out.push_str(&msg);
    Some(out)
}

/// The text of a JSON string's raw bytes (between the quotes): escapes resolved, surrogate
/// pairs joined. `None` for malformed escapes (the caller then parses the whole object).
fn unescape(v: &[u8]) -> Option<String> {
    if memchr::memchr(b'\\', v).is_none() {
        return Some(String::from_utf8_lossy(v).into_owned());
    }
    let mut out: Vec<u8> = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] != b'\\' {
            out.push(v[i]);
            i += 1;
            continue;
        }
        let c = *v.get(i + 1)?;
        i += 2;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = |at: usize| -> Option<u32> {
                    u32::from_str_radix(std::str::from_utf8(v.get(at..at + 4)?).ok()?, 16).ok()
                };
                let hi = hex(i)?;
                i += 4;
                if (0xD800..0xDC00).contains(&hi)
                    && v.get(i) == Some(&b'\\')
                    && v.get(i + 1) == Some(&b'u')
                {
                    let lo = hex(i + 2)?;
                    i += 6;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?))?
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            _ => return None,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A journal field as text: strings as they are, byte arrays decoded (lossy), null empty.
pub fn field_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => {
            let bytes: Vec<u8> = a
                .iter()
                .filter_map(|b| b.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;

    #[test]
    fn traceback_entries_join_and_byte_array_messages_decode() {
        let b = parse_str(&JournalJson, JournalJson.samples()[0], &ParseCtx::default());
        assert_eq!(b.stats.records, 3);
        assert_eq!(b.stats.continuations, 1);
        assert_eq!(b.ts[0], 1_681_385_044_000_000);
        assert_eq!(
            b.sev,
            vec![Severity::Error, Severity::Error, Severity::Info]
        );
        let data = JournalJson.samples()[0].as_bytes();
        let last = &data[b.starts[2] as usize..];
        let text = JournalJson.render(last.trim_ascii_end()).unwrap();
        assert_eq!(text, "app[42]: \u{1b}[31mred\u{1b}[0m");
        let f = JournalJson.fields(&data[..b.starts[1] as usize], &ParseCtx::default());
        assert_eq!(f[0], ("unit".to_string(), "gunicorn.service".to_string()));
        assert_eq!(f[1], ("identifier".to_string(), "gunicorn".to_string()));
        assert_eq!(f[2], ("pid".to_string(), "788990".to_string()));
    }

    #[test]
    fn the_fast_rendering_agrees_with_the_full_parse() {
        let lines = [
            r#"{"SYSLOG_IDENTIFIER":"gunicorn","_PID":"7","MESSAGE":"a \"quoted\" tab\there \u00e9 \ud83d\ude00 \\ end"}"#,
            r#"{"_COMM":"python3","MESSAGE":"no ident"}"#,
            r#"{"MESSAGE":"bare"}"#,
        ];
        for l in lines {
            let fast = render_one_line(l.as_bytes()).unwrap();
            let full = {
                let v: Value = serde_json::from_str(l).unwrap();
                let o = v.as_object().unwrap();
                let ident = o
                    .get("SYSLOG_IDENTIFIER")
                    .or_else(|| o.get("_COMM"))
                    .and_then(Value::as_str);
                let mut s = String::new();
                if let Some(i) = ident {
                    s.push_str(i);
                    if let Some(p) = o.get("_PID").and_then(Value::as_str) {
                        s.push_str(&format!("[{p}]"));
                    }
                    s.push_str(": ");
                }
                s.push_str(&field_text(o.get("MESSAGE")));
                s
            };
            assert_eq!(fast, full, "{l}");
        }
        // Byte-array messages take the full parse.
        assert!(render_one_line(br#"{"MESSAGE":[104,105]}"#).is_none());
    }

    #[test]
    fn pretty_objects_are_one_record_each() {
        let b = parse_str(&JournalJson, JournalJson.samples()[1], &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (1, 5));
        assert_eq!(b.sev[0], Severity::Warn);
    }
}
