//! `too-few-workers`: gunicorn runs a single worker process (set so, or by default: no
//! `--workers`/`-w` on its command line and no `workers` in its config file) on a host whose
//! manifest says it has more CPUs, while the logs show it struggling (worker timeouts, 5xx
//! answers). Evidence: the command line or config line the worker count comes from, the CPU
//! count, and a few of the timeouts and failed requests.
//!
//! This file also holds [`gunicorns`], which finds each gunicorn of the incident and where its
//! settings come from (`systemctl show`/`systemctl cat` ExecStart lines, gunicorn config files);
//! `proxy-timeout-not-above-app` uses it too.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::ingest::formats::gunicorn_config::{GunicornSettings, from_argv, parse_settings};
use crate::ingest::formats::systemctl_cat::parse_units;
use crate::ingest::formats::systemctl_show::parse_show;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;

pub struct TooFewWorkers;

/// One gunicorn of the incident and where its settings were read.
#[derive(Debug, Clone)]
pub struct AppServer {
    pub host: String,
    /// The systemd unit that starts it, if known.
    pub unit: Option<String>,
    /// Effective settings: the config file with the command line on top.
    pub settings: GunicornSettings,
    /// The `ExecStart=` line (of `systemctl cat`, else `systemctl show`).
    pub exec_line: Option<Evidence>,
    /// The config file source, if one was read.
    pub config_source: Option<usize>,
}

impl AppServer {
    /// Where the value of `name` (config-file spelling: `workers`, `timeout`) comes from:
    /// the command line when it sets it, else the config file's line, else `None` (default).
    pub fn setting_evidence(&self, cx: &Context, name: &str, flags: &[&str]) -> Option<Evidence> {
        if let Some(Evidence::Line { text, .. }) = &self.exec_line {
            let set_on_cmdline = text.split_whitespace().any(|w| {
                flags.iter().any(|f| {
                    w == *f
                        || w.starts_with(&format!("{f}="))
                        || (f.len() == 2 && w.starts_with(f) && w.len() > 2)
                })
            });
            if set_on_cmdline {
                return self.exec_line.clone();
            }
        }
        let src = self.config_source?;
        config_line(cx, src, name)
    }
}

/// The line of config source `source` that assigns `name` at top level.
fn config_line(cx: &Context, source: usize, name: &str) -> Option<Evidence> {
    let data = &cx.incident.sources.get(source)?.data;
    let text = String::from_utf8_lossy(data);
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix(name) {
            let rest = rest.trim_start();
            if rest.starts_with('=') && !rest.starts_with("==") {
                return Some(cx.line_at(source, offset));
            }
        }
        offset += line.len();
    }
    None
}

/// The evidence line of the first `ExecStart=` of a whole-file source.
fn exec_start_line(cx: &Context, source: usize) -> Option<Evidence> {
    let data = &cx.incident.sources.get(source)?.data;
    let at = memchr::memmem::find(data, b"ExecStart=")?;
    Some(cx.line_at(source, at))
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Every gunicorn sitrep can see, one per unit (or one per host from a lone config file).
pub fn gunicorns(cx: &Context) -> Vec<AppServer> {
    let sources = &cx.incident.sources;
    // (host, unit, command line, its line, read from `systemctl show`?)
    type Found = (String, Option<String>, String, Option<Evidence>, bool);
    let mut found: Vec<Found> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        match s.format {
            FormatId::SystemctlCat => {
                let text = String::from_utf8_lossy(&s.data);
                for unit in parse_units(&text) {
                    for cmd in unit.get("Service", "ExecStart") {
                        if cmd.contains("gunicorn") {
                            found.push((
                                s.host.clone(),
                                unit.name.clone(),
                                cmd.to_string(),
                                exec_start_line(cx, i),
                                false,
                            ));
                        }
                    }
                }
            }
            FormatId::SystemctlShow => {
                let text = String::from_utf8_lossy(&s.data);
                for unit in parse_show(&text) {
                    if let Some(cmd) = unit.exec_start().filter(|c| c.contains("gunicorn")) {
                        found.push((
                            s.host.clone(),
                            unit.id().map(str::to_string),
                            cmd,
                            exec_start_line(cx, i),
                            true,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let mut out: Vec<AppServer> = Vec::new();
    // The unit file (cat) is the readable line; the loaded unit (show) is what runs. Prefer the
    // loaded command line, cite the unit file when both say the same.
    let mut keys: Vec<(String, Option<String>)> = Vec::new();
    for f in &found {
        let key = (f.0.clone(), f.1.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (host, unit) in keys {
        let cat = found.iter().find(|f| f.0 == host && f.1 == unit && !f.4);
        let show = found.iter().find(|f| f.0 == host && f.1 == unit && f.4);
        let (argv, line) = match (cat, show) {
            (Some(c), Some(s)) => {
                let (a, b) = (from_argv(&c.2), from_argv(&s.2));
                if a.workers == b.workers && a.timeout == b.timeout && a.config == b.config {
                    (a, c.3.clone())
                } else {
                    (b, s.3.clone())
                }
            }
            (Some(c), None) => (from_argv(&c.2), c.3.clone()),
            (None, Some(s)) => (from_argv(&s.2), s.3.clone()),
            (None, None) => continue,
        };
        let configs: Vec<usize> = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.format == FormatId::GunicornConfig && s.host == host)
            .map(|(i, _)| i)
            .collect();
        // The file named by -c (matched by name), else the only config file of the host
        // (gunicorn also reads ./gunicorn.conf.py by default).
        let config_source = match &argv.config {
            Some(path) => configs
                .iter()
                .copied()
                .find(|i| basename(&sources[*i].file) == basename(path))
                .or_else(|| (configs.len() == 1).then(|| configs[0])),
            None => (configs.len() == 1).then(|| configs[0]),
        };
        let settings = match config_source {
            Some(i) => {
                parse_settings(&String::from_utf8_lossy(&sources[i].data)).overridden_by(&argv)
            }
            None => argv,
        };
        out.push(AppServer {
            host,
            unit,
            settings,
            exec_line: line,
            config_source,
        });
    }
    // A config file with no unit that starts it.
    for (i, s) in sources.iter().enumerate() {
        if s.format == FormatId::GunicornConfig
            && !out.iter().any(|a| a.config_source == Some(i))
            && !out.iter().any(|a| a.host == s.host)
        {
            out.push(AppServer {
                host: s.host.clone(),
                unit: None,
                settings: parse_settings(&String::from_utf8_lossy(&s.data)),
                exec_line: None,
                config_source: Some(i),
            });
        }
    }
    out
}

/// Worker classes that serve many requests per process: one worker is not a problem there.
const ASYNC_CLASSES: &[&str] = &["gevent", "eventlet", "tornado", "uvicorn"];

type Rows = Vec<(usize, usize)>;

/// Records of `host` that show gunicorn struggling: (worker timeouts, 502/503/504 answers).
fn struggles(cx: &Context, host: &str) -> (Rows, Rows) {
    let timeouts: Vec<(usize, usize)> = cx
        .records(&[
            FormatId::Gunicorn,
            FormatId::JournalJson,
            FormatId::JournalExport,
            FormatId::JournalShort,
            FormatId::JournalShortIso,
            FormatId::JournalShortPrecise,
            FormatId::Generic,
        ])
        .filter(|r| cx.incident.sources[r.0].host == host)
        .filter(|r| cx.text(*r).contains("WORKER TIMEOUT"))
        .collect();
    let failed: Vec<(usize, usize)> = cx
        .records(&[FormatId::NginxAccess])
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

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        for app in gunicorns(cx) {
            let s = &app.settings;
            if s.workers_or_default() != 1 || s.threads_or_default() > 1 {
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
            let name = app.unit.clone().unwrap_or_else(|| "gunicorn".to_string());
            let how = match s.workers {
                Some(_) => "workers set to 1".to_string(),
                None => {
                    "no --workers/-w and no `workers` in a config file, so gunicorn's default of 1"
                        .to_string()
                }
            };
            let mut evidence = Vec::new();
            if let Some(e) = app.setting_evidence(cx, "workers", &["--workers", "-w"]) {
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
                    "{name} runs 1 gunicorn worker on a host with {cpus} CPUs (usual 2*{cpus}+1 = {recommended})"
                ),
                explanation: format!(
                    "A gunicorn sync worker handles one request at a time, and this gunicorn has \
                     only one ({how}). While one slow request (a big upload, a long report) \
                     runs, every other user waits, and when it passes the worker timeout the \
                     only worker is killed and rebooted, so requests fail with 502/504 ({} worker \
                     timeouts and {} 502/503/504 answers here). Give it more workers, usually \
                     2 x CPUs + 1 = {recommended}, with --workers or `workers =` in a config file, \
                     and move very long work to a background job.",
                    timeouts.len(),
                    failed.len()
                ),
                evidence,
                next: vec![
                    format!("systemctl cat {name}   # the ExecStart= command line"),
                    "nproc".into(),
                    format!(
                        "systemctl edit {name}   # add --workers {recommended} (or workers = {recommended} in gunicorn.conf.py)"
                    ),
                    "ps -o pid,ppid,pcpu,etime,cmd -C gunicorn   # how many workers really run".into(),
                ],
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Incident;

    fn load(name: &str) -> Incident {
        crate::analysis::rules::test_bundle(name)
    }

    #[test]
    fn finds_settings_of_each_gunicorn() {
        let i4 = load("i4-retry-storm");
        let cx = Context::new(&i4);
        let apps = gunicorns(&cx);
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].settings.workers_or_default(), 2);
        assert_eq!(apps[0].settings.timeout_or_default(), 120);
        let i5 = load("i5-single-worker-upload");
        let cx = Context::new(&i5);
        let apps = gunicorns(&cx);
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].settings.workers_or_default(), 1);
        assert_eq!(apps[0].settings.timeout_or_default(), 30);
    }

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
