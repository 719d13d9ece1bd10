//! `proxy-timeout-not-above-app`: the timeouts along the request chain do not fit. It fires when
//! nginx's `proxy_read_timeout` for the app server's upstream (60 s when not set) is not larger
//! than the app server's worker timeout (gunicorn's `timeout`, 30 s when not set; uWSGI's
//! `harakiri`, none when not set), or when requests in the access log take longer than it. Evidence: both values and where each comes from (the
//! config line, or a note that the default applies), and the slowest requests, worker timeouts
//! and nginx upstream errors.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::appserver::{AppServer, NO_APP_SERVER, Origin};
use crate::ingest::formats::nginx_config::UpstreamTarget;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;

pub struct ProxyTimeoutNotAboveApp;

/// Does nginx address `address` (`127.0.0.1:8000`, `unix:/run/x.sock`) reach gunicorn bind `bind`?
fn reaches(address: &str, bind: &str) -> bool {
    let bind = bind.trim_start_matches("http://");
    if address == bind {
        return true;
    }
    let port = |s: &str| {
        s.rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.to_string()))
    };
    match (port(address), port(bind)) {
        (Some((_, ap)), Some((bh, bp))) if !address.starts_with("unix:") => {
            ap == bp && matches!(bh.as_str(), "0.0.0.0" | "[::]" | "" | "::")
        }
        _ => false,
    }
}

/// The nginx targets that lead to `app`, or every `proxy_pass` when none matches by address.
fn targets_for(targets: &[UpstreamTarget], app: &AppServer) -> Vec<UpstreamTarget> {
    let binds = app.settings.bind_or_default();
    let matching: Vec<UpstreamTarget> = targets
        .iter()
        .filter(|t| binds.iter().any(|b| reaches(&t.address, b)))
        .cloned()
        .collect();
    if matching.is_empty() {
        targets
            .iter()
            .filter(|t| t.directive == "proxy_pass")
            .cloned()
            .collect()
    } else {
        matching
    }
}

fn secs(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else {
        format!("{x:.1}")
    }
}

/// (record, request_time) of access records of `host` slower than `limit` seconds.
fn slow_requests(cx: &Context, host: &str, limit: f64) -> Vec<((usize, usize), f64)> {
    cx.records(&[FormatId::NginxAccess])
        .filter(|r| cx.incident.sources[r.0].host == host)
        .filter_map(|r| {
            let t = cx
                .incident
                .fields(r.0, r.1)
                .into_iter()
                .find(|(k, _)| k == "request_time")
                .and_then(|(_, v)| v.trim().parse::<f64>().ok())?;
            (t > limit).then_some((r, t))
        })
        .collect()
}

/// Records of `host` whose text contains one of `needles`, in time order.
fn records_with(
    cx: &Context,
    host: &str,
    formats: &[FormatId],
    needles: &[&str],
) -> Vec<(usize, usize)> {
    cx.records_holding(formats, needles)
        .filter(|r| cx.incident.sources[r.0].host == host)
        .filter(|r| {
            let t = cx.text(*r);
            needles.iter().any(|n| t.contains(n))
        })
        .collect()
}

impl Rule for ProxyTimeoutNotAboveApp {
    fn id(&self) -> &'static str {
        "proxy-timeout-not-above-app"
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        let apps = &cx.apps;
        for dump in &cx.nginx {
            let all_targets = dump.config.upstream_targets();
            for app in apps.iter().filter(|a| a.host == dump.host) {
                let targets = targets_for(&all_targets, app);
                // The tightest nginx read timeout on the way to this gunicorn.
                let Some(tightest) = targets.iter().min_by(|a, b| {
                    a.read_timeout_secs
                        .partial_cmp(&b.read_timeout_secs)
                        .unwrap_or(std::cmp::Ordering::Equal)
                }) else {
                    continue;
                };
                let nginx = tightest.read_timeout_secs;
                // uvicorn, runserver and a uWSGI without harakiri kill no slow worker.
                let Some(setting) = app.timeout(cx) else {
                    continue;
                };
                if !setting.is_known() {
                    // A default assumed for want of the settings is no ground for a finding;
                    // `unknown` says so to the checklist.
                    continue;
                }
                let gunicorn = f64::from(setting.value);
                let slow = slow_requests(cx, &dump.host, gunicorn);
                let not_above = nginx <= gunicorn;
                if !not_above && slow.is_empty() {
                    continue;
                }
                let nginx_set = tightest.read_timeout.is_some();
                let name = app.name();
                let (who, limit) = (app.kind.name(), app.kind.timeout_word());
                let flag = app
                    .kind
                    .timeout_flags()
                    .first()
                    .copied()
                    .unwrap_or("--timeout");
                let longest = slow.iter().map(|(_, t)| *t).fold(0.0_f64, f64::max);

                let mut evidence = Vec::new();
                match &tightest.read_timeout {
                    Some(t) => evidence.push(cx.line_at(dump.source, t.at.offset)),
                    None => {
                        evidence.push(cx.line_at(dump.source, tightest.at.offset));
                        evidence.push(Evidence::Fact(format!(
                            "nginx: no proxy_read_timeout for location {} (server, http or \
                             location level), so the default {} s applies",
                            tightest.location,
                            secs(nginx)
                        )));
                    }
                }
                match &setting.origin {
                    Origin::Set { evidence: e, .. } => evidence.push(e.clone()),
                    _ => {
                        if let Some(e) = &app.exec_line {
                            evidence.push(e.clone());
                        }
                        evidence.push(setting.evidence(&format!("{who} ({name}) {limit}"), " s"));
                    }
                }
                // The slowest requests, in time order.
                let mut slowest = slow.clone();
                slowest.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
                slowest.truncate(3);
                slowest.sort_by_key(|(r, _)| cx.time(*r));
                evidence.extend(slowest.iter().map(|(r, _)| Evidence::Record {
                    source: r.0,
                    row: r.1,
                }));
                let worker_timeouts = records_with(
                    cx,
                    &dump.host,
                    FormatId::APP_SERVER_LOGS,
                    &["WORKER TIMEOUT", "HARAKIRI ON WORKER"],
                );
                evidence.extend(worker_timeouts.iter().take(2).map(Evidence::from));
                let upstream_errors = records_with(
                    cx,
                    &dump.host,
                    &[FormatId::NginxError],
                    &[
                        "upstream timed out",
                        "upstream prematurely closed connection",
                    ],
                );
                evidence.extend(upstream_errors.iter().take(2).map(Evidence::from));

                let (n, g) = (secs(nginx), secs(gunicorn));
                let nginx_word = if nginx_set { "" } else { ", the default" };
                let g_said = setting.short(" s");
                let title = if not_above {
                    let mut t = format!(
                        "nginx proxy_read_timeout ({n} s{nginx_word}) is not above the {who} {limit} ({g_said})"
                    );
                    if !slow.is_empty() {
                        t.push_str(&format!(
                            "; {} requests ran into it (up to {} s)",
                            slow.len(),
                            secs(longest)
                        ));
                    }
                    t
                } else if nginx_set {
                    format!(
                        "timeouts: {who} {g_said} < request time (up to {} s, {} requests); nginx proxy_read_timeout {n} s",
                        secs(longest),
                        slow.len()
                    )
                } else {
                    format!(
                        "timeouts: {who} {g_said} < request time (up to {} s, {} requests); nginx proxy timeouts not raised ({n} s default)",
                        secs(longest),
                        slow.len()
                    )
                };
                let explanation = if not_above {
                    format!(
                        "nginx waits at most {n} s for an answer from {who}, and {who} \
                         kills a worker that spends {g} s on one request. With the proxy's limit \
                         not above the app server's, a long request is cut by nginx (504 to the \
                         client) at the same moment or before {who} gives up, so the client \
                         sees a failure while the work may still be running, and a caller that \
                         retries runs it again. Make proxy_read_timeout comfortably larger than \
                         {who}'s {limit}, and long jobs asynchronous (answer 202, let the \
                         client poll) or idempotent."
                    )
                } else {
                    format!(
                        "Some requests take longer ({} s at most) than {who}'s worker timeout \
                         ({}), so {who} kills the worker in the middle of them and nginx \
                         answers 502/504. nginx's proxy timeouts ({n} s{nginx_word}) were not \
                         raised to match either. Raise {who}'s {flag} above the longest \
                         legitimate request and nginx's proxy_read_timeout above that, or move \
                         the slow work (big imports, uploads) to a background job.",
                        secs(longest),
                        setting.said(" s")
                    )
                };
                findings.push(Finding {
                    id: self.id(),
                    severity: if slow.is_empty() && worker_timeouts.is_empty() {
                        Severity::Warn
                    } else {
                        Severity::Error
                    },
                    depth: Depth::Cause,
                    title,
                    explanation,
                    evidence,
                    next: vec![
                        "nginx -T | grep -n 'proxy_.*_timeout\\|proxy_pass'".into(),
                        match (&app.unit, app.kind) {
                            (None, kind) => format!(
                                "ps -o pid,ppid,args -C {}   # its command line: {flag}",
                                kind.name().to_lowercase()
                            ),
                            (Some(_), crate::ingest::formats::app_command::ServerKind::Uwsgi) => {
                                format!("systemctl cat {name}   # --harakiri, or harakiri = in its .ini")
                            }
                            (Some(_), _) => format!(
                                "systemctl cat {name}   # --timeout, or -c CONFIG with timeout ="
                            ),
                        },
                        match app.kind {
                            crate::ingest::formats::app_command::ServerKind::Uwsgi => {
                                "grep -c 'HARAKIRI ON WORKER' /var/log/uwsgi/app/*.log".into()
                            }
                            _ => "grep -c 'WORKER TIMEOUT' /var/log/gunicorn/*.log; journalctl -u gunicorn | grep 'WORKER TIMEOUT'".into(),
                        },
                        format!("awk '$NF > {g}' /var/log/nginx/access.log   # requests slower than {g} s (if request_time is logged last)"),
                    ],
                });
            }
        }
        findings
    }

    fn unknown(&self, cx: &Context) -> Option<String> {
        if cx.nginx.is_empty() {
            return Some(
                "no nginx -T in the bundle, so nginx's proxy_read_timeout is unknown".into(),
            );
        }
        let on_nginx_hosts: Vec<&AppServer> = cx
            .apps
            .iter()
            .filter(|a| cx.nginx.iter().any(|d| d.host == a.host))
            .collect();
        if on_nginx_hosts.is_empty() {
            return Some(format!(
                "gunicorn's timeout is unknown ({NO_APP_SERVER}), so nginx's proxy_read_timeout \
                 cannot be compared with it"
            ));
        }
        // An app server whose limit rests on a guess or on a file sitrep did not read.
        let assumed: Vec<String> = on_nginx_hosts
            .iter()
            .filter_map(|a| match a.timeout(cx) {
                Some(t) if !t.is_known() => Some(t.said(" s")),
                Some(_) => None,
                None => a.timeout_unknown(cx),
            })
            .collect();
        // One app server behind nginx whose limit is not known leaves the question open.
        (!assumed.is_empty()).then(|| {
            format!(
                "the app server's worker timeout is not in the bundle ({}), so the comparison \
                 rests on a guess",
                assumed.join("; ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&ProxyTimeoutNotAboveApp, name)
    }

    #[test]
    fn fires_on_equal_timeouts_in_retry_storm() {
        let f = check("i4-retry-storm");
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert_eq!(f.depth, Depth::Cause);
        assert!(
            f.title
                .contains("proxy_read_timeout (120 s) is not above the gunicorn timeout (120 s, from gunicorn.conf.py)"),
            "{}",
            f.title
        );
        let lines = crate::analysis::rules::cited_lines(f);
        assert!(lines.contains(&"proxy_read_timeout 120s;"), "{lines:?}");
        assert!(lines.contains(&"timeout = 120"), "{lines:?}");
    }

    #[test]
    fn fires_on_defaults_with_slow_uploads() {
        let f = check("i5-single-worker-upload");
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert!(
            f.title
                .contains("timeouts: gunicorn 30 s, the default < request time"),
            "{}",
            f.title
        );
        assert!(
            f.title.contains("nginx proxy timeouts not raised"),
            "{}",
            f.title
        );
        assert!(f.title.contains("38.4 s"), "{}", f.title);
        let facts: Vec<&str> = f
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Fact(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            facts.iter().any(|t| t.contains("default 60 s")),
            "{facts:?}"
        );
        assert!(
            facts.iter().any(|t| t.contains(
                "30 s (the default: no --timeout on gunicorn's command line (ExecStart of inventory.service)"
            )),
            "{facts:?}"
        );
        assert!(
            f.evidence
                .iter()
                .filter(|e| matches!(e, Evidence::Record { .. }))
                .count()
                >= 3
        );
    }

    #[test]
    fn silent_elsewhere() {
        for name in [
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i6-pipeline-platform",
            "awkward",
        ] {
            let f = check(name);
            assert!(f.is_empty(), "{name}: {f:?}");
        }
    }

    #[test]
    fn addresses_match_binds() {
        assert!(reaches("127.0.0.1:8000", "0.0.0.0:8000"));
        assert!(reaches(
            "unix:/run/gunicorn.sock",
            "unix:/run/gunicorn.sock"
        ));
        assert!(!reaches("127.0.0.1:8000", "unix:/run/gunicorn.sock"));
        assert!(!reaches("127.0.0.1:8001", "127.0.0.1:8000"));
    }
}
