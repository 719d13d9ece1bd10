//! Rules read the whole incident (logs, units, sockets, nginx and gunicorn settings) and name
//! what is wrong, with the evidence. A rule is one file here plus one line in [`RULES`].

pub mod app_boot_failure;
pub mod bind_conflict;
pub mod daemon_reload_needed;
pub mod dependency_refused;
pub mod dev_server_exposed;
pub mod error_burst;
pub mod proxy_timeout_not_above_app;
pub mod retry_storm;
pub mod socket_missing;
pub mod too_few_workers;
pub mod unit_failed;
pub mod upstream_closed_early;
pub mod upstream_permission_denied;
pub mod upstream_socket_mismatch;
pub mod upstream_timeout;
pub mod upstream_unreachable;
pub mod worker_timeout;

use std::sync::Arc;

use serde::Serialize;

use crate::analysis::appserver::{AppServer, app_servers};
use crate::analysis::scan::{self, Lookout, Scan, Wanted};
use crate::analysis::state::{Sockets, Units};
use crate::analysis::timeline::Timeline;
use crate::ingest::formats::nginx_config::{Config, parse_config};
use crate::ingest::formats::systemctl_cat::{UnitFile, parse_units};
use crate::ingest::formats::systemctl_show::{UnitProps, parse_show};
use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::flag;
use crate::model::time::{Micros, UNTIMED, format_utc};

/// Every rule, in no particular order (findings are sorted root cause first).
pub static RULES: &[&dyn Rule] = &[
    &upstream_unreachable::UpstreamUnreachable,
    &upstream_closed_early::UpstreamClosedEarly,
    &upstream_permission_denied::UpstreamPermissionDenied,
    &upstream_timeout::UpstreamTimeout,
    &upstream_socket_mismatch::UpstreamSocketMismatch,
    &bind_conflict::BindConflict,
    &dev_server_exposed::DevServerExposed,
    &error_burst::ErrorBurst,
    &proxy_timeout_not_above_app::ProxyTimeoutNotAboveApp,
    &retry_storm::RetryStorm,
    &too_few_workers::TooFewWorkers,
    &dependency_refused::DependencyRefused,
    &app_boot_failure::AppBootFailure,
    &unit_failed::UnitFailed,
    &worker_timeout::WorkerTimeout,
    &daemon_reload_needed::DaemonReloadNeeded,
    &socket_missing::SocketMissing,
];

/// How many records matched, and the first few of them: what a finding cites of a long list
/// (44,000 cut requests are a count and a handful of examples, not a list of 44,000).
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub count: usize,
    pub first: Vec<(usize, usize)>,
}

impl Sample {
    /// Count `r`, keeping it when fewer than `keep` are kept.
    pub fn add(&mut self, r: (usize, usize), keep: usize) {
        self.count += 1;
        if self.first.len() < keep {
            self.first.push(r);
        }
    }
}

/// Where a finding's claim can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A record of a source.
    Record { source: usize, row: usize },
    /// One line of a config or state file (`nginx -T`, a unit file, `ss`): 1-based line.
    Line {
        source: usize,
        line: u32,
        text: String,
    },
    /// Something sitrep worked out ("nothing listens on 127.0.0.1:8000 at 11:33:40").
    Fact(String),
}

impl From<(usize, usize)> for Evidence {
    fn from((source, row): (usize, usize)) -> Evidence {
        Evidence::Record { source, row }
    }
}

impl From<&(usize, usize)> for Evidence {
    fn from(r: &(usize, usize)) -> Evidence {
        Evidence::from(*r)
    }
}

/// How deep in the chain of causes a finding sits: causes first, symptoms after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Depth {
    /// A cause in code or configuration (a crash at import, a wrong bind).
    Cause,
    /// State that follows from it (a failed unit, a missing socket).
    State,
    /// What users and the proxy see (refused upstreams, 502s, timeouts).
    Symptom,
    /// A summary over everything (the burst that starts the incident).
    Summary,
}

/// What a rule found.
#[derive(Debug, Clone)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub depth: Depth,
    /// One line: what is wrong.
    pub title: String,
    /// For someone new to the stack: what this means and why it breaks things.
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    /// Commands to run next.
    pub next: Vec<String>,
}

/// One rule.
pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    fn check(&self, cx: &Context) -> Vec<Finding>;
    /// What the rule looks for in the text of records: the one scan of every source hands
    /// [`Context::records_with`] only the records that may hold it.
    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[]
    }
    /// Why the rule cannot judge this incident, when an input it compares is missing from the
    /// bundle (or would only be a default assumed). A check that rests on a silent rule is then
    /// unknown, not passed.
    fn unknown(&self, _cx: &Context) -> Option<String> {
        None
    }
}

/// The rule called `id`.
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.id() == id)
}

/// `nginx -T` of one host, parsed.
#[derive(Debug)]
pub struct NginxDump {
    pub host: String,
    pub source: usize,
    pub config: Config,
}

/// A host's unit configuration: what systemd runs (`systemctl show`) and the files on disk
/// (`systemctl cat`; a plain unit file is named by its file name).
pub fn unit_config(incident: &Incident, host: &str) -> (Vec<UnitProps>, Vec<UnitFile>) {
    let mut shown = Vec::new();
    let mut files = Vec::new();
    for s in incident.sources.iter().filter(|s| s.host == host) {
        match s.format {
            FormatId::SystemctlShow => shown.extend(parse_show(&String::from_utf8_lossy(&s.data))),
            FormatId::SystemctlCat => {
                let mut f = parse_units(&String::from_utf8_lossy(&s.data));
                let name = s.file.rsplit('/').next().unwrap_or_default().to_string();
                for u in &mut f {
                    if u.name.is_none() && name.contains('.') {
                        u.name = Some(name.clone());
                    }
                }
                files.extend(f);
            }
            _ => {}
        }
    }
    (shown, files)
}

/// A pass over the timeline hands the files' pages back every this many records, so that a
/// rule reading every record's text holds a window of the files, not all of them.
const RELEASE_EVERY: usize = 1 << 16;
/// ... and a pass over the records a lookout kept, every this many (each may be on a page of
/// its own).
const KEPT_RELEASE_EVERY: usize = 1 << 14;

/// What rules read, built once.
pub struct Context<'a> {
    pub incident: &'a Incident,
    pub timeline: Arc<Timeline>,
    /// The records each rule's and check's lookout kept, from one search of every source.
    scan: Scan,
    pub units: Arc<Units>,
    pub sockets: Arc<Sockets>,
    pub nginx: Vec<NginxDump>,
    /// The app servers and where their settings come from, found once.
    pub apps: Vec<AppServer>,
}

/// What the console has already built from an incident, for the rules to read instead of
/// building it again; what is `None` the context builds.
#[derive(Debug, Default)]
pub struct Built {
    /// [`Timeline::all`] of the incident.
    pub timeline: Option<Arc<Timeline>>,
    pub units: Option<Arc<Units>>,
    pub sockets: Option<Arc<Sockets>>,
}

impl<'a> Context<'a> {
    pub fn new(incident: &'a Incident) -> Context<'a> {
        Context::looking_for(incident, Vec::new(), Built::default())
    }

    /// A context whose scan looks, besides for every rule's lookouts, for `extra` (the
    /// checklist's), reading what `built` holds instead of building it.
    pub fn looking_for(incident: &'a Incident, extra: Vec<Wanted>, built: Built) -> Context<'a> {
        let mut wanted: Vec<Wanted> = RULES
            .iter()
            .flat_map(|r| r.lookouts())
            .map(|l| Wanted::from(*l))
            .collect();
        wanted.extend(extra);
        // Each of these reads on every core in turn (side by side they would hold more of
        // the files at once, for no gain on two cores).
        let units = built
            .units
            .unwrap_or_else(|| Arc::new(Units::build(incident)));
        let sockets = built
            .sockets
            .unwrap_or_else(|| Arc::new(Sockets::build(incident)));
        let timeline = built
            .timeline
            .unwrap_or_else(|| Arc::new(Timeline::all(&incident.sources)));
        let scan = Scan::run(incident, &timeline, &wanted);
        let nginx = incident
            .sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.format == FormatId::NginxConfig)
            .map(|(i, s)| NginxDump {
                host: s.host.clone(),
                source: i,
                config: parse_config(&String::from_utf8_lossy(&s.data)),
            })
            .collect();
        let mut cx = Context {
            scan,
            timeline,
            units,
            sockets,
            nginx,
            apps: Vec::new(),
            incident,
        };
        cx.apps = app_servers(&cx);
        cx
    }

    /// Hosts that have a source of one of `formats`, in load order.
    pub fn hosts_with(&self, formats: &[FormatId]) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for s in &self.incident.sources {
            if formats.contains(&s.format) && !hosts.contains(&s.host) {
                hosts.push(s.host.clone());
            }
        }
        hosts
    }

    /// Every record of sources of `formats`, in time order, as (source, row); a request
    /// another access log of the host also holds is given once.
    pub fn records(&self, formats: &[FormatId]) -> impl Iterator<Item = (usize, usize)> + '_ {
        let wanted: Vec<FormatId> = formats.to_vec();
        self.timeline
            .entries
            .iter()
            .enumerate()
            .filter_map(move |(i, e)| {
                if i % RELEASE_EVERY == RELEASE_EVERY - 1 {
                    self.incident.release_pages();
                }
                let s = &self.incident.sources[e.source as usize];
                (wanted.contains(&s.format) && s.flags[e.row as usize] & flag::DUPLICATE == 0)
                    .then_some((e.source as usize, e.row as usize))
            })
    }

    /// The records [`Context::records`] gives for `lookout.formats` whose text may hold one
    /// of its words (and some that do not: the caller tests the text), in time order.
    pub fn records_with(&self, lookout: &Lookout) -> Box<dyn Iterator<Item = (usize, usize)> + '_> {
        match self.scan.kept(lookout.name) {
            Some((kept, formats)) => Box::new(self.kept_records(kept, formats)),
            // Not searched for (a rule that did not declare it): read every record's bytes.
            None => Box::new(self.records_holding(lookout.formats, lookout.words)),
        }
    }

    /// The records at timeline positions `kept` that are of `formats` and not duplicates.
    pub(crate) fn kept_records<'s>(
        &'s self,
        kept: &'s [u32],
        formats: &'s [FormatId],
    ) -> impl Iterator<Item = (usize, usize)> + 's {
        kept.iter().enumerate().filter_map(move |(i, at)| {
            if i % KEPT_RELEASE_EVERY == KEPT_RELEASE_EVERY - 1 {
                // Kept records are spread over the files: hand back what was read so far.
                self.incident.release_pages();
            }
            let e = self.timeline.entries[*at as usize];
            let s = &self.incident.sources[e.source as usize];
            (formats.contains(&s.format) && s.flags[e.row as usize] & flag::DUPLICATE == 0)
                .then_some((e.source as usize, e.row as usize))
        })
    }

    /// The records of `formats` whose text may hold one of `words` (case as given), found
    /// by reading each record's bytes: for words known only at run time (a unit's name).
    pub fn records_holding<'w>(
        &'w self,
        formats: &'w [FormatId],
        words: &'w [&'w str],
    ) -> impl Iterator<Item = (usize, usize)> + 'w {
        let finders: Vec<Vec<memchr::memmem::Finder<'w>>> = FormatId::ALL
            .iter()
            .map(|f| {
                let w: Option<Vec<_>> = words
                    .iter()
                    .map(|w| scan::searchable(*f, w).map(memchr::memmem::Finder::new))
                    .collect();
                w.unwrap_or_default()
            })
            .collect();
        self.records(formats).filter(move |(source, row)| {
            let s = &self.incident.sources[*source];
            let i = FormatId::ALL
                .iter()
                .position(|f| *f == s.format)
                .unwrap_or(0);
            // A word with nothing to search for (or no word) keeps every record.
            finders[i].is_empty() || scan::may_hold(s.format, s.raw(*row), &finders[i])
        })
    }

    /// The records of `formats` whose text may match `regex`, from the scan when the
    /// checklist asked for it beforehand (see [`Wanted::regex`]), else every record.
    pub fn records_matching(
        &self,
        formats: &[FormatId],
        regex: &regex::Regex,
    ) -> Box<dyn Iterator<Item = (usize, usize)> + '_> {
        match self.scan.kept(&Wanted::regex_name(formats, regex)) {
            Some((kept, formats)) => Box::new(self.kept_records(kept, formats)),
            None => Box::new(self.records(formats)),
        }
    }

    /// Record `r` and the records of its source before it, going back in time (as
    /// [`Context::records`] gives them: timed, no duplicates).
    pub fn back_in_source(
        &self,
        (source, row): (usize, usize),
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        let s = &self.incident.sources[source];
        let from = s.seek(s.ts[row]);
        let at = (from..s.timed_len()).find(|p| s.row_in_time_order(*p) == row);
        at.map_or(0..0, |p| 0..p + 1)
            .rev()
            .map(move |p| (source, s.row_in_time_order(p)))
            .filter(move |(_, r)| s.flags[*r] & flag::DUPLICATE == 0)
    }

    /// The text of a record (rendered for the journal's JSON and export forms).
    pub fn text(&self, (source, row): (usize, usize)) -> std::borrow::Cow<'_, str> {
        self.incident.sources[source].text(row)
    }

    pub fn time(&self, (source, row): (usize, usize)) -> Micros {
        self.incident.sources[source].ts[row]
    }

    /// The line of a whole-file source at byte `offset`, as evidence.
    pub fn line_at(&self, source: usize, offset: usize) -> Evidence {
        let data = &self.incident.sources[source].data;
        let offset = offset.min(data.len());
        let line = memchr::memchr_iter(b'\n', &data[..offset]).count() + 1;
        let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i);
        let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
        Evidence::Line {
            source,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            text: String::from_utf8_lossy(&data[start..end])
                .trim()
                .to_string(),
        }
    }

    /// The end of the incident's data: the capture time, else the last record.
    pub fn end(&self) -> Micros {
        let n = self.timeline.len();
        self.incident
            .hosts
            .iter()
            .filter_map(|h| h.captured_at)
            .max()
            .or_else(|| (n > 0).then(|| self.timeline.time(n - 1)))
            .unwrap_or(UNTIMED)
    }
}

/// Test support: a bundle of `tests/bundles`, loaded.
#[cfg(test)]
pub(crate) fn test_bundle(name: &str) -> Incident {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles")
        .join(name);
    crate::ingest::load(&[path], &Default::default()).unwrap()
}

/// Test support: what `rule` finds in a bundle of `tests/bundles`.
#[cfg(test)]
pub(crate) fn run_on_bundle(rule: &dyn Rule, name: &str) -> Vec<Finding> {
    let incident = test_bundle(name);
    rule.check(&Context::new(&incident))
}

/// Test support: the config and state lines a finding cites, in order.
#[cfg(test)]
pub(crate) fn cited_lines(f: &Finding) -> Vec<&str> {
    f.evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Line { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Test support: what `rule` finds in the bundle at `path` (one a test wrote).
#[cfg(test)]
pub(crate) fn run_on_path(rule: &dyn Rule, path: &std::path::Path) -> Vec<Finding> {
    let incident = crate::ingest::load(&[path.to_path_buf()], &Default::default()).unwrap();
    rule.check(&Context::new(&incident))
}

/// The findings of every rule, root cause first, and when the incident started.
#[derive(Debug, Default)]
pub struct Diagnosis {
    pub incident_start: Option<Micros>,
    pub findings: Vec<Finding>,
}

/// Run every rule.
pub fn diagnose(incident: &Incident) -> Diagnosis {
    diagnose_in(&Context::new(incident))
}

/// Run every rule over a context already built (the checklist reads the same one).
pub fn diagnose_in(cx: &Context) -> Diagnosis {
    diagnose_counted(cx, &std::sync::atomic::AtomicUsize::new(0))
}

/// [`diagnose_in`], counting in `done` the rules that have finished (of [`RULES`]), for a
/// progress display.
pub fn diagnose_counted(cx: &Context, done: &std::sync::atomic::AtomicUsize) -> Diagnosis {
    let mut findings: Vec<Finding> = run_rules(cx, RULES, done).into_iter().flatten().collect();
    let first_time = |f: &Finding| {
        f.evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Record { source, row } => Some(cx.time((*source, *row))),
                _ => None,
            })
            .filter(|t| *t != UNTIMED)
            .min()
            .unwrap_or(Micros::MAX)
    };
    // Causes first, then state, symptoms and the summary; within each, errors before
    // warnings, then by the time of the first evidence (a config finding with no timed
    // evidence takes the start of the incident, which is when it began to matter).
    let start = error_burst::incident_start(cx);
    findings.sort_by_key(|f| {
        let t = first_time(f);
        let t = if t == Micros::MAX {
            start.unwrap_or(t)
        } else {
            t
        };
        (f.depth, f.severity, t, f.id)
    });
    Diagnosis {
        incident_start: start,
        findings,
    }
}

/// Each rule's findings, in the order of `rules`: the rules share the context read-only, so
/// they run side by side on every core, each taking the next rule not yet taken.
fn run_rules(
    cx: &Context,
    rules: &[&dyn Rule],
    done: &std::sync::atomic::AtomicUsize,
) -> Vec<Vec<Finding>> {
    let check = |r: &&dyn Rule| {
        let f = r.check(cx);
        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f
    };
    crate::parallel::each(rules, check)
}

/// The JSON shape of `sitrep diagnose --format json`.
#[derive(Serialize)]
pub struct JsonEvidence {
    pub source: String,
    pub file: String,
    pub line: Option<u32>,
    pub ts: Option<String>,
    pub text: String,
}

#[derive(Serialize)]
pub struct JsonFinding {
    pub id: &'static str,
    pub severity: Severity,
    pub depth: Depth,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<JsonEvidence>,
    pub next: Vec<String>,
}

#[derive(Serialize)]
pub struct JsonDiagnosis {
    pub incident_start: Option<String>,
    pub findings: Vec<JsonFinding>,
}

/// Evidence with its file, line, time and text spelled out.
pub fn evidence_json(incident: &Incident, e: &Evidence) -> JsonEvidence {
    match e {
        Evidence::Record { source, row } => {
            let s = &incident.sources[*source];
            JsonEvidence {
                source: s.format.as_str().to_string(),
                file: s.file.clone(),
                line: Some(s.lines[*row]),
                ts: (s.ts[*row] != UNTIMED).then(|| format_utc(s.ts[*row])),
                text: s.text(*row).into_owned(),
            }
        }
        Evidence::Line { source, line, text } => {
            let s = &incident.sources[*source];
            JsonEvidence {
                source: s.format.as_str().to_string(),
                file: s.file.clone(),
                line: Some(*line),
                ts: None,
                text: text.clone(),
            }
        }
        Evidence::Fact(text) => JsonEvidence {
            source: "sitrep".into(),
            file: String::new(),
            line: None,
            ts: None,
            text: text.clone(),
        },
    }
}

impl Diagnosis {
    pub fn to_json(&self, incident: &Incident) -> JsonDiagnosis {
        JsonDiagnosis {
            incident_start: self.incident_start.map(format_utc),
            findings: self
                .findings
                .iter()
                .map(|f| JsonFinding {
                    id: f.id,
                    severity: f.severity,
                    depth: f.depth,
                    title: f.title.clone(),
                    explanation: f.explanation.clone(),
                    evidence: f
                        .evidence
                        .iter()
                        .map(|e| evidence_json(incident, e))
                        .collect(),
                    next: f.next.clone(),
                })
                .collect(),
        }
    }
}
