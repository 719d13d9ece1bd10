//! gunicorn's own log: `[2023-04-13 11:19:27 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)`.
//! Lines without that prefix (tracebacks) continue the record before them. A gunicorn access
//! log (`--access-logfile`, combined-like by default) is read when the file is named for gunicorn.

use crate::ingest::formats::nginx_access::bare_request_status;
use crate::ingest::formats::{Format, Head, Line, ParseCtx, field, parse_lines, sniff_lines};
use crate::ingest::multiline::starts_traceback;
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::Micros;

pub struct Gunicorn;

/// `[TIME] [PID] [LEVEL] message`: (time, level, message).
pub fn parse_line(line: &[u8]) -> Option<(Micros, Option<i32>, Severity, &[u8])> {
    let b = line.strip_prefix(b"[")?;
    let (ts, off, used) = timestamp::iso(b)?;
    let b = b[used..].strip_prefix(b"] [")?;
    let close = memchr::memchr(b']', b)?;
    if close == 0 || !b[..close].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let b = b[close + 1..].strip_prefix(b" [")?;
    let close = memchr::memchr(b']', b)?;
    let level = Severity::from_word(&b[..close])?;
    let msg = b[close + 1..].strip_prefix(b" ").unwrap_or(&b[close + 1..]);
    Some((ts, off, level, msg))
}

fn scan(line: &[u8]) -> Line {
    if let Some((ts, off, level, _)) = parse_line(line) {
        return if off.is_some() {
            Line::start(ts, level)
        } else {
            Line::start_zoneless(ts, level)
        };
    }
    if let Some(open) = memchr::memchr(b'[', line).filter(|i| *i < 64)
        && let Some((ts, _)) = timestamp::clf(&line[open + 1..])
        && let Some(status) = bare_request_status(&line[open..])
    {
        return Line::start(ts, Severity::from_http_status(status));
    }
    Line::Continue
}

impl Format for Gunicorn {
    fn id(&self) -> FormatId {
        FormatId::Gunicorn
    }

    fn sniff(&self, head: &Head) -> u8 {
        let own = head.lines.iter().any(|l| parse_line(l).is_some());
        if !own && !head.base_name().contains("gunicorn") {
            return 0;
        }
        sniff_lines(head, |line| match scan(line) {
            // Traceback text is expected between records; anything else unprefixed is not ours.
            Line::Continue
                if !(line.starts_with(b" ")
                    || line.starts_with(b"\t")
                    || starts_traceback(line)
                    || line.contains(&b':')) =>
            {
                Line::Unparsed
            }
            l => l,
        })
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        parse_lines(data, out, |line, b| {
            let l = scan(line);
            if l == Line::Continue && starts_traceback(line) {
                b.raise_last(Severity::Error);
            }
            l
        });
    }

    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let first = raw.split(|c| *c == b'\n').next().unwrap_or_default();
        let first = crate::ingest::formats::trim_cr(first);
        let Some((_, _, level, msg)) = parse_line(first) else {
            return Vec::new();
        };
        let pid = first
            .split(|c| *c == b'[' || *c == b']')
            .nth(3)
            .unwrap_or_default();
        vec![
            field("pid", pid),
            field("level", level.as_str().as_bytes()),
            field("message", msg),
        ]
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "[2023-04-13 11:19:27 +0000] [788984] [INFO] Starting gunicorn 20.1.0\n\
           [2023-04-13 11:19:27 +0000] [788984] [INFO] Listening at: unix:/run/gunicorn.sock (788984)\n\
           [2023-04-13 11:19:27 +0000] [788984] [INFO] Using worker: sync\n\
           [2023-04-13 11:19:27 +0000] [788990] [INFO] Booting worker with pid: 788990\n\
           [2023-04-13 11:21:02 +0000] [788990] [ERROR] Exception in worker process\n\
           Traceback (most recent call last):\n\
           \x20 File \"/srv/app/venv/lib/python3.11/site-packages/gunicorn/arbiter.py\", line 589, in spawn_worker\n\
           \x20   worker.init_process()\n\
           ImportError: cannot import name 'notify' from 'app.utils'\n\
           [2023-04-13 11:24:34 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)\n",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;

    #[test]
    fn tracebacks_belong_to_the_record_before() {
        let b = parse_str(&Gunicorn, Gunicorn.samples()[0], &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (6, 4));
        assert_eq!(b.sev[4], Severity::Error);
        assert_eq!(b.sev[5], Severity::Crit);
        assert_eq!(b.lines[5], 10);
        let f = Gunicorn.fields(
            b"[2023-04-13 11:24:34 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)",
            &ParseCtx::default(),
        );
        assert_eq!(f[0], ("pid".to_string(), "788984".to_string()));
        assert_eq!(f[2].1, "WORKER TIMEOUT (pid:788990)");
    }

    #[test]
    fn an_access_log_named_for_gunicorn_is_read() {
        let text = "127.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 500 12 \"-\" \"curl/8\"\n";
        let head = Head::new("app/gunicorn-access.log", text.as_bytes());
        assert!(Gunicorn.sniff(&head) > 90);
        let b = parse_str(&Gunicorn, text, &ParseCtx::default());
        assert_eq!(b.sev[0], Severity::Error);
    }
}
