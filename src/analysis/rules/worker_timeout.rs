//! `worker-timeout`: gunicorn's master killed a worker that did not answer within its timeout
//! (`[CRITICAL] WORKER TIMEOUT (pid:N)`, in a gunicorn log, the journal or `cf logs`). Evidence:
//! the first timeout records, how many there were and which worker pids died, and the
//! nginx access-log requests that were in flight then: requests that ended with 502, 504 or 499
//! within a few seconds of a timeout, or whose duration (`$request_time`) spans it.

use super::{Context, Depth, Evidence, Finding, Rule, Sample};
use crate::analysis::appserver::host_timeout;
use crate::analysis::scan::Lookout;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

pub struct WorkerTimeout;

const LOGS: &[FormatId] = &[
    FormatId::JournalJson,
    FormatId::JournalExport,
    FormatId::JournalShort,
    FormatId::JournalShortIso,
    FormatId::JournalShortPrecise,
    FormatId::Gunicorn,
    FormatId::CfLogs,
    FormatId::PythonLogging,
    FormatId::Generic,
];

const TIMEOUTS: Lookout = Lookout {
    name: "worker-timeout/timeouts",
    formats: LOGS,
    words: &["WORKER TIMEOUT"],
};
/// Answers a worker's death may have cut: 502, 504 and 499.
const CUT_ANSWERS: Lookout = Lookout {
    name: "worker-timeout/cut-answers",
    formats: &[FormatId::NginxAccess],
    words: &["502", "504", "499"],
};

/// An access line ending this long before a timeout still counts as cut by it (nginx gives up
/// at its own read timeout, often just before gunicorn's master notices).
const BEFORE: Micros = 5 * MICROS_PER_SEC;
/// ... and this long after (the proxy sees the closed connection a little later).
const AFTER: Micros = 15 * MICROS_PER_SEC;
/// Two reports of one timeout (journal and gunicorn log) are this close.
const SAME: Micros = 2 * MICROS_PER_SEC;

/// `WORKER TIMEOUT (pid:1234)`: the pid, if printed.
fn timeout_pid(text: &str) -> Option<Option<u32>> {
    let at = text.find("WORKER TIMEOUT")?;
    let rest = &text[at..];
    let pid = rest.find("pid:").and_then(|p| {
        let digits: String = rest[p + 4..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    });
    Some(pid)
}

/// Status and request time of an access record.
fn access_facts(cx: &Context, r: (usize, usize)) -> (Option<u16>, Option<f64>) {
    let fields = cx.incident.fields(r.0, r.1);
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
    };
    let status = get("status").and_then(|s| s.parse().ok()).or_else(|| {
        // Combined format: `"GET / HTTP/1.1" 502 166`.
        let text = cx.text(r);
        let (_, after) = text.split_once("\" ")?;
        after.get(..3)?.parse().ok()
    });
    let rt = get("request_time").and_then(|s| s.parse().ok());
    (status, rt)
}

impl Rule for WorkerTimeout {
    fn id(&self) -> &'static str {
        "worker-timeout"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&TIMEOUTS, &CUT_ANSWERS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        // (record, time, pid), one per timeout.
        let mut timeouts: Vec<((usize, usize), Micros, Option<u32>)> = Vec::new();
        for r in cx.records_with(&TIMEOUTS) {
            let text = cx.text(r);
            let Some(pid) = timeout_pid(&text) else {
                continue;
            };
            let t = cx.time(r);
            let dup = timeouts.iter().any(|(_, t0, p0)| {
                *p0 == pid
                    && t != UNTIMED
                    && *t0 != UNTIMED
                    && t.abs_diff(*t0) <= SAME.unsigned_abs()
            });
            if !dup {
                timeouts.push((r, t, pid));
            }
        }
        if timeouts.is_empty() {
            return Vec::new();
        }
        // Requests in flight at a timeout.
        let times: Vec<Micros> = timeouts
            .iter()
            .map(|x| x.1)
            .filter(|t| *t != UNTIMED)
            .collect();
        let host = cx.incident.sources[timeouts[0].0.0].host.clone();
        let setting = host_timeout(cx, &host);
        let timeout = setting.value;
        let busy = i64::from(timeout) * MICROS_PER_SEC + 10 * MICROS_PER_SEC;
        let mut cut = Sample::default();
        for r in cx.records_with(&CUT_ANSWERS) {
            let end = cx.time(r);
            if end == UNTIMED {
                continue;
            }
            let (status, rt) = access_facts(cx, r);
            let failed = matches!(status, Some(502 | 504 | 499));
            if !failed {
                continue;
            }
            #[allow(clippy::cast_possible_truncation)]
            let start = rt.map_or(end, |s| end.saturating_sub((s * 1e6) as Micros));
            // Ended just around the kill, spans it, or began while the killed worker took it
            // (a client that gave up before the kill: 499).
            let hit = times.iter().any(|t| {
                (end >= t.saturating_sub(BEFORE) && end <= t.saturating_add(AFTER))
                    || (start <= *t && end >= *t)
                    || (rt.is_some() && start <= *t && start >= t.saturating_sub(busy))
            });
            if hit {
                cut.add(r, 4);
            }
        }
        let mut pids: Vec<String> = timeouts
            .iter()
            .filter_map(|x| x.2.map(|p| p.to_string()))
            .collect();
        pids.dedup();
        let n = timeouts.len();
        let mut evidence: Vec<Evidence> = timeouts
            .iter()
            .take(3)
            .map(|(r, _, _)| Evidence::Record {
                source: r.0,
                row: r.1,
            })
            .collect();
        let when: Vec<String> = times
            .iter()
            .take(8)
            .map(|t| format_utc(*t).get(..19).unwrap_or("?").replace('T', " "))
            .collect();
        evidence.push(setting.evidence("gunicorn's timeout", " s"));
        evidence.push(Evidence::Fact(format!(
            "{n} worker timeout(s){}{}",
            if pids.is_empty() {
                String::new()
            } else {
                format!(", worker pids {}", pids.join(", "))
            },
            if when.is_empty() {
                String::new()
            } else {
                format!(", at {}", when.join(", "))
            }
        )));
        if cut.count > 0 {
            evidence.push(Evidence::Fact(format!(
                "{} request(s) ended with 502/504/499 around a timeout",
                cut.count
            )));
        }
        evidence.extend(cut.first.iter().map(Evidence::from));
        let requests = if cut.count == 0 {
            String::new()
        } else {
            format!("; {} request(s) cut with 502/504/499", cut.count)
        };
        vec![Finding {
            id: self.id(),
            severity: if n >= 3 {
                Severity::Crit
            } else {
                Severity::Error
            },
            depth: Depth::State,
            title: format!(
                "gunicorn killed {n} worker(s) on {host} at its timeout (WORKER TIMEOUT)\
                 {requests}; timeout {}",
                setting.short(" s")
            ),
            explanation: "A gunicorn worker handles one request at a time; when it does not \
                          report back within the `timeout` setting (30 s when not set), the master \
                          kills it and boots a new one. The request it was serving is lost, so \
                          nginx answers 502 or 504 (or the client gives up with 499). Either the \
                          requests are too slow for the timeout (long uploads, long jobs: move \
                          them to a background task or raise the timeout, and nginx's \
                          proxy_read_timeout above it), or the workers are starved (too few \
                          workers for the load)."
                .to_string(),
            evidence,
            next: vec![
                "journalctl -u gunicorn --grep 'WORKER TIMEOUT' --no-pager".into(),
                "systemctl cat gunicorn   # --timeout and --workers of ExecStart".into(),
                "nginx -T | grep -n 'proxy_.*timeout'".into(),
                "grep -c ' 50[24] ' /var/log/nginx/access.log".into(),
            ],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&WorkerTimeout, name)
    }

    fn facts(f: &Finding) -> String {
        f.evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Fact(t) => Some(t.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn i4_five_timeouts_and_the_cut_posts() {
        let f = run("i4-retry-storm");
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert!(f.title.contains("killed 5 worker"), "{}", f.title);
        assert!(facts(f).contains("2023-06-20 08:02:06"), "{}", facts(f));
        assert!(f.title.contains("timeout 120 s, from"), "{}", f.title);
        assert!(facts(f).contains("5 request(s) ended"), "{}", facts(f));
        assert_eq!(f.severity, Severity::Crit);
    }

    #[test]
    fn i5_eight_timeouts() {
        let f = run("i5-single-worker-upload");
        assert_eq!(f.len(), 1);
        assert!(f[0].title.contains("killed 8 worker"), "{}", f[0].title);
        assert!(
            facts(&f[0]).contains("request(s) ended"),
            "{}",
            facts(&f[0])
        );
        assert!(
            f[0].title.contains("timeout 30 s, the default"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn silent_elsewhere() {
        for b in ["healthy", "i1-socket-mismatch", "i2-import-time-setting"] {
            assert!(run(b).is_empty(), "{b}");
        }
    }

    #[test]
    fn pid_reading() {
        assert_eq!(
            timeout_pid("[CRITICAL] WORKER TIMEOUT (pid:31546)"),
            Some(Some(31546))
        );
        assert_eq!(timeout_pid("WORKER TIMEOUT"), Some(None));
        assert_eq!(timeout_pid("fine"), None);
    }

    proptest::proptest! {
        #[test]
        fn readers_never_panic(s in "\\PC{0,80}") {
            let _ = timeout_pid(&s);
            let _ = timeout_pid(&format!("WORKER TIMEOUT (pid:{s}"));
        }
    }
}
