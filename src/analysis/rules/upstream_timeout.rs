//! `upstream-timeout`: nginx waited for the app server longer than its proxy timeout and gave
//! up (`upstream timed out (110: Connection timed out)` in the error log, `504` in the access
//! log). Evidence: the first few timeouts and 504s with their counts, the request that timed out
//! most, the `proxy_read_timeout` in force, and gunicorn's `WORKER TIMEOUT`s when it logged any.

use super::{Context, Depth, Evidence, Finding, Rule, Sample};
use crate::analysis::scan::Lookout;
use crate::ingest::formats::nginx_access::bare_request_status;
use crate::ingest::formats::nginx_error::parse_line;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::format_utc;

pub struct UpstreamTimeout;

/// The status of an access-log line (combined-like or JSON).
const TIMEOUTS: Lookout = Lookout {
    name: "upstream-timeout/errors",
    formats: &[FormatId::NginxError],
    words: &["timed out"],
};
const GATEWAY_TIMEOUTS: Lookout = Lookout {
    name: "upstream-timeout/504",
    formats: &[FormatId::NginxAccess],
    words: &["504"],
};
const WORKER_TIMEOUTS: Lookout = Lookout {
    name: "upstream-timeout/worker-timeouts",
    formats: FormatId::APP_SERVER_LOGS,
    words: &["WORKER TIMEOUT"],
};

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

/// The title and the explanation's opening, said only as far as the evidence goes: with no
/// timeout in nginx's error log (or no error log), the 504s are counted and their cause is
/// left open, never "0 timeouts, N × 504".
fn headline(
    whom: &str,
    timeout_part: &str,
    timeouts: usize,
    gateway: usize,
    error_log: bool,
    access_log: bool,
) -> (String, &'static str) {
    const TIMED_OUT: &str = "nginx forwarded requests to the app server and waited for an answer \
        longer than its proxy timeout allows, so it gave up and sent the client 504 Gateway Timeout";
    match (timeouts, gateway) {
        (0, g) if error_log => (
            format!(
                "{g} × 504 Gateway Timeout in nginx's access log{timeout_part}; its error log \
                 holds no upstream timeout"
            ),
            "nginx's error log records no upstream timeout, so these 504s may have been passed \
             on from the app or a proxy behind nginx, or the error_log level (crit or above) \
             hides nginx's own timeout lines. When nginx itself gave up, it waited for the app \
             server longer than its proxy timeout allows",
        ),
        (0, g) => (
            format!(
                "{g} × 504 Gateway Timeout in nginx's access log{timeout_part}; no nginx error \
                 log in the bundle to say why"
            ),
            "Without nginx's error log it is not known whether nginx itself timed out or passed \
             on a 504 from behind it. When nginx gives up, it has waited for the app server \
             longer than its proxy timeout allows",
        ),
        (t, 0) if !access_log => (
            format!(
                "nginx timed out waiting for {whom}{timeout_part}: {t} timeouts (no access log \
                 in the bundle to count the 504s)"
            ),
            TIMED_OUT,
        ),
        (t, g) => (
            format!("nginx timed out waiting for {whom}{timeout_part}: {t} timeouts, {g} × 504"),
            TIMED_OUT,
        ),
    }
}

impl Rule for UpstreamTimeout {
    fn id(&self) -> &'static str {
        "upstream-timeout"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&TIMEOUTS, &GATEWAY_TIMEOUTS, &WORKER_TIMEOUTS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let src = &cx.incident.sources;
        let hosts = cx.hosts_with(&[FormatId::NginxError, FormatId::NginxAccess]);
        let mut findings = Vec::new();
        for host in hosts {
            // Counts, the first few of each as evidence, and where nginx was waiting (the
            // upstream the first error that names one names).
            let mut errors = Sample::default();
            let mut upstream: Option<String> = None;
            for r in cx
                .records_with(&TIMEOUTS)
                .filter(|r| src[r.0].host == host && timed_out(src[r.0].raw(r.1)))
            {
                errors.add(r, 3);
                if upstream.is_none() {
                    upstream = upstream_of(src[r.0].raw(r.1));
                }
            }
            // The 504s, and the request that timed out most.
            let mut gateway = Sample::default();
            let mut counts: Vec<(String, usize)> = Vec::new();
            for r in cx
                .records_with(&GATEWAY_TIMEOUTS)
                .filter(|r| src[r.0].host == host && status(src[r.0].raw(r.1)) == Some(504))
            {
                gateway.add(r, 3);
                if let Some(q) = request(src[r.0].raw(r.1)) {
                    match counts.iter_mut().find(|(k, _)| *k == q) {
                        Some(c) => c.1 += 1,
                        None => counts.push((q, 1)),
                    }
                }
            }
            if errors.count == 0 && gateway.count == 0 {
                continue;
            }
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
            counts.sort_by_key(|c| std::cmp::Reverse(c.1));
            let mut worker_timeouts = Sample::default();
            for r in cx
                .records_with(&WORKER_TIMEOUTS)
                .filter(|r| src[r.0].host == host && cx.text(*r).contains("WORKER TIMEOUT"))
            {
                worker_timeouts.add(r, 2);
            }

            let mut evidence: Vec<Evidence> = errors.first.iter().copied().map(rec).collect();
            evidence.extend(gateway.first.iter().copied().map(rec));
            evidence.extend(worker_timeouts.first.iter().copied().map(rec));
            let mut timeout_part = String::new();
            if let Some((source, t)) = &target {
                if let Some(rt) = &t.read_timeout {
                    evidence.push(cx.line_at(*source, rt.at.offset));
                }
                timeout_part = format!(" (proxy_read_timeout {} s)", t.read_timeout_secs);
            }
            evidence.push(Evidence::Fact(format!(
                "{} upstream timeouts in nginx's error log, {} responses with status 504{}",
                errors.count,
                gateway.count,
                if worker_timeouts.count == 0 {
                    String::new()
                } else {
                    format!(", {} gunicorn WORKER TIMEOUTs", worker_timeouts.count)
                }
            )));
            if let Some((q, n)) = counts.first() {
                evidence.push(Evidence::Fact(format!("{n} of the 504s were \"{q}\"")));
            }
            let first = errors
                .first
                .first()
                .or(gateway.first.first())
                .map(|r| format_utc(cx.time(*r)));
            let whom = target
                .as_ref()
                .map(|(_, t)| t.address.clone())
                .or(upstream)
                .unwrap_or_else(|| "its upstream".to_string());
            let has = |f: FormatId| cx.hosts_with(&[f]).contains(&host);
            let (title, opening) = headline(
                &whom,
                &timeout_part,
                errors.count,
                gateway.count,
                has(FormatId::NginxError),
                has(FormatId::NginxAccess),
            );
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Error,
                depth: Depth::Symptom,
                title,
                explanation: format!(
                    "{opening}{}. The app may still be working on the request (and the client \
                     may retry it, running the same work again). Find out why those requests are \
                     slow; keep nginx's proxy_read_timeout comfortably above the app server's own \
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

    fn on_files(files: &[(&str, &str)]) -> Vec<Finding> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        crate::analysis::rules::run_on_path(&UpstreamTimeout, dir.path())
    }

    const GATEWAY: &str = "203.0.113.9 - - [10/Mar/2024:11:24:04 +0000] \"GET /slow HTTP/1.1\" \
                           504 167 \"-\" \"curl/8.0\"\n";
    const REFUSED: &str = "2024/03/10 11:24:04 [error] 7#7: *1 connect() failed (111: Connection \
                           refused) while connecting to upstream, client: 203.0.113.9, server: _, \
                           request: \"GET /x HTTP/1.1\", upstream: \"http://127.0.0.1:8000/x\"\n";

    #[test]
    fn gateway_timeouts_without_a_logged_timeout_are_counted_not_called_timeouts() {
        let f = on_files(&[("access.log", &GATEWAY.repeat(3)), ("error.log", REFUSED)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        let t = &f[0].title;
        assert!(
            t.starts_with("3 × 504 Gateway Timeout in nginx's access log"),
            "{t}"
        );
        assert!(t.contains("error log holds no upstream timeout"), "{t}");
        assert!(!t.contains("0 timeouts"), "{t}");
        assert!(
            f[0].explanation
                .starts_with("nginx's error log records no upstream timeout")
        );

        let f = on_files(&[("access.log", &GATEWAY.repeat(2))]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title.contains("no nginx error log in the bundle"),
            "{}",
            f[0].title
        );
        assert!(!f[0].title.contains("timed out waiting"), "{}", f[0].title);
    }

    #[test]
    fn silent_elsewhere() {
        for b in ["healthy", "i1-socket-mismatch", "i2-import-time-setting"] {
            assert!(run(b).is_empty(), "{b}");
        }
    }
}
