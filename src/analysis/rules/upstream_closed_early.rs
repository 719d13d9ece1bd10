//! `upstream-closed-early`: the app server hung up on nginx before sending a response
//! (`upstream prematurely closed connection`, or `(104: Connection reset by peer)` while reading
//! the response header), which nginx turns into 502. Evidence: the first few such errors and
//! their count, and the gunicorn worker deaths (`WORKER TIMEOUT`, `Worker exiting`, `Booting
//! worker`, `exited with code`) logged within a few seconds of them.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::ingest::formats::nginx_error::parse_line;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

pub struct UpstreamClosedEarly;

const EARLY_CLOSES: Lookout = Lookout {
    name: "upstream-closed-early/errors",
    formats: &[FormatId::NginxError],
    words: &[
        "upstream prematurely closed connection",
        "(104: Connection reset by peer)",
    ],
};
/// Every line [`worker_event`] may be true of holds one of these.
const WORKER_EVENTS: Lookout = Lookout {
    name: "upstream-closed-early/worker-events",
    formats: FormatId::APP_SERVER_LOGS,
    words: &[
        "WORKER TIMEOUT",
        "was terminated due to signal",
        "Worker exiting",
        "Booting worker",
        "Worker (pid:",
    ],
};

/// How far apart nginx's error and gunicorn's worker death may be.
const NEAR: Micros = 5 * MICROS_PER_SEC;

fn closed_early(raw: &[u8]) -> bool {
    parse_line(raw).is_some_and(|e| {
        let m = String::from_utf8_lossy(e.message);
        m.contains("upstream prematurely closed connection")
            || (m.contains("(104: Connection reset by peer)")
                && m.contains("while reading response header from upstream"))
    })
}

/// A gunicorn line that says why a worker died: a timeout, or a signal from outside
/// (`Worker with pid 812 was terminated due to signal 9`: killed, or out of memory).
fn worker_death(text: &str) -> bool {
    text.contains("WORKER TIMEOUT") || text.contains("was terminated due to signal")
}

/// A gunicorn line about a worker dying or being replaced.
fn worker_event(text: &str) -> bool {
    worker_death(text)
        || text.contains("Worker exiting")
        || text.contains("Booting worker")
        || (text.contains("Worker (pid:") && text.contains("exited with code"))
        || (text.contains("Worker (pid:") && text.contains("was sent SIG"))
}

impl Rule for UpstreamClosedEarly {
    fn id(&self) -> &'static str {
        "upstream-closed-early"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&EARLY_CLOSES, &WORKER_EVENTS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let src = &cx.incident.sources;
        let hosts = cx.hosts_with(&[FormatId::NginxError]);
        let mut findings = Vec::new();
        for host in hosts {
            let errors: Vec<(usize, usize)> = cx
                .records_with(&EARLY_CLOSES)
                .filter(|r| src[r.0].host == host && closed_early(src[r.0].raw(r.1)))
                .collect();
            if errors.is_empty() {
                continue;
            }
            let workers: Vec<(usize, usize)> = cx
                .records_with(&WORKER_EVENTS)
                .filter(|r| src[r.0].host == host && cx.time(*r) != UNTIMED)
                .filter(|r| worker_event(&cx.text(*r)))
                .collect();
            // Worker events near each error; for the first few errors, the closest one
            // (a WORKER TIMEOUT first, since it says why the worker died).
            let mut matched = 0usize;
            let mut near: Vec<(usize, usize)> = Vec::new();
            for e in &errors {
                let t = cx.time(*e);
                if t == UNTIMED {
                    continue;
                }
                let close: Vec<(usize, usize)> = workers
                    .iter()
                    .copied()
                    .filter(|w| (cx.time(*w) - t).abs() <= NEAR)
                    .collect();
                if close.is_empty() {
                    continue;
                }
                matched += 1;
                let best = close
                    .iter()
                    .copied()
                    .min_by_key(|w| (!worker_death(&cx.text(*w)), (cx.time(*w) - t).abs()));
                if let Some(w) = best
                    && near.len() < 3
                    && !near.contains(&w)
                {
                    near.push(w);
                }
            }
            let mut evidence: Vec<Evidence> = errors
                .iter()
                .take(3)
                .chain(near.iter())
                .map(Evidence::from)
                .collect();
            evidence.push(Evidence::Fact(format!(
                "{} early closes in nginx's error log; {matched} of them within {} s of a gunicorn \
                 worker dying or being replaced",
                errors.len(),
                NEAR / MICROS_PER_SEC
            )));
            let timeouts = workers
                .iter()
                .filter(|w| cx.text(**w).contains("WORKER TIMEOUT"))
                .count();
            let first = format_utc(cx.time(errors[0]));
            let cause = if matched > 0 && timeouts > 0 {
                format!("; {matched} coincide with gunicorn worker timeouts/restarts")
            } else if matched > 0 {
                format!("; {matched} coincide with gunicorn worker restarts")
            } else {
                String::new()
            };
            findings.push(Finding {
                id: self.id(),
                // One reset during a restart is worth a look; repeated ones or worker
                // timeouts break requests for real.
                severity: if errors.len() > 1 || (matched > 0 && timeouts > 0) {
                    Severity::Error
                } else {
                    Severity::Warn
                },
                depth: Depth::Symptom,
                title: format!(
                    "the app server closed {} connection(s) before answering nginx{cause}",
                    errors.len()
                ),
                explanation: format!(
                    "nginx had passed a request to the app server and was waiting for the reply \
                     when the connection was closed from the other side (first at {first}), so the \
                     client got 502 Bad Gateway. This usually means the gunicorn worker handling \
                     it died: killed by gunicorn's own timeout (WORKER TIMEOUT), by memory limits, \
                     or by a crash. Look at what those requests do and how long they take; raise \
                     gunicorn's timeout or add workers, or move the slow work out of the request."
                ),
                evidence,
                next: vec![
                    "grep -n 'prematurely\\|reset by peer' /var/log/nginx/error.log | tail".into(),
                    "journalctl -u gunicorn --since '-1h' | grep -i 'worker'".into(),
                    "dmesg -T | grep -i 'killed process'   # the OOM killer".into(),
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
        crate::analysis::rules::run_on_bundle(&UpstreamClosedEarly, name)
    }

    #[test]
    fn fires_on_the_single_worker_upload() {
        let incident = crate::analysis::rules::test_bundle("i5-single-worker-upload");
        let cx = Context::new(&incident);
        let f = UpstreamClosedEarly.check(&cx);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("closed 8 connection"), "{}", f.title);
        assert!(f.title.contains("worker timeouts"), "{}", f.title);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.evidence.iter().any(|e| matches!(e,
            Evidence::Fact(t) if t.contains("8 early closes") && t.contains("8 of them"))));
        let timeouts = f
            .evidence
            .iter()
            .filter(|e| {
                matches!(e, Evidence::Record { source, row }
                if cx.text((*source, *row)).contains("WORKER TIMEOUT"))
            })
            .count();
        assert_eq!(timeouts, 3, "{f:#?}");
    }

    #[test]
    fn one_reset_during_a_restart_is_a_warning() {
        let f = run("i2-import-time-setting");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warn);
    }

    #[test]
    fn a_worker_killed_by_a_signal_is_a_death_not_a_restart() {
        // gunicorn 20.1 when a worker is killed with SIGKILL.
        assert!(worker_death(
            "[2026-12-03 20:13:11 +0000] [5266] [WARNING] Worker with pid 5270 was terminated due to signal 9"
        ));
        assert!(!worker_death(
            "[2026-12-03 20:13:11 +0000] [5266] [INFO] Booting worker with pid: 5280"
        ));
    }

    #[test]
    fn silent_on_healthy() {
        assert!(run("healthy").is_empty());
        assert!(run("i4-retry-storm").is_empty());
    }
}
