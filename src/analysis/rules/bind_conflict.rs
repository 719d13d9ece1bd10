//! `bind-conflict`: a server could not take its address because something else already holds
//! it: gunicorn's `Connection in use: ('0.0.0.0', 8000)` / `Can't connect to ...`, nginx's
//! `bind() to 0.0.0.0:80 failed (98: Address already in use)`, or any other `Address already in
//! use` naming an address. Evidence: the first few of those lines with their count, and the
//! process that listens on that address in the socket snapshots, when there is one.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::analysis::state::Listener;
use crate::ingest::formats::ss::Endpoint;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::format_utc;

pub struct BindConflict;

/// Lines of one host about one server failing to bind one address.
type Group = (String, &'static str, String, Vec<(usize, usize)>);

const LOGS: &[FormatId] = &[
    FormatId::NginxError,
    FormatId::Gunicorn,
    FormatId::JournalJson,
    FormatId::JournalExport,
    FormatId::JournalShort,
    FormatId::JournalShortIso,
    FormatId::JournalShortPrecise,
    FormatId::PythonLogging,
    FormatId::SystemctlStatus,
    FormatId::Generic,
];

/// `('127.0.0.1', 8000)` -> `127.0.0.1:8000`, `/run/x.sock` -> `unix:/run/x.sock`,
/// `0.0.0.0:80` as is.
fn normalise(addr: &str) -> Option<String> {
    let a = addr.trim().trim_end_matches(['.', ',', ';']);
    if let Some(inner) = a.strip_prefix('(') {
        let inner = inner.split(')').next().unwrap_or(inner);
        let mut parts = inner.split(',');
        let host = parts.next()?.trim().trim_matches(['\'', '"']);
        let port = parts.next()?.trim();
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let host = if host.is_empty() { "0.0.0.0" } else { host };
        return Some(if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        });
    }
    if a.starts_with('/') {
        return Some(format!("unix:{a}"));
    }
    Endpoint::parse(a).map(|e| e.to_string())
}

/// Which server failed and on what address, when `text` is a bind conflict.
fn conflict(text: &str) -> Option<(&'static str, String)> {
    let grab = |after: &str| -> Option<String> {
        let (_, rest) = text.split_once(after)?;
        let rest = rest.trim_start();
        let raw = if rest.starts_with('(') {
            rest.split_once(')').map(|(a, _)| format!("{a})"))?
        } else {
            rest.split_whitespace().next()?.to_string()
        };
        normalise(&raw)
    };
    if text.contains("Connection in use:") {
        return Some(("gunicorn", grab("Connection in use:")?));
    }
    if text.contains("Can't connect to ") {
        return Some(("gunicorn", grab("Can't connect to ")?));
    }
    if text.contains("Address already in use") || text.contains("address already in use") {
        if text.contains("bind() to ") {
            return Some(("nginx", grab("bind() to ")?));
        }
        if text.contains("connection to ") {
            return Some(("gunicorn", grab("connection to ")?));
        }
        if text.contains("bind on address ") {
            return Some(("the app server", grab("bind on address ")?));
        }
    }
    None
}

fn clashes(a: &Endpoint, b: &Endpoint) -> bool {
    a.served_by(b) || b.served_by(a)
}

/// Every line [`conflict`] reads an address from holds one of these.
const CONFLICTS: Lookout = Lookout {
    name: "bind-conflict/conflicts",
    formats: LOGS,
    words: &[
        "Connection in use:",
        "Can't connect to ",
        "Address already in use",
        "address already in use",
    ],
};

impl Rule for BindConflict {
    fn id(&self) -> &'static str {
        "bind-conflict"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&CONFLICTS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let src = &cx.incident.sources;
        // (host, who, address, records)
        let mut groups: Vec<Group> = Vec::new();
        for r in cx.records_with(&CONFLICTS) {
            let Some((who, address)) = conflict(&cx.text(r)) else {
                continue;
            };
            let host = src[r.0].host.clone();
            match groups
                .iter_mut()
                .find(|g| g.0 == host && g.1 == who && g.2 == address)
            {
                Some(g) => g.3.push(r),
                None => groups.push((host, who, address, vec![r])),
            }
        }
        let mut listeners: Vec<Listener> = Vec::new();
        if !groups.is_empty() {
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
        }
        let mut findings = Vec::new();
        for (host, who, address, recs) in groups {
            let wanted = Endpoint::parse(&address);
            let holders: Vec<&Listener> = listeners
                .iter()
                .filter(|l| l.host == host)
                .filter(|l| match (&wanted, &l.endpoint) {
                    (Some(w), Some(e)) => clashes(w, e),
                    _ => false,
                })
                .collect();
            let mut evidence: Vec<Evidence> = recs.iter().take(3).map(Evidence::from).collect();
            evidence.push(Evidence::Fact(format!(
                "{} lines say {who} could not bind {address} (first at {})",
                recs.len(),
                recs.first().map_or("?".into(), |r| format_utc(cx.time(*r)))
            )));
            for l in holders.iter().take(3) {
                evidence.push(Evidence::Fact(format!(
                    "{} (pid {}) listens on {}{}",
                    l.process.as_deref().unwrap_or("an unknown process"),
                    l.pid.map_or("?".into(), |p| p.to_string()),
                    l.local,
                    l.taken_at.map_or(String::new(), |t| format!(
                        " in the socket snapshot of {}",
                        format_utc(t)
                    ))
                )));
            }
            let held = holders.first().map_or(String::new(), |l| {
                format!(
                    " (held by {}{})",
                    l.process.as_deref().unwrap_or("an unknown process"),
                    l.pid.map_or(String::new(), |p| format!(" pid {p}"))
                )
            });
            let port_hint = match &wanted {
                Some(Endpoint::Tcp { port, .. }) => format!("ss -ltnp 'sport = :{port}'"),
                Some(Endpoint::Unix(p)) => format!("ss -lxp | grep '{p}'; ls -l {p}"),
                None => "ss -ltnpx".into(),
            };
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Error,
                depth: Depth::Cause,
                title: format!("{who} cannot bind {address}: address already in use{held}"),
                explanation: format!(
                    "Only one program can listen on an address at a time. {who} tried to listen \
                     on {address}, but another process already does, so {who} gave up (gunicorn \
                     retries a few times and exits; nginx refuses to start or reload). Often an \
                     old copy of the server is still running, or a second service or a dev server \
                     uses the same port. Find the holder, stop it or pick another address, then \
                     start {who} again."
                ),
                evidence,
                next: vec![
                    port_hint,
                    "systemctl list-units --type=service --state=running".into(),
                    "ps -ef | grep -E 'gunicorn|nginx|python'".into(),
                ],
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(p: &std::path::Path) -> Vec<Finding> {
        crate::analysis::rules::run_on_path(&BindConflict, p)
    }

    #[test]
    fn parses_the_messages() {
        assert_eq!(
            conflict("[ERROR] Connection in use: ('0.0.0.0', 8000)"),
            Some(("gunicorn", "0.0.0.0:8000".into()))
        );
        assert_eq!(
            conflict("[ERROR] Can't connect to /run/gunicorn.sock"),
            Some(("gunicorn", "unix:/run/gunicorn.sock".into()))
        );
        assert_eq!(
            conflict("[emerg] 1#1: bind() to [::]:80 failed (98: Address already in use)"),
            Some(("nginx", "[::]:80".into()))
        );
        assert_eq!(
            conflict("connection to ('127.0.0.1', 8000) failed: [Errno 98] Address already in use"),
            Some(("gunicorn", "127.0.0.1:8000".into()))
        );
        assert_eq!(conflict("all good"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,80}", addr in "[(),:' 0-9a-z./\\[\\]]{0,30}") {
            let _ = conflict(&s);
            let _ = conflict(&format!("Connection in use: {addr}"));
            let _ = conflict(&format!("bind() to {addr} failed (98: Address already in use)"));
            let _ = normalise(&addr);
        }
    }

    #[test]
    fn fires_on_a_hand_made_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "app/gunicorn.log",
                "[2023-04-13 11:19:27 +0000] [2001] [INFO] Starting gunicorn 20.1.0\n\
                 [2023-04-13 11:19:27 +0000] [2001] [ERROR] Connection in use: ('0.0.0.0', 8000)\n\
                 [2023-04-13 11:19:27 +0000] [2001] [ERROR] Retrying in 1 second.\n\
                 [2023-04-13 11:19:28 +0000] [2001] [ERROR] Connection in use: ('0.0.0.0', 8000)\n\
                 [2023-04-13 11:19:28 +0000] [2001] [ERROR] Retrying in 1 second.\n\
                 [2023-04-13 11:19:32 +0000] [2001] [ERROR] Can't connect to ('0.0.0.0', 8000)\n",
            ),
            (
                "nginx/error.log",
                "2023/04/13 11:19:00 [emerg] 4321#4321: bind() to 0.0.0.0:80 failed (98: Address already in use)\n\
                 2023/04/13 11:19:00 [emerg] 4321#4321: still could not bind()\n",
            ),
            (
                "sockets/ss.txt",
                "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
                 LISTEN 0      10           0.0.0.0:8000      0.0.0.0:*     users:((\"python3\",pid=1342,fd=4))\n\
                 LISTEN 0      511          0.0.0.0:80        0.0.0.0:*     users:((\"apache2\",pid=977,fd=3))\n",
            ),
        ];
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
        }
        let f = run_on(dir.path());
        assert_eq!(f.len(), 2, "{f:#?}");
        let titles: Vec<&str> = f.iter().map(|f| f.title.as_str()).collect();
        assert!(titles.contains(
            &"gunicorn cannot bind 0.0.0.0:8000: address already in use (held by python3 pid 1342)"
        ), "{titles:?}");
        assert!(
            titles.contains(
                &"nginx cannot bind 0.0.0.0:80: address already in use (held by apache2 pid 977)"
            ),
            "{titles:?}"
        );
        let gunicorn = f
            .iter()
            .find(|f| f.title.starts_with("gunicorn cannot bind 0.0.0.0:8000"))
            .unwrap();
        assert!(
            gunicorn.evidence.iter().any(|e| matches!(e,
            Evidence::Fact(t) if t.starts_with("3 lines say gunicorn"))),
            "{gunicorn:#?}"
        );
        assert!(f.iter().all(|f| f.depth == Depth::Cause));
    }

    #[test]
    fn silent_on_every_bundle() {
        for b in [
            "healthy",
            "awkward",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "i6-pipeline-platform",
        ] {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/bundles")
                .join(b);
            assert!(run_on(&p).is_empty(), "{b}");
        }
    }
}
