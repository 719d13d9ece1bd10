//! Anything no other format claims. A line with a timestamp in one of the common shapes near its
//! start is a record; an indented line continues the record before it; any other line is a
//! record of its own that takes the time before it. Nothing is dropped.

use crate::ingest::formats::python_logging::leading_time;
use crate::ingest::formats::{Format, Head, Line, ParseCtx, parse_lines};
use crate::ingest::level_guess;
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::source::SourceBuilder;
use crate::model::time::{Micros, UNTIMED};

pub struct Generic;

/// How far into a line a timestamp is looked for.
const SEARCH: usize = 64;

/// A timestamp near the start of `line`: (micros, zone known).
pub fn find_time(line: &[u8], ctx: &ParseCtx) -> Option<(Micros, bool)> {
    let window = &line[..line.len().min(SEARCH)];
    for start in 0..window.len() {
        let c = window[start];
        if start > 0 && window[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let b = &line[start..];
        if c.is_ascii_digit() {
            if let Some((t, zoned, _)) = leading_time(b) {
                return Some((t, zoned));
            }
            if let Some((t, _)) = timestamp::ymd_hms(b, b'/') {
                return Some((t, false));
            }
            if let Some((t, _)) = timestamp::clf(b) {
                return Some((t, true));
            }
        } else if c.is_ascii_uppercase()
            && let Some(mo) = timestamp::month_abbr(b)
        {
            let year = timestamp::year_for(mo, ctx.year, ctx.month);
            if let Some((t, _)) = timestamp::syslog(b, year) {
                return Some((t, false));
            }
        }
    }
    None
}

impl Format for Generic {
    fn id(&self) -> FormatId {
        FormatId::Generic
    }

    fn sniff(&self, _head: &Head) -> u8 {
        1
    }

    fn parse(&self, data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder) {
        parse_lines(data, out, |line, b| {
            if let Some((t, zoned)) = find_time(line, ctx) {
                let sev = level_guess::guess(line);
                return if zoned {
                    Line::start(t, sev)
                } else {
                    Line::start_zoneless(t, sev)
                };
            }
            let indented = line.first().is_some_and(|c| *c == b' ' || *c == b'\t');
            if line.is_empty() || (indented && !b.is_empty()) {
                return Line::Continue;
            }
            let ts = b.ts.last().copied().unwrap_or(UNTIMED);
            Line::start(ts, level_guess::guess(line))
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "deploy 42 starting\n2023-04-13T11:24:04Z switched release\n  (symlink updated)\nERROR: smoke test failed\n",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::model::severity::Severity;

    #[test]
    fn every_line_is_kept() {
        let b = parse_str(&Generic, Generic.samples()[0], &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (3, 1));
        assert_eq!(b.ts[0], UNTIMED);
        assert_eq!(b.ts[2], b.ts[1]);
        assert_eq!(b.sev[2], Severity::Error);
        let ctx = ParseCtx::default();
        assert!(find_time(b"web-1 | Apr 13 11:24:04 x", &ctx).is_some());
        assert!(find_time(b"x=20230413", &ctx).is_none());
    }
}
