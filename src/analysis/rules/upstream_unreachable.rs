//! `upstream-unreachable`: nginx cannot connect to its upstream (connections refused, or the
//! unix socket is not there, and 502s), and no socket snapshot shows anything listening where
//! nginx points. Evidence: the errors, the `proxy_pass` line of `nginx -T`, and where the app
//! server does listen.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::analysis::state::Listener;
use crate::ingest::formats::nginx_config::{UpstreamTarget, target_for};
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
const LISTENING: Lookout = Lookout {
    name: "upstream-unreachable/listening",
    formats: &[FormatId::Gunicorn],
    words: &["Listening at: "],
};
/// Every line [`refused`] is true of holds this.
const REFUSALS: Lookout = Lookout {
    name: "upstream-unreachable/refusals",
    formats: &[FormatId::NginxError],
    words: &["while connecting to upstream"],
};
const BAD_GATEWAY: Lookout = Lookout {
    name: "upstream-unreachable/502",
    formats: &[FormatId::NginxAccess],
    words: &["502"],
};

fn refused(message: &[u8]) -> bool {
    let m = String::from_utf8_lossy(message);
    m.contains("while connecting to upstream")
        && (m.contains("(111: Connection refused)") || m.contains("(2: No such file or directory)"))
}

/// The sentence that counts what the logs hold: the 502s only when an access log of the host
/// is there to count them in.
fn counted(cx: &Context, host: &str, refused: usize, bad_gateway: usize) -> String {
    let access_logs = cx
        .incident
        .sources
        .iter()
        .any(|s| s.host == host && s.format == FormatId::NginxAccess);
    if access_logs {
        format!("{refused} refused connections and {bad_gateway} 502s are in the logs.")
    } else {
        format!(
            "{refused} refused connections are in nginx's error log (no access log of nginx in \
             the bundle to count the 502s)."
        )
    }
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
    for r in cx.records_with(&LISTENING) {
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

/// Of the targets naming one address, the one most of the `errors` (nginx error records)
/// came through, by their `server:` and `request:`; the first when the errors cannot tell.
fn cited<'a>(
    cx: &Context,
    group: &[&'a UpstreamTarget],
    errors: &[(usize, usize)],
) -> &'a UpstreamTarget {
    let mut tally = vec![0usize; group.len()];
    for r in errors {
        let text = cx.text(*r);
        let Some(e) = parse_line(text.as_bytes()) else {
            continue;
        };
        let get = |key: &[u8]| {
            e.context
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| String::from_utf8_lossy(v).trim_matches('"').to_string())
        };
        let server = get(b"server");
        let request = get(b"request");
        let path = request.as_deref().and_then(|q| q.split_whitespace().nth(1));
        if let Some(i) = target_for(group, server.as_deref(), path) {
            tally[i] += 1;
        }
    }
    let best = (0..group.len())
        .max_by_key(|i| (tally[*i], std::cmp::Reverse(*i)))
        .unwrap_or(0);
    group[best]
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

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&LISTENING, &REFUSALS, &BAD_GATEWAY]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        for dump in &cx.nginx {
            let listeners = all_listeners(cx, &dump.host);
            if listeners.is_empty() {
                // Without a socket snapshot sitrep cannot say nothing listens.
                continue;
            }
            let all_targets = dump.config.upstream_targets();
            let mut seen: Vec<&str> = Vec::new();
            for first in &all_targets {
                let Some(endpoint) = &first.endpoint else {
                    continue;
                };
                if seen.contains(&first.address.as_str()) {
                    continue;
                }
                seen.push(&first.address);
                // Every `*_pass` (or upstream `server`) that names this address.
                let group: Vec<&UpstreamTarget> = all_targets
                    .iter()
                    .filter(|t| t.address == first.address)
                    .collect();
                let served = listeners
                    .iter()
                    .any(|l| l.endpoint.as_ref().is_some_and(|e| endpoint.served_by(e)));
                if served {
                    continue;
                }
                // nginx's own complaints about this address.
                let errors: Vec<(usize, usize)> = cx
                    .records_with(&REFUSALS)
                    .filter(|r| cx.incident.sources[r.0].host == dump.host)
                    .filter(|r| {
                        let text = cx.text(*r);
                        parse_line(text.as_bytes()).is_some_and(|e| {
                            refused(e.message)
                                && e.context.iter().any(|(k, v)| {
                                    *k == b"upstream"
                                        && String::from_utf8_lossy(v).contains(&first.address)
                                })
                        })
                    })
                    .collect();
                // The lines to cite are those of the `*_pass` the refused requests went
                // through (their server name and path), not whichever names the address first.
                let target = cited(cx, &group, &errors);
                let bad_gateway: Vec<(usize, usize)> = cx
                    .records_with(&BAD_GATEWAY)
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
                         Bad Gateway{}. {} \
                         Either point nginx at the address the app server really uses, or make \
                         the app server listen where nginx points; then reload nginx.",
                        target.directive,
                        target.at.file,
                        target.at.line,
                        first.map_or(String::new(), |t| format!(" (first at {t})")),
                        counted(cx, &dump.host, errors.len(), bad_gateway.len())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pass_the_refused_requests_went_through_is_cited() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("web1");
        std::fs::create_dir_all(&root).unwrap();
        // Two ways to 127.0.0.1:8000: an upstream block for /api/ and a plain proxy_pass for /.
        std::fs::write(
            root.join("nginx-T.txt"),
            "# configuration file /etc/nginx/nginx.conf:\n\
             http {\n\
             \x20   upstream app_pool {\n\
             \x20       server 127.0.0.1:8000;\n\
             \x20   }\n\
             \x20   server {\n\
             \x20       listen 80;\n\
             \x20       server_name shop.example.org;\n\
             \x20       location /api/ {\n\
             \x20           proxy_pass http://app_pool;\n\
             \x20       }\n\
             \x20       location / {\n\
             \x20           proxy_pass http://127.0.0.1:8000;\n\
             \x20       }\n\
             \x20   }\n\
             }\n",
        )
        .unwrap();
        std::fs::write(
            root.join("error.log"),
            "2026/12/03 13:30:05 [error] 9#9: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.example.org, request: \"GET /books/ HTTP/1.1\", upstream: \"http://127.0.0.1:8000/books/\", host: \"shop.example.org\"\n",
        )
        .unwrap();
        std::fs::write(
            root.join("ss.txt"),
            "u_str LISTEN 0      2048   /run/gunicorn.sock 31337   * 0       users:((\"gunicorn\",pid=812,fd=5))\n",
        )
        .unwrap();
        let f = crate::analysis::rules::run_on_path(&UpstreamUnreachable, &root);
        assert_eq!(f.len(), 1, "{f:#?}");
        let lines = crate::analysis::rules::cited_lines(&f[0]);
        assert_eq!(lines, ["proxy_pass http://127.0.0.1:8000;"], "{f:#?}");
    }
}
