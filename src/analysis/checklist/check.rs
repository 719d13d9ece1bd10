//! The automatic checks a step may carry, and how each is decided against the evidence.

use crate::analysis::rules::{Context, Diagnosis, Evidence};
use crate::model::format_id::FormatId;
use crate::model::time::{Micros, format_utc};

use super::facts::Facts;

/// Which sources a check reads: a family (`journal`, `app`, `ci`, `platform`) or one format id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSet {
    pub name: String,
    pub formats: Vec<FormatId>,
}

impl SourceSet {
    pub const HELP: &'static str = "is not a source: use journal, app, ci, platform or a format id (sitrep sources shows them)";

    pub fn parse(name: &str) -> Option<SourceSet> {
        let formats = match name {
            "journal" => FormatId::JOURNALS.to_vec(),
            "app" => vec![
                FormatId::Gunicorn,
                FormatId::PythonLogging,
                FormatId::CfLogs,
            ],
            "ci" => vec![FormatId::CircleCi],
            "platform" => vec![FormatId::CfRevisions, FormatId::CfEnv],
            other => vec![
                FormatId::parse(other)
                    .filter(|f| !matches!(f, FormatId::Unknown | FormatId::Generic))?,
            ],
        };
        Some(SourceSet {
            name: name.to_string(),
            formats,
        })
    }

    /// Whether the incident has a source of this set.
    pub fn present(&self, cx: &Context) -> bool {
        cx.incident
            .sources
            .iter()
            .any(|s| self.formats.contains(&s.format))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Present,
    Absent,
}

/// A test of the state of the host or the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateTest {
    /// The unit is active at the end of the incident.
    UnitActive(String),
    /// An app server process (gunicorn, uwsgi, ...) has a listening socket when the incident
    /// starts.
    AppListening,
    /// Every address nginx passes requests to has a listener when the incident starts.
    UpstreamListening,
    /// Every CI job that ran succeeded.
    CiPassed,
    /// The app's env has what a healthy sibling's has (needs two `cf env` outputs).
    EnvMatchesSibling,
    /// A revision deployed before the incident can be rolled back to.
    RollbackTarget,
}

impl StateTest {
    pub const NAMES: &'static [&'static str] = &[
        "unit-active",
        "app-listening",
        "upstream-listening",
        "ci-passed",
        "env-matches-sibling",
        "rollback-target",
    ];

    pub fn parse(name: &str, unit: Option<&str>) -> Result<StateTest, String> {
        let test = match name {
            "unit-active" => StateTest::UnitActive(
                unit.ok_or("state unit-active needs unit = \"NAME.service\"")?
                    .to_string(),
            ),
            "app-listening" => StateTest::AppListening,
            "upstream-listening" => StateTest::UpstreamListening,
            "ci-passed" => StateTest::CiPassed,
            "env-matches-sibling" => StateTest::EnvMatchesSibling,
            "rollback-target" => StateTest::RollbackTarget,
            other => {
                return Err(format!(
                    "check.state: {other:?} is not a state test; known: {}",
                    StateTest::NAMES.join(", ")
                ));
            }
        };
        if unit.is_some() && !matches!(test, StateTest::UnitActive(_)) {
            return Err(format!("state {name} takes no unit"));
        }
        Ok(test)
    }
}

/// A step's automatic check.
#[derive(Debug, Clone)]
pub enum Check {
    /// Passes when the rule finds nothing (and a source it needs is there); fails with the
    /// rule's evidence.
    Rule {
        id: String,
        needs: Vec<SourceSet>,
    },
    /// A regex over the records of some sources (of one unit, for the journal).
    Match {
        source: SourceSet,
        unit: Option<String>,
        regex: regex::Regex,
        expect: Expect,
    },
    State(StateTest),
}

/// What a check decided, with what it saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass(Vec<Evidence>),
    Fail(Vec<Evidence>),
    /// The bundle cannot tell (the sources it needs are missing); says what is missing.
    Unknown(String),
}

/// At most this many records are kept as a check's evidence.
const MAX_EVIDENCE: usize = 8;

/// Programs that serve the app behind nginx.
pub const APP_SERVERS: &[&str] = &[
    "gunicorn",
    "uwsgi",
    "uvicorn",
    "daphne",
    "hypercorn",
    "waitress",
    "python",
    "node",
    "puma",
    "unicorn",
    "php-fpm",
];

impl Check {
    pub fn decide(&self, cx: &Context, diagnosis: &Diagnosis, facts: &Facts) -> Outcome {
        match self {
            Check::Rule { id, needs } => {
                let found: Vec<_> = diagnosis.findings.iter().filter(|f| f.id == id).collect();
                // What the rule found is evidence whatever it was read from; only its silence
                // needs the sources it reads.
                if found.is_empty() && !needs.is_empty() && !needs.iter().any(|n| n.present(cx)) {
                    return Outcome::Unknown(format!(
                        "rule {id} reads {}; the bundle has none",
                        names(needs)
                    ));
                }
                if found.is_empty() {
                    // Silence counts as a pass only when the rule had what it compares.
                    if let Some(why) = crate::analysis::rules::rule(id).and_then(|r| r.unknown(cx))
                    {
                        return Outcome::Unknown(format!("rule {id} cannot tell: {why}"));
                    }
                    return Outcome::Pass(vec![Evidence::Fact(format!("rule {id} found nothing"))]);
                }
                let mut ev = Vec::new();
                for f in found {
                    ev.push(Evidence::Fact(f.title.clone()));
                    ev.extend(f.evidence.iter().take(MAX_EVIDENCE).cloned());
                }
                Outcome::Fail(ev)
            }
            Check::Match {
                source,
                unit,
                regex,
                expect,
            } => match unit.as_deref().map(|u| resolve(u, facts)) {
                Some(Err(why)) => Outcome::Unknown(why),
                Some(Ok(u)) => decide_match(cx, source, Some(&u), regex, *expect),
                None => decide_match(cx, source, None, regex, *expect),
            },
            Check::State(StateTest::UnitActive(unit)) => match resolve(unit, facts) {
                Ok(u) => unit_active(cx, &u),
                Err(why) => Outcome::Unknown(why),
            },
            Check::State(test) => decide_state(cx, test, facts),
        }
    }
}

/// A unit name as written, its placeholders (`{{unit}}`) filled from the incident.
fn resolve(unit: &str, facts: &Facts) -> Result<String, String> {
    match facts.missing(unit).first() {
        Some(name) => Err(format!(
            "the bundle does not say which unit {{{{{name}}}}} is"
        )),
        None => Ok(facts.fill(unit)),
    }
}

fn names(sets: &[SourceSet]) -> String {
    sets.iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

fn decide_match(
    cx: &Context,
    source: &SourceSet,
    unit: Option<&str>,
    regex: &regex::Regex,
    expect: Expect,
) -> Outcome {
    if !source.present(cx) {
        return Outcome::Unknown(format!("no {} in the bundle", source.name));
    }
    let stem = unit.map(|u| u.strip_suffix(".service").unwrap_or(u));
    let of_unit = |r: (usize, usize)| {
        let (Some(unit), Some(stem)) = (unit, stem) else {
            return true;
        };
        cx.incident.fields(r.0, r.1).iter().any(|(k, v)| {
            (k == "unit" && v == unit) || (k == "identifier" && (v == stem || v == unit))
        })
    };
    let mut hits = Vec::new();
    let mut count = 0usize;
    for r in cx.records_matching(&source.formats, regex) {
        if regex.is_match(&cx.text(r)) && of_unit(r) {
            count += 1;
            if hits.len() < MAX_EVIDENCE {
                hits.push(Evidence::from(r));
            }
        }
    }
    let what = match unit {
        Some(u) => format!("{} lines of {u}", source.name),
        None => format!("{} lines", source.name),
    };
    hits.insert(
        0,
        Evidence::Fact(format!("{count} {what} match /{}/", regex.as_str())),
    );
    match (expect, count) {
        (Expect::Present, 0) | (Expect::Absent, 1..) => Outcome::Fail(hits),
        _ => Outcome::Pass(hits),
    }
}

/// When listeners are judged: when the incident started (that is when nginx needed them),
/// else at the end of the data.
fn socket_time(cx: &Context, facts: &Facts) -> Micros {
    facts.start.unwrap_or_else(|| cx.end())
}

fn decide_state(cx: &Context, test: &StateTest, facts: &Facts) -> Outcome {
    match test {
        StateTest::UnitActive(unit) => unit_active(cx, &facts.fill(unit)),
        StateTest::AppListening => {
            if cx.sockets.snapshot_times().is_empty() {
                return Outcome::Unknown("no ss output in the bundle".into());
            }
            let at = socket_time(cx, facts);
            let all = cx.sockets.listeners(at);
            let app: Vec<_> = all
                .iter()
                .filter(|l| {
                    l.process
                        .as_deref()
                        .is_some_and(|p| APP_SERVERS.iter().any(|a| p.starts_with(a)))
                })
                .collect();
            let when = match all.first().and_then(|l| l.taken_at) {
                Some(t) => format!(" (ss at {})", format_utc(t)),
                None => String::new(),
            };
            if app.is_empty() {
                let tcp: Vec<String> = all
                    .iter()
                    .filter(|l| l.netid == "tcp")
                    .map(|l| format!("{} {}", l.process.as_deref().unwrap_or("?"), l.local))
                    .collect();
                return Outcome::Fail(vec![Evidence::Fact(format!(
                    "no app server process listens{when}; TCP listeners: {}",
                    if tcp.is_empty() {
                        "none".to_string()
                    } else {
                        tcp.join(", ")
                    }
                ))]);
            }
            Outcome::Pass(
                app.iter()
                    .map(|l| {
                        Evidence::Fact(format!(
                            "{} listens on {} on {}{when}",
                            l.process.as_deref().unwrap_or("?"),
                            l.local,
                            l.host
                        ))
                    })
                    .collect(),
            )
        }
        StateTest::UpstreamListening => upstream_listening(cx, socket_time(cx, facts)),
        StateTest::CiPassed => match &facts.ci {
            None => Outcome::Unknown("no CI results (ci/*.json) in the bundle".into()),
            Some(ci) if ci.failed.is_empty() => Outcome::Pass(ci.summary()),
            Some(ci) => Outcome::Fail(ci.summary()),
        },
        StateTest::EnvMatchesSibling => match &facts.env {
            None => Outcome::Unknown("no cf env output in the bundle".into()),
            Some(env) => match &env.diff {
                None => Outcome::Unknown(format!(
                    "one env only ({}): capture `cf env` of a healthy sibling app to compare",
                    env.app
                )),
                Some(d) if d.is_empty() => Outcome::Pass(vec![Evidence::Fact(format!(
                    "{} has the same variables as {}",
                    env.app, env.sibling
                ))]),
                Some(d) => Outcome::Fail(d.iter().map(|x| Evidence::Fact(x.clone())).collect()),
            },
        },
        StateTest::RollbackTarget => match &facts.rollback {
            None => Outcome::Unknown("no cf revisions output in the bundle".into()),
            Some(r) => match &r.target {
                Some(_) => Outcome::Pass(r.evidence.clone()),
                None => Outcome::Fail(r.evidence.clone()),
            },
        },
    }
}

fn unit_active(cx: &Context, unit: &str) -> Outcome {
    let end = cx.end();
    let states: Vec<_> = cx
        .incident
        .hosts
        .iter()
        .filter_map(|h| cx.units.unit_at(&h.name, unit, end))
        .collect();
    if states.is_empty() {
        return Outcome::Unknown(format!("no state of {unit} in the bundle"));
    }
    let ev: Vec<Evidence> = states
        .iter()
        .map(|u| {
            let mut s = format!("{} on {}: {} ({})", u.unit, u.host, u.active, u.sub);
            if let Some(r) = &u.result {
                s.push_str(&format!(", result {r}"));
            }
            if let Some(x) = &u.exit_status {
                s.push_str(&format!(", exit {x}"));
            }
            if let Some(t) = u.since {
                s.push_str(&format!(" since {}", format_utc(t)));
            }
            Evidence::Fact(s)
        })
        .collect();
    if states.iter().all(|u| u.active == "active") {
        Outcome::Pass(ev)
    } else {
        Outcome::Fail(ev)
    }
}

fn upstream_listening(cx: &Context, at: Micros) -> Outcome {
    if cx.nginx.is_empty() {
        return Outcome::Unknown("no nginx -T in the bundle".into());
    }
    if cx.sockets.snapshot_times().is_empty() {
        return Outcome::Unknown("no ss output in the bundle".into());
    }
    let listeners = cx.sockets.listeners(at);
    let mut pass = Vec::new();
    let mut fail = Vec::new();
    for dump in &cx.nginx {
        for t in dump.config.upstream_targets() {
            let Some(ep) = &t.endpoint else { continue };
            let owner = listeners.iter().find(|l| {
                l.host == dump.host && l.endpoint.as_ref().is_some_and(|e| ep.served_by(e))
            });
            let line = cx.line_at(dump.source, t.at.offset);
            match owner {
                Some(l) => {
                    pass.push(Evidence::Fact(format!(
                        "{ep} has a listener: {} {}",
                        l.process.as_deref().unwrap_or("?"),
                        l.local
                    )));
                    pass.push(line);
                }
                None => {
                    fail.push(Evidence::Fact(format!("nothing listens on {ep}")));
                    fail.push(line);
                }
            }
        }
    }
    match (pass.is_empty(), fail.is_empty()) {
        (true, true) => Outcome::Unknown("nginx passes requests nowhere".into()),
        (_, false) => Outcome::Fail(fail),
        (false, true) => Outcome::Pass(pass),
    }
}
