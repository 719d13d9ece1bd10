//! A `sos report` read as a bundle, as it is: the archive sos writes (`sosreport-HOST-...`
//! folder inside a `.tar.xz`, `.tar.gz` or `.tar.bz2`) or that folder unpacked.
//!
//! sos collects far more than sitrep reads (`proc/`, `sys/`, most of `etc/`, its own logs and
//! reports, other plugins' output). This module alone knows its layout: it picks the command
//! outputs, logs and unit files sitrep reads, leaves the rest out with one note that counts
//! them, turns command outputs that only say systemd was not there into a note, and writes
//! the host, capture time and zone sos recorded as the bundle's manifest.

use std::collections::HashSet;
use std::path::Path;

use super::bundle::{self, BundleFiles, Entry};
use crate::model::time::Offset;

/// What sos recorded about the capture.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SosFacts {
    /// sos's own version (`sos_reports/manifest.json` `version`, else `version.txt`).
    pub version: Option<String>,
    pub host: Option<String>,
    /// When sos finished (microseconds, UTC).
    pub captured_at: Option<i64>,
    /// The host's offset from UTC at capture, and which files said so.
    pub zone: Option<(Offset, &'static str)>,
}

/// If `files` is a sos report, make it a bundle sitrep reads: paths without the report's top
/// folder, only the files sitrep reads, a manifest from what sos recorded, and notes on what
/// was left out. Anything else is left as it is. Returns whether it was a sos report.
pub fn adapt(files: &mut BundleFiles) -> bool {
    if files.loose || files.manifest.is_some() {
        return false;
    }
    let Some(prefix) = report_root(&files.entries) else {
        return false;
    };
    // In an unpacked folder, links inside it are followed by the folder reader; sos's links
    // (`ps`, `hostname`, `*.wants/`) only repeat files it holds, and an archive leaves them
    // out, so the folder does too.
    let links = links_in_folder(&files.name, &files.entries);
    let name = files.name.clone();
    let entries = std::mem::take(&mut files.entries);
    let mut entries: Vec<Entry> = entries
        .into_iter()
        .map(|mut e| {
            if let Some(p) = e.path.strip_prefix(prefix.as_str()) {
                e.path = p.to_string();
            }
            e
        })
        .collect();
    // Counted with the files left out would differ between the archive and its folder (the
    // folder reader passes over links to folders); said without a count.
    files.notes.retain(|n| !bundle::is_link_note(n));
    entries.retain(|e| !links.contains(&format!("{prefix}{}", e.path)));

    let facts = facts(&entries, prefix.trim_end_matches('/'));
    let present: HashSet<String> = entries.iter().map(|e| e.path.clone()).collect();
    let mut kept = Vec::new();
    let mut left_out = 0usize;
    let mut no_systemd = Vec::new();
    let mut empty = Vec::new();
    for e in entries {
        if !wanted(&e.path, &present) {
            left_out += 1;
            continue;
        }
        if e.path.starts_with("sos_commands/") {
            match command_output(&e.data) {
                Output::NoSystemd => {
                    no_systemd.push(e.path);
                    continue;
                }
                Output::Empty => {
                    empty.push(e.path);
                    continue;
                }
                Output::Text => {}
            }
        }
        kept.push(e);
    }
    let mut notes = Vec::new();
    let mut said = format!("{name}: a sos report");
    if let Some(v) = &facts.version {
        said.push_str(&format!(" (sos {v})"));
    }
    said.push_str(&format!(
        "; read {} of its files, left out {left_out} files and its links: \
         not logs or state sitrep reads (proc/, sys/, most of etc/, sos_logs/, sos_reports/, \
         other plugins' output, repeats)",
        kept.len()
    ));
    notes.push(said);
    if !no_systemd.is_empty() {
        notes.push(format!(
            "{name}: systemd was not available at capture: {}",
            no_systemd.join(", ")
        ));
    }
    if !empty.is_empty() {
        notes.push(format!(
            "{name}: empty command output, nothing to read: {}",
            empty.join(", ")
        ));
    }
    match facts.zone {
        Some((o, whence)) => notes.push(format!(
            "{name}: the host's zone was {o} at capture (from sos's {whence}); zone-less logs \
             take it unless --tz is given"
        )),
        None => notes.push(format!(
            "{name}: sos recorded no zone (no date and date --utc, timedatectl or \
             etc/timezone); zone-less logs fall back to --tz or the local zone"
        )),
    }
    files.entries = kept;
    files.notes.extend(notes);
    files.manifest = Some(manifest_text(&facts));
    true
}

/// The report's root inside the bundle: `` when `sos_commands/` or `sos_reports/` sit at the
/// top, `sosreport-HOST-.../` when every entry is inside that one folder.
fn report_root(entries: &[Entry]) -> Option<String> {
    fn marks(p: &str) -> bool {
        p.starts_with("sos_commands/") || p == "sos_reports/manifest.json"
    }
    if entries.iter().any(|e| marks(&e.path)) {
        return Some(String::new());
    }
    let first = entries.first()?;
    let (top, _) = first.path.split_once('/')?;
    let prefix = format!("{top}/");
    let all_inside = entries.iter().all(|e| e.path.starts_with(&prefix));
    let marked = entries
        .iter()
        .any(|e| e.path.strip_prefix(prefix.as_str()).is_some_and(marks));
    (all_inside && marked).then_some(prefix)
}

/// Entries of a folder bundle that are links on disk (paths as the folder reader gave them).
fn links_in_folder(root: &str, entries: &[Entry]) -> HashSet<String> {
    let root = Path::new(root);
    if !root.is_dir() {
        return HashSet::new();
    }
    entries
        .iter()
        .filter(|e| {
            std::fs::symlink_metadata(root.join(&e.path))
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false)
        })
        .map(|e| e.path.clone())
        .collect()
}

/// Read before each other: when the first of a group is present, the later ones repeat it.
const PREFER: &[&[&str]] = &[&[
    "sos_commands/systemd/systemctl_list-units_--all",
    "sos_commands/systemd/systemctl_list-units",
    "sos_commands/systemd/systemctl_list-units_--failed",
]];

/// Whether sitrep reads the file at `path` (inside the report) into its timeline and panes.
/// `present` holds every path of the report, to leave out files that repeat another.
pub fn wanted(path: &str, present: &HashSet<String>) -> bool {
    if let Some(group) = PREFER.iter().find(|g| g.contains(&path)) {
        return group.iter().find(|p| present.contains(**p)) == Some(&path);
    }
    if let Some(rest) = path.strip_prefix("sos_commands/") {
        let Some((plugin, file)) = rest.split_once('/') else {
            return false;
        };
        if file.contains('/') {
            // Namespaces, per-device folders: not the host's own view.
            return false;
        }
        return match plugin {
            "process" => file.starts_with("ps_"),
            "networking" => file.starts_with("ss_") || file.starts_with("netstat_"),
            "nginx" => file == "nginx_-T" || file == "nginx_-V",
            // `systemctl show --all` without units shows the manager's own properties; sos
            // asks `systemctl show *service --all` for the services.
            "systemd" => file.strip_prefix("systemctl_").is_some_and(|f| {
                ["status", "show_", "cat", "list-units"]
                    .iter()
                    .any(|c| f.starts_with(c))
                    && f != "show_--all"
            }),
            "logs" => {
                file.starts_with("journalctl_--no-pager")
                    && (!file.contains("--boot") || !has_full_journal(present))
            }
            _ => false,
        };
    }
    if let Some(rest) = path.strip_prefix("var/log/") {
        const NOT_APP_LOGS: [&str; 17] = [
            "journal/",
            "installer/",
            "dist-upgrade/",
            "unattended-upgrades/",
            "apt/",
            "sa/",
            "sysstat/",
            "anaconda/",
            "audit/",
            "private/",
            "wtmp",
            "btmp",
            "lastlog",
            "faillog",
            "dpkg.log",
            "alternatives.log",
            "bootstrap.log",
        ];
        return !NOT_APP_LOGS.iter().any(|n| rest.starts_with(n));
    }
    for units in [
        "etc/systemd/system/",
        "usr/lib/systemd/system/",
        "lib/systemd/system/",
    ] {
        if let Some(rest) = path.strip_prefix(units) {
            let dirs: Vec<&str> = rest.split('/').collect();
            let unit = |n: &str| n.ends_with(".service") || n.ends_with(".socket");
            return match dirs.as_slice() {
                [name] => unit(name),
                // Drop-ins override what the unit file says.
                [dir, conf] => {
                    conf.ends_with(".conf")
                        && dir
                            .strip_suffix(".d")
                            .is_some_and(|d| d.ends_with(".service") || d.ends_with(".socket"))
                }
                _ => false,
            };
        }
    }
    false
}

/// The whole journal was collected (not only per boot).
fn has_full_journal(present: &HashSet<String>) -> bool {
    present.iter().any(|p| {
        p.strip_prefix("sos_commands/logs/journalctl_--no-pager")
            .is_some_and(|rest| !rest.contains("--boot"))
    })
}

/// What a command output sos saved holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    /// Nothing but white space, or journalctl's `-- No entries --`.
    Empty,
    /// Only what systemctl and journalctl say when systemd is not there.
    NoSystemd,
}

/// Tell what a command output holds; only short outputs can be nothing but a complaint.
pub fn command_output(data: &[u8]) -> Output {
    if data.len() > 4096 {
        return Output::Text;
    }
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() || lines == ["-- No entries --"] {
        return Output::Empty;
    }
    const NO_SYSTEMD: [&str; 6] = [
        "System has not been booted with systemd",
        "Failed to connect to bus",
        "Failed to get D-Bus connection",
        "Failed to create bus connection",
        "Running in chroot, ignoring",
        "No journal files were found",
    ];
    if lines
        .iter()
        .all(|l| NO_SYSTEMD.iter().any(|m| l.starts_with(m)))
    {
        return Output::NoSystemd;
    }
    Output::Text
}

fn text_of<'a>(entries: &'a [Entry], path: &str) -> Option<std::borrow::Cow<'a, str>> {
    entries
        .iter()
        .find(|e| e.path == path)
        .map(|e| String::from_utf8_lossy(&e.data))
}

/// Host, capture time and zone from what sos wrote; `top` is the report's folder name.
pub fn facts(entries: &[Entry], top: &str) -> SosFacts {
    let manifest: Option<serde_json::Value> =
        text_of(entries, "sos_reports/manifest.json").and_then(|t| serde_json::from_str(&t).ok());
    let field = |k: &str| {
        manifest
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let version = field("version").or_else(|| {
        text_of(entries, "version.txt").and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("sosreport:").map(|v| v.trim().to_string()))
        })
    });
    let first_line = |path: &str| {
        text_of(entries, path)
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
            .filter(|l| !l.is_empty() && !l.contains(char::is_whitespace))
    };
    let host = field("hostname")
        .or_else(|| first_line("sos_commands/host/hostname"))
        .or_else(|| first_line("etc/hostname"))
        .or_else(|| host_of_folder(top));
    let zone = zone(entries).or_else(|| utc_by_name(entries));
    let local_to_utc = |t: &str| -> Option<i64> {
        let (o, _) = zone?;
        let naive = chrono::NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
        Some(naive.and_utc().timestamp_micros() - i64::from(o.seconds()) * 1_000_000)
    };
    // sos writes its start and end times in the host's local time, without a zone.
    let captured_at = field("end_time")
        .or_else(|| field("start_time"))
        .and_then(|t| local_to_utc(&t))
        .or_else(|| text_of(entries, "sos_commands/date/date_--utc").and_then(|t| date_output(&t)));
    SosFacts {
        version,
        host,
        captured_at,
        zone,
    }
}

/// The host in `sosreport-HOST[-LABEL]-YYYY-MM-DD-RANDOM` (sos 4) or `sosreport-HOST-...`.
fn host_of_folder(top: &str) -> Option<String> {
    let rest = top.strip_prefix("sosreport-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    // The date is three numeric parts (YYYY-MM-DD) followed by the random suffix.
    let date_at = (1..parts.len()).find(|&i| {
        parts.len() >= i + 3
            && parts[i].len() == 4
            && parts[i..i + 3]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    let host = match date_at {
        Some(i) => parts[..i].join("-"),
        None => parts.first()?.to_string(),
    };
    (!host.is_empty()).then_some(host)
}

/// The host's offset at capture: `timedatectl`'s `Time zone: X (ABBR, +hhmm)`, else the
/// difference of `date` and `date --utc` (taken a moment apart), else a `date` that says UTC.
fn zone(entries: &[Entry]) -> Option<(Offset, &'static str)> {
    if let Some(t) = text_of(entries, "sos_commands/systemd/timedatectl")
        && let Some(o) = t.lines().find_map(|l| {
            let (_, rest) = l.split_once("Time zone:")?;
            let inside = rest.rsplit_once('(')?.1.split(')').next()?;
            Offset::parse(inside.rsplit(',').next()?.trim())
        })
    {
        return Some((o, "timedatectl"));
    }
    let local = text_of(entries, "sos_commands/date/date")?;
    let t_local = date_output(&local)?;
    if let Some(t_utc) =
        text_of(entries, "sos_commands/date/date_--utc").and_then(|t| date_output(&t))
    {
        // Commands run a moment apart; offsets are whole quarter hours.
        let secs = (t_local - t_utc) / 1_000_000;
        let quarter = 900;
        let rounded = (secs + secs.signum() * quarter / 2) / quarter * quarter;
        if rounded.abs() <= 14 * 3600 {
            return Some((Offset(rounded as i32), "date and date --utc"));
        }
    }
    let abbr = local.split_whitespace().nth(4)?;
    matches!(abbr, "UTC" | "GMT" | "Z").then_some((Offset::UTC, "date"))
}

/// `etc/timezone` naming UTC itself (other names need a zone database to become an offset).
fn utc_by_name(entries: &[Entry]) -> Option<(Offset, &'static str)> {
    let name = text_of(entries, "etc/timezone")?;
    let name = name.trim();
    let utc = [
        "UTC",
        "Etc/UTC",
        "Etc/GMT",
        "GMT",
        "Etc/Universal",
        "Universal",
        "Etc/Zulu",
        "Zulu",
    ];
    utc.contains(&name).then_some((Offset::UTC, "etc/timezone"))
}

/// The time `date` printed in the C locale (`Thu Dec  3 19:00:10 UTC 2026`), read as if UTC.
fn date_output(text: &str) -> Option<i64> {
    let w: Vec<&str> = text.lines().next()?.split_whitespace().collect();
    let (mon, day, hms, year) = match w.as_slice() {
        [_, mon, day, hms, _, year] | [_, mon, day, hms, year] => (*mon, *day, *hms, *year),
        _ => return None,
    };
    let s = format!("{year} {mon} {day} {hms}");
    chrono::NaiveDateTime::parse_from_str(&s, "%Y %b %d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc().timestamp_micros())
}

/// The bundle manifest (TOML) saying what sos recorded.
fn manifest_text(f: &SosFacts) -> String {
    let mut t = toml::Table::new();
    if let Some(h) = &f.host {
        t.insert("host".into(), toml::Value::String(h.clone()));
    }
    if let Some(c) = f
        .captured_at
        .and_then(chrono::DateTime::from_timestamp_micros)
    {
        t.insert(
            "captured_at".into(),
            toml::Value::String(c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
    }
    if let Some((o, _)) = f.zone {
        t.insert("tz".into(), toml::Value::String(o.to_string()));
    }
    t.insert(
        "description".into(),
        toml::Value::String(match &f.version {
            Some(v) => format!("sos report (sos {v})"),
            None => "sos report".into(),
        }),
    );
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::source::Bytes;

    fn entry(path: &str, text: &str) -> Entry {
        Entry {
            path: path.into(),
            data: Bytes::Owned(text.as_bytes().to_vec()),
            mtime: None,
            notes: Vec::new(),
        }
    }

    fn set(paths: &[&str]) -> HashSet<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn maps_what_sos_collects_to_what_sitrep_reads() {
        let all = set(&[
            "sos_commands/logs/journalctl_--no-pager",
            "sos_commands/logs/journalctl_--no-pager_--catalog_--boot",
            "sos_commands/systemd/systemctl_list-units",
            "sos_commands/systemd/systemctl_list-units_--failed",
            "sos_commands/systemd/systemctl_show_--all",
            "sos_commands/systemd/systemctl_show_service_--all",
        ]);
        let read = |p: &str| wanted(p, &all);
        for p in [
            "sos_commands/process/ps_auxwww",
            "sos_commands/process/ps_-elfL",
            "sos_commands/networking/ss_-peaonmi",
            "sos_commands/networking/netstat_-W_-neopa",
            "sos_commands/nginx/nginx_-T",
            "sos_commands/nginx/nginx_-V",
            "sos_commands/systemd/systemctl_list-units",
            "sos_commands/systemd/systemctl_show_service_--all",
            "sos_commands/systemd/systemctl_status_--all",
            "sos_commands/logs/journalctl_--no-pager",
            "var/log/nginx/access.log",
            "var/log/nginx/error.log.1",
            "var/log/syslog",
            "var/log/messages",
            "var/log/gunicorn/app.log",
            "etc/systemd/system/app.service",
            "etc/systemd/system/app.socket",
            "etc/systemd/system/app.service.d/override.conf",
            "usr/lib/systemd/system/nginx.service",
            "lib/systemd/system/nginx.service",
        ] {
            assert!(read(p), "{p} should be read");
        }
        for p in [
            "proc/stat",
            "sys/kernel/mm/ksm/run",
            "etc/nginx/nginx.conf",
            "etc/hostname",
            "sos_logs/sos.log",
            "sos_reports/manifest.json",
            "sos_reports/sos.txt",
            "sos_strings/logs/journal.txt",
            "version.txt",
            "ps",
            "hostname",
            "sos_commands/process/lsof_-b_M_-n_-l_-c",
            "sos_commands/process/pstree_-lp",
            "sos_commands/networking/ip_-o_addr",
            "sos_commands/networking/namespaces/ns1/ss_-peaonmi",
            "sos_commands/systemd/systemctl_list-unit-files",
            "sos_commands/systemd/systemctl_list-timers_--all",
            "sos_commands/systemd/systemctl_show-environment",
            "sos_commands/systemd/systemctl_show_--all",
            "sos_commands/systemd/journalctl_--list-boots",
            "sos_commands/logs/journalctl_--disk-usage",
            "sos_commands/logs/ls_-alRh_.var.log",
            "sos_commands/date/date",
            "sos_commands/kernel/dmesg",
            "var/log/journal/abc/system.journal",
            "var/log/wtmp",
            "var/log/installer/syslog",
            "etc/systemd/journald.conf",
            "etc/systemd/system/multi-user.target.wants/nginx.service",
            "etc/systemd/system/timers.target.wants/apt-daily.timer",
            "usr/lib/systemd/system/basic.target",
            "usr/lib/systemd/user/dbus.service",
        ] {
            assert!(!read(p), "{p} should be left out");
        }
        // Subsets and repeats of what is read are left out.
        for p in [
            "sos_commands/logs/journalctl_--no-pager_--catalog_--boot",
            "sos_commands/systemd/systemctl_list-units_--failed",
        ] {
            assert!(!read(p), "{p} repeats another file");
        }
        // Without the whole journal, the per-boot ones are read.
        let boots = set(&["sos_commands/logs/journalctl_--no-pager_--catalog_--boot"]);
        assert!(wanted(
            "sos_commands/logs/journalctl_--no-pager_--catalog_--boot",
            &boots
        ));
        let failed = set(&["sos_commands/systemd/systemctl_list-units_--failed"]);
        assert!(wanted(
            "sos_commands/systemd/systemctl_list-units_--failed",
            &failed
        ));
    }

    #[test]
    fn systemd_complaints_and_empty_outputs_are_not_records() {
        let no = "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n";
        assert_eq!(command_output(no.as_bytes()), Output::NoSystemd);
        assert_eq!(
            command_output(b"Failed to connect to bus: No such file or directory\n"),
            Output::NoSystemd
        );
        assert_eq!(command_output(b""), Output::Empty);
        assert_eq!(command_output(b"\n  \n"), Output::Empty);
        assert_eq!(command_output(b"-- No entries --\n"), Output::Empty);
        let units =
            "  UNIT LOAD ACTIVE SUB DESCRIPTION\n  nginx.service loaded active running nginx\n";
        assert_eq!(command_output(units.as_bytes()), Output::Text);
        let mixed = format!("{no}nginx.service loaded active running\n");
        assert_eq!(command_output(mixed.as_bytes()), Output::Text);
    }

    #[test]
    fn adapts_a_report_and_notes_what_it_left_out() {
        let top = "sosreport-web-1-incident-2026-12-03-abcdefg";
        let mut files = BundleFiles {
            name: "r.tar.xz".into(),
            entries: vec![
                entry(
                    &format!("{top}/sos_reports/manifest.json"),
                    r#"{"version":"4.0","start_time":"2026-12-03 14:00:09.5","end_time":"2026-12-03 14:00:13.3"}"#,
                ),
                entry(
                    &format!("{top}/sos_commands/date/date"),
                    "Thu Dec  3 14:00:10 EST 2026\n",
                ),
                entry(
                    &format!("{top}/sos_commands/date/date_--utc"),
                    "Thu Dec  3 19:00:11 UTC 2026\n",
                ),
                entry(
                    &format!("{top}/sos_commands/systemd/systemctl_list-units"),
                    "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
                ),
                entry(&format!("{top}/sos_commands/networking/ss_-peaonmi"), ""),
                entry(
                    &format!("{top}/sos_commands/process/ps_auxwww"),
                    "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nroot 1 0.0 0.0 1 1 ? Ss 10:00 0:00 init\n",
                ),
                entry(&format!("{top}/var/log/nginx/error.log"), ""),
                entry(&format!("{top}/proc/stat"), "cpu 1 2 3\n"),
                entry(
                    &format!("{top}/sos_logs/sos.log"),
                    "2026-12-03 14:00:09,000 INFO: sos\n",
                ),
            ],
            notes: vec![format!("{top}/ps: a link inside the archive; not followed")],
            ..BundleFiles::default()
        };
        assert!(adapt(&mut files));
        let paths: Vec<&str> = files.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["sos_commands/process/ps_auxwww", "var/log/nginx/error.log"]
        );
        let notes = files.notes.join("\n");
        assert!(notes.contains("left out 5 files and its links"), "{notes}");
        assert!(
            notes.contains(
                "systemd was not available at capture: sos_commands/systemd/systemctl_list-units"
            ),
            "{notes}"
        );
        assert!(
            notes.contains("nothing to read: sos_commands/networking/ss_-peaonmi"),
            "{notes}"
        );
        assert!(!notes.contains("a link inside"), "{notes}");
        let m = super::super::manifest::Manifest::parse(files.manifest.as_deref().unwrap_or(""))
            .unwrap();
        assert_eq!(m.host.as_deref(), Some("web-1-incident"));
        assert_eq!(m.offset(), Some(Offset(-5 * 3600)));
        assert_eq!(m.captured_at.as_deref(), Some("2026-12-03T19:00:13Z"));
    }

    #[test]
    fn other_bundles_are_left_alone() {
        let mut files = BundleFiles {
            name: "b".into(),
            entries: vec![entry("nginx/access.log", ""), entry("proc/stat", "")],
            ..BundleFiles::default()
        };
        assert!(!adapt(&mut files));
        assert_eq!(files.entries.len(), 2);
        assert!(files.manifest.is_none());
    }

    #[test]
    fn host_from_the_folder_name() {
        assert_eq!(
            host_of_folder("sosreport-vm-2026-12-03-izeuyjr").as_deref(),
            Some("vm")
        );
        assert_eq!(
            host_of_folder("sosreport-web-01-2026-12-03-abc").as_deref(),
            Some("web-01")
        );
        assert_eq!(host_of_folder("other"), None);
    }

    #[test]
    fn zone_from_timedatectl() {
        let e = [entry(
            "sos_commands/systemd/timedatectl",
            "               Local time: Thu 2026-12-03 14:00:10 EST\n                Time zone: America/New_York (EST, -0500)\n",
        )];
        assert_eq!(zone(&e), Some((Offset(-5 * 3600), "timedatectl")));
        let d = [entry(
            "sos_commands/date/date",
            "Thu Dec  3 19:00:10 UTC 2026\n",
        )];
        assert_eq!(zone(&d), Some((Offset::UTC, "date")));
        let india = [
            entry("sos_commands/date/date", "Fri Dec  4 00:30:10 IST 2026\n"),
            entry(
                "sos_commands/date/date_--utc",
                "Thu Dec  3 19:00:09 UTC 2026\n",
            ),
        ];
        assert_eq!(
            zone(&india),
            Some((Offset(5 * 3600 + 1800), "date and date --utc"))
        );
        let named = [entry("etc/timezone", "Etc/UTC\n")];
        assert_eq!(utc_by_name(&named), Some((Offset::UTC, "etc/timezone")));
    }
}
