//! What the runbooks' commands and platform checks need to know about this incident: the app,
//! its unit and listener, the CI jobs, the env compared with a sibling, the revision to roll
//! back to. Worked out once per incident.

use std::collections::BTreeMap;

use crate::analysis::rules::{Context, Diagnosis, Evidence, unit_config};
use crate::ingest::formats::cf_env::{EnvDiffKind, EnvDump, compare, parse_env};
use crate::ingest::formats::cf_revisions::{Revision, parse_revisions};
use crate::ingest::formats::circleci::{Job, parse_jobs};
use crate::ingest::formats::systemctl_cat::effective;
use crate::model::format_id::FormatId;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

use super::check::APP_SERVERS;

/// The placeholders a command may hold as `{{name}}`, and what fills each.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("app", "the app's name (cf), else its unit without .service"),
    ("app_guid", "the app's guid, from cf env (VCAP_APPLICATION)"),
    ("unit", "the app server's systemd unit"),
    (
        "listener",
        "where the app server listens, from ss (unix:/path or host:port)",
    ),
    (
        "socket_path",
        "the path of the app server's unix socket, from ss",
    ),
    ("upstream", "where nginx passes requests, from nginx -T"),
    (
        "since",
        "ten minutes before the incident started (RFC 3339, UTC)",
    ),
    ("until", "the end of the incident's data (RFC 3339, UTC)"),
    ("failed_job", "the first CI job that failed"),
    (
        "deployed_revision",
        "the revision deployed now (cf revisions)",
    ),
    ("revision", "the revision to roll back to"),
    ("revision_guid", "that revision's guid"),
];

/// The CI run as the bundle's `ci/*.json` tell it.
#[derive(Debug, Clone)]
pub struct CiFacts {
    pub jobs: Vec<Job>,
    /// Failed jobs, each with its record when found.
    pub failed: Vec<(Job, Option<(usize, usize)>)>,
}

impl CiFacts {
    /// One line per failed job with its record, then the jobs that passed and never ran.
    pub fn summary(&self) -> Vec<Evidence> {
        let mut out = Vec::new();
        for (job, record) in &self.failed {
            let mut s = format!("CI job {} {}", job.name, job.status);
            if let Some(t) = job.stopped_at {
                s.push_str(&format!(" at {}", format_utc(t)));
            }
            if let (Some(a), Some(b)) = (job.started_at, job.stopped_at) {
                s.push_str(&format!(" after {} s", (b - a) / MICROS_PER_SEC));
            }
            out.push(Evidence::Fact(s));
            if let Some(r) = record {
                out.push(Evidence::from(*r));
            }
        }
        let passed: Vec<&str> = self
            .jobs
            .iter()
            .filter(|j| j.status == "success")
            .map(|j| j.name.as_str())
            .collect();
        if !passed.is_empty() {
            out.push(Evidence::Fact(format!("passed: {}", passed.join(", "))));
        }
        let unrun: Vec<&str> = self
            .jobs
            .iter()
            .filter(|j| j.started_at.is_none() && !j.failed())
            .map(|j| j.name.as_str())
            .collect();
        if !unrun.is_empty() {
            out.push(Evidence::Fact(format!("never ran: {}", unrun.join(", "))));
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct EnvFacts {
    pub app: String,
    pub sibling: String,
    /// Differences with the sibling, values left out; `None` with one env only.
    pub diff: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct RollbackFacts {
    pub deployed: Option<Revision>,
    pub target: Option<Revision>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The placeholders' values.
    pub values: BTreeMap<&'static str, String>,
    /// When the incident started (the first burst of errors).
    pub start: Option<Micros>,
    pub ci: Option<CiFacts>,
    pub env: Option<EnvFacts>,
    pub rollback: Option<RollbackFacts>,
}

impl Facts {
    pub fn build(cx: &Context, diagnosis: &Diagnosis) -> Facts {
        let mut f = Facts {
            start: diagnosis.incident_start,
            ..Facts::default()
        };
        let end = cx.end();
        if let Some(s) = f.start {
            f.values
                .insert("since", format_utc(s - 600 * MICROS_PER_SEC));
        }
        if end != UNTIMED {
            f.values.insert("until", format_utc(end));
        }
        let is_app = |name: &str| APP_SERVERS.iter().any(|a| name.starts_with(a));
        // The app server: its unit and its listener.
        let units = cx.units.at(end);
        // The unit whose ExecStart runs an app server, else one named for it, else a failed one.
        let runs_app = |name: &str| {
            cx.incident.hosts.iter().any(|h| {
                let (shown, files) = unit_config(cx.incident, &h.name);
                let in_file = effective(&files, name, "Service", "ExecStart")
                    .iter()
                    .any(|e| runs_app_server(e));
                let in_show = shown.iter().any(|p| {
                    p.get("Id") == Some(name) && p.get("ExecStart").is_some_and(runs_app_server)
                });
                in_file || in_show
            })
        };
        if let Some(u) = units
            .iter()
            .find(|u| u.unit.ends_with(".service") && runs_app(&u.unit))
            .or_else(|| units.iter().find(|u| is_app(&u.unit)))
            .or_else(|| units.iter().find(|u| u.failed()))
        {
            f.values.insert("unit", u.unit.clone());
            f.values.insert(
                "app",
                u.unit
                    .strip_suffix(".service")
                    .unwrap_or(&u.unit)
                    .to_string(),
            );
        }
        let at = f.start.unwrap_or(end);
        if let Some(l) = cx
            .sockets
            .listeners(at)
            .iter()
            .find(|l| l.process.as_deref().is_some_and(is_app))
        {
            f.values.insert("listener", l.local.clone());
            if let Some(path) = l.local.strip_prefix("unix:") {
                f.values.insert("socket_path", path.to_string());
            }
        }
        if let Some(ep) = cx
            .nginx
            .iter()
            .flat_map(|d| d.config.upstream_targets())
            .find_map(|t| t.endpoint)
        {
            f.values.insert("upstream", ep.to_string());
        }
        f.ci = ci(cx);
        if let Some((job, _)) = f.ci.as_ref().and_then(|c| c.failed.first()) {
            f.values.insert("failed_job", job.name.clone());
        }
        f.rollback = rollback(cx, f.start, &mut f.values);
        f.env = env(cx, &mut f.values);
        f
    }

    /// `command` with its placeholders filled; unknown ones shown as `<name>`.
    pub fn fill(&self, command: &str) -> String {
        let mut out = String::with_capacity(command.len());
        let mut rest = command;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else {
                out.push_str(&rest[i..]);
                return out;
            };
            let name = after[..j].trim();
            match self.values.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push('<');
                    out.push_str(name);
                    out.push('>');
                }
            }
            rest = &after[j + 2..];
        }
        out.push_str(rest);
        out
    }

    /// The placeholders of `command` with no value here.
    pub fn missing<'a>(&self, command: &'a str) -> Vec<&'a str> {
        super::runbook::placeholders(command)
            .into_iter()
            .filter(|p| !self.values.contains_key(p))
            .collect()
    }
}

/// Whether a command line starts an app server: its program, or the module `python -m` runs.
fn runs_app_server(exec: &str) -> bool {
    exec.split_whitespace()
        .take(4)
        .map(|w| w.trim_start_matches(['@', '-', '!', '+']))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .any(|w| APP_SERVERS.iter().any(|a| w.starts_with(a)) && !w.starts_with("python"))
}

fn sources_of(cx: &Context, format: FormatId) -> Vec<usize> {
    cx.incident
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.format == format)
        .map(|(i, _)| i)
        .collect()
}

fn ci(cx: &Context) -> Option<CiFacts> {
    let mut jobs = Vec::new();
    let mut failed = Vec::new();
    for i in sources_of(cx, FormatId::CircleCi) {
        let s = &cx.incident.sources[i];
        for job in parse_jobs(&String::from_utf8_lossy(&s.data)) {
            if job.failed() {
                let needle = format!("\"{}\"", job.name);
                let record = (0..s.len())
                    .find(|row| {
                        let raw = String::from_utf8_lossy(s.raw(*row));
                        raw.contains(&needle) && raw.contains("\"status\"")
                    })
                    .map(|row| (i, row));
                failed.push((job.clone(), record));
            }
            jobs.push(job);
        }
    }
    (!jobs.is_empty()).then_some(CiFacts { jobs, failed })
}

fn rollback(
    cx: &Context,
    start: Option<Micros>,
    values: &mut BTreeMap<&'static str, String>,
) -> Option<RollbackFacts> {
    let i = *sources_of(cx, FormatId::CfRevisions).first()?;
    let s = &cx.incident.sources[i];
    let parsed = parse_revisions(&String::from_utf8_lossy(&s.data));
    if let Some(app) = &parsed.app {
        values.insert("app", app.clone());
    }
    let record = |r: &Revision| {
        (0..s.len())
            .find(|row| s.lines[*row] == r.line)
            .map(|row| Evidence::from((i, row)))
    };
    let deployed = parsed.revisions.iter().find(|r| r.deployed).cloned();
    let mut evidence = Vec::new();
    if let Some(d) = &deployed {
        values.insert("deployed_revision", d.number.to_string());
        evidence.push(Evidence::Fact(format!(
            "revision {} is deployed, created {}",
            d.number,
            d.created_at.map_or("at an unknown time".into(), format_utc)
        )));
        evidence.extend(record(d));
    }
    // The deploy that came right before the incident is the suspect: roll back past it, to
    // the newest deployable revision older than both it and the incident's start.
    let cutoff = match (&deployed, start) {
        (Some(d), Some(s)) => d.created_at.map_or(s, |c| c.min(s)),
        (Some(d), None) => d.created_at.unwrap_or(Micros::MAX),
        (None, Some(s)) => s,
        (None, None) => Micros::MAX,
    };
    let target = parsed
        .revisions
        .iter()
        .filter(|r| r.deployable && !r.deployed)
        .filter(|r| r.created_at.is_some_and(|c| c < cutoff))
        .max_by_key(|r| (r.created_at, r.number))
        .cloned();
    match &target {
        Some(t) => {
            values.insert("revision", t.number.to_string());
            values.insert("revision_guid", t.guid.clone());
            evidence.insert(
                0,
                Evidence::Fact(format!(
                    "roll back to revision {} ({}), the newest deployable one before the deploy that preceded the incident",
                    t.number,
                    t.description.trim_end_matches('.')
                )),
            );
            evidence.extend(record(t));
        }
        None => evidence.insert(
            0,
            Evidence::Fact("no deployable revision older than the deployed one".into()),
        ),
    }
    Some(RollbackFacts {
        deployed,
        target,
        evidence,
    })
}

fn env(cx: &Context, values: &mut BTreeMap<&'static str, String>) -> Option<EnvFacts> {
    let dumps: Vec<EnvDump> = sources_of(cx, FormatId::CfEnv)
        .into_iter()
        .map(|i| parse_env(&String::from_utf8_lossy(&cx.incident.sources[i].data)))
        .collect();
    let app_name = values.get("app").cloned();
    // The app is the dump named like the app of the revisions, else the first.
    let mine = dumps
        .iter()
        .position(|d| d.app.is_some() && d.app == app_name)
        .unwrap_or(0);
    let app = dumps.get(mine)?;
    if let Some(g) = &app.app_guid {
        values.insert("app_guid", g.clone());
    }
    if let Some(a) = &app.app {
        values.entry("app").or_insert_with(|| a.clone());
    }
    let name = |d: &EnvDump| d.app.clone().unwrap_or_else(|| "the app".into());
    let sibling = dumps
        .iter()
        .enumerate()
        .find(|(i, _)| *i != mine)
        .map(|(_, d)| d);
    let diff = sibling.map(|s| {
        compare(app, s)
            .iter()
            .map(|d| match d.kind {
                EnvDiffKind::Missing => format!("{} is missing ({} has it)", d.name, name(s)),
                EnvDiffKind::Differing => format!("{} differs from {}", d.name, name(s)),
                EnvDiffKind::Extra => format!("{} is set only here, not in {}", d.name, name(s)),
            })
            .collect()
    });
    Some(EnvFacts {
        app: name(app),
        sibling: sibling.map(name).unwrap_or_default(),
        diff,
    })
}
