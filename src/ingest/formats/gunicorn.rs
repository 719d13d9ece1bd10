//! gunicorn's own log: `[2023-04-13 11:19:27 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)`.
//! A traceback continues the record before it; any other line without the prefix (what a worker
//! printed to stderr, such as `Failed to find attribute 'app' in 'proj.wsgi'.`) is a record of its
//! own, with the time of the record before it. A gunicorn access
//! log (`--access-logfile`, combined-like by default) is read when the file is named for gunicorn.

use crate::ingest::formats::nginx_access::bare_request_status;
use crate::ingest::formats::python_logging::leading_time;
use crate::ingest::formats::{Format, Head, Line, ParseCtx, field, parse_lines};
use crate::ingest::level_guess;
use crate::ingest::multiline::{Traceback, starts_traceback};
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

/// Words that make an unprefixed line an error: gunicorn prints its app-loading errors
/// (`Failed to find attribute ...`, `Application object must be callable.`) to stderr bare.
const ERROR_WORDS: &[&str] = &[
    "fail",
    "error",
    "exception",
    "cannot",
    "can't",
    "could not",
    "no module named",
    "must be",
    "denied",
    "refused",
];

/// The severity of a line printed without gunicorn's prefix.
fn stderr_severity(line: &[u8]) -> Severity {
    let guessed = level_guess::guess(line);
    if guessed != Severity::Info {
        return guessed;
    }
    let lower = line[..line.len().min(200)].to_ascii_lowercase();
    let says_error = ERROR_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some());
    if says_error {
        Severity::Error
    } else {
        Severity::Info
    }
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
        // A file is gunicorn's when its prefixed lines are gunicorn's: tracebacks and what
        // workers print to stderr sit between them. Lines that start with another kind of
        // time stamp are another format's; plain lines count against only when they outnumber
        // the prefixed ones.
        let (mut starts, mut foreign, mut plain) = (0u32, 0u32, 0u32);
        let mut tb = Traceback::default();
        for line in &head.lines {
            match scan(line) {
                Line::Start { .. } => {
                    starts += 1;
                    tb = Traceback::default();
                }
                _ if tb.continues(line) => {}
                _ if leading_time(line).is_some() => foreign += 1,
                _ => plain += 1,
            }
        }
        if starts == 0 {
            return 0;
        }
        let bad = foreign + plain.saturating_sub(starts);
        (starts * 100 / (starts + bad)) as u8
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut tb = Traceback::default();
        parse_lines(data, out, |line, b| {
            let l = scan(line);
            if let Line::Start { .. } = l {
                tb = Traceback::default();
                return l;
            }
            if tb.continues(line) {
                if starts_traceback(line) {
                    b.raise_last(Severity::Error);
                }
                return Line::Continue;
            }
            if line.trim_ascii().is_empty() {
                return Line::Continue;
            }
            // Printed without the prefix, outside a traceback: what a worker wrote to stderr
            // (`Failed to find attribute 'app' in 'proj.wsgi'.`), a record of its own.
            Line::Inherit {
                sev: stderr_severity(line),
            }
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

/// gunicorn 20.1 (Debian 12) started with a wrong callable (`proj.wsgi:app`), 2 workers,
/// stdout and stderr to one file: each worker prints the import error bare, between the
/// prefixed lines.
#[cfg(test)]
pub(crate) const WRONG_CALLABLE: &str = "\
[2026-12-03 19:00:27 +0000] [9775] [INFO] Starting gunicorn 20.1.0
[2026-12-03 19:00:27 +0000] [9775] [INFO] Listening at: http://127.0.0.1:18001 (9775)
[2026-12-03 19:00:27 +0000] [9775] [INFO] Using worker: sync
[2026-12-03 19:00:27 +0000] [9779] [INFO] Booting worker with pid: 9779
[2026-12-03 19:00:27 +0000] [9781] [INFO] Booting worker with pid: 9781
Failed to find attribute 'app' in 'proj.wsgi'.
[2026-12-03 19:00:27 +0000] [9781] [INFO] Worker exiting (pid: 9781)
Failed to find attribute 'app' in 'proj.wsgi'.
[2026-12-03 19:00:27 +0000] [9779] [INFO] Worker exiting (pid: 9779)
[2026-12-03 19:00:28 +0000] [9775] [WARNING] Worker with pid 9779 was terminated due to signal 15
[2026-12-03 19:00:28 +0000] [9775] [INFO] Shutting down: Master
[2026-12-03 19:00:28 +0000] [9775] [INFO] Reason: App failed to load.
";

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
    fn bare_lines_between_prefixed_ones_are_records_of_their_own() {
        assert_eq!(
            crate::ingest::sniff::sniff("gunicorn.log", WRONG_CALLABLE.as_bytes()),
            FormatId::Gunicorn
        );
        assert_eq!(
            crate::ingest::sniff::sniff("app.log", WRONG_CALLABLE.as_bytes()),
            FormatId::Gunicorn
        );
        let b = parse_str(&Gunicorn, WRONG_CALLABLE, &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (12, 0));
        assert_eq!(b.stats.unparsed, 0);
        // Line 6: its own record, an error, at the time of the line before it.
        assert_eq!(b.lines[5], 6);
        assert_eq!(b.sev[5], Severity::Error);
        assert_eq!(b.ts[5], b.ts[4]);
        assert_ne!(b.flags[5] & crate::model::source::flag::TIME_INHERITED, 0);
        assert_eq!(b.sev[4], Severity::Info);
    }

    #[test]
    fn a_line_after_a_traceback_ends_it() {
        let text = "[2023-04-13 11:21:02 +0000] [9] [ERROR] Exception in worker process\n\
                    Traceback (most recent call last):\n\
                    \x20 File \"/srv/app/wsgi.py\", line 2, in <module>\n\
                    KeyError: 'SECRET_KEY'\n\
                    Internal Server Error: /books/\n";
        let b = parse_str(&Gunicorn, text, &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (2, 3));
        assert_eq!(b.sev[1], Severity::Error);
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
