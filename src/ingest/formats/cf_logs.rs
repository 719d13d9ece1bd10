//! Cloud Foundry `cf logs APP [--recent]`: `2022-07-18T09:38:02.63-0400 [APP/PROC/WEB/0] OUT msg`,
//! as the CLI prints it (often indented when pasted), and the short form some UIs print,
//! `09:38:02.638: [APP/PROC/WEB.0] msg`, whose date is the capture's. Lines without a time
//! continue the message before them; the CLI's own lines (`$ cf logs ...`, `Retrieving logs...`,
//! `Connected, tailing logs...`) are kept as records of their own.

use crate::ingest::formats::nginx_access::bare_request_status;
use crate::ingest::formats::{Format, Head, Line, ParseCtx, parse_lines, sniff_lines};
use crate::ingest::level_guess;
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::Micros;

pub struct CfLogs;

/// `[APP/PROC/WEB/0]` right after the time: the log source tag and the rest of the line.
fn tag(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let b = b.trim_ascii_start().strip_prefix(b"[")?;
    let close = memchr::memchr(b']', b)?;
    let t = &b[..close];
    if t.is_empty() || !t[0].is_ascii_uppercase() || t.contains(&b' ') {
        return None;
    }
    Some((t, b[close + 1..].trim_ascii_start()))
}

/// A parsed cf line: (time, zone known, severity).
fn parse_line(line: &[u8], ctx: &ParseCtx) -> Option<(Micros, bool, Severity)> {
    let b = line.trim_ascii_start();
    let (ts, zoned, rest) = if let Some((t, off, used)) = timestamp::iso(b) {
        (t, off.is_some(), &b[used..])
    } else {
        let (t, used) = time_of_day(b)?;
        (ctx.day_start + t, false, b[used..].strip_prefix(b":")?)
    };
    let (source, rest) = tag(rest)?;
    let (stream, msg) = match rest.get(..4) {
        Some(b"OUT " | b"ERR ") => (&rest[..3], &rest[4..]),
        _ => (&b""[..], rest),
    };
    let sev = if source.starts_with(b"RTR") {
        bare_request_status(msg).map_or(Severity::Info, Severity::from_http_status)
    } else {
        match level_guess::guess(msg) {
            Severity::Info if stream == b"ERR" && msg.starts_with(b"Exit status") => Severity::Warn,
            s => s,
        }
    };
    Some((ts, zoned, sev))
}

/// `09:38:02.638`: micros since midnight and bytes consumed.
fn time_of_day(b: &[u8]) -> Option<(Micros, usize)> {
    let probe = [b"2000-01-01 ".as_slice(), b.get(..b.len().min(20))?].concat();
    let (t, used) = timestamp::ymd_hms(&probe, b'-')?;
    let midnight = timestamp::ymd_hms(b"2000-01-01 00:00:00", b'-')?.0;
    Some((t - midnight, used - 11))
}

fn is_cli_line(line: &[u8]) -> bool {
    let l = line.trim_ascii_start();
    l.starts_with(b"$ ")
        || l.starts_with(b"Retrieving logs")
        || l.starts_with(b"Connected, tailing")
        || l.starts_with(b"Getting ")
        || l.starts_with(b"FAILED")
}

fn scan(line: &[u8], ctx: &ParseCtx) -> Line {
    match parse_line(line, ctx) {
        Some((ts, true, sev)) => Line::start(ts, sev),
        Some((ts, false, sev)) => Line::start_zoneless(ts, sev),
        None => Line::Continue,
    }
}

impl Format for CfLogs {
    fn id(&self) -> FormatId {
        FormatId::CfLogs
    }

    fn sniff(&self, head: &Head) -> u8 {
        let ctx = ParseCtx::default();
        sniff_lines(head, |line| {
            if is_cli_line(line) {
                return Line::Continue;
            }
            match scan(line, &ctx) {
                Line::Continue if !line.starts_with(b" ") && !line.starts_with(b"\t") => {
                    Line::Unparsed
                }
                l => l,
            }
        })
    }

    fn parse(&self, data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder) {
        parse_lines(data, out, |line, b| {
            if is_cli_line(line) {
                let ts = b.ts.last().copied().unwrap_or(crate::model::time::UNTIMED);
                return Line::start(ts, Severity::Info);
            }
            scan(line, ctx)
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "Retrieving logs for app scanner-api in org acme / space prod as ops@example.org...\n\n\
             \x20  2022-07-18T09:38:02.63-0400 [APP/PROC/WEB/0] OUT Initiating virus scan for file: test_Section1\n\
             \x20  2022-07-18T09:38:04.70-0400 [APP/PROC/WEB/0] ERR WARNING:urllib3.connectionpool:Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a2c1b9d90>: Failed to establish a new connection: [Errno 111] Connection refused')': /scan\n\
             \x20  2022-07-18T09:38:05.11-0400 [RTR/1] OUT app.example.org - [2022-07-18T13:38:05.102+0000] \"POST /upload HTTP/1.1\" 502 0 67 \"-\" \"curl/7.81\"\n\
             \x20  2022-07-18T09:38:09.00-0400 [CELL/0] ERR Timed out after 1m0s:\n\
             \x20  health check never passed.\n",
            "09:38:02.638: [APP/PROC/WEB.0] Initiating virus scan for file: test_Section1\n\
             09:38:04.702: [APP/PROC/WEB.0] Retrying (Retry(total=3)) after connection broken\n",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::model::time::format_utc;

    #[test]
    fn full_and_short_forms() {
        let b = parse_str(&CfLogs, CfLogs.samples()[0], &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (5, 2));
        assert_eq!(format_utc(b.ts[1]), "2022-07-18T13:38:02.630000Z");
        assert_eq!(b.sev[2], Severity::Warn);
        assert_eq!(b.sev[3], Severity::Error);
        let ctx = ParseCtx {
            day_start: timestamp::ymd_hms(b"2022-07-18 00:00:00", b'-').map_or(0, |t| t.0),
            ..ParseCtx::default()
        };
        let b = parse_str(&CfLogs, CfLogs.samples()[1], &ctx);
        assert_eq!(format_utc(b.ts[0]), "2022-07-18T09:38:02.638000Z");
        assert_eq!(b.flags[0], crate::model::source::flag::ZONELESS);
    }
}
