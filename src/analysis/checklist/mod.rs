//! The guided checklist: runbooks (TOML, see [`runbook`]) walked step by step, each step's
//! automatic check decided against the evidence ([`check`]), commands filled in with what the
//! incident says ([`facts`]). Built-in runbooks live in `runbooks/` beside this file; users add
//! theirs in the config directory's `runbooks/`; a bundle may ship some in its `runbooks/`.

pub mod check;
pub mod facts;
pub mod runbook;

use std::path::Path;

use serde::Serialize;

use crate::analysis::rules::{Context, Diagnosis, Evidence, JsonEvidence, RULES, evidence_json};
use crate::model::Incident;

use check::Outcome;
use facts::Facts;
use runbook::{Origin, Runbook, Target};

/// The built-in runbooks, in triage order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "ci-failures.toml",
        include_str!("runbooks/ci-failures.toml"),
    ),
    (
        "runtime-failure.toml",
        include_str!("runbooks/runtime-failure.toml"),
    ),
    (
        "connectivity.toml",
        include_str!("runbooks/connectivity.toml"),
    ),
    ("rollback.toml", include_str!("runbooks/rollback.toml")),
    (
        "bad-gateway-502.toml",
        include_str!("runbooks/bad-gateway-502.toml"),
    ),
    (
        "gateway-timeout-504.toml",
        include_str!("runbooks/gateway-timeout-504.toml"),
    ),
    (
        "unit-wont-start.toml",
        include_str!("runbooks/unit-wont-start.toml"),
    ),
];

/// Every rule id: what `rule = "..."` and `when.findings` may name.
pub fn rule_ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id()).collect()
}

/// Read one runbook file's text; problems come back as `NAME:LINE: message`.
pub fn parse_file(name: &str, text: &str, origin: Origin) -> Result<Runbook, Vec<String>> {
    runbook::parse(text, origin, &rule_ids()).map_err(|ps| {
        ps.iter()
            .map(|p| format!("{name}:{}: {}", p.line, p.message))
            .collect()
    })
}

/// The runbooks in force, and the problems of those that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub runbooks: Vec<Runbook>,
    pub problems: Vec<String>,
}

impl Library {
    /// What the regex checks of every runbook look for, for the rules' one scan.
    pub fn lookouts(&self) -> Vec<crate::analysis::scan::Wanted> {
        self.runbooks
            .iter()
            .flat_map(|b| &b.steps)
            .filter_map(|s| match &s.check {
                Some(check::Check::Match { source, regex, .. }) => {
                    Some(crate::analysis::scan::Wanted::regex(&source.formats, regex))
                }
                _ => None,
            })
            .collect()
    }

    pub fn builtin() -> Library {
        let mut lib = Library::default();
        for (name, text) in BUILTIN {
            lib.add(name, text, Origin::Builtin);
        }
        lib
    }

    /// Built-ins, then the user's (`DIR/*.toml`, replacing a built-in of the same id), then
    /// the bundle's (beside ours, never replacing one).
    pub fn load(user_dir: Option<&Path>, incident: &Incident) -> Library {
        let mut lib = Library::builtin();
        if let Some(dir) = user_dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            let mut paths: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                let name = p.display().to_string();
                match std::fs::read_to_string(&p) {
                    Ok(text) => lib.add(&name, &text, Origin::User(name.clone())),
                    Err(e) => lib.problems.push(format!("{name}: cannot read it ({e})")),
                }
            }
        }
        for (file, text) in &incident.runbooks {
            lib.add(file, text, Origin::Bundle(file.clone()));
        }
        lib
    }

    fn add(&mut self, name: &str, text: &str, origin: Origin) {
        let mut rb = match parse_file(name, text, origin) {
            Ok(rb) => rb,
            Err(ps) => {
                self.problems.extend(ps);
                return;
            }
        };
        let same = self.runbooks.iter().position(|r| r.id == rb.id);
        match (same, &rb.origin) {
            (None, _) => self.runbooks.push(rb),
            (Some(i), Origin::User(_)) => self.runbooks[i] = rb,
            (Some(_), Origin::Bundle(f)) => {
                self.problems.push(format!(
                    "{f}: a runbook {} is already in force; the bundle's is shown as {}-bundle",
                    rb.id, rb.id
                ));
                rb.id = format!("{}-bundle", rb.id);
                self.runbooks.push(rb);
            }
            (Some(_), Origin::Builtin) => {}
        }
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.runbooks.iter().position(|r| r.id == id)
    }
}

/// A step's state in a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Passed,
    Failed,
    /// It has a check, but the bundle cannot decide it.
    Unknown,
    /// No automatic check: for a person to do.
    Todo,
    /// Ticked by hand.
    Done,
    /// Jumped over by a branch, or skipped by hand.
    Skipped,
}

impl StepState {
    pub fn mark(self) -> &'static str {
        match self {
            StepState::Passed => "✓",
            StepState::Failed => "✗",
            StepState::Unknown => "?",
            StepState::Todo => "·",
            StepState::Done => "☑",
            StepState::Skipped => "↷",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            StepState::Passed => "passed",
            StepState::Failed => "failed",
            StepState::Unknown => "unknown",
            StepState::Todo => "to do",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
        }
    }
}

/// One step as walked.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub state: StepState,
    /// Why it is in that state, in a few words.
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// The step's commands with the placeholders filled (`<name>` where unknown).
    pub commands: Vec<String>,
    /// The runbook the outcome leads to, if it names one.
    pub leads_to: Option<String>,
}

/// One runbook walked against the incident.
#[derive(Debug, Clone)]
pub struct Walk {
    /// Index in the library.
    pub runbook: usize,
    /// Whether the findings or the sources suggest it.
    pub applies: bool,
    /// How strongly: the rank of the first finding that suggests it (lower is stronger).
    pub rank: Option<usize>,
    pub steps: Vec<StepResult>,
}

impl Walk {
    /// The first step that failed, if any.
    pub fn failed_at(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.state == StepState::Failed)
    }
}

/// Every runbook of the library walked, and which one to show first.
#[derive(Debug, Clone, Default)]
pub struct Checklist {
    pub library: Library,
    pub walks: Vec<Walk>,
    /// The walk to open on: the applicable built-in or user runbook suggested by the
    /// highest-ranked finding (a bundle's runbook is never chosen for you).
    pub chosen: Option<usize>,
    pub facts: Facts,
}

impl Checklist {
    pub fn evaluate(cx: &Context, diagnosis: &Diagnosis, library: Library) -> Checklist {
        let facts = Facts::build(cx, diagnosis);
        let walks: Vec<Walk> = library
            .runbooks
            .iter()
            .enumerate()
            .map(|(i, rb)| walk(cx, diagnosis, &facts, rb, i))
            .collect();
        let chosen = walks
            .iter()
            .enumerate()
            .filter(|(_, w)| w.applies)
            .filter(|(_, w)| !matches!(library.runbooks[w.runbook].origin, Origin::Bundle(_)))
            // Among equally suggested runbooks, one that finds something wrong beats one
            // that cannot tell (its checks unknown).
            .min_by_key(|(i, w)| {
                let unknown = w
                    .steps
                    .iter()
                    .filter(|s| s.state == StepState::Unknown)
                    .count();
                (
                    w.rank.unwrap_or(usize::MAX),
                    w.failed_at().is_none(),
                    unknown,
                    *i,
                )
            })
            .map(|(i, _)| i);
        Checklist {
            library,
            walks,
            chosen,
            facts,
        }
    }

    pub fn runbook(&self, walk: usize) -> &Runbook {
        &self.library.runbooks[self.walks[walk].runbook]
    }

    /// The JSON shape: every applicable runbook with its steps' states.
    pub fn to_json(&self, incident: &Incident) -> Vec<JsonWalk> {
        self.walks
            .iter()
            .enumerate()
            .filter(|(_, w)| w.applies)
            .map(|(i, w)| {
                let rb = &self.library.runbooks[w.runbook];
                JsonWalk {
                    runbook: rb.id.clone(),
                    title: rb.title.clone(),
                    chosen: self.chosen == Some(i),
                    failed_at: w.failed_at().map(|i| rb.steps[i].id.clone()),
                    steps: rb
                        .steps
                        .iter()
                        .zip(&w.steps)
                        .map(|(s, r)| JsonStep {
                            id: s.id.clone(),
                            title: s.title.clone(),
                            state: r.state,
                            reason: r.reason.clone(),
                            commands: r.commands.clone(),
                            leads_to: r.leads_to.clone(),
                            evidence: r
                                .evidence
                                .iter()
                                .map(|e| evidence_json(incident, e))
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

#[derive(Serialize)]
pub struct JsonWalk {
    pub runbook: String,
    pub title: String,
    pub chosen: bool,
    pub failed_at: Option<String>,
    pub steps: Vec<JsonStep>,
}

#[derive(Serialize)]
pub struct JsonStep {
    pub id: String,
    pub title: String,
    pub state: StepState,
    pub reason: String,
    pub commands: Vec<String>,
    pub leads_to: Option<String>,
    pub evidence: Vec<JsonEvidence>,
}

/// Walk `rb`: decide each step's check in order; a `next` to a later step skips the ones in
/// between, a `next` to a runbook is offered on the step.
fn walk(cx: &Context, diagnosis: &Diagnosis, facts: &Facts, rb: &Runbook, index: usize) -> Walk {
    let rank = rb
        .when_findings
        .iter()
        .filter_map(|id| diagnosis.findings.iter().position(|f| f.id == id))
        .min();
    let by_source = rb.when_sources.iter().any(|s| s.present(cx));
    let rank = rank.or(by_source.then_some(diagnosis.findings.len()));
    let mut steps = Vec::with_capacity(rb.steps.len());
    let mut jump: Option<(usize, String)> = None;
    for (i, step) in rb.steps.iter().enumerate() {
        let commands = step.commands.iter().map(|c| facts.fill(c)).collect();
        if let Some((to, why)) = &jump {
            if i < *to {
                steps.push(StepResult {
                    state: StepState::Skipped,
                    reason: why.clone(),
                    evidence: Vec::new(),
                    commands,
                    leads_to: None,
                });
                continue;
            }
            jump = None;
        }
        let Some(check) = &step.check else {
            steps.push(StepResult {
                state: StepState::Todo,
                reason: "no automatic check: look, then tick it".into(),
                evidence: Vec::new(),
                commands,
                leads_to: None,
            });
            continue;
        };
        let (state, reason, evidence, next) = match check.decide(cx, diagnosis, facts) {
            Outcome::Pass(ev) => (StepState::Passed, summary(&ev), ev, &step.next.pass),
            Outcome::Fail(ev) => (StepState::Failed, summary(&ev), ev, &step.next.fail),
            Outcome::Unknown(why) => (StepState::Unknown, why, Vec::new(), &None),
        };
        let mut leads_to = None;
        match next {
            Some(Target::Step(to)) => {
                if let Some(j) = rb.steps.iter().position(|s| &s.id == to) {
                    jump = Some((
                        j,
                        format!("step {} {}: went on at {to}", step.id, state.word()),
                    ));
                }
            }
            Some(Target::Runbook(id)) => leads_to = Some(id.clone()),
            None => {}
        }
        steps.push(StepResult {
            state,
            reason,
            evidence,
            commands,
            leads_to,
        });
    }
    Walk {
        runbook: index,
        applies: rank.is_some(),
        rank,
        steps,
    }
}

/// A check's first fact, as the step's one-line reason.
fn summary(ev: &[Evidence]) -> String {
    ev.iter()
        .find_map(|e| match e {
            Evidence::Fact(f) => Some(f.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
