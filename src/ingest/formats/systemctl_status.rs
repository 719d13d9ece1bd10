//! `systemctl status UNIT...` and `systemctl status --all`: one block per unit (or host), each
//! a `● nginx.service - Description` header, indented `Loaded:` / `Active:` / `CGroup:` lines
//! and cgroup tree (`├─`, `└─`, or `|-`, `` `- `` in non-UTF-8 locales, where the bullet is `*`),
//! then the unit's journal tail in `journalctl -o short` shape.
//!
//! Records: a header starts an untimed record holding its indented lines; each journal line is
//! a record with its time (no year and no zone: the capture's year, the host's zone). The lines
//! systemctl prints around the blocks (`Job for nginx.service failed...`, `Warning: ... changed
//! on disk`, `Unit x.service could not be found.`) are records of their own. Output captured
//! through vagrant or ansible, with `default: ` before every line, is read through that prefix.

use serde::Serialize;

use super::journal_short::parse_syslog;
use super::systemctl_list_units::is_unit_name;
use super::{Format, Head, Line, ParseCtx, parse_lines, trim_cr};
use crate::ingest::level_guess;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::{Micros, Offset, UNTIMED};

pub struct SystemctlStatus;

/// One unit block of `systemctl status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitStatus {
    /// `nginx.service` (or the host name for the first block of `status --all`).
    pub unit: String,
    pub description: String,
    /// `loaded (/lib/systemd/system/nginx.service; enabled; vendor preset: enabled)`.
    pub loaded: Option<String>,
    /// `active`, `failed`, `inactive`, `activating`...
    pub active: Option<String>,
    /// The words in parentheses after the state: `running`, `Result: exit-code`, `auto-restart`.
    pub sub: Option<String>,
    /// `exit-code` out of `(Result: exit-code)`.
    pub result: Option<String>,
    /// `Tue 2024-01-16 07:04:25 UTC` as printed.
    pub since: Option<String>,
    /// `since` as UTC microseconds when its zone is UTC or an offset.
    pub since_utc: Option<Micros>,
    pub main_pid: Option<u32>,
    /// What follows the pid: `(nginx)`, `(code=exited, status=1/FAILURE)`.
    pub main_pid_note: Option<String>,
    /// Every `Key: value` line in order (`Process`, `Tasks`, `Memory`, `Docs`...).
    pub fields: Vec<(String, String)>,
    /// The cgroup tree lines under `CGroup:`, trimmed.
    pub cgroup: Vec<String>,
    /// systemctl warned that the unit file changed on disk (`systemctl daemon-reload` needed).
    pub needs_daemon_reload: bool,
    /// The journal tail lines.
    pub journal: Vec<TailLine>,
}

/// A journal line of a status block: its byte range in the text given and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TailLine {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl UnitStatus {
    /// The first `Key: value` field named `key`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_failed(&self) -> bool {
        self.active.as_deref() == Some("failed")
    }
}

/// The bullets systemd puts before a unit: UTF-8 and the ASCII fallbacks.
const BULLETS: &[&str] = &["●", "○", "×", "↻", "*", "x"];

/// `● nginx.service - A high performance web server` (or `* myhost` in `status --all`):
/// the unit and the description.
fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = BULLETS.iter().find_map(|b| {
        line.strip_prefix(b.as_bytes())
            .and_then(|r| r.strip_prefix(b" "))
    })?;
    let end = rest
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(rest.len());
    let (unit, after) = rest.split_at(end);
    if unit.is_empty() {
        return None;
    }
    if after.trim_ascii().is_empty() {
        return Some((unit, &[]));
    }
    let desc = after.strip_prefix(b" - ")?;
    is_unit_name(unit).then_some((unit, desc.trim_ascii_end()))
}

/// Does an indented line open a unit block (`Loaded:`, or `State:` for the host)?
fn is_first_field(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    line.len() > t.len() && (t.starts_with(b"Loaded: ") || t.starts_with(b"State: "))
}

/// The text a provisioner put before every line: `    default:` (vagrant), `web1:`.
/// Found on a header line followed by its `Loaded:` line; empty when there is none.
fn find_prefix<'a>(lines: &[&'a [u8]]) -> Option<&'a [u8]> {
    for pair in lines.windows(2) {
        let line = pair[0];
        if header(line).is_some() && is_first_field(pair[1]) {
            return Some(&[]);
        }
        for b in BULLETS {
            let Some(i) = memchr::memmem::find(line, b.as_bytes()) else {
                continue;
            };
            let pre = &line[..i];
            let word = pre.trim_ascii();
            let plain = word.is_empty()
                || (word.ends_with(b":") && !word.iter().any(u8::is_ascii_whitespace));
            if pre.is_empty() || !plain || header(&line[i..]).is_none() {
                continue;
            }
            let prefix = if word.is_empty() {
                pre
            } else {
                pre.trim_ascii_end()
            };
            if pair[1]
                .strip_prefix(prefix)
                .is_some_and(|next| is_first_field(strip_one_space(next, prefix)))
            {
                return Some(prefix);
            }
        }
    }
    None
}

fn strip_one_space<'a>(rest: &'a [u8], prefix: &[u8]) -> &'a [u8] {
    if prefix.ends_with(b":") {
        rest.strip_prefix(b" ").unwrap_or(rest)
    } else {
        rest
    }
}

/// `line` without `prefix` (and the one space after a `name:` prefix).
fn unprefixed<'a>(line: &'a [u8], prefix: &[u8]) -> &'a [u8] {
    match line.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() => strip_one_space(rest, prefix),
        _ => line,
    }
}

/// Lines systemctl prints outside the unit blocks, with their severity.
fn message(line: &[u8]) -> Option<Severity> {
    if line.starts_with(b"Job for ")
        || line.starts_with(b"Failed to ")
        || (line.starts_with(b"Unit ")
            && (line.ends_with(b"could not be found.") || line.ends_with(b"not found.")))
    {
        return Some(Severity::Error);
    }
    if line.starts_with(b"Warning: ") {
        return Some(Severity::Warn);
    }
    if line.starts_with(b"Hint: ") {
        return Some(Severity::Info);
    }
    None
}

/// Severity an indented line gives its block: a failed or missing unit, a degraded host.
fn block_severity(line: &[u8]) -> Option<Severity> {
    let t = line.trim_ascii_start();
    if t.starts_with(b"Active: failed") || t.starts_with(b"Loaded: error") {
        Some(Severity::Error)
    } else if t.starts_with(b"Active: activating (auto-restart)")
        || t.starts_with(b"Loaded: not-found")
        || t.starts_with(b"Loaded: bad-setting")
        || t.starts_with(b"State: degraded")
    {
        Some(Severity::Warn)
    } else {
        None
    }
}

fn scan(line: &[u8], ctx: &ParseCtx) -> Line {
    // `TriggeredBy:` is the longest key, printed without indentation.
    if line.trim_ascii().is_empty()
        || line[0].is_ascii_whitespace()
        || line.starts_with(b"TriggeredBy: ")
    {
        return Line::Continue;
    }
    if header(line).is_some() {
        return Line::start(UNTIMED, Severity::Info);
    }
    if let Some(s) = parse_syslog(line, ctx) {
        let sev = level_guess::guess(s.msg);
        return if s.zoneless {
            Line::start_zoneless(s.ts, sev)
        } else {
            Line::start(s.ts, sev)
        };
    }
    if let Some(sev) = message(line) {
        return Line::start(UNTIMED, sev);
    }
    // journalctl's markers (`-- No entries --`), the second line of `Job for ...` and pager
    // leftovers belong to the record before them.
    if line.starts_with(b"-- ") || line.starts_with(b"lines ") || line.starts_with(b"See \"") {
        return Line::Continue;
    }
    Line::Unparsed
}

fn head_prefix<'a>(lines: &[&'a [u8]]) -> &'a [u8] {
    find_prefix(lines).unwrap_or(&[])
}

impl Format for SystemctlStatus {
    fn id(&self) -> FormatId {
        FormatId::SystemctlStatus
    }

    fn sniff(&self, head: &Head) -> u8 {
        let Some(prefix) = find_prefix(&head.lines) else {
            // Outputs without a block: a missing unit, a job failure with its hint.
            let sure = head.lines.iter().take(3).any(|l| {
                (l.starts_with(b"Unit ") && l.ends_with(b"could not be found."))
                    || (l.starts_with(b"Job for ") && memchr::memmem::find(l, b" failed").is_some())
            });
            let ctx = ParseCtx::default();
            let all = head.lines.iter().all(|l| scan(l, &ctx) != Line::Unparsed);
            return if sure && all { 100 } else { 0 };
        };
        let ctx = ParseCtx::default();
        let (mut good, mut bad) = (0u32, 0u32);
        for l in &head.lines {
            match scan(unprefixed(l, prefix), &ctx) {
                Line::Unparsed => bad += 1,
                _ => good += 1,
            }
        }
        let share = (good * 100 / (good + bad).max(1)) as u8;
        if share >= 80 { 100 } else { share }
    }

    fn parse(&self, data: &[u8], ctx: &ParseCtx, out: &mut SourceBuilder) {
        let first: Vec<&[u8]> = data.split(|b| *b == b'\n').take(200).map(trim_cr).collect();
        let prefix = head_prefix(&first);
        parse_lines(data, out, |line, b| {
            let line = unprefixed(line, prefix);
            let l = scan(line, ctx);
            if l == Line::Continue
                && let Some(sev) = block_severity(line)
            {
                b.raise_last(sev);
            }
            l
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "● gunicorn.service - gunicorn daemon for the shop app\n\
             \x20    Loaded: loaded (/etc/systemd/system/gunicorn.service; enabled; preset: enabled)\n\
             \x20    Active: failed (Result: exit-code) since Thu 2023-04-13 11:19:29 UTC; 5min ago\n\
             TriggeredBy: ● gunicorn.socket\n\
             \x20   Process: 788984 ExecStart=/srv/shop/venv/bin/gunicorn --workers 3 --bind unix:/run/gunicorn.sock shop.wsgi:application (code=exited, status=1/FAILURE)\n\
             \x20  Main PID: 788984 (code=exited, status=1/FAILURE)\n\
             \x20       CPU: 1.204s\n\
             \n\
             Apr 13 11:19:27 web1 systemd[1]: Started gunicorn.service - gunicorn daemon for the shop app.\n\
             Apr 13 11:19:28 web1 gunicorn[788984]: [2023-04-13 11:19:28 +0000] [788984] [INFO] Worker exiting (pid: 788990)\n\
             Apr 13 11:19:29 web1 systemd[1]: gunicorn.service: Main process exited, code=exited, status=1/FAILURE\n\
             Apr 13 11:19:29 web1 systemd[1]: gunicorn.service: Failed with result 'exit-code'.\n\
             Warning: The unit file, source configuration file or drop-ins of gunicorn.service changed on disk. Run 'systemctl daemon-reload' to reload units.\n",
            "* nginx.service - A high performance web server and a reverse proxy server\n\
             \x20  Loaded: loaded (/lib/systemd/system/nginx.service; enabled; vendor preset: enabled)\n\
             \x20  Active: active (running) since Thu 2023-04-13 09:02:11 UTC; 2h 22min ago\n\
             \x20    Docs: man:nginx(8)\n\
             \x20Main PID: 1200 (nginx)\n\
             \x20   Tasks: 3 (limit: 2287)\n\
             \x20  CGroup: /system.slice/nginx.service\n\
             \x20          |-1200 nginx: master process /usr/sbin/nginx -g daemon on; master_process on;\n\
             \x20          `-1201 nginx: worker process\n\
             \n\
             Apr 13 09:02:11 web1 systemd[1]: Starting A high performance web server and a reverse proxy server...\n\
             Apr 13 09:02:11 web1 systemd[1]: Started A high performance web server and a reverse proxy server.\n",
            "    web1: Job for nginx.service failed because the control process exited with error code.\n\
             \x20   web1: See \"systemctl status nginx.service\" and \"journalctl -xeu nginx.service\" for details.\n\
             \x20   web1: × nginx.service - A high performance web server and a reverse proxy server\n\
             \x20   web1:      Loaded: loaded (/lib/systemd/system/nginx.service; enabled; preset: enabled)\n\
             \x20   web1:      Active: failed (Result: exit-code) since Thu 2023-04-13 11:30:02 UTC; 8ms ago\n\
             \x20   web1:\n\
             \x20   web1: Apr 13 11:30:02 web1 nginx[2101]: nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n",
        ]
    }
}

/// Lines of `text` with the byte offset of each, `\r` removed.
fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut pos = 0usize;
    text.split('\n').map(move |l| {
        let at = pos;
        pos += l.len() + 1;
        (at, l.strip_suffix('\r').unwrap_or(l))
    })
}

/// A `Key: value` line of a block (`   Main PID: 3328 (nginx)`): key and value.
fn field_line(t: &str) -> Option<(&str, &str)> {
    let (k, v) = t
        .split_once(": ")
        .or_else(|| t.strip_suffix(':').map(|k| (k, "")))?;
    let ok = k.len() <= 24
        && k.starts_with(|c: char| c.is_ascii_uppercase())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    ok.then_some((k, v.trim()))
}

/// `failed (Result: exit-code) since Tue 2024-01-16 07:04:25 UTC; 13s ago`.
fn read_active(u: &mut UnitStatus, v: &str) {
    let (state, mut rest) = v.split_once(' ').unwrap_or((v, ""));
    u.active = Some(state.to_string());
    rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('(')
        && let Some(close) = inner.find(')')
    {
        let sub = &inner[..close];
        u.result = sub.strip_prefix("Result: ").map(str::to_string);
        u.sub = Some(sub.to_string());
        rest = &inner[close + 1..];
    }
    if let Some(i) = rest.find("since ") {
        let since = rest[i + 6..].split(';').next().unwrap_or("").trim();
        u.since = Some(since.to_string());
        u.since_utc = since_utc(since);
    }
}

/// `Tue 2024-01-16 07:04:25 UTC` (or `+02:00`) as UTC; `None` for zone names like `CET`.
fn since_utc(s: &str) -> Option<Micros> {
    let b = s.as_bytes();
    let at = b.iter().position(u8::is_ascii_digit)?;
    let (naive, used) = crate::ingest::timestamp::ymd_hms(&b[at..], b'-')?;
    let zone = s.get(at + used..)?.trim();
    let off = Offset::parse(zone)?;
    Some(naive - i64::from(off.seconds()) * 1_000_000)
}

/// Typed reading of `systemctl status` output: one [`UnitStatus`] per block.
pub fn parse_status(text: &str) -> Vec<UnitStatus> {
    let first: Vec<&[u8]> = text
        .split('\n')
        .take(200)
        .map(|l| trim_cr(l.as_bytes()))
        .collect();
    let prefix = head_prefix(&first);
    let ctx = ParseCtx::default();
    let mut units: Vec<UnitStatus> = Vec::new();
    let mut last_key = String::new();
    for (at, raw) in lines_with_offsets(text) {
        let Ok(line) = std::str::from_utf8(unprefixed(raw.as_bytes(), prefix)) else {
            continue;
        };
        if let Some((unit, desc)) = header(line.as_bytes()) {
            units.push(UnitStatus {
                unit: String::from_utf8_lossy(unit).into_owned(),
                description: String::from_utf8_lossy(desc).into_owned(),
                ..UnitStatus::default()
            });
            last_key.clear();
            continue;
        }
        if line.contains("changed on disk") && line.starts_with("Warning: ") {
            mark_reload(&mut units, line);
            continue;
        }
        let Some(u) = units.last_mut() else { continue };
        if line.starts_with(|c: char| c.is_ascii_whitespace()) || line.starts_with("TriggeredBy: ")
        {
            read_block_line(u, line.trim(), &mut last_key);
        } else if parse_syslog(line.as_bytes(), &ctx).is_some() {
            u.journal.push(TailLine {
                start: at,
                end: at + raw.len(),
                text: line.to_string(),
            });
        }
    }
    units
}

fn read_block_line(u: &mut UnitStatus, t: &str, last_key: &mut String) {
    if t.is_empty() {
        return;
    }
    match field_line(t) {
        Some((k, v)) if last_key != "CGroup" || !v.is_empty() || k == "CGroup" => {
            match k {
                "Loaded" => u.loaded = Some(v.to_string()),
                "Active" => read_active(u, v),
                "Main PID" => {
                    let (pid, note) = v.split_once(' ').unwrap_or((v, ""));
                    u.main_pid = pid.parse().ok();
                    u.main_pid_note = (!note.is_empty()).then(|| note.trim().to_string());
                }
                _ => {}
            }
            u.fields.push((k.to_string(), v.to_string()));
            *last_key = k.to_string();
        }
        _ if last_key == "CGroup" => u.cgroup.push(t.to_string()),
        _ => {
            if let Some((_, v)) = u.fields.last_mut() {
                v.push(' ');
                v.push_str(t);
            }
        }
    }
}

/// `Warning: The unit file, source configuration file or drop-ins of X changed on disk...`:
/// mark the unit it names, else the block before it.
fn mark_reload(units: &mut [UnitStatus], line: &str) {
    let named = line
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', '.', ':', '\'']))
        .find(|w| is_unit_name(w.as_bytes()));
    let idx = named
        .and_then(|n| units.iter().rposition(|u| u.unit == n))
        .or(units.len().checked_sub(1));
    if let Some(u) = idx.and_then(|i| units.get_mut(i)) {
        u.needs_daemon_reload = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::model::source::flag;
    use crate::model::time::format_utc;
    use proptest::prelude::*;

    fn ctx() -> ParseCtx {
        ParseCtx::captured_in(2023, 4)
    }

    #[test]
    fn header_block_then_timed_journal_lines() {
        let b = parse_str(&SystemctlStatus, SystemctlStatus.samples()[0], &ctx());
        assert_eq!(b.stats.records, 6);
        assert_eq!(b.stats.unparsed, 0);
        assert_eq!(b.ts[0], UNTIMED);
        assert_eq!(b.sev[0], Severity::Error);
        assert_eq!(format_utc(b.ts[1]), "2023-04-13T11:19:27.000000Z");
        assert_eq!(b.flags[1] & flag::ZONELESS, flag::ZONELESS);
        assert_eq!(b.sev[4], Severity::Error);
        assert_eq!(b.sev[5], Severity::Warn);
    }

    #[test]
    fn typed_status_of_a_failed_unit() {
        let text = SystemctlStatus.samples()[0];
        let s = parse_status(text);
        assert_eq!(s.len(), 1);
        let u = &s[0];
        assert_eq!(u.unit, "gunicorn.service");
        assert_eq!(u.active.as_deref(), Some("failed"));
        assert_eq!(u.result.as_deref(), Some("exit-code"));
        assert_eq!(u.main_pid, Some(788_984));
        assert_eq!(
            u.main_pid_note.as_deref(),
            Some("(code=exited, status=1/FAILURE)")
        );
        assert_eq!(
            u.since_utc.map(format_utc).as_deref(),
            Some("2023-04-13T11:19:29.000000Z")
        );
        assert!(u.needs_daemon_reload);
        assert_eq!(u.journal.len(), 4);
        let j = &u.journal[3];
        assert_eq!(&text[j.start..j.end], j.text);
        assert!(j.text.ends_with("Failed with result 'exit-code'."));
        assert_eq!(u.field("CPU"), Some("1.204s"));
    }

    #[test]
    fn ascii_tree_and_bullet() {
        let s = parse_status(SystemctlStatus.samples()[1]);
        assert_eq!(s[0].unit, "nginx.service");
        assert_eq!(s[0].sub.as_deref(), Some("running"));
        assert_eq!(s[0].main_pid, Some(1200));
        assert_eq!(s[0].cgroup.len(), 2);
        assert!(s[0].cgroup[1].starts_with("`-1201"));
    }

    #[test]
    fn provisioner_prefix_is_read_through() {
        let text = SystemctlStatus.samples()[2];
        let b = parse_str(&SystemctlStatus, text, &ctx());
        assert_eq!(b.stats.unparsed, 0);
        assert_eq!(b.sev[0], Severity::Error);
        assert_eq!(b.sev.last(), Some(&Severity::Emerg));
        let s = parse_status(text);
        assert_eq!(s[0].unit, "nginx.service");
        assert_eq!(s[0].journal.len(), 1);
    }

    #[test]
    fn outputs_without_a_block() {
        for text in [
            "Unit gunicorn.service could not be found.\n",
            "Job for nginx.service failed because the control process exited with error code.\n\
             See \"systemctl status nginx.service\" and \"journalctl -xeu nginx.service\" for details.\n",
        ] {
            assert_eq!(SystemctlStatus.sniff(&Head::new("x", text.as_bytes())), 100);
            let b = parse_str(&SystemctlStatus, text, &ctx());
            assert_eq!((b.stats.records, b.stats.unparsed), (1, 0));
            assert_eq!(b.sev[0], Severity::Error);
        }
    }

    #[test]
    fn journal_files_are_not_status() {
        let log = "Apr 13 11:24:04 web1 systemd[1]: Started nginx.service.\n\
                   Apr 13 11:24:05 web1 systemd[1]: Stopping nginx.service...\n";
        assert_eq!(SystemctlStatus.sniff(&Head::new("x", log.as_bytes())), 0);
        let md = "* item one - with a dash\n* another\n";
        assert_eq!(SystemctlStatus.sniff(&Head::new("x", md.as_bytes())), 0);
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("● nginx.service - x\n".to_string()), Just("   Active: failed (Result: exit-code) since Thu 2023-04-13 11:19:29 UTC; 5min ago\n".to_string()),
            Just("Apr 13 11:19:27 web1 systemd[1]: Started x.\n".to_string()), Just("    web1: ".to_string()), Just("Warning: x.service changed on disk\n".to_string()),
            Just("  CGroup: /x\n".to_string()), Just(" Main PID: 12 (".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let _ = parse_status(&text);
            let _ = parse_str(&SystemctlStatus, &text, &ParseCtx::default());
        }
    }
}
