//! `too-few-workers`: gunicorn (or uWSGI) runs a single worker process (set so, or by default: no
//! `--workers`/`-w` on its command line and no `workers` in its config file) on a host whose
//! manifest says it has more CPUs, while the logs show it struggling (worker timeouts, 5xx
//! answers). Evidence: the command line or config line the worker count comes from, the CPU
//! count, and a few of the timeouts and failed requests.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::appserver::NO_APP_SERVER;
use crate::analysis::scan::Lookout;
use crate::ingest::formats::app_command::ServerKind;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;

pub struct TooFewWorkers;

/// Worker classes that serve many requests per process: one worker is not a problem there.
const ASYNC_CLASSES: &[&str] = &["gevent", "eventlet", "tornado", "uvicorn"];

type Rows = Vec<(usize, usize)>;

const TIMEOUTS: Lookout = Lookout {
    name: "too-few-workers/timeouts",
    formats: &[
        FormatId::Gunicorn,
        FormatId::JournalJson,
        FormatId::JournalExport,
        FormatId::JournalShort,
        FormatId::JournalShortIso,
        FormatId::JournalShortPrecise,
        FormatId::Generic,
    ],
    words: &["WORKER TIMEOUT", "HARAKIRI ON WORKER"],
};
const FAILED: Lookout = Lookout {
    name: "too-few-workers/failed",
    formats: &[FormatId::NginxAccess],
    words: &["502", "503", "504"],
};

/// Does one worker process of this kind serve one request at a time (unless it runs
/// threads)? uvicorn's workers are asynchronous; runserver runs a thread per request.
fn one_request_per_worker(kind: ServerKind) -> bool {
    matches!(kind, ServerKind::Gunicorn | ServerKind::Uwsgi)
}

/// Records of `host` that show gunicorn struggling: (worker timeouts, 502/503/504 answers).
fn struggles(cx: &Context, host: &str) -> (Rows, Rows) {
    let timeouts: Vec<(usize, usize)> = cx
        .records_with(&TIMEOUTS)
        .filter(|r| cx.incident.sources[r.0].host == host)
        .filter(|r| {
            let t = cx.text(*r);
            t.contains("WORKER TIMEOUT") || t.contains("HARAKIRI ON WORKER")
        })
        .collect();
    let failed: Vec<(usize, usize)> = cx
        .records_with(&FAILED)
        .filter(|r| cx.incident.sources[r.0].host == host)
        .filter(|r| {
            cx.incident
                .fields(r.0, r.1)
                .iter()
                .any(|(k, v)| k == "status" && matches!(v.trim(), "502" | "503" | "504"))
        })
        .collect();
    (timeouts, failed)
}

impl Rule for TooFewWorkers {
    fn id(&self) -> &'static str {
        "too-few-workers"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&TIMEOUTS, &FAILED]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        for app in cx.apps.iter().filter(|a| one_request_per_worker(a.kind)) {
            let s = &app.settings;
            // Only a worker count the bundle shows: a default assumed for want of a command
            // line is no finding.
            let workers = app.workers(cx);
            if !workers.is_known() || workers.value != 1 || s.threads_or_default() > 1 {
                continue;
            }
            let class = s.worker_class_or_default();
            if ASYNC_CLASSES.iter().any(|c| class.contains(c)) {
                continue;
            }
            let Some(cpus) = cx
                .incident
                .hosts
                .iter()
                .find(|h| h.name == app.host)
                .and_then(|h| h.cpus)
            else {
                continue;
            };
            if cpus < 2 {
                continue;
            }
            let (timeouts, failed) = struggles(cx, &app.host);
            if timeouts.is_empty() && failed.is_empty() {
                continue;
            }
            let recommended = cpus.saturating_mul(2).saturating_add(1);
            let name = app.name();
            let who = app.kind.name();
            let flag = app.kind.workers_flags()[0];
            let (setting, conf) = match app.kind {
                ServerKind::Uwsgi => ("processes", "its .ini file"),
                _ => ("workers", "gunicorn.conf.py"),
            };
            let how = workers.said(" worker");
            let mut evidence = Vec::new();
            if let Some(e) = app.setting_evidence(cx, "workers", app.kind.workers_flags()) {
                evidence.push(e);
            } else if let Some(e) = &app.exec_line {
                evidence.push(e.clone());
            }
            evidence.push(Evidence::Fact(format!("worker count: {how}")));
            evidence.push(Evidence::Fact(format!(
                "{} has {cpus} CPUs (manifest); the usual worker count is 2*{cpus}+1 = {recommended}",
                app.host
            )));
            evidence.extend(timeouts.iter().take(3).map(Evidence::from));
            evidence.extend(failed.iter().take(3).map(Evidence::from));
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Warn,
                depth: Depth::Cause,
                title: format!(
                    "{name} runs 1 {who} worker on a host with {cpus} CPUs (usual 2*{cpus}+1 = {recommended})"
                ),
                explanation: format!(
                    "A {who} sync worker handles one request at a time, and this {who} has \
                     only one ({}). While one slow request (a big upload, a long report) \
                     runs, every other user waits, and when it passes the worker timeout the \
                     only worker is killed and rebooted, so requests fail with 502/504 ({} worker \
                     timeouts and {} 502/503/504 answers here). Give it more workers, usually \
                     2 x CPUs + 1 = {recommended}, with {flag} or `{setting} =` in a config file, \
                     and move very long work to a background job.",
                    workers.short(" worker"),
                    timeouts.len(),
                    failed.len()
                ),
                evidence,
                next: vec![
                    match &app.unit {
                        Some(u) => format!("systemctl cat {u}   # the ExecStart= command line"),
                        None => format!(
                            "ps -o pid,ppid,args -C {}   # its command line",
                            who.to_lowercase()
                        ),
                    },
                    "nproc".into(),
                    match &app.unit {
                        Some(u) => format!(
                            "systemctl edit {u}   # add {flag} {recommended} (or {setting} = {recommended} in {conf})"
                        ),
                        None => format!(
                            "# start it with {flag} {recommended} (or {setting} = {recommended} in {conf})"
                        ),
                    },
                    format!(
                        "ps -o pid,ppid,pcpu,etime,cmd -C {}   # how many workers really run",
                        app.kind.name().to_lowercase()
                    ),
                ],
            });
        }
        findings
    }

    fn unknown(&self, cx: &Context) -> Option<String> {
        let apps: Vec<_> = cx
            .apps
            .iter()
            .filter(|a| one_request_per_worker(a.kind))
            .collect();
        let known: Vec<_> = apps.iter().filter(|a| a.workers(cx).is_known()).collect();
        if apps.is_empty() && !cx.apps.is_empty() {
            // Only servers whose one worker serves many requests at once.
            return None;
        }
        if known.is_empty() {
            return Some(match apps.first() {
                Some(a) => format!(
                    "{}'s worker count: {}",
                    a.kind.name(),
                    a.workers(cx).said("")
                ),
                None => format!("gunicorn's worker count is unknown ({NO_APP_SERVER})"),
            });
        }
        let cpus_known = known.iter().any(|a| {
            cx.incident
                .hosts
                .iter()
                .any(|h| h.name == a.host && h.cpus.is_some())
        });
        (!cpus_known).then(|| "the bundle does not say how many CPUs the host has".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_on_single_worker_upload() {
        let f = crate::analysis::rules::run_on_bundle(&TooFewWorkers, "i5-single-worker-upload");
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert_eq!(f.depth, Depth::Cause);
        assert!(f.title.contains("1 gunicorn worker"), "{}", f.title);
        assert!(f.title.contains("4 CPUs"), "{}", f.title);
        assert!(f.title.contains("= 9"), "{}", f.title);
        assert!(f.title.contains("inventory.service"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| matches!(e, Evidence::Line { text, .. } if text.starts_with("ExecStart=") && text.contains("gunicorn"))));
        assert!(
            f.evidence
                .iter()
                .any(|e| matches!(e, Evidence::Record { .. }))
        );
        assert!(f.evidence.len() < 12);
    }

    #[test]
    fn silent_elsewhere() {
        for name in [
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i4-retry-storm",
            "i6-pipeline-platform",
            "awkward",
        ] {
            let f = crate::analysis::rules::run_on_bundle(&TooFewWorkers, name);
            assert!(f.is_empty(), "{name}: {f:?}");
        }
    }
}
