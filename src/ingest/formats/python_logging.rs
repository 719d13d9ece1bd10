//! Python `logging` output as apps write it to files: a timestamp first (`2023-04-13 11:20:01,123`,
//! ISO 8601 with `.` or `,` fractions and an optional zone, `[...]` around it, or `20230413.112001,123`),
//! then a level word somewhere in the next few fields (`ERROR django.request: ...`,
//! `:WARN:name:msg`, `]ERROR:name:`), and continuation lines (tracebacks, multi-line messages)
//! without a timestamp. Also `Thread::LEVEL::TIME::...` (vdsm-style `%(threadName)s::...`).

use crate::ingest::formats::{Format, Head, Line, ParseCtx, parse_lines, sniff_lines};
use crate::ingest::multiline::starts_traceback;
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{Micros, civil_micros};

pub struct PythonLogging;

/// `20120702.102240,672`: compact date and time.
fn compact(b: &[u8]) -> Option<(Micros, usize)> {
    let d = |r: std::ops::Range<usize>| -> Option<u32> {
        std::str::from_utf8(b.get(r)?).ok()?.parse().ok()
    };
    if b.get(8) != Some(&b'.') || !b[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (y, mo, day, h, mi, s) = (
        d(0..4)?,
        d(4..6)?,
        d(6..8)?,
        d(9..11)?,
        d(11..13)?,
        d(13..15)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut used = 15;
    let mut us = 0;
    if matches!(b.get(15), Some(b',' | b'.')) {
        let n = b[16..].iter().take_while(|c| c.is_ascii_digit()).count();
        let frac = std::str::from_utf8(&b[16..16 + n.min(6)]).ok()?;
        us = frac.parse::<u32>().ok()? * 10u32.pow(6 - n.min(6) as u32);
        used = 16 + n;
    }
    Some((civil_micros(y as i32, mo, day, h, mi, s, us), used))
}

/// Time at the start of the line (after an optional `[`): (micros, zone known, consumed).
pub fn leading_time(line: &[u8]) -> Option<(Micros, bool, usize)> {
    let skip = usize::from(line.first() == Some(&b'['));
    let b = &line[skip..];
    if let Some((t, off, used)) = timestamp::iso(b) {
        // Only a whole zone counts; `...313913FOO` is a zone-less time with junk after it.
        return Some((t, off.is_some(), skip + used));
    }
    compact(b).map(|(t, used)| (t, false, skip + used))
}

/// A level word among the first fields after the time (split on `: []-|` and spaces).
fn level_after(rest: &[u8]) -> Option<Severity> {
    rest[..rest.len().min(80)]
        .split(|c| {
            matches!(
                c,
                b' ' | b':' | b'[' | b']' | b'|' | b'-' | b'\t' | b'(' | b')'
            )
        })
        .filter(|w| !w.is_empty())
        .take(6)
        .find_map(Severity::from_word)
}

/// `MainThread::ERROR::2011-12-05 07:04:56,300::module::74::...`
fn thread_first(line: &[u8]) -> Option<(Micros, Severity)> {
    let a = memchr::memmem::find(line, b"::")?;
    let rest = &line[a + 2..];
    let b = memchr::memmem::find(rest, b"::")?;
    let level = Severity::from_word(&rest[..b])?;
    let (t, _, _) = timestamp::iso(&rest[b + 2..])?;
    Some((t, level))
}

fn scan(line: &[u8]) -> Line {
    if let Some((t, zoned, used)) = leading_time(line) {
        let sev = level_after(&line[used..]).unwrap_or(Severity::Info);
        return if zoned {
            Line::start(t, sev)
        } else {
            Line::start_zoneless(t, sev)
        };
    }
    if let Some((t, sev)) = thread_first(line) {
        return Line::start_zoneless(t, sev);
    }
    Line::Continue
}

impl Format for PythonLogging {
    fn id(&self) -> FormatId {
        FormatId::PythonLogging
    }

    fn sniff(&self, head: &Head) -> u8 {
        // Lines with a level word make it logging output; timestamps alone could be anything.
        let mut levelled = 0u32;
        let mut timed = 0u32;
        let score = sniff_lines(head, |line| {
            let l = scan(line);
            if let Line::Start { .. } = l {
                timed += 1;
                let used = leading_time(line).map_or(0, |(_, _, u)| u);
                if level_after(&line[used..]).is_some() || thread_first(line).is_some() {
                    levelled += 1;
                }
            }
            l
        });
        if timed == 0 || levelled * 2 < timed {
            return 0;
        }
        score.min(90)
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut crate::model::source::SourceBuilder) {
        parse_lines(data, out, |line, b| {
            let l = scan(line);
            if l == Line::Continue && starts_traceback(line) {
                b.raise_last(Severity::Error);
            }
            l
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "2023-04-13 11:20:01,123 ERROR django.request: Internal Server Error: /api/orders\n\
             Traceback (most recent call last):\n\
             \x20 File \"/srv/app/orders/views.py\", line 41, in create\n\
             \x20   total = compute(cart)\n\
             ZeroDivisionError: division by zero\n\
             2023-04-13 11:20:05,001 INFO django.server: \"GET /health HTTP/1.1\" 200 2\n",
            "2023-04-13T11:20:01.123456+00:00:WARNING:rq.worker:job 42 failed, retry in 120s\n",
            "[2023-04-13 11:20:01,123] ERROR in app: Exception on /upload [POST]\n",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;

    #[test]
    fn levels_and_tracebacks() {
        let b = parse_str(
            &PythonLogging,
            PythonLogging.samples()[0],
            &ParseCtx::default(),
        );
        assert_eq!((b.stats.records, b.stats.continuations), (2, 4));
        assert_eq!(b.sev, vec![Severity::Error, Severity::Info]);
        let b = parse_str(
            &PythonLogging,
            "20120702.102240,672:DEBUG:foo\n",
            &ParseCtx::default(),
        );
        assert_eq!(b.sev[0], Severity::Debug);
        assert_eq!(b.stats.unparsed, 0);
    }
}
