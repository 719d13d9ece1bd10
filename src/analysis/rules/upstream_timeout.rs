//! `upstream-timeout`: nginx waited for the app server longer than its proxy timeout and gave
//! up (`upstream timed out (110: Connection timed out)` in the error log, `504` in the access
//! log). Evidence: the first few timeouts and 504s with their counts, the request that timed out
//! most, the `proxy_read_timeout` in force, and gunicorn's `WORKER TIMEOUT`s when it logged any.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::ingest::formats::nginx_access::bare_request_status;
use crate::ingest::formats::nginx_error::parse_line;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::format_utc;

pub struct UpstreamTimeout;

const JOURNALS: &[FormatId] = &[
    FormatId::Gunicorn,
    FormatId::JournalJson,
    FormatId::JournalExport,
    FormatId::JournalShort,
    FormatId::JournalShortIso,
    FormatId::JournalShortPrecise,
];

/// The status of an access-log line (combined-like or JSON).
fn status(raw: &[u8]) -> Option<u16> {
    if raw.first() == Some(&b'{') {
        let v: serde_json::Value = serde_json::from_slice(raw).ok()?;
        let s = v.get("status")?;
        return s
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .or_else(|| s.as_str().and_then(|t| t.trim().parse().ok()));
    }
    bare_request_status(raw)
}

/// The request line of an access-log line (`POST /api/x HTTP/1.1`).
fn request(raw: &[u8]) -> Option<String> {
    if raw.first() == Some(&b'{') {
        let v: serde_json::Value = serde_json::from_slice(raw).ok()?;
        return v.get("request")?.as_str().map(str::to_string);
    }
    let q = memchr::memchr(b'"', raw)?;
    let close = memchr::memmem::find(&raw[q + 1..], b"\" ")? + q + 1;
    Some(String::from_utf8_lossy(&raw[q + 1..close]).into_owned())
}

/// The `upstream: "..."` context of an error line.
fn upstream_of(raw: &[u8]) -> Option<String> {
    let e = parse_line(raw)?;
    e.context
        .iter()
        .find(|(k, _)| *k == b"upstream")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

fn timed_out(raw: &[u8]) -> bool {
    parse_line(raw).is_some_and(|e| {
        let m = String::from_utf8_lossy(e.message);
        m.contains("upstream timed out") || m.contains("(110: Connection timed out)")
    })
}

fn rec(r: (usize, usize)) -> Evidence {
    Evidence::Record {
        source: r.0,
        row: r.1,
    }
}

impl Rule for UpstreamTimeout {
    fn id(&self) -> &'static str {
        "upstream-timeout"
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let src = &cx.incident.sources;
        let hosts = cx.hosts_with(&[FormatId::NginxError, FormatId::NginxAccess]);
        let mut findings = Vec::new();
        for host in hosts {
            let errors: Vec<(usize, usize)> = cx
                .records(&[FormatId::NginxError])
                .filter(|r| src[r.0].host == host && timed_out(src[r.0].raw(r.1)))
                .collect();
            let gateway: Vec<(usize, usize)> = cx
                .records(&[FormatId::NginxAccess])
                .filter(|r| src[r.0].host == host && status(src[r.0].raw(r.1)) == Some(504))
                .collect();
            if errors.is_empty() && gateway.is_empty() {
                continue;
            }
            // Where nginx was waiting: the upstream named in the errors.
            let upstream = errors.iter().find_map(|r| upstream_of(src[r.0].raw(r.1)));
            let target = cx
                .nginx
                .iter()
                .filter(|d| d.host == host)
                .flat_map(|d| {
                    d.config
                        .upstream_targets()
                        .into_iter()
                        .map(|t| (d.source, t))
                })
                .find(|(_, t)| {
                    upstream
                        .as_deref()
                        .is_some_and(|u| !t.address.is_empty() && u.contains(&t.address))
                });
            // The request that timed out most.
            let mut counts: Vec<(String, usize)> = Vec::new();
            for r in &gateway {
                if let Some(q) = request(src[r.0].raw(r.1)) {
                    match counts.iter_mut().find(|(k, _)| *k == q) {
                        Some(c) => c.1 += 1,
                        None => counts.push((q, 1)),
                    }
                }
            }
            counts.sort_by_key(|c| std::cmp::Reverse(c.1));
            let worker_timeouts: Vec<(usize, usize)> = cx
                .records(JOURNALS)
                .filter(|r| src[r.0].host == host && cx.text(*r).contains("WORKER TIMEOUT"))
                .collect();

            let mut evidence: Vec<Evidence> = errors.iter().take(3).copied().map(rec).collect();
            evidence.extend(gateway.iter().take(3).copied().map(rec));
            evidence.extend(worker_timeouts.iter().take(2).copied().map(rec));
            let mut timeout_part = String::new();
            if let Some((source, t)) = &target {
                if let Some(rt) = &t.read_timeout {
                    evidence.push(cx.line_at(*source, rt.at.offset));
                }
                timeout_part = format!(" (proxy_read_timeout {} s)", t.read_timeout_secs);
            }
            evidence.push(Evidence::Fact(format!(
                "{} upstream timeouts in nginx's error log, {} responses with status 504{}",
                errors.len(),
                gateway.len(),
                if worker_timeouts.is_empty() {
                    String::new()
                } else {
                    format!(", {} gunicorn WORKER TIMEOUTs", worker_timeouts.len())
                }
            )));
            if let Some((q, n)) = counts.first() {
                evidence.push(Evidence::Fact(format!("{n} of the 504s were \"{q}\"")));
            }
            let first = errors
                .first()
                .or(gateway.first())
                .map(|r| format_utc(cx.time(*r)));
            let whom = target
                .as_ref()
                .map(|(_, t)| t.address.clone())
                .or(upstream)
                .unwrap_or_else(|| "its upstream".to_string());
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Error,
                depth: Depth::Symptom,
                title: format!(
                    "nginx timed out waiting for {whom}{timeout_part}: {} timeouts, {} × 504",
                    errors.len(),
                    gateway.len()
                ),
                explanation: format!(
                    "nginx forwarded requests to the app server and waited for an answer longer \
                     than its proxy timeout allows, so it gave up and sent the client 504 Gateway \
                     Timeout{}. The app may still be working on the request (and the client may \
                     retry it, running the same work again). Find out why those requests are slow; \
                     keep nginx's proxy_read_timeout comfortably above the app server's own \
                     limit (gunicorn's --timeout, uWSGI's harakiri), and move long work to a \
                     background job.",
                    first.map_or(String::new(), |t| format!(" (first at {t})"))
                ),
                evidence,
                next: vec![
                    "grep -n 'timed out' /var/log/nginx/error.log | tail".into(),
                    "nginx -T | grep -n 'proxy_read_timeout\\|proxy_pass'".into(),
                    "journalctl --since '-1h' | grep -E 'WORKER TIMEOUT|HARAKIRI'   # the app server killing slow workers".into(),
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
        crate::analysis::rules::run_on_bundle(&UpstreamTimeout, name)
    }

    #[test]
    fn fires_on_the_retry_storm() {
        let f = run("i4-retry-storm");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("127.0.0.1:8010"), "{}", f.title);
        assert!(f.title.contains("proxy_read_timeout 120 s"), "{}", f.title);
        assert!(f.title.contains("4 timeouts, 4 × 504"), "{}", f.title);
        assert_eq!(f.depth, Depth::Symptom);
        assert!(f.evidence.iter().any(|e| matches!(e,
            Evidence::Fact(t) if t.contains("POST /api/deployments/42/run"))));
        assert!(f.evidence.iter().any(|e| matches!(e,
            Evidence::Fact(t) if t.contains("5 gunicorn WORKER TIMEOUTs"))));
    }

    #[test]
    fn silent_elsewhere() {
        for b in ["healthy", "i1-socket-mismatch", "i2-import-time-setting"] {
            assert!(run(b).is_empty(), "{b}");
        }
    }
}
