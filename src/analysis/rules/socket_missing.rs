//! `socket-missing`: a `.socket` unit is active, but the socket file it listens on is gone.
//! Fires when (a) the unit's `Listen=` path is absent from the `ss` snapshot at capture, or
//! (b) the path lies inside the `RuntimeDirectory=` of the service it triggers, that service
//! was stopped (in the journal) after the socket last started listening — stopping a service
//! deletes its runtime directory and the socket file with it — and nginx then fails with
//! `(2: No such file or directory)` connecting to a unix socket. Case (b) is needed because `ss`
//! keeps listing an unlinked unix socket under its old name. Evidence: the unit and its path
//! (the `Listen=` line), the `RuntimeDirectory=` line, the stop, and the nginx errors.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::ingest::formats::nginx_error::parse_line;
use crate::ingest::formats::ss::Endpoint;
use crate::ingest::formats::systemctl_cat::{UnitFile, effective};
use crate::ingest::formats::systemctl_show::UnitProps;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

pub struct SocketMissing;

/// One socket unit as configured.
struct SocketUnit {
    unit: String,
    paths: Vec<String>,
    /// The service it starts.
    service: String,
    /// Evidence for the path: the `Listen=` (show) or `ListenStream=` (cat) line.
    listen_line: Option<Evidence>,
}

/// Byte offset of the first line of `data` that equals `line`.
fn find_line(data: &[u8], line: &str) -> Option<usize> {
    let mut pos = 0;
    for l in data.split(|b| *b == b'\n') {
        let t = l.strip_suffix(b"\r").unwrap_or(l);
        if t == line.as_bytes() {
            return Some(pos);
        }
        pos += l.len() + 1;
    }
    None
}

/// Where the show or cat files of `host` say `line`.
fn line_evidence(cx: &Context, host: &str, formats: &[FormatId], line: &str) -> Option<Evidence> {
    cx.incident
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.host == host && formats.contains(&s.format))
        .find_map(|(i, s)| find_line(&s.data, line).map(|at| cx.line_at(i, at)))
}

fn stem(unit: &str) -> &str {
    unit.rsplit_once('.').map_or(unit, |(s, _)| s)
}

/// The socket units of a host, from `systemctl show`, else `systemctl cat`.
fn socket_units(
    cx: &Context,
    host: &str,
    shown: &[UnitProps],
    files: &[UnitFile],
) -> Vec<SocketUnit> {
    let mut out: Vec<SocketUnit> = Vec::new();
    for p in shown {
        let Some(id) = p.id().filter(|i| i.ends_with(".socket")) else {
            continue;
        };
        let paths: Vec<String> = p
            .listen()
            .into_iter()
            .map(|l| l.address)
            .filter(|a| a.starts_with('/'))
            .collect();
        let Some(first) = paths.first() else {
            continue;
        };
        let service = p
            .get("Triggers")
            .and_then(|t| t.split_whitespace().find(|u| u.ends_with(".service")))
            .map_or_else(|| format!("{}.service", stem(id)), str::to_string);
        let listen_line = p
            .get_all("Listen")
            .find(|v| v.starts_with(first.as_str()))
            .and_then(|v| {
                line_evidence(cx, host, &[FormatId::SystemctlShow], &format!("Listen={v}"))
            });
        out.push(SocketUnit {
            unit: id.to_string(),
            paths,
            service,
            listen_line,
        });
    }
    for f in files {
        let Some(name) = f.name.as_deref().filter(|n| n.ends_with(".socket")) else {
            continue;
        };
        if out.iter().any(|s| s.unit == name) {
            continue;
        }
        let paths: Vec<String> = effective(files, name, "Socket", "ListenStream")
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| v.starts_with('/'))
            .collect();
        let Some(first) = paths.first() else {
            continue;
        };
        let service = effective(files, name, "Socket", "Service")
            .last()
            .map_or_else(|| format!("{}.service", stem(name)), |s| s.to_string());
        let listen_line = line_evidence(
            cx,
            host,
            &[FormatId::SystemctlCat],
            &format!("ListenStream={first}"),
        );
        out.push(SocketUnit {
            unit: name.to_string(),
            paths,
            service,
            listen_line,
        });
    }
    out
}

/// `RuntimeDirectory=` of `service`, as absolute paths under /run.
fn runtime_dirs(service: &str, shown: &[UnitProps], files: &[UnitFile]) -> Vec<String> {
    let from_show: Vec<String> = shown
        .iter()
        .filter(|p| p.id() == Some(service))
        .filter_map(|p| p.get("RuntimeDirectory"))
        .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let names = if from_show.is_empty() {
        effective(files, service, "Service", "RuntimeDirectory")
            .into_iter()
            .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    } else {
        from_show
    };
    names
        .into_iter()
        .map(|n| format!("/run/{}", n.trim_matches('/')))
        .collect()
}

/// `connect() to unix:/run/x.sock failed (2: No such file or directory)`: the path.
/// Every line [`enoent_path`] reads a path from holds this.
const ENOENT: Lookout = Lookout {
    name: "socket-missing/enoent",
    formats: &[FormatId::NginxError],
    words: &["(2: No such file or directory)"],
};

fn enoent_path(message: &str) -> Option<String> {
    if !message.contains("(2: No such file or directory)") {
        return None;
    }
    let at = message.find("unix:")?;
    let path: String = message[at + 5..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(path.trim_end_matches(':').to_string())
}

impl Rule for SocketMissing {
    fn id(&self) -> &'static str {
        "socket-missing"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&ENOENT]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let end = cx.end();
        let mut hosts: Vec<String> = cx.incident.sources.iter().map(|s| s.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        let mut findings = Vec::new();
        for host in hosts {
            let (shown, files) = super::unit_config(cx.incident, &host);
            for su in socket_units(cx, &host, &shown, &files) {
                let active = cx
                    .units
                    .unit_at(&host, &su.unit, end)
                    .is_some_and(|s| s.active == "active");
                if !active {
                    continue;
                }
                if let Some(f) = self.runtime_dir_case(cx, &host, &su, &shown, &files) {
                    findings.push(f);
                } else if let Some(f) = self.snapshot_case(cx, &host, &su, end) {
                    findings.push(f);
                }
            }
        }
        findings
    }
}

impl SocketMissing {
    /// (a) The path is not in the `ss` snapshot of the host at `end`.
    fn snapshot_case(
        &self,
        cx: &Context,
        host: &str,
        su: &SocketUnit,
        end: Micros,
    ) -> Option<Finding> {
        let listeners: Vec<_> = cx
            .sockets
            .listeners(end)
            .into_iter()
            .filter(|l| l.host == host)
            .collect();
        // Without unix sockets in the snapshot, `ss` was not run with -x: no claim.
        if !listeners
            .iter()
            .any(|l| matches!(l.endpoint, Some(Endpoint::Unix(_))))
        {
            return None;
        }
        let missing: Vec<&String> = su
            .paths
            .iter()
            .filter(|p| {
                !listeners.iter().any(|l| {
                    l.local == format!("unix:{p}")
                        || l.endpoint == Some(Endpoint::Unix((*p).clone()))
                })
            })
            .collect();
        let path = missing.first()?;
        let mut evidence = vec![Evidence::Fact(format!(
            "{} is active at capture; nothing listens on {path} in the socket snapshot",
            su.unit
        ))];
        evidence.extend(su.listen_line.clone());
        Some(self.finding(su, path, None, evidence))
    }

    /// (b) Stopping the service deleted its runtime directory and the socket in it.
    fn runtime_dir_case(
        &self,
        cx: &Context,
        host: &str,
        su: &SocketUnit,
        shown: &[UnitProps],
        files: &[UnitFile],
    ) -> Option<Finding> {
        let dirs = runtime_dirs(&su.service, shown, files);
        let (path, dir) = su.paths.iter().find_map(|p| {
            dirs.iter()
                .find(|d| p.starts_with(&format!("{d}/")))
                .map(|d| (p.clone(), d.clone()))
        })?;
        let changes = cx.units.changes();
        let last_listen = changes
            .iter()
            .filter(|c| c.1 == host && c.2 == su.unit && c.3.ends_with("-> active"))
            .map(|c| c.0)
            .max()
            .unwrap_or(Micros::MIN);
        let stop = changes
            .iter()
            .filter(|c| {
                c.1 == host
                    && c.2 == su.service
                    && c.3.starts_with("active ->")
                    && c.0 > last_listen
            })
            .map(|c| c.0)
            .max()?;
        // nginx cannot find a unix socket after the stop.
        let errors: Vec<((usize, usize), String)> = cx
            .records_with(&ENOENT)
            .filter(|r| cx.incident.sources[r.0].host == host && cx.time(*r) >= stop)
            .filter_map(|r| {
                let text = cx.text(r);
                let e = parse_line(text.as_bytes())?;
                enoent_path(&String::from_utf8_lossy(e.message)).map(|p| (r, p))
            })
            .collect();
        let first = errors.first()?;
        let mut nginx_paths: Vec<&str> = errors.iter().map(|e| e.1.as_str()).collect();
        nginx_paths.sort_unstable();
        nginx_paths.dedup();
        let stop_record = cx
            .records(FormatId::JOURNALS)
            .filter(|r| cx.incident.sources[r.0].host == host)
            .find(|r| {
                let t = cx.time(*r);
                t != UNTIMED
                    && t.abs_diff(stop) <= MICROS_PER_SEC.unsigned_abs()
                    && cx.text(*r).contains("Stopping")
            });
        let mut evidence = vec![Evidence::Fact(format!(
            "{} is active at capture and listens on {path}, inside {}'s RuntimeDirectory {dir}",
            su.unit, su.service
        ))];
        evidence.extend(su.listen_line.clone());
        evidence.extend(line_evidence(
            cx,
            host,
            &[FormatId::SystemctlShow, FormatId::SystemctlCat],
            &format!("RuntimeDirectory={}", dir.trim_start_matches("/run/")),
        ));
        if let Some(r) = stop_record {
            evidence.push(Evidence::Record {
                source: r.0,
                row: r.1,
            });
        }
        evidence.push(Evidence::Fact(format!(
            "{} was stopped at {} and {} has not listened again since; {} nginx connect(s) \
             failed with (2: No such file or directory) after it, on {}",
            su.service,
            format_utc(stop),
            su.unit,
            errors.len(),
            nginx_paths.join(", ")
        )));
        evidence.push(Evidence::Record {
            source: first.0.0,
            row: first.0.1,
        });
        if let Some(last) = errors.last().filter(|l| l.0 != first.0) {
            evidence.push(Evidence::Record {
                source: last.0.0,
                row: last.0.1,
            });
        }
        let errs = Some((errors.len(), dir.as_str(), stop));
        Some(self.finding(su, &path, errs, evidence))
    }

    fn finding(
        &self,
        su: &SocketUnit,
        path: &str,
        runtime: Option<(usize, &str, Micros)>,
        evidence: Vec<Evidence>,
    ) -> Finding {
        let (title, why) = match runtime {
            Some((n, dir, stop)) => (
                format!(
                    "socket file {path} is gone while {} is active: stopping {} at {} removed \
                     its RuntimeDirectory {dir}; {n} connects failed with ENOENT",
                    su.unit,
                    su.service,
                    format_utc(stop).get(11..19).unwrap_or("?")
                ),
                format!(
                    "systemd deletes a service's RuntimeDirectory ({dir}) whenever the service \
                     stops, and {path} lived inside it, so the file vanished although \
                     {} still holds the listening socket (which is why `ss` may still list \
                     it under its old name). ",
                    su.unit
                ),
            ),
            None => (
                format!("socket file {path} is missing while {} is active", su.unit),
                format!(
                    "{} should hold a listening socket at {path}, but the socket snapshot has \
                     nothing there. ",
                    su.unit
                ),
            ),
        };
        Finding {
            id: self.id(),
            severity: Severity::Error,
            depth: Depth::State,
            title,
            explanation: format!(
                "A .socket unit lets systemd own the listening socket and hand it to the \
                 service. {why}Clients such as nginx connect by file name, so they get \"No such \
                 file or directory\" and answer 502. Restart {} to recreate the file, and keep \
                 the socket outside the service's RuntimeDirectory (or set \
                 RuntimeDirectoryPreserve=yes) so the next stop does not delete it again.",
                su.unit
            ),
            evidence,
            next: vec![
                format!("ls -l {path}"),
                format!("systemctl status {} {}", su.unit, su.service),
                format!("systemctl restart {}", su.unit),
                format!("curl --unix-socket {path} http://localhost/"),
                format!(
                    "journalctl -u {} -u {} -n 50 --no-pager",
                    su.unit, su.service
                ),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&SocketMissing, name)
    }

    #[test]
    fn i3_runtime_directory_took_the_socket() {
        let f = run("i3-daemon-reload");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("/run/gunicorn/socket"), "{}", f.title);
        assert!(f.title.contains("gunicorn.socket"), "{}", f.title);
        assert!(
            f.title.contains("RuntimeDirectory /run/gunicorn;"),
            "{}",
            f.title
        );
        assert!(f.title.contains("09:51:05"), "{}", f.title);
        let lines = crate::analysis::rules::cited_lines(f);
        assert!(
            lines.contains(&"Listen=/run/gunicorn/socket (Stream)"),
            "{lines:?}"
        );
        assert!(lines.contains(&"RuntimeDirectory=gunicorn"), "{lines:?}");
        let records = f
            .evidence
            .iter()
            .filter(|e| matches!(e, Evidence::Record { .. }))
            .count();
        assert_eq!(records, 3, "{f:#?}");
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
    fn enoent_paths() {
        assert_eq!(
            enoent_path(
                "connect() to unix:/run/gunicorn.sock failed (2: No such file or directory) while connecting to upstream"
            ),
            Some("/run/gunicorn.sock".into())
        );
        assert_eq!(
            enoent_path("connect() failed (111: Connection refused)"),
            None
        );
        assert_eq!(
            enoent_path("(2: No such file or directory) unix:"),
            Some(String::new())
        );
    }

    proptest::proptest! {
        #[test]
        fn readers_never_panic(s in "\\PC{0,80}") {
            let _ = enoent_path(&format!("(2: No such file or directory) {s}"));
            let _ = find_line(s.as_bytes(), "Listen=/x");
        }
    }
}
