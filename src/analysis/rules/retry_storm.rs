//! `retry-storm`: one caller sends the same request again and again after it fails. It fires
//! when the access log shows the same client sending the same method and path three or more
//! times in a row (four for GET/HEAD, which browsers and people repeat on their own), every
//! attempt ending in a 5xx or 499, with each wait between attempts longer than the one before
//! (a backoff). Evidence: the attempts themselves (access records) and a summary of their
//! start times, gaps and statuses.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::{Lookout, Scan, Wanted};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros, format_utc};

pub struct RetryStorm;

/// The longest wait between two attempts of one series.
const MAX_GAP: Micros = 3600 * MICROS_PER_SEC;
/// Each gap must be at least this much larger than the one before.
const GROWTH: f64 = 1.2;

#[derive(Debug, Clone)]
struct Attempt {
    record: (usize, usize),
    host: String,
    client: String,
    method: String,
    path: String,
    status: u16,
    /// When the request began: the log time (its end) minus request_time when known.
    start: Micros,
}

/// Access lines that may say 499 (client closed the request): of the 4xx, only they can be
/// part of a storm.
const CLOSED: Lookout = Lookout {
    name: "retry-storm/499",
    formats: &[FormatId::NginxAccess],
    words: &["499"],
};

/// Every request that can be part of a storm: the failed ones (5xx severity, and 4xx lines
/// that may say 499), and the other answers of the (host, client, method, path) groups that
/// failed at least three times (a success breaks a series; a group with fewer failures holds
/// none). Parsing only those keeps this rule cheap on millions of lines.
fn attempts(cx: &Context) -> Vec<Attempt> {
    /// (host, client, method, path), borrowed from the attempt.
    fn group(a: &Attempt) -> (&str, &str, &str, &str) {
        (&a.host, &a.client, &a.method, &a.path)
    }
    let src = &cx.incident.sources;
    let sev = |r: &(usize, usize)| src[r.0].sev[r.1];
    let closed: std::collections::HashSet<(usize, usize)> = cx
        .records_with(&CLOSED)
        .filter(|r| sev(r) == Severity::Warn)
        .collect();
    let bad = |r: &(usize, usize)| sev(r) <= Severity::Error || closed.contains(r);
    let failed_ones = parse_attempts(cx, cx.records(&[FormatId::NginxAccess]).filter(|r| bad(r)));
    let mut per_group: std::collections::HashMap<_, usize> = Default::default();
    for a in failed_ones.iter().filter(|a| failed(a.status)) {
        *per_group.entry(group(a)).or_default() += 1;
    }
    let repeating: std::collections::HashSet<_> = per_group
        .into_iter()
        .filter(|(_, n)| *n >= 3)
        .map(|(k, _)| k)
        .collect();
    let mut found: Vec<Attempt> = Vec::new();
    if !repeating.is_empty() {
        let clients: std::collections::HashSet<&str> = repeating.iter().map(|k| k.1).collect();
        // The lines that name one of those clients, found by the scan's search of the
        // files' bytes (a line it keeps is parsed, and its group checked, below).
        let wanted = Wanted {
            name: "retry-storm/clients".into(),
            formats: vec![FormatId::NginxAccess],
            words: Some(clients.iter().map(|c| c.as_bytes().to_vec()).collect()),
        };
        let scan = Scan::run(cx.incident, &cx.timeline, std::slice::from_ref(&wanted));
        let others: Box<dyn Iterator<Item = (usize, usize)>> = match scan.kept(&wanted.name) {
            Some((kept, formats)) => Box::new(cx.kept_records(kept, formats)),
            None => Box::new(cx.records(&[FormatId::NginxAccess])),
        };
        let others = others.filter(|r| !bad(r));
        found = parse_attempts(cx, others)
            .into_iter()
            .filter(|a| repeating.contains(&group(a)))
            .collect();
    }
    drop(repeating);
    let mut all = failed_ones;
    all.extend(found);
    all.sort_by_key(|a| (cx.time(a.record), a.record));
    all
}

fn parse_attempts(cx: &Context, records: impl Iterator<Item = (usize, usize)>) -> Vec<Attempt> {
    records
        .filter_map(|r| {
            let fields = cx.incident.fields(r.0, r.1);
            let get = |names: &[&str]| {
                fields
                    .iter()
                    .find(|(k, _)| names.contains(&k.as_str()))
                    .map(|(_, v)| v.trim().to_string())
            };
            let client = get(&["client", "remote_addr"])?;
            let request = get(&["request"])?;
            let mut parts = request.split_whitespace();
            let method = parts.next()?.to_string();
            let path = parts.next()?.to_string();
            let status: u16 = get(&["status"])?.parse().ok()?;
            let end = cx.time(r);
            if end == crate::model::time::UNTIMED {
                return None;
            }
            let took = get(&["request_time"])
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e6)
                .map_or(0, |t| (t * 1e6) as Micros);
            Some(Attempt {
                record: r,
                host: cx.incident.sources[r.0].host.clone(),
                client,
                method,
                path,
                status,
                start: end - took,
            })
        })
        .collect()
}

fn failed(status: u16) -> bool {
    status >= 500 || status == 499
}

/// Time of day, to the nearest second.
fn clock(t: Micros) -> String {
    format_utc(t.saturating_add(MICROS_PER_SEC / 2))
        .get(11..19)
        .unwrap_or("?")
        .to_string()
}

fn human(gap: Micros) -> String {
    let s = gap
        .saturating_add(MICROS_PER_SEC / 2)
        .div_euclid(MICROS_PER_SEC);
    if s >= 120 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// Series of failed attempts at growing intervals within one (host, client, method, path)
/// group, in time order.
fn series(group: &[Attempt]) -> Vec<Vec<Attempt>> {
    let mut out = Vec::new();
    let mut run: Vec<Attempt> = Vec::new();
    let close = |run: &mut Vec<Attempt>, out: &mut Vec<Vec<Attempt>>| {
        let need = if matches!(run.first().map(|a| a.method.as_str()), Some("GET" | "HEAD")) {
            4
        } else {
            3
        };
        if run.len() >= need {
            out.push(run.clone());
        }
        run.clear();
    };
    for a in group {
        if !failed(a.status) {
            close(&mut run, &mut out);
            continue;
        }
        let fits = match run.as_slice() {
            [] => true,
            [.., last] => {
                let gap = a.start - last.start;
                let grows = match run.as_slice() {
                    [.., before, last] => {
                        let prev = last.start - before.start;
                        gap as f64 >= prev as f64 * GROWTH
                    }
                    _ => true,
                };
                gap > 0 && gap <= MAX_GAP && grows
            }
        };
        if !fits {
            // Start again from the last attempt (its gap may begin a new series).
            let last = run.last().cloned();
            close(&mut run, &mut out);
            if let Some(l) = last
                && a.start - l.start > 0
                && a.start - l.start <= MAX_GAP
            {
                run.push(l);
            }
        }
        run.push(a.clone());
    }
    close(&mut run, &mut out);
    out
}

impl Rule for RetryStorm {
    fn id(&self) -> &'static str {
        "retry-storm"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&CLOSED]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        type Key = (String, String, String, String);
        let mut keys: Vec<Key> = Vec::new();
        let mut groups: std::collections::HashMap<Key, Vec<Attempt>> = Default::default();
        for a in attempts(cx) {
            let k = (
                a.host.clone(),
                a.client.clone(),
                a.method.clone(),
                a.path.clone(),
            );
            let g = groups.entry(k.clone()).or_default();
            if g.is_empty() {
                keys.push(k);
            }
            g.push(a);
        }
        let mut findings = Vec::new();
        for key in keys {
            let Some(mut group) = groups.remove(&key) else {
                continue;
            };
            let (_, client, method, path) = key;
            if !group.iter().any(|a| failed(a.status)) {
                continue;
            }
            group.sort_by_key(|a| a.start);
            for s in series(&group) {
                let statuses: Vec<String> = s.iter().map(|a| a.status.to_string()).collect();
                let gaps: Vec<String> = s
                    .windows(2)
                    .map(|w| human(w[1].start - w[0].start))
                    .collect();
                let starts: Vec<String> = s.iter().map(|a| clock(a.start)).collect();
                let mut evidence: Vec<Evidence> = Vec::new();
                let shown: Vec<&Attempt> = if s.len() > 8 {
                    s.iter().take(6).chain(s.last()).collect()
                } else {
                    s.iter().collect()
                };
                evidence.extend(shown.iter().map(|a| Evidence::Record {
                    source: a.record.0,
                    row: a.record.1,
                }));
                evidence.push(Evidence::Fact(format!(
                    "{method} {path} from {client}: {} attempts starting at {} UTC (log time minus \
                     request_time), gaps {}, statuses {}",
                    s.len(),
                    starts.join(", "),
                    gaps.join(", "),
                    statuses.join(", ")
                )));
                let first = s.first().map_or(0, |a| a.start);
                let last = s.last().map_or(0, |a| a.start);
                findings.push(Finding {
                    id: self.id(),
                    severity: Severity::Error,
                    depth: Depth::Symptom,
                    title: format!(
                        "{method} {path} was retried: {} attempts from {client} at growing intervals ({}), each failed ({})",
                        s.len(),
                        gaps.join(", "),
                        statuses.join(", ")
                    ),
                    explanation: format!(
                        "The same client sent the same {method} request {} times between {} and \
                         {} UTC, waiting longer each time, and every attempt failed. That is an \
                         automatic retry with backoff (a job queue, an HTTP client library): the \
                         caller sees a failure, so it sends the request again. If the request \
                         starts work that goes on after the proxy gave up (a deployment, an \
                         import), each retry runs that work again. Find why one attempt fails \
                         (often a timeout shorter than the work), make the operation idempotent \
                         or check its state before re-running, and cap the retries.",
                        s.len(),
                        clock(first),
                        clock(last)
                    ),
                    evidence,
                    next: vec![
                        format!("grep -F '\"{method} {path} ' /var/log/nginx/access.log"),
                        format!("grep -F '{path}' /var/log/nginx/error.log   # why each attempt failed"),
                        "journalctl -u gunicorn | grep -E 'WORKER TIMEOUT|Booting worker'".into(),
                        format!("# on {client}: the caller's retry policy (max retries, backoff, idempotency)"),
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
    fn fires_on_retried_deployment() {
        let f = crate::analysis::rules::run_on_bundle(&RetryStorm, "i4-retry-storm");
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert_eq!(f.depth, Depth::Symptom);
        assert!(
            f.title.contains("POST /api/deployments/42/run"),
            "{}",
            f.title
        );
        assert!(f.title.contains("5 attempts"), "{}", f.title);
        assert!(f.title.contains("(504, 504, 504, 504, 499)"), "{}", f.title);
        let records = f
            .evidence
            .iter()
            .filter(|e| matches!(e, Evidence::Record { .. }))
            .count();
        assert_eq!(records, 5);
        let fact = f
            .evidence
            .iter()
            .find_map(|e| match e {
                Evidence::Fact(t) => Some(t.clone()),
                _ => None,
            })
            .unwrap();
        for start in ["08:00:05", "08:04:05", "08:10:05", "08:20:05", "08:38:0"] {
            assert!(fact.contains(start), "{fact}");
        }
    }

    #[test]
    fn silent_elsewhere() {
        for name in [
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i5-single-worker-upload",
            "i6-pipeline-platform",
            "awkward",
        ] {
            let f = crate::analysis::rules::run_on_bundle(&RetryStorm, name);
            assert!(f.is_empty(), "{name}: {f:?}");
        }
    }

    #[test]
    fn a_success_in_the_log_breaks_a_storm_only_for_its_own_request() {
        let line = |t: &str, path: &str, status: u16| {
            format!(
                "198.51.100.7 - - [10/Mar/2024:08:{t} +0000] \"POST {path} HTTP/1.1\" {status} 0 \"-\" \"c\"\n"
            )
        };
        let log = |middle: &str| {
            [
                line("00:00", "/run", 504),
                line("00:10", "/run", 504),
                line("00:30", middle, 200),
                line("00:40", "/run", 504),
                line("01:40", "/run", 504),
            ]
            .concat()
        };
        let run = |text: String| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("access.log"), text).unwrap();
            crate::analysis::rules::run_on_path(&RetryStorm, dir.path())
        };
        // The same request succeeding between the failures: no storm.
        assert!(run(log("/run")).is_empty());
        // Another request of the same client succeeding: the storm stands.
        let f = run(log("/other"));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].title.contains("4 attempts"), "{}", f[0].title);
    }

    #[test]
    fn growing_gaps_only() {
        let a = |start: i64, status: u16| Attempt {
            record: (0, 0),
            host: "h".into(),
            client: "c".into(),
            method: "POST".into(),
            path: "/x".into(),
            status,
            start: start * MICROS_PER_SEC,
        };
        // Steady polling that fails is not a backoff.
        assert!(series(&[a(0, 502), a(10, 502), a(20, 502), a(30, 502)]).is_empty());
        assert_eq!(
            series(&[a(0, 504), a(10, 504), a(30, 504), a(70, 499)]).len(),
            1
        );
        // A success breaks the series.
        assert!(series(&[a(0, 504), a(10, 200), a(30, 504), a(70, 504)]).is_empty());
    }
}
