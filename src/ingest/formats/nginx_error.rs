//! nginx's error log: `2023/04/13 11:24:04 [error] 789202#789202: *14 message, client: ...,
//! server: ..., request: "...", upstream: "...", host: "..."`. The time has no zone: it is the
//! host's local time, applied by the loader.

use crate::ingest::formats::{Format, Head, Line, ParseCtx, field, parse_lines, sniff_lines};
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::Micros;

pub struct NginxError;

/// One `key: value` of an error line's context.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// The parts of one error line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLine<'a> {
    /// Naive (zone-less) time.
    pub ts: Micros,
    pub level: Severity,
    pub pid: &'a [u8],
    pub tid: &'a [u8],
    /// Connection number after `*`, when the message is about a connection.
    pub cid: Option<&'a [u8]>,
    pub message: &'a [u8],
    /// Trailing `key: value` context (`client`, `server`, `request`, `upstream`, `host`...).
    pub context: Vec<Pair<'a>>,
}

/// Keys nginx appends to connection messages, in the order it may print them.
const CONTEXT_KEYS: &[&str] = &[
    "client",
    "server",
    "login",
    "upstream",
    "request",
    "subrequest",
    "host",
    "referrer",
];

/// Read one line; `None` when it is not an nginx error line.
pub fn parse_line(line: &[u8]) -> Option<ErrorLine<'_>> {
    let (ts, used) = timestamp::ymd_hms(line, b'/')?;
    let rest = line[used..].strip_prefix(b" [")?;
    let close = memchr::memchr(b']', rest)?;
    let level = Severity::from_word(&rest[..close])?;
    let rest = rest[close + 1..].strip_prefix(b" ")?;
    let hash = memchr::memchr(b'#', rest)?;
    let colon = memchr::memchr(b':', rest)?;
    if hash > colon || !rest[..hash].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (pid, tid) = (&rest[..hash], &rest[hash + 1..colon]);
    let mut msg = rest[colon + 1..]
        .strip_prefix(b" ")
        .unwrap_or(&rest[colon + 1..]);
    let mut cid = None;
    if let Some(m) = msg.strip_prefix(b"*") {
        let n = m.iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 {
            cid = Some(&m[..n]);
            msg = m[n..].strip_prefix(b" ").unwrap_or(&m[n..]);
        }
    }
    let (message, context) = split_context(msg);
    Some(ErrorLine {
        ts,
        level,
        pid,
        tid,
        cid,
        message,
        context,
    })
}

/// Split `message, client: a, server: b, request: "c"` into the message and its context.
fn split_context(msg: &[u8]) -> (&[u8], Vec<Pair<'_>>) {
    let mut cut = msg.len();
    let mut context = Vec::new();
    // Find the first `, KEY: ` with a known key; everything after is context.
    static FINDERS: std::sync::OnceLock<Vec<memchr::memmem::Finder<'static>>> =
        std::sync::OnceLock::new();
    let finders = FINDERS.get_or_init(|| {
        CONTEXT_KEYS
            .iter()
            .map(|key| memchr::memmem::Finder::new(format!(", {key}: ").as_bytes()).into_owned())
            .collect()
    });
    for f in finders {
        if let Some(i) = f.find(msg) {
            cut = cut.min(i);
        }
    }
    let mut rest = &msg[cut..];
    while let Some(r) = rest.strip_prefix(b", ") {
        let Some(colon) = memchr::memmem::find(r, b": ") else {
            break;
        };
        let key = &r[..colon];
        let v = &r[colon + 2..];
        let (value, next) = if let Some(q) = v.strip_prefix(b"\"") {
            match memchr::memchr(b'"', q) {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, &q[q.len()..]),
            }
        } else {
            let end = memchr::memmem::find(v, b", ").unwrap_or(v.len());
            (&v[..end], &v[end..])
        };
        context.push((key, value));
        rest = next;
    }
    (&msg[..cut], context)
}

impl Format for NginxError {
    fn id(&self) -> FormatId {
        FormatId::NginxError
    }

    fn sniff(&self, head: &Head) -> u8 {
        sniff_lines(head, scan)
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        parse_lines(data, out, |line, _| scan(line));
    }

    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let first = raw.split(|c| *c == b'\n').next().unwrap_or_default();
        let Some(e) = parse_line(crate::ingest::formats::trim_cr(first)) else {
            return Vec::new();
        };
        let mut v = vec![
            field("level", e.level.as_str().as_bytes()),
            field("pid", e.pid),
            field("tid", e.tid),
        ];
        if let Some(cid) = e.cid {
            v.push(field("connection", cid));
        }
        v.push(field("message", e.message));
        v.extend(
            e.context
                .iter()
                .map(|(k, val)| field(&String::from_utf8_lossy(k), val)),
        );
        v
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "2023/04/13 11:24:04 [error] 789202#789202: *14 connect() failed (111: Connection refused) while connecting to upstream, client: 192.168.1.20, server: app.example.org, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\", host: \"app.example.org\"\n\
             2023/04/13 11:30:00 [notice] 789200#789200: signal process started\n\
             2023/04/13 11:31:12 [warn] 789202#789202: *99 an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/1/00/0000000001 while reading upstream, client: 10.0.0.7, server: _, request: \"GET /export.csv HTTP/1.1\", upstream: \"http://unix:/run/gunicorn.sock:/export.csv\", host: \"app\"\n",
            "2023/04/13 11:19:00 [emerg] 4321#4321: bind() to 0.0.0.0:80 failed (98: Address already in use)\n",
        ]
    }
}

fn scan(line: &[u8]) -> Line {
    if line.is_empty() {
        return Line::Continue;
    }
    match parse_line(line) {
        Some(e) => Line::start_zoneless(e.ts, e.level),
        None if line[0] == b' ' || line[0] == b'\t' => Line::Continue,
        None => Line::Unparsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_an_upstream_error() {
        let sample = NginxError.samples()[0].lines().next().unwrap_or_default();
        let e = parse_line(sample.as_bytes()).unwrap();
        assert_eq!(e.level, Severity::Error);
        assert_eq!((e.pid, e.cid), (&b"789202"[..], Some(&b"14"[..])));
        assert!(e.message.ends_with(b"while connecting to upstream"));
        let get = |k: &[u8]| e.context.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        assert_eq!(get(b"upstream"), Some(&b"http://127.0.0.1:8000/"[..]));
        assert_eq!(get(b"request"), Some(&b"GET / HTTP/1.1"[..]));
        assert_eq!(get(b"host"), Some(&b"app.example.org"[..]));
        assert_eq!(e.context.len(), 5);
        let f = NginxError.fields(sample.as_bytes(), &ParseCtx::default());
        assert!(f.contains(&("connection".into(), "14".into())), "{f:?}");
        assert!(
            f.contains(&("upstream".into(), "http://127.0.0.1:8000/".into())),
            "{f:?}"
        );
    }

    #[test]
    fn lines_without_connection_or_context() {
        let e = parse_line(b"2023/04/13 11:30:00 [notice] 1#1: signal process started").unwrap();
        assert_eq!(e.cid, None);
        assert!(e.context.is_empty());
        assert!(parse_line(b"2023/04/13 11:30:00 [bogus] 1#1: x").is_none());
    }
}
