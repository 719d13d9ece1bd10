//! `dev-server-exposed`: a development web server (Django's `manage.py runserver`, Flask's
//! `flask run`, werkzeug) serves, or served, on an address other than loopback, where anyone who
//! can reach the host can use it. Evidence: the unit's `ExecStart=` that starts it, the log lines
//! it wrote (`Starting development server at http://0.0.0.0:8000/`, journal entries whose command
//! line is the dev server), its row in a process table, a `python` listener on a wildcard address in a socket snapshot, and
//! an inactive firewall when the bundle shows one.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::analysis::state::Listener;
use crate::ingest::formats::app_command::ServerKind;
use crate::ingest::formats::ss::Endpoint;
use crate::ingest::formats::systemctl_cat::parse_units;
use crate::ingest::formats::systemctl_show::parse_show;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::format_utc;

pub struct DevServerExposed;

/// Log records of a dev server: host, address, records, unit, what it is.
type Seen = (String, String, Vec<(usize, usize)>, Option<String>, String);

const LOGS: &[FormatId] = &[
    FormatId::JournalJson,
    FormatId::JournalExport,
    FormatId::JournalShort,
    FormatId::JournalShortIso,
    FormatId::JournalShortPrecise,
    FormatId::PythonLogging,
    FormatId::Generic,
];

/// One dev server seen somewhere.
#[derive(Debug, Default)]
struct Sighting {
    host: String,
    /// `0.0.0.0:8000`.
    address: String,
    /// `manage.py runserver`, `flask run`, a listener's process name.
    what: String,
    unit: Option<String>,
    evidence: Vec<Evidence>,
}

fn loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.") || host == "[::1]"
}

/// The address a dev-server command line binds, and what it is, when it is one.
fn dev_command(cmd: &str) -> Option<(String, String)> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    if let Some(i) = w
        .iter()
        .position(|t| *t == "runserver" || *t == "runserver_plus")
    {
        // `runserver [addrport]`: `0.0.0.0:8000`, `8000`, `[::]:8000`; default 127.0.0.1:8000.
        let arg = w[i + 1..].iter().find(|t| !t.starts_with('-'));
        let addr = match arg {
            Some(a) if a.bytes().all(|b| b.is_ascii_digit()) => format!("127.0.0.1:{a}"),
            Some(a) if a.contains(':') => a.to_string(),
            Some(a) if a.contains('.') => format!("{a}:8000"),
            _ => "127.0.0.1:8000".to_string(),
        };
        return Some((addr, "manage.py runserver".into()));
    }
    let flask = w
        .windows(2)
        .any(|p| p[0].rsplit('/').next().is_some_and(|x| x == "flask") && p[1] == "run");
    if flask {
        let mut host = "127.0.0.1".to_string();
        let mut port = "5000".to_string();
        let mut it = w.iter();
        while let Some(t) = it.next() {
            if let Some(v) = t.strip_prefix("--host=") {
                host = v.to_string();
            } else if let Some(v) = t.strip_prefix("--port=") {
                port = v.to_string();
            } else if *t == "--host" || *t == "-h" {
                host = it.next().map_or(host, |v| v.to_string());
            } else if *t == "--port" || *t == "-p" {
                port = it.next().map_or(port, |v| v.to_string());
            }
        }
        return Some((format!("{host}:{port}"), "flask run".into()));
    }
    None
}

/// `Starting development server at http://0.0.0.0:8000/`, ` * Running on http://0.0.0.0:5000`.
fn dev_log_address(text: &str) -> Option<String> {
    for marker in [
        "Starting development server at http://",
        "Running on http://",
    ] {
        if let Some((_, rest)) = text.split_once(marker) {
            let addr = rest.split(['/', ' ', '"']).next().unwrap_or(rest);
            if !addr.is_empty() {
                return Some(addr.to_string());
            }
        }
    }
    None
}

fn host_of(address: &str) -> String {
    match Endpoint::parse(address) {
        Some(Endpoint::Tcp { host, .. }) => host,
        _ => address.to_string(),
    }
}

/// Offset of the first line of `data` containing `needle`.
fn find(data: &[u8], needle: &str) -> Option<usize> {
    let at = memchr::memmem::find(data, needle.as_bytes())?;
    Some(memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1))
}

fn add(list: &mut Vec<Sighting>, s: Sighting) {
    match list
        .iter_mut()
        .find(|x| x.host == s.host && x.address == s.address)
    {
        Some(x) => {
            if x.unit.is_none() {
                x.unit = s.unit;
            }
            for e in s.evidence {
                if x.evidence.len() < 8 && !x.evidence.contains(&e) {
                    x.evidence.push(e);
                }
            }
        }
        None => list.push(s),
    }
}

/// Journal entry fields of a `journalctl -o json` record.
fn journal_fields(raw: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let v = serde_json::Deserializer::from_slice(raw)
        .into_iter::<serde_json::Value>()
        .next()?
        .ok()?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Some((s("_SYSTEMD_UNIT"), s("_CMDLINE")))
}

/// The words a dev server's log line or command line holds.
const DEV_LINES: Lookout = Lookout {
    name: "dev-server-exposed/lines",
    formats: LOGS,
    words: &[
        "runserver",
        "development server",
        "Running on http",
        // `flask run` split by any whitespace.
        "flask",
    ],
};

impl Rule for DevServerExposed {
    fn id(&self) -> &'static str {
        "dev-server-exposed"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&DEV_LINES]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let src = &cx.incident.sources;
        let mut seen: Vec<Sighting> = Vec::new();
        // Units that start a dev server.
        for (i, s) in src.iter().enumerate() {
            let commands: Vec<(String, String)> = match s.format {
                FormatId::SystemctlCat => parse_units(&String::from_utf8_lossy(&s.data))
                    .into_iter()
                    .flat_map(|f| {
                        let name = f.name.clone().unwrap_or_default();
                        f.get("Service", "ExecStart")
                            .into_iter()
                            .map(|c| (name.clone(), c.to_string()))
                            .collect::<Vec<_>>()
                    })
                    .collect(),
                FormatId::SystemctlShow => parse_show(&String::from_utf8_lossy(&s.data))
                    .into_iter()
                    .flat_map(|u| {
                        let name = u.id().unwrap_or_default().to_string();
                        u.exec_starts()
                            .into_iter()
                            .map(|c| (name.clone(), c))
                            .collect::<Vec<_>>()
                    })
                    .collect(),
                _ => continue,
            };
            for (unit, cmd) in commands {
                let Some((address, what)) = dev_command(&cmd) else {
                    continue;
                };
                let key = if what == "flask run" {
                    "flask"
                } else {
                    "runserver"
                };
                let evidence = find(&s.data, key)
                    .map(|off| vec![cx.line_at(i, off)])
                    .unwrap_or_default();
                add(
                    &mut seen,
                    Sighting {
                        host: s.host.clone(),
                        address,
                        what,
                        unit: (!unit.is_empty()).then_some(unit),
                        evidence,
                    },
                );
            }
        }
        // runserver seen running in a process table.
        for app in &cx.apps {
            let from_ps = app
                .launched_by
                .as_deref()
                .is_some_and(|v| v.starts_with("ps"));
            if app.kind != ServerKind::Runserver || !from_ps {
                continue;
            }
            for address in &app.settings.bind {
                add(
                    &mut seen,
                    Sighting {
                        host: app.host.clone(),
                        address: address.clone(),
                        what: "manage.py runserver".into(),
                        unit: None,
                        evidence: app.exec_line.iter().cloned().collect(),
                    },
                );
            }
        }
        // Log lines of a dev server.
        let mut by_host: Vec<Seen> = Vec::new();
        for r in cx.records_with(&DEV_LINES) {
            let s = &src[r.0];
            let raw = s.raw(r.1);
            let text = cx.text(r);
            let (unit, cmdline) = if s.format == FormatId::JournalJson {
                journal_fields(raw).unwrap_or((None, None))
            } else {
                (None, None)
            };
            let from_cmd = cmdline.as_deref().and_then(dev_command);
            let from_log = dev_log_address(&text).map(|a| (a, "development server".to_string()));
            let Some((address, what)) = from_log.or(from_cmd) else {
                continue;
            };
            match by_host.iter_mut().find(|x| x.0 == s.host && x.1 == address) {
                Some(x) => x.2.push(r),
                None => by_host.push((s.host.clone(), address, vec![r], unit, what)),
            }
        }
        for (host, address, recs, unit, what) in by_host {
            // The first and last records, and those that say "development server".
            let mut pick: Vec<(usize, usize)> = Vec::new();
            if let Some(f) = recs.first() {
                pick.push(*f);
            }
            for r in recs
                .iter()
                .filter(|r| cx.text(**r).contains("development server"))
                .take(2)
            {
                if !pick.contains(r) {
                    pick.push(*r);
                }
            }
            if let Some(l) = recs.last()
                && !pick.contains(l)
            {
                pick.push(*l);
            }
            let mut evidence: Vec<Evidence> = pick.iter().map(Evidence::from).collect();
            if let (Some(a), Some(b)) = (recs.first(), recs.last()) {
                evidence.push(Evidence::Fact(format!(
                    "{} log entries of the dev server on {address}, from {} to {}",
                    recs.len(),
                    format_utc(cx.time(*a)),
                    format_utc(cx.time(*b))
                )));
            }
            add(
                &mut seen,
                Sighting {
                    host,
                    address,
                    what,
                    unit,
                    evidence,
                },
            );
        }
        // Python processes listening on a wildcard or public address.
        let mut listeners: Vec<Listener> = Vec::new();
        for (_, t) in cx.sockets.snapshot_times() {
            for l in cx.sockets.listeners(t.unwrap_or(i64::MAX)) {
                if !listeners
                    .iter()
                    .any(|o| o.host == l.host && o.local == l.local && o.pid == l.pid)
                {
                    listeners.push(l);
                }
            }
        }
        for l in listeners {
            let python = l
                .process
                .as_deref()
                .is_some_and(|p| p.starts_with("python") || p == "flask" || p == "werkzeug");
            let Some(Endpoint::Tcp { host, port }) = &l.endpoint else {
                continue;
            };
            if !python || loopback(host) {
                continue;
            }
            let evidence = vec![Evidence::Fact(format!(
                "{} (pid {}) listens on {}{}",
                l.process.as_deref().unwrap_or("?"),
                l.pid.map_or("?".into(), |p| p.to_string()),
                l.local,
                l.taken_at.map_or(String::new(), |t| format!(
                    " (socket snapshot of {})",
                    format_utc(t)
                ))
            ))];
            let address = match host.as_str() {
                "*" | "" => format!("0.0.0.0:{port}"),
                h if h.contains(':') => format!("[{h}]:{port}"),
                h => format!("{h}:{port}"),
            };
            add(
                &mut seen,
                Sighting {
                    host: l.host.clone(),
                    address,
                    what: format!("a {} process", l.process.as_deref().unwrap_or("python")),
                    unit: None,
                    evidence,
                },
            );
        }

        let mut findings = Vec::new();
        for s in seen {
            if loopback(&host_of(&s.address)) {
                continue;
            }
            let mut evidence = s.evidence;
            // An inactive firewall makes it worse.
            let firewall_off = src.iter().enumerate().find(|(_, x)| {
                x.host == s.host
                    && x.file.contains("ufw")
                    && memchr::memmem::find(&x.data, b"Status: inactive").is_some()
            });
            if let Some((i, x)) = firewall_off
                && let Some(off) = memchr::memmem::find(&x.data, b"Status: inactive")
            {
                evidence.push(cx.line_at(i, off));
            }
            let unit_part = s
                .unit
                .as_deref()
                .map_or(String::new(), |u| format!(" ({u})"));
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Warn,
                depth: Depth::Cause,
                title: format!(
                    "a development server{unit_part}, {}, listens on {}, a non-loopback address{}",
                    s.what,
                    s.address,
                    if firewall_off.is_some() {
                        ", with the firewall inactive"
                    } else {
                        ""
                    }
                ),
                explanation: "Development servers (Django's runserver, Flask's built-in server) \
                              are made for one developer on their own machine: they are slow, \
                              serve one request at a time and are not hardened, and Django's \
                              shows debug pages. Bound to 0.0.0.0 they answer anyone who can \
                              reach the host, bypassing nginx. Stop and disable it, serve the \
                              app through gunicorn behind nginx, and keep the firewall on."
                    .into(),
                evidence,
                next: vec![
                    "ss -ltnp | grep -i python".into(),
                    match &s.unit {
                        Some(u) => format!("sudo systemctl disable --now {u}"),
                        None => "ps -ef | grep -E 'runserver|flask run'".into(),
                    },
                    "sudo ufw status verbose".into(),
                ],
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&DevServerExposed, name)
    }

    #[test]
    fn fires_on_the_socket_mismatch_incident() {
        let f = run("i1-socket-mismatch");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("0.0.0.0:8000"), "{}", f.title);
        assert!(f.title.contains("bookshelf-dev.service"), "{}", f.title);
        assert!(f.title.contains("firewall inactive"), "{}", f.title);
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(f.depth, Depth::Cause);
        assert!(f.evidence.iter().any(|e| matches!(e,
            Evidence::Line { text, .. } if text.contains("manage.py runserver 0.0.0.0:8000"))));
        assert!(
            f.evidence
                .iter()
                .any(|e| matches!(e, Evidence::Record { .. }))
        );
    }

    #[test]
    fn commands() {
        assert_eq!(
            dev_command("/srv/venv/bin/python3 manage.py runserver 0.0.0.0:8000"),
            Some(("0.0.0.0:8000".into(), "manage.py runserver".into()))
        );
        assert_eq!(
            dev_command("python manage.py runserver").map(|x| x.0),
            Some("127.0.0.1:8000".into())
        );
        assert_eq!(
            dev_command("/venv/bin/flask run --host=0.0.0.0 -p 8080").map(|x| x.0),
            Some("0.0.0.0:8080".into())
        );
        assert_eq!(
            dev_command("/venv/bin/gunicorn -b 0.0.0.0:8000 app:app"),
            None
        );
        assert_eq!(
            dev_log_address("Starting development server at http://0.0.0.0:8000/"),
            Some("0.0.0.0:8000".into())
        );
    }

    #[test]
    fn fires_on_a_hand_made_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "journal/journal.txt",
                "Apr 13 10:40:16 web9 python3[1342]: Watching for file changes with StatReloader\n\
                 Apr 13 10:40:16 web9 python3[1342]: Starting development server at http://0.0.0.0:8000/\n\
                 Apr 13 10:40:16 web9 python3[1342]: Quit the server with CONTROL-C.\n\
                 Apr 13 10:41:02 web9 flask[2001]:  * Running on http://127.0.0.1:5000\n",
            ),
            (
                "sockets/ss.txt",
                "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
                 LISTEN 0      10           0.0.0.0:8000      0.0.0.0:*     users:((\"python3\",pid=1342,fd=4))\n\
                 LISTEN 0      10         127.0.0.1:5000      0.0.0.0:*     users:((\"flask\",pid=2001,fd=3))\n",
            ),
        ];
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
        }
        let f = crate::analysis::rules::run_on_path(&DevServerExposed, dir.path());
        // The loopback flask server is fine; the runserver on 0.0.0.0:8000 is one finding
        // with both the log line and the listener.
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.contains("0.0.0.0:8000"), "{}", f[0].title);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| matches!(e, Evidence::Record { .. })),
            "{f:#?}"
        );
        assert!(
            f[0].evidence.iter().any(|e| matches!(e,
            Evidence::Fact(t) if t.starts_with("python3 (pid 1342) listens on 0.0.0.0:8000"))),
            "{f:#?}"
        );
    }

    #[test]
    fn a_process_table_shows_runserver_on_every_address() {
        let dir = tempfile::tempdir().unwrap();
        // Django's autoreloader and the server it runs: one command line, two rows.
        std::fs::write(
            dir.path().join("ps.txt"),
            "  PID  PPID USER         ELAPSED COMMAND\n\
             1000     1 deploy         02:00 /usr/bin/python3 /srv/shop/manage.py runserver 0:8000\n\
             1002  1000 deploy         01:59 /usr/bin/python3 /srv/shop/manage.py runserver 0:8000\n",
        )
        .unwrap();
        let f = crate::analysis::rules::run_on_path(&DevServerExposed, dir.path());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.contains("0.0.0.0:8000"), "{}", f[0].title);
        assert_eq!(
            crate::analysis::rules::cited_lines(&f[0]),
            [
                "1000     1 deploy         02:00 /usr/bin/python3 /srv/shop/manage.py runserver 0:8000"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_command(s in "[a-z0-9 .:/=-]{0,60}") {
            let _ = dev_command(&s);
            let _ = dev_command(&format!("python manage.py runserver {s}"));
            let _ = dev_command(&format!("/venv/bin/flask run {s}"));
            let _ = dev_log_address(&format!("Running on http://{s}"));
        }
    }

    #[test]
    fn silent_elsewhere() {
        for b in [
            "healthy",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "awkward",
        ] {
            assert!(run(b).is_empty(), "{b}");
        }
    }
}
