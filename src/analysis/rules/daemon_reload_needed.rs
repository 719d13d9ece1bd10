//! `daemon-reload-needed`: a unit file was edited but systemd was not told to re-read it, so
//! it still runs the old configuration. Fires on `NeedDaemonReload=yes` in `systemctl show`
//! output, or on systemctl's warning "... changed on disk. Run 'systemctl daemon-reload' ..."
//! in a status file, a log or the journal. Evidence: per unit, the show line and the warning
//! lines, plus the settings where the loaded config (`show`) differs from the file on disk
//! (`systemctl cat`), such as `SocketGroup=svc-api` loaded while the file says `www-data`.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::ingest::formats::systemctl_cat::{UnitFile, effective};
use crate::ingest::formats::systemctl_show::UnitProps;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;

pub struct DaemonReloadNeeded;

/// Formats read as whole files (lines), not as records in time.
const FILES: &[FormatId] = &[
    FormatId::SystemctlStatus,
    FormatId::SystemctlCat,
    FormatId::SystemctlShow,
    FormatId::SystemctlListUnits,
];

/// Settings worth comparing between the loaded unit and its file: `(section, key)`.
const COMPARED: &[(&str, &str)] = &[
    ("Service", "User"),
    ("Service", "Group"),
    ("Service", "RuntimeDirectory"),
    ("Service", "WorkingDirectory"),
    ("Socket", "SocketUser"),
    ("Socket", "SocketGroup"),
    ("Socket", "SocketMode"),
];

/// Lines of `data` with their byte offsets.
fn lines_with_offsets(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    data.split(|b| *b == b'\n').map(move |l| {
        let at = pos;
        pos += l.len() + 1;
        (at, l.strip_suffix(b"\r").unwrap_or(l))
    })
}

/// `(unit, offset of the NeedDaemonReload=yes line)` of every block of a show file.
fn need_reload_lines(data: &[u8]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut id: Option<String> = None;
    let mut names: Option<String> = None;
    let mut flagged: Option<usize> = None;
    let mut flush = |id: &mut Option<String>, names: &mut Option<String>, f: &mut Option<usize>| {
        if let Some(at) = f.take()
            && let Some(u) = id.take().or_else(|| names.take())
        {
            out.push((u, at));
        }
        *id = None;
        *names = None;
    };
    for (at, line) in lines_with_offsets(data) {
        if line.trim_ascii().is_empty() {
            flush(&mut id, &mut names, &mut flagged);
            continue;
        }
        if let Some(v) = line.strip_prefix(b"Id=") {
            id = Some(String::from_utf8_lossy(v).trim().to_string());
        } else if let Some(v) = line.strip_prefix(b"Names=") {
            names = String::from_utf8_lossy(v)
                .split_whitespace()
                .next()
                .map(str::to_string);
        } else if line.trim_ascii() == b"NeedDaemonReload=yes" {
            flagged = Some(at);
        }
    }
    flush(&mut id, &mut names, &mut flagged);
    out
}

/// The unit a "changed on disk" warning names: `... drop-ins of gunicorn.socket changed on disk`.
fn warned_unit(text: &str) -> Option<String> {
    let at = text.find(" changed on disk")?;
    let before = &text[..at];
    let unit = before
        .rsplit(' ')
        .next()?
        .trim_matches(|c| c == '\'' || c == '"');
    (unit.contains('.') && !unit.is_empty()).then(|| unit.to_string())
}

/// systemd's warning, in any timed log.
const WARNINGS: Lookout = Lookout {
    name: "daemon-reload-needed/warnings",
    formats: FormatId::ALL,
    words: &["changed on disk"],
};

fn is_warning(text: &str) -> bool {
    text.contains("changed on disk") && text.contains("daemon-reload")
}

/// Settings that differ between the loaded unit and the file on disk.
fn differences(unit: &str, loaded: &UnitProps, files: &[UnitFile]) -> Vec<String> {
    let mut out = Vec::new();
    for (section, key) in COMPARED {
        let on_disk = effective(files, unit, section, key);
        let Some(disk) = on_disk.last() else {
            continue;
        };
        let Some(now) = loaded.get(key) else {
            continue;
        };
        if now.trim() != disk.trim() {
            out.push(format!(
                "{unit}: systemd runs {key}={} but the file on disk says {key}={}",
                now.trim(),
                disk.trim()
            ));
        }
    }
    let disk_listen = effective(files, unit, "Socket", "ListenStream");
    if let Some(disk) = disk_listen.last() {
        let loaded_listen: Vec<String> = loaded.listen().into_iter().map(|l| l.address).collect();
        if !loaded_listen.is_empty() && !loaded_listen.iter().any(|l| l == disk.trim()) {
            out.push(format!(
                "{unit}: systemd listens on {} but the file on disk says ListenStream={}",
                loaded_listen.join(", "),
                disk.trim()
            ));
        }
    }
    out
}

impl Rule for DaemonReloadNeeded {
    fn id(&self) -> &'static str {
        "daemon-reload-needed"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&WARNINGS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        // (host, unit, evidence)
        let mut hits: Vec<(String, String, Vec<Evidence>)> = Vec::new();
        let mut add = |host: &str, unit: String, e: Evidence| match hits
            .iter_mut()
            .find(|h| h.0 == host && h.1 == unit)
        {
            Some(h) => {
                if h.2.len() < 4 && !h.2.contains(&e) {
                    h.2.push(e);
                }
            }
            None => hits.push((host.to_string(), unit, vec![e])),
        };
        for (i, s) in cx.incident.sources.iter().enumerate() {
            if s.format == FormatId::SystemctlShow {
                for (unit, at) in need_reload_lines(&s.data) {
                    add(&s.host, unit, cx.line_at(i, at));
                }
            }
            if FILES.contains(&s.format) {
                for (at, line) in lines_with_offsets(&s.data) {
                    let text = String::from_utf8_lossy(line);
                    if is_warning(&text)
                        && let Some(unit) = warned_unit(&text)
                    {
                        add(&s.host, unit, cx.line_at(i, at));
                    }
                }
            }
        }
        let timed: Vec<FormatId> = FormatId::ALL
            .iter()
            .copied()
            .filter(|f| !FILES.contains(f) && *f != FormatId::NginxConfig)
            .collect();
        for r in cx
            .records_with(&WARNINGS)
            .filter(|r| timed.contains(&cx.incident.sources[r.0].format))
        {
            let text = cx.text(r);
            if is_warning(&text)
                && let Some(unit) = warned_unit(&text)
            {
                let host = cx.incident.sources[r.0].host.clone();
                add(
                    &host,
                    unit,
                    Evidence::Record {
                        source: r.0,
                        row: r.1,
                    },
                );
            }
        }
        if hits.is_empty() {
            return Vec::new();
        }
        // Loaded config and files on disk, per host.
        let mut hosts: Vec<String> = hits.iter().map(|h| h.0.clone()).collect();
        hosts.dedup();
        let mut findings = Vec::new();
        for host in hosts {
            let (loaded, files) = super::unit_config(cx.incident, &host);
            let mine: Vec<&(String, String, Vec<Evidence>)> =
                hits.iter().filter(|h| h.0 == host).collect();
            let units: Vec<&str> = mine.iter().map(|h| h.1.as_str()).collect();
            let mut evidence: Vec<Evidence> = Vec::new();
            let mut diffs: Vec<String> = Vec::new();
            for (_, unit, ev) in &mine {
                evidence.extend(ev.iter().cloned());
                if let Some(p) = loaded.iter().find(|p| p.id() == Some(unit.as_str())) {
                    diffs.extend(differences(unit, p, &files));
                }
            }
            evidence.extend(diffs.iter().cloned().map(Evidence::Fact));
            let list = units.join(", ");
            let restart: Vec<String> = units
                .iter()
                .map(|u| format!("systemctl restart {u}"))
                .collect();
            let mut next = vec![
                "systemctl daemon-reload".to_string(),
                format!("systemctl show -p NeedDaemonReload {}", units.join(" ")),
            ];
            next.extend(restart);
            next.push(format!("systemctl cat {}", units.join(" ")));
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Warn,
                depth: Depth::Cause,
                title: format!(
                    "{list} changed on disk but systemd still runs the old version \
                     (daemon-reload needed){}",
                    if diffs.is_empty() {
                        String::new()
                    } else {
                        format!("; {} setting(s) differ", diffs.len())
                    }
                ),
                explanation: format!(
                    "systemd reads unit files only when told to: after editing {list} nobody ran \
                     `systemctl daemon-reload`, so restarting the unit keeps using the old \
                     settings and the edit seems to have no effect. Run `systemctl \
                     daemon-reload`, then restart the units, and check with `systemctl show` \
                     that the new values are loaded."
                ),
                evidence,
                next,
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&DaemonReloadNeeded, name)
    }

    #[test]
    fn i3_both_units_need_a_reload() {
        let f = run("i3-daemon-reload");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("gunicorn.service"), "{}", f.title);
        assert!(f.title.contains("gunicorn.socket"), "{}", f.title);
        let lines = crate::analysis::rules::cited_lines(f);
        assert!(lines.contains(&"NeedDaemonReload=yes"), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("changed on disk")),
            "{lines:?}"
        );
        let facts: Vec<&str> = f
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Fact(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            facts
                .iter()
                .any(|t| t.contains("SocketGroup=svc-api") && t.contains("SocketGroup=www-data")),
            "{facts:?}"
        );
    }

    #[test]
    fn silent_elsewhere() {
        for b in [
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i4-retry-storm",
            "i5-single-worker-upload",
        ] {
            assert!(run(b).is_empty(), "{b}");
        }
    }

    #[test]
    fn readers() {
        assert_eq!(
            warned_unit(
                "Warning: The unit file, source configuration file or drop-ins of gunicorn.socket changed on disk. Run 'systemctl daemon-reload' to reload units."
            ),
            Some("gunicorn.socket".into())
        );
        assert_eq!(warned_unit(" changed on disk"), None);
        let v = need_reload_lines(b"Id=a.service\nNeedDaemonReload=yes\n\nNeedDaemonReload=no\nId=b.service\n\nNeedDaemonReload=yes\nNames=c.socket d.socket");
        assert_eq!(
            v,
            vec![("a.service".to_string(), 13), ("c.socket".to_string(), 69)]
        );
    }

    proptest::proptest! {
        #[test]
        fn readers_never_panic(s in "\\PC{0,80}") {
            let _ = warned_unit(&s);
            let _ = warned_unit(&format!("{s} changed on disk"));
            let _ = need_reload_lines(s.as_bytes());
        }
    }
}
