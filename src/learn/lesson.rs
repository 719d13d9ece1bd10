//! A lesson as written in TOML, and its lint against its bundle.
//!
//! ```toml
//! id = "i1-socket-mismatch"
//! title = "The socket nobody listened to"
//! level = "first-day"                 # first-day, first-month or on-call
//! bundle = "i1-socket-mismatch"       # one of the embedded bundles (src/learn/bundles.rs)
//! brief = "Users see 502 on every page since this morning's deploy."
//! debrief = "What happened, and what to remember."
//!
//! [[objective]]
//! kind = "evidence"                   # mark (m) a record that proves it, then Enter
//! prompt = "Mark the line where nginx says it could not reach the app."
//! right = "Yes: nginx tried 127.0.0.1:8000 and the connection was refused."
//! wrong = "That line is not about nginx reaching the app; look in the error log."
//! [[objective.accept]]                # a marked record passes if it matches one of these
//! file = "nginx/error.log"
//! contains = "connect() failed (111: Connection refused)"
//!
//! [[objective]]
//! kind = "question"                   # or "fix": the same, for choosing the fix
//! prompt = "Why do users get a 502?"
//! [[objective.choice]]
//! text = "nginx proxies to a TCP port while gunicorn listens on a unix socket"
//! right = true
//! why = "The two never meet: nothing listens where nginx connects."
//! [[objective.choice]]
//! text = "PostgreSQL is slow"
//! why = "Its checkpoint warning is routine and unrelated to the 502s."
//!
//! [[hint]]
//! text = "Start where nginx writes down what went wrong."
//! pane = "error"                      # optional: timeline, access, error, journal, units, sockets
//! cost = 10                           # points; default 10
//! ```

use serde::Deserialize;

/// How far along a learner is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    FirstDay,
    FirstMonth,
    OnCall,
}

impl Level {
    pub fn word(self) -> &'static str {
        match self {
            Level::FirstDay => "first day",
            Level::FirstMonth => "first month",
            Level::OnCall => "on-call",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Mark records that prove something.
    Evidence,
    /// Choose the cause among answers.
    Question,
    /// Choose the fix among answers.
    Fix,
}

/// What a marked record must be to count as evidence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The source's path in the bundle (`nginx/error.log`).
    pub file: String,
    /// Text the record must contain.
    pub contains: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub text: String,
    #[serde(default)]
    pub right: bool,
    /// Why this answer is right or wrong: the feedback when it is picked.
    pub why: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub kind: Kind,
    pub prompt: String,
    /// Evidence: the feedback when a marked record is accepted.
    #[serde(default)]
    pub right: String,
    /// Evidence: the feedback when none of the marked records is.
    #[serde(default)]
    pub wrong: String,
    #[serde(default)]
    pub accept: Vec<Accept>,
    #[serde(default)]
    pub choice: Vec<Choice>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hint {
    pub text: String,
    #[serde(default)]
    pub pane: Option<String>,
    #[serde(default = "ten")]
    pub cost: u32,
}

fn ten() -> u32 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub bundle: String,
    pub brief: String,
    pub debrief: String,
    #[serde(default)]
    pub objective: Vec<Objective>,
    #[serde(default)]
    pub hint: Vec<Hint>,
}

/// The panes a hint may point at.
pub const PANES: &[&str] = &[
    "timeline", "access", "error", "journal", "units", "sockets", "detail",
];

/// Read a lesson file.
pub fn parse(text: &str) -> Result<Lesson, String> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text.as_bytes()[..s.start.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        });
        format!("line {line}: {}", e.message().trim().replace('\n', " "))
    })
}

/// What is wrong with a lesson against its loaded bundle: an evidence objective no record of
/// the bundle satisfies, a question without exactly one right answer, a hint at a pane the
/// bundle does not fill.
pub fn lint(lesson: &Lesson, incident: &crate::model::Incident) -> Vec<String> {
    let mut out = Vec::new();
    if lesson.objective.is_empty() {
        out.push("no objective".into());
    }
    for (i, o) in lesson.objective.iter().enumerate() {
        let n = i + 1;
        match o.kind {
            Kind::Evidence => {
                if o.accept.is_empty() {
                    out.push(format!("objective {n}: evidence with no accept"));
                }
                if !o.choice.is_empty() {
                    out.push(format!("objective {n}: evidence takes no choice"));
                }
                for a in &o.accept {
                    let hits = incident
                        .sources
                        .iter()
                        .filter(|s| s.file == a.file)
                        .map(|s| {
                            (0..s.timed_len())
                                .filter(|r| s.text(*r).contains(&a.contains))
                                .count()
                        })
                        .sum::<usize>();
                    if hits == 0 {
                        out.push(format!(
                            "objective {n}: no timed record of {} contains {:?}",
                            a.file, a.contains
                        ));
                    }
                }
            }
            Kind::Question | Kind::Fix => {
                let right = o.choice.iter().filter(|c| c.right).count();
                if o.choice.len() < 2 || right != 1 {
                    out.push(format!(
                        "objective {n}: {} choices, {right} right; give at least two with exactly one right",
                        o.choice.len()
                    ));
                }
            }
        }
    }
    for (i, h) in lesson.hint.iter().enumerate() {
        if h.cost > 100 {
            out.push(format!(
                "hint {}: costs {} points, more than the 100 a lesson starts with",
                i + 1,
                h.cost
            ));
        }
        if let Some(p) = &h.pane {
            let filled = match p.as_str() {
                "timeline" | "units" | "sockets" | "detail" => true,
                "access" => has(incident, |f| {
                    f == crate::model::format_id::FormatId::NginxAccess
                }),
                "error" => has(incident, |f| {
                    f == crate::model::format_id::FormatId::NginxError
                }),
                "journal" => has(incident, |f| f.is_journal()),
                _ => false,
            };
            if !PANES.contains(&p.as_str()) {
                out.push(format!("hint {}: no pane is called {p:?}", i + 1));
            } else if !filled {
                out.push(format!(
                    "hint {}: the {p} pane is empty in this bundle",
                    i + 1
                ));
            }
        }
    }
    out
}

fn has(
    incident: &crate::model::Incident,
    f: impl Fn(crate::model::format_id::FormatId) -> bool,
) -> bool {
    incident
        .sources
        .iter()
        .any(|s| f(s.format) && s.timed_len() > 0)
}
