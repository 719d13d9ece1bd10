//! nginx access logs: `combined`, `common`, those two with fields appended (`$request_time`,
//! `$upstream_response_time`, `$http_x_forwarded_for`...), JSON lines from a
//! `log_format ... escape=json`, any `log_format` found in the host's `nginx -T`, and access
//! lines wrapped in a syslog prefix (nginx's `access_log syslog:`).

use crate::ingest::formats::journal_short::parse_syslog;
use crate::ingest::formats::nginx_log_format::{LogFormat, Var};
use crate::ingest::formats::{Format, Head, Line, ParseCtx, field, parse_lines, sniff_lines};
use crate::ingest::level_guess;
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::Micros;

pub struct NginxAccess;

/// The formats tried on each line: the host's own first, then nginx's predefined ones.
fn formats(ctx: &ParseCtx) -> Vec<LogFormat> {
    let mut v: Vec<LogFormat> = ctx
        .log_formats
        .iter()
        .filter(|f| f.has_time())
        .cloned()
        .collect();
    v.push(LogFormat::combined());
    v.push(LogFormat::common());
    v
}

/// nginx's predefined formats, compiled once.
fn builtin() -> &'static [LogFormat; 2] {
    static B: std::sync::OnceLock<[LogFormat; 2]> = std::sync::OnceLock::new();
    B.get_or_init(|| [LogFormat::combined(), LogFormat::common()])
}

/// Time and status out of a line matched by `f`.
fn time_status(f: &LogFormat, line: &[u8]) -> Option<(Micros, u16)> {
    let mut ts = None;
    let mut status = 0u16;
    let ok = f.walk(line, |v, value| match v {
        Var::TimeLocal => ts = timestamp::clf(value).map(|(t, _)| t),
        Var::TimeIso8601 => ts = timestamp::iso(value).map(|(t, _, _)| t),
        Var::Msec => ts = msec(value),
        Var::Status => status = parse_status(value).unwrap_or(0),
        _ => {}
    });
    if !ok {
        return None;
    }
    Some((ts?, status))
}

fn parse_status(v: &[u8]) -> Option<u16> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// `$msec`: seconds with a millisecond fraction.
fn msec(v: &[u8]) -> Option<Micros> {
    let s: f64 = std::str::from_utf8(v).ok()?.parse().ok()?;
    Some((s * 1e6).round() as Micros)
}

/// A JSON access line: time from the usual keys, status from `status`.
fn json_line(line: &[u8]) -> Option<(Micros, u16)> {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line).ok()?;
    let mut ts = None;
    for key in [
        "time_iso8601",
        "time",
        "@timestamp",
        "timestamp",
        "time_local",
        "msec",
    ] {
        let Some(val) = v.get(key) else { continue };
        ts = match val {
            serde_json::Value::String(s) => timestamp::iso(s.as_bytes())
                .map(|(t, _, _)| t)
                .or_else(|| timestamp::clf(s.as_bytes()).map(|(t, _)| t))
                .or_else(|| msec(s.as_bytes())),
            serde_json::Value::Number(n) => n.as_f64().map(|s| (s * 1e6).round() as Micros),
            _ => None,
        };
        if ts.is_some() {
            break;
        }
    }
    let status = match v.get("status")? {
        serde_json::Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((ts?, status))
}

/// A combined-like line with extra or missing fields: `[time_local]` somewhere, then a quoted
/// request and a status.
fn loose_line(line: &[u8]) -> Option<(Micros, u16)> {
    let open = memchr::memchr(b'[', line)?;
    let (ts, used) = timestamp::clf(&line[open + 1..])?;
    let after = &line[open + 1 + used..];
    let after = after.strip_prefix(b"] \"")?;
    let close = memchr::memmem::find(after, b"\" ")?;
    let status = after.get(close + 2..close + 5)?;
    Some((ts, parse_status(status)?))
}

/// A request without a time of its own (`"GET / HTTP/1.1" 200 ...`) inside a timed wrapper.
pub fn bare_request_status(payload: &[u8]) -> Option<u16> {
    let q = memchr::memchr(b'"', payload)?;
    let close = memchr::memmem::find(&payload[q + 1..], b"\" ")? + q + 1;
    parse_status(payload.get(close + 2..close + 5)?)
}

struct Scanner {
    formats: Vec<LogFormat>,
    /// Index of the format that matched last; tried first on the next line.
    last: usize,
}

impl Scanner {
    fn new(ctx: &ParseCtx) -> Self {
        Scanner {
            formats: formats(ctx),
            last: 0,
        }
    }

    fn access(&mut self, line: &[u8]) -> Option<(Micros, u16)> {
        if let Some(r) = time_status(&self.formats[self.last], line) {
            return Some(r);
        }
        for (i, f) in self.formats.iter().enumerate() {
            if i != self.last
                && let Some(r) = time_status(f, line)
            {
                self.last = i;
                return Some(r);
            }
        }
        if line.first() == Some(&b'{') {
            return json_line(line);
        }
        loose_line(line)
    }

    fn scan(&mut self, line: &[u8], ctx: &ParseCtx) -> Line {
        if line.is_empty() {
            return Line::Continue;
        }
        if let Some((ts, status)) = self.access(line) {
            return Line::start(ts, Severity::from_http_status(status));
        }
        // `access_log syslog:` and log shippers wrap the line in a syslog prefix; the wrapper's
        // other messages (rotation notices) are records of the same stream.
        if let Some(s) = parse_syslog(line, ctx) {
            let (ts, sev) = match self.access(s.msg) {
                Some((ts, status)) => (ts, Severity::from_http_status(status)),
                None => match bare_request_status(s.msg) {
                    Some(status) => (s.ts, Severity::from_http_status(status)),
                    None => (s.ts, s.pri.unwrap_or_else(|| level_guess::guess(s.msg))),
                },
            };
            return if s.zoneless && ts == s.ts {
                Line::start_zoneless(ts, sev)
            } else {
                Line::start(ts, sev)
            };
        }
        Line::Unparsed
    }
}

impl Format for NginxAccess {
    fn id(&self) -> FormatId {
        FormatId::NginxAccess
    }

    fn sniff(&self, head: &Head) -> u8 {
        // Only direct access lines count: a syslog file with one access line is syslog.
        let ctx = ParseCtx::default();
        let mut sc = Scanner::new(&ctx);
        let mut wrapped = 0u32;
        let score = sniff_lines(head, |line| {
            if let Some(s) = parse_syslog(line, &ctx) {
                if sc.access(s.msg).is_some() || bare_request_status(s.msg).is_some() {
                    wrapped += 1;
                    return Line::start(0, Severity::Info);
                }
                return Line::Unparsed;
            }
            if sc.access(line).is_some() {
                return Line::start(0, Severity::Info);
            }
            Line::Unparsed
        });
        let name_hint = head.base_name().contains("access");
        if head.base_name().contains("gunicorn") {
            // gunicorn's access log looks the same; let its own format have it.
            return score.saturating_sub(10);
        }
        match score {
            0 => 0,
            // Syslog-wrapped access lines: sure only when most lines are access lines.
            _ if wrapped > 0 && wrapped * 2 < head.lines.len() as u32 && !name_hint => 0,
            // At least half the stream is access lines: an access log shipped over syslog.
            _ if wrapped > 0 => 100,
            s => s,
        }
    }

    fn parse(&self, data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut sc = Scanner::new(ctx);
        parse_lines(data, out, |line, _| sc.scan(line, ctx));
    }

    /// The variables of the format that matches the line (the host's `log_format`s first),
    /// or the keys of a JSON line.
    fn fields(&self, raw: &[u8], ctx: &ParseCtx) -> Vec<(String, String)> {
        let line = crate::ingest::formats::trim_cr(raw);
        let host_formats = ctx.log_formats.iter().filter(|f| f.has_time());
        for f in host_formats.chain(builtin().iter()) {
            if let Some(caps) = f.captures(line) {
                let mut v = vec![("log_format".to_string(), f.name.clone())];
                v.extend(caps.iter().map(|(var, val)| field(&var.field_name(), val)));
                return v;
            }
        }
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line) {
            Ok(m) => m
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "192.168.1.20 - - [13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 502 166 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n\
             10.0.0.7 - alice [13/Apr/2023:11:24:05 +0000] \"POST /api/orders HTTP/1.1\" 201 48 \"https://app.example.org/\" \"curl/8.1.2\" 0.012 0.011\n",
            "127.0.0.1 - - [13/Apr/2023:04:24:04 -0700] \"GET /robots.txt HTTP/1.0\" 404 153\n",
            "{\"time\":\"2023-04-13T11:24:04+00:00\",\"remote_addr\":\"10.0.0.7\",\"request\":\"POST /dcim/devices/import/ HTTP/1.1\",\"status\":502,\"request_length\":48213377,\"request_time\":30.004}\n",
            "10.0.0.9 - - [13/Apr/2023:11:24:04 +0000] \"-\" 400 0 \"-\" \"-\"\n",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::model::time::format_utc;

    #[test]
    fn status_sets_severity_and_zone_is_applied() {
        let b = parse_str(&NginxAccess, NginxAccess.samples()[0], &ParseCtx::default());
        assert_eq!(b.sev, vec![Severity::Error, Severity::Info]);
        let b = parse_str(&NginxAccess, NginxAccess.samples()[1], &ParseCtx::default());
        assert_eq!(format_utc(b.ts[0]), "2023-04-13T11:24:04.000000Z");
        assert_eq!(b.sev[0], Severity::Warn);
    }

    #[test]
    fn a_log_format_from_nginx_t_is_used() {
        let ctx = ParseCtx {
            log_formats: vec![LogFormat::compile(
                "main",
                "$remote_addr|$msec|$status|$request",
                false,
            )],
            ..ParseCtx::default()
        };
        let b = parse_str(
            &NginxAccess,
            "10.0.0.1|1681385044.500|504|GET / HTTP/1.1\n",
            &ctx,
        );
        assert_eq!(b.stats.unparsed, 0);
        assert_eq!(format_utc(b.ts[0]), "2023-04-13T11:24:04.500000Z");
        assert_eq!(b.sev[0], Severity::Error);
        let f = NginxAccess.fields(b"10.0.0.1|1681385044.500|504|GET / HTTP/1.1", &ctx);
        assert_eq!(f[0], ("log_format".to_string(), "main".to_string()));
        assert!(
            f.contains(&("status".to_string(), "504".to_string())),
            "{f:?}"
        );
    }

    #[test]
    fn garbage_is_kept_and_flagged() {
        let b = parse_str(&NginxAccess, "not an access line\n", &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.unparsed), (1, 1));
    }
}
