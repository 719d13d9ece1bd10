//! `upstream-unreachable`: nginx cannot connect to its upstream (connections refused, or the
//! unix socket is not there, and 502s), and no socket snapshot shows anything listening where
//! nginx points. Evidence: the errors, the `proxy_pass` line of `nginx -T`, and where the app
//! server does listen.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::state::Listener;
use crate::ingest::formats::nginx_error::parse_line;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::format_utc;

pub struct UpstreamUnreachable;

/// Processes that serve Python web apps.
const APP_SERVERS: &[&str] = &[
    "gunicorn",
    "uwsgi",
    "uvicorn",
    "daphne",
    "waitress",
    "hypercorn",
    "python",
    "python3",
];

/// Connection failures that mean "nobody is there".
fn refused(message: &[u8]) -> bool {
    let m = String::from_utf8_lossy(message);
    m.contains("while connecting to upstream")
        && (m.contains("(111: Connection refused)") || m.contains("(2: No such file or directory)"))
}

/// The addresses the host's app servers are said to listen on: their `bind` settings and
/// gunicorn's own `Listening at: ADDRESS` lines.
fn named_binds(cx: &Context, host: &str) -> Vec<String> {
    let mut out: Vec<String> = cx
        .apps
        .iter()
        .filter(|a| a.host == host)
        .flat_map(|a| {
            a.settings
                .bind
                .iter()
                .map(|b| b.trim_start_matches("http://").to_string())
        })
        .collect();
    for r in cx.records(&[FormatId::Gunicorn]) {
        if cx.incident.sources[r.0].host != host {
            continue;
        }
        let text = cx.text(r);
        if let Some(rest) = text.split("Listening at: ").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            let addr = addr.trim_start_matches("http://");
            if !addr.is_empty() && !out.iter().any(|o| o == addr) {
                out.push(addr.to_string());
            }
        }
    }
    out
}

/// Every listener of every snapshot of `host`.
fn all_listeners(cx: &Context, host: &str) -> Vec<Listener> {
    let mut out: Vec<Listener> = Vec::new();
    for (h, t) in cx.sockets.snapshot_times() {
        if h != host {
            continue;
        }
        for l in cx.sockets.listeners(t.unwrap_or(i64::MAX)) {
            if l.host == host && !out.iter().any(|o| o.local == l.local && o.pid == l.pid) {
                out.push(l);
            }
        }
    }
    out
}

fn snapshot_when(cx: &Context, host: &str) -> String {
    let times: Vec<String> = cx
        .sockets
        .snapshot_times()
        .into_iter()
        .filter(|(h, _)| h == host)
        .map(|(_, t)| {
            t.map_or("(time unknown)".to_string(), |t| {
                format_utc(t)[11..19].to_string()
            })
        })
        .collect();
    times.join(", ")
}

impl Rule for UpstreamUnreachable {
    fn id(&self) -> &'static str {
        "upstream-unreachable"
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        for dump in &cx.nginx {
            let listeners = all_listeners(cx, &dump.host);
            if listeners.is_empty() {
                // Without a socket snapshot sitrep cannot say nothing listens.
                continue;
            }
            let mut seen = Vec::new();
            for target in dump.config.upstream_targets() {
                let Some(endpoint) = &target.endpoint else {
                    continue;
                };
                if seen.contains(&target.address) {
                    continue;
                }
                seen.push(target.address.clone());
                let served = listeners
                    .iter()
                    .any(|l| l.endpoint.as_ref().is_some_and(|e| endpoint.served_by(e)));
                if served {
                    continue;
                }
                // nginx's own complaints about this address.
                let errors: Vec<(usize, usize)> = cx
                    .records(&[FormatId::NginxError])
                    .filter(|r| cx.incident.sources[r.0].host == dump.host)
                    .filter(|r| {
                        let text = cx.text(*r);
                        parse_line(text.as_bytes()).is_some_and(|e| {
                            refused(e.message)
                                && e.context.iter().any(|(k, v)| {
                                    *k == b"upstream"
                                        && String::from_utf8_lossy(v).contains(&target.address)
                                })
                        })
                    })
                    .collect();
                let bad_gateway: Vec<(usize, usize)> = cx
                    .records(&[FormatId::NginxAccess])
                    .filter(|r| cx.incident.sources[r.0].host == dump.host)
                    .filter(|r| {
                        let t = cx.text(*r);
                        t.contains("\" 502 ") || t.contains("\"status\":502")
                    })
                    .collect();
                if errors.is_empty() && bad_gateway.is_empty() {
                    continue;
                }
                let mut apps: Vec<&Listener> = listeners
                    .iter()
                    .filter(|l| {
                        l.process
                            .as_deref()
                            .is_some_and(|p| APP_SERVERS.contains(&p))
                    })
                    .collect();
                // The app servers the bundle's own settings and logs name come first: a host
                // may run others.
                let named = named_binds(cx, &dump.host);
                apps.sort_by_key(|l| !named.iter().any(|b| l.local.ends_with(b.as_str())));
                let mut evidence: Vec<Evidence> =
                    errors.iter().take(3).map(Evidence::from).collect();
                evidence.extend(bad_gateway.iter().take(2).map(Evidence::from));
                evidence.push(cx.line_at(dump.source, target.at.offset));
                if let Some(at) = &target.server_at {
                    evidence.push(cx.line_at(dump.source, at.offset));
                }
                let when = snapshot_when(cx, &dump.host);
                evidence.push(Evidence::Fact(format!(
                    "nothing listens on {} in the socket snapshot(s) of {} ({when})",
                    target.address, dump.host
                )));
                for l in &apps {
                    evidence.push(Evidence::Fact(format!(
                        "{} (pid {}) listens on {}",
                        l.process.as_deref().unwrap_or("?"),
                        l.pid.map_or("?".into(), |p| p.to_string()),
                        l.local
                    )));
                }
                // Every app server listening, not only the first: a host may run several, and
                // naming one would pick for the reader.
                let app_part = if apps.is_empty() {
                    "; no app server listens anywhere".to_string()
                } else {
                    let mut said: Vec<String> = apps
                        .iter()
                        .take(3)
                        .map(|l| {
                            format!(
                                "{} listens on {}",
                                l.process.as_deref().unwrap_or("the app server"),
                                l.local
                            )
                        })
                        .collect();
                    if apps.len() > 3 {
                        said.push(format!("{} more app listeners", apps.len() - 3));
                    }
                    format!("; {}", said.join(", "))
                };
                let first = errors
                    .first()
                    .or(bad_gateway.first())
                    .map(|r| format_utc(cx.time(*r)));
                findings.push(Finding {
                    id: self.id(),
                    severity: Severity::Error,
                    depth: Depth::Symptom,
                    title: format!(
                        "nginx proxies to {}, where nothing listens{app_part}",
                        target.address
                    ),
                    explanation: format!(
                        "nginx passes requests to its upstream ({} at {}:{}), but no socket is \
                         listening there, so every connection is refused and nginx answers 502 \
                         Bad Gateway{}. {} refused connections and {} 502s are in the logs. \
                         Either point nginx at the address the app server really uses, or make \
                         the app server listen where nginx points; then reload nginx.",
                        target.directive,
                        target.at.file,
                        target.at.line,
                        first.map_or(String::new(), |t| format!(" (first at {t})")),
                        errors.len(),
                        bad_gateway.len()
                    ),
                    evidence,
                    next: vec![
                        "ss -ltnpx   # what listens, and which process".into(),
                        format!("nginx -T | grep -n '{}'", target.directive),
                        match endpoint {
                            crate::ingest::formats::ss::Endpoint::Unix(p) => {
                                format!("curl --unix-socket {p} http://localhost/")
                            }
                            crate::ingest::formats::ss::Endpoint::Tcp { host, port } => {
                                format!("curl -sv http://{host}:{port}/")
                            }
                        },
                        "systemctl status gunicorn".into(),
                    ],
                });
            }
        }
        findings
    }
}
