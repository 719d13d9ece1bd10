//! `journalctl -o short`, `-o short-precise`, `-o short-iso` / `short-iso-precise`, and the
//! syslog files written in the same shapes (RFC 3164 with or without `<PRI>`, RFC 5424).
//!
//! `Apr 13 11:24:04 web1 gunicorn[788984]: message` carries no year and no zone: the year comes
//! from the capture, the zone from the host (the loader applies it). The ISO forms carry both.

use crate::ingest::formats::{Format, Head, Line, ParseCtx, parse_lines, sniff_lines};
use crate::ingest::level_guess;
use crate::ingest::multiline::Traceback;
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::Micros;

/// Which timestamp shape a line starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Short,
    Precise,
    Iso,
}

/// The parts of a syslog-shaped line.
#[derive(Debug, Clone, Copy)]
pub struct SyslogLine<'a> {
    pub ts: Micros,
    pub zoneless: bool,
    pub stamp: Stamp,
    /// Severity from `<PRI>` when the line has one.
    pub pri: Option<Severity>,
    /// `gunicorn[788984]` (identifier and pid), empty when absent.
    pub tag: &'a [u8],
    pub msg: &'a [u8],
}

/// Read the syslog prefix of `line`: `[<PRI>[1 ]]TIME HOST TAG: MSG`.
pub fn parse_syslog<'a>(line: &'a [u8], ctx: &ParseCtx) -> Option<SyslogLine<'a>> {
    let mut b = line;
    let mut pri = None;
    if b.first() == Some(&b'<') {
        let close = b.iter().take(5).position(|c| *c == b'>')?;
        let n: u32 = std::str::from_utf8(&b[1..close]).ok()?.parse().ok()?;
        pri = Some(Severity::from_priority((n & 7) as u8));
        b = &b[close + 1..];
        if b.starts_with(b"1 ") {
            return parse_rfc5424(&b[2..], pri);
        }
    }
    let (ts, zoneless, stamp, used) = if let Some(full) = full_stamp(b) {
        full
    } else if let Some(mo) = timestamp::syslog_month(b) {
        let year = timestamp::year_for(mo, ctx.year, ctx.month);
        let (ts, used) = timestamp::syslog(b, year)?;
        let stamp = if b.get(15) == Some(&b'.') {
            Stamp::Precise
        } else {
            Stamp::Short
        };
        (ts, true, stamp, used)
    } else {
        let (ts, off, used) = timestamp::iso(b)?;
        if pri.is_none() && looks_rfc5424(&b[used..]) {
            return parse_rfc5424(b, None);
        }
        (ts, off.is_none(), Stamp::Iso, used)
    };
    let rest = b[used..].strip_prefix(b" ")?;
    let (tag, msg) = split_host_tag(rest);
    Some(SyslogLine {
        ts,
        zoneless,
        stamp,
        pri,
        tag,
        msg,
    })
}

/// `journalctl -o short-full`: `Fri 2023-12-15 23:44:03 UTC` (weekday, date, time, zone name).
/// Only UTC/GMT names are read as zones; other names leave the time zone-less.
fn full_stamp(b: &[u8]) -> Option<(Micros, bool, Stamp, usize)> {
    let day = b.get(..4)?;
    if !(day[..3].iter().all(u8::is_ascii_alphabetic)
        && day[3] == b' '
        && day[0].is_ascii_uppercase())
    {
        return None;
    }
    let (ts, used) = timestamp::ymd_hms(&b[4..], b'-')?;
    let rest = b[4 + used..].strip_prefix(b" ")?;
    let zlen = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if zlen < 2 || rest.get(zlen) != Some(&b' ') {
        return None;
    }
    let utc = matches!(&rest[..zlen], b"UTC" | b"GMT");
    Some((ts, !utc, Stamp::Short, 4 + used + 1 + zlen))
}

/// After the time: `HOST TAG: MSG` (TAG may be absent, as in kernel lines of some files).
fn split_host_tag(rest: &[u8]) -> (&[u8], &[u8]) {
    let after_host = match memchr::memchr(b' ', rest) {
        Some(i) => &rest[i + 1..],
        None => return (&[], rest),
    };
    match memchr::memmem::find(after_host, b": ") {
        Some(i) if !after_host[..i].contains(&b' ') || after_host[..i].ends_with(b"]") => {
            (&after_host[..i], &after_host[i + 2..])
        }
        _ => match after_host.strip_suffix(b":") {
            Some(tag) if !tag.contains(&b' ') => (tag, &[]),
            _ => (&[], after_host),
        },
    }
}

/// RFC 5424 after `<PRI>1 `: `TIME HOST APP PROCID MSGID SD MSG`.
fn parse_rfc5424(b: &[u8], pri: Option<Severity>) -> Option<SyslogLine<'_>> {
    let (ts, off, used) = if b.starts_with(b"- ") {
        (crate::model::time::UNTIMED, Some(0), 1)
    } else {
        timestamp::iso(b)?
    };
    let mut rest = b[used..].strip_prefix(b" ")?;
    let mut fields: [&[u8]; 4] = [&[]; 4];
    for f in &mut fields {
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        *f = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or(&[]);
    }
    // Structured data: `-` or one or more `[...]` groups.
    if rest.first() == Some(&b'[') {
        let mut depth_end = 0;
        while rest.get(depth_end) == Some(&b'[') {
            let close = memchr::memchr(b']', &rest[depth_end..])?;
            depth_end += close + 1;
        }
        rest = rest[depth_end..]
            .strip_prefix(b" ")
            .unwrap_or(&rest[depth_end..]);
    } else if rest.starts_with(b"- ") || rest == b"-" {
        rest = rest.get(2..).unwrap_or(&[]);
    }
    let msg = rest.strip_prefix("\u{feff}".as_bytes()).unwrap_or(rest);
    Some(SyslogLine {
        ts,
        zoneless: off.is_none(),
        stamp: Stamp::Iso,
        pri,
        tag: fields[1],
        msg,
    })
}

/// After the time, RFC 5424's `HOST APP PROCID MSGID` and structured data (`-` or `[`).
fn looks_rfc5424(rest: &[u8]) -> bool {
    let mut it = rest.trim_ascii_start().splitn(5, |c| *c == b' ');
    let fields: Vec<&[u8]> = it.by_ref().take(4).collect();
    let sd = it.next().unwrap_or_default();
    fields.len() == 4
        && fields.iter().all(|f| !f.is_empty())
        && (sd.starts_with(b"- ") || sd == b"-" || sd.starts_with(b"["))
}

/// journalctl's own marker lines: `-- Boot 1a2b... --`, `-- Logs begin at ... --`.
fn is_marker(line: &[u8]) -> bool {
    line.starts_with(b"-- ") || line.starts_with(b"-- Reboot")
}

/// The line scanner shared by the three formats; only sniffing tells them apart.
struct Scanner<'c> {
    ctx: &'c ParseCtx,
    last_tag: Vec<u8>,
    tb: Traceback,
    any: bool,
}

impl<'c> Scanner<'c> {
    fn new(ctx: &'c ParseCtx) -> Self {
        Scanner {
            ctx,
            last_tag: Vec::new(),
            tb: Traceback::default(),
            any: false,
        }
    }

    fn scan(&mut self, line: &[u8]) -> (Line, Option<Stamp>) {
        if is_marker(line) || line.is_empty() {
            return (Line::Continue, None);
        }
        let Some(s) = parse_syslog(line, self.ctx) else {
            if line[0] == b' ' || line[0] == b'\t' || !self.any {
                // Continuation lines (macOS syslogd indents them) and headers before the first
                // record belong to the record around them.
                return (Line::Continue, None);
            }
            return (Line::Unparsed, None);
        };
        self.any = true;
        if !s.tag.is_empty() && s.tag == self.last_tag.as_slice() {
            if self.tb.continues(s.msg) {
                return (Line::Continue, Some(s.stamp));
            }
        } else {
            self.tb.reset();
            self.last_tag.clear();
            self.last_tag.extend_from_slice(s.tag);
            self.tb.continues(s.msg);
        }
        let sev = s.pri.unwrap_or_else(|| level_guess::guess(s.msg));
        let line = if s.zoneless {
            Line::start_zoneless(s.ts, sev)
        } else {
            Line::start(s.ts, sev)
        };
        (line, Some(s.stamp))
    }
}

fn parse(data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder) {
    let mut sc = Scanner::new(ctx);
    parse_lines(data, out, |line, b| {
        let (l, _) = sc.scan(line);
        if l == Line::Continue && sc.tb.inside() {
            b.raise_last(Severity::Error);
        }
        l
    });
}

fn sniff(head: &Head, want: Stamp) -> u8 {
    let ctx = ParseCtx::default();
    let mut sc = Scanner::new(&ctx);
    sniff_lines(head, |line| match sc.scan(line) {
        // A line counts only with a `tag:` after the host, as syslog writers print it.
        (Line::Start { .. }, Some(stamp))
            if stamp == want && parse_syslog(line, &ctx).is_some_and(|s| !s.tag.is_empty()) =>
        {
            Line::start(0, Severity::Info)
        }
        (Line::Continue, _) => Line::Continue,
        _ => Line::Unparsed,
    })
    .saturating_sub(1)
}

macro_rules! short_format {
    ($name:ident, $id:expr, $stamp:expr, $samples:expr) => {
        pub struct $name;

        impl Format for $name {
            fn id(&self) -> FormatId {
                $id
            }
            fn sniff(&self, head: &Head) -> u8 {
                sniff(head, $stamp)
            }
            fn parse(&self, data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder) {
                parse(data, ctx, out)
            }
            fn samples(&self) -> &'static [&'static str] {
                $samples
            }
        }
    };
}

short_format!(
    JournalShort,
    FormatId::JournalShort,
    Stamp::Short,
    &[
        "Apr 13 11:19:26 web1 systemd[1]: Starting gunicorn.service - app server...\n\
         Apr 13 11:19:27 web1 gunicorn[788984]: [2023-04-13 11:19:27 +0000] [788984] [INFO] Starting gunicorn 20.1.0\n\
         Apr 13 11:19:28 web1 gunicorn[788990]: Traceback (most recent call last):\n\
         Apr 13 11:19:28 web1 gunicorn[788990]:   File \"/srv/app/app/__init__.py\", line 2, in <module>\n\
         Apr 13 11:19:28 web1 gunicorn[788990]: ValueError: boom\n\
         Apr 13 11:19:29 web1 systemd[1]: gunicorn.service: Failed with result 'exit-code'.\n",
        "-- Logs begin at Thu 2023-04-13 10:00:01 UTC, end at Thu 2023-04-13 11:40:00 UTC. --\n\
         Apr  3 09:00:01 web1 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)\n\
         -- Boot 3f2a9c0e5b7d4e21a0c3d9e8f7a6b5c4 --\n\
         Apr  3 09:05:00 web1 kernel: Linux version 6.1.0-18-amd64\n",
        "<13>Apr 13 11:24:04 web1 deploy: release 42 switched\n",
        "Thu 2023-04-13 11:24:04 UTC web1 gunicorn[788984]: [INFO] Booting worker with pid: 788990\n",
    ]
);

short_format!(
    JournalShortPrecise,
    FormatId::JournalShortPrecise,
    Stamp::Precise,
    &[
        "Apr 13 11:19:26.104211 web1 systemd[1]: Started gunicorn.service - app server.\n\
       Apr 13 11:19:27.001873 web1 gunicorn[788984]: [2023-04-13 11:19:27 +0000] [788984] [INFO] Listening at: unix:/run/gunicorn.sock (788984)\n"
    ]
);

short_format!(
    JournalShortIso,
    FormatId::JournalShortIso,
    Stamp::Iso,
    &[
        "2023-04-13T11:19:26+0000 web1 systemd[1]: Started gunicorn.service - app server.\n\
         2023-04-13T11:24:04+0000 web1 nginx[1200]: nginx: [warn] conflicting server name\n",
        "2023-04-13T11:19:26.104211+00:00 web1 systemd[1]: gunicorn.service: Main process exited, code=exited, status=1/FAILURE\n",
        "<165>1 2023-04-13T11:24:04.003Z web1.example.org deployd 4242 ID47 [meta seq=\"1\"] release 42 switched\n",
    ]
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::model::time::format_utc;

    fn ctx() -> ParseCtx {
        ParseCtx::captured_in(2023, 4)
    }

    #[test]
    fn a_traceback_from_one_process_is_one_error_record() {
        let b = parse_str(&JournalShort, JournalShort.samples()[0], &ctx());
        assert_eq!(b.stats.records, 4);
        assert_eq!(b.stats.continuations, 2);
        assert_eq!(b.sev[2], Severity::Error);
        assert_eq!(format_utc(b.ts[0]), "2023-04-13T11:19:26.000000Z");
    }

    #[test]
    fn december_lines_in_a_january_capture_belong_to_the_year_before() {
        let ctx = ParseCtx {
            year: 2024,
            month: 1,
            ..ParseCtx::default()
        };
        let b = parse_str(&JournalShort, "Dec 31 23:59:59 h x: y\n", &ctx);
        assert_eq!(format_utc(b.ts[0]), "2023-12-31T23:59:59.000000Z");
    }

    #[test]
    fn iso_lines_carry_their_zone() {
        let b = parse_str(
            &JournalShortIso,
            "2023-04-13T13:24:04+0200 web1 a[1]: b\n",
            &ctx(),
        );
        assert_eq!(format_utc(b.ts[0]), "2023-04-13T11:24:04.000000Z");
        assert_eq!(b.flags[0], 0);
    }
}
