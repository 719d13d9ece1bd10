//! `sitrep learn`: incidents to solve in the real console. A lesson is a TOML file
//! ([`lesson`]) over an embedded bundle ([`crate::ingest::embedded`]); [`Attempt`] keeps what
//! the learner did (marks, answers, hints) and scores it; [`Scores`] keeps the best results in
//! the state directory.

pub mod glossary;
pub mod lesson;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::Incident;
use lesson::{Kind, Lesson};

/// The lessons, in the order the menu shows them: first day, first month, on-call.
pub const LESSONS: &[(&str, &str)] = &[
    (
        "i1-socket-mismatch.toml",
        include_str!("lessons/i1-socket-mismatch.toml"),
    ),
    ("healthy.toml", include_str!("lessons/healthy.toml")),
    (
        "i2-import-time-setting.toml",
        include_str!("lessons/i2-import-time-setting.toml"),
    ),
    (
        "i3-permission-denied.toml",
        include_str!("lessons/i3-permission-denied.toml"),
    ),
    (
        "restart-loop.toml",
        include_str!("lessons/restart-loop.toml"),
    ),
    (
        "i5-single-worker-upload.toml",
        include_str!("lessons/i5-single-worker-upload.toml"),
    ),
    (
        "i3-daemon-reload.toml",
        include_str!("lessons/i3-daemon-reload.toml"),
    ),
    (
        "i4-retry-storm.toml",
        include_str!("lessons/i4-retry-storm.toml"),
    ),
    (
        "i6-pipeline-platform.toml",
        include_str!("lessons/i6-pipeline-platform.toml"),
    ),
];

/// Every lesson, parsed; a lesson that does not parse is an error naming its file.
pub fn all() -> Result<Vec<Lesson>, String> {
    LESSONS
        .iter()
        .map(|(file, text)| lesson::parse(text).map_err(|e| format!("{file}: {e}")))
        .collect()
}

pub fn find(id: &str) -> Result<Lesson, String> {
    all()?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| format!("no lesson is called {id:?}; `sitrep learn --list` shows them"))
}

/// The lesson's bundle, loaded.
pub fn load(lesson: &Lesson) -> Result<Incident, String> {
    let files = crate::ingest::embedded::bundle(&lesson.bundle).ok_or_else(|| {
        format!(
            "lesson {}: no embedded bundle {:?}",
            lesson.id, lesson.bundle
        )
    })?;
    Ok(crate::ingest::load_files(files, &Default::default()))
}

/// What the learner is told after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub right: bool,
    pub text: String,
}

/// Points taken off for a wrong answer or a wrong piece of evidence.
pub const WRONG: u32 = 5;
/// Points taken off for showing the findings or the checklist.
pub const REVEAL: u32 = 15;
/// Minutes that cost nothing; each minute after costs a point.
pub const FREE_MINUTES: u64 = 10;

/// One try at a lesson.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub lesson: Lesson,
    /// Per objective: passed yet.
    pub passed: Vec<bool>,
    pub wrong: u32,
    /// Hints shown so far (they come in order).
    pub hints: usize,
    /// The findings or the checklist were asked for.
    pub revealed: bool,
    pub started: Instant,
    /// Records the learner marked as evidence: (source, row).
    pub marked: BTreeSet<(usize, usize)>,
    pub finished: Option<u32>,
}

impl Attempt {
    pub fn new(lesson: Lesson) -> Attempt {
        let n = lesson.objective.len();
        Attempt {
            lesson,
            passed: vec![false; n],
            wrong: 0,
            hints: 0,
            revealed: false,
            started: Instant::now(),
            marked: BTreeSet::new(),
            finished: None,
        }
    }

    /// Mark or unmark a record.
    pub fn toggle_mark(&mut self, record: (usize, usize)) -> bool {
        if !self.marked.remove(&record) {
            self.marked.insert(record);
            return true;
        }
        false
    }

    /// Submit the marked records for evidence objective `i`.
    pub fn submit(&mut self, i: usize, incident: &Incident) -> Feedback {
        let Some(o) = self.lesson.objective.get(i) else {
            return no_such();
        };
        if o.kind != Kind::Evidence {
            return Feedback {
                right: false,
                text: "this one is answered by choosing: press the number of an answer".into(),
            };
        }
        if self.marked.is_empty() {
            return Feedback {
                right: false,
                text: "mark a record first: select it in a pane and press m".into(),
            };
        }
        let accepted = self.marked.iter().any(|(s, r)| {
            let src = &incident.sources[*s];
            o.accept
                .iter()
                .any(|a| src.file == a.file && src.text(*r).contains(&a.contains))
        });
        let text = if accepted {
            o.right.clone()
        } else {
            o.wrong.clone()
        };
        self.settle(i, accepted, text)
    }

    /// Choose answer `choice` (0-based) of question or fix objective `i`.
    pub fn answer(&mut self, i: usize, choice: usize) -> Feedback {
        let Some(o) = self.lesson.objective.get(i) else {
            return no_such();
        };
        if o.kind == Kind::Evidence {
            return Feedback {
                right: false,
                text: "this one wants evidence: mark a record with m, then Enter".into(),
            };
        }
        let Some(c) = o.choice.get(choice) else {
            return Feedback {
                right: false,
                text: format!("there are {} answers", o.choice.len()),
            };
        };
        let (right, why) = (c.right, c.why.clone());
        self.settle(i, right, why)
    }

    fn settle(&mut self, i: usize, right: bool, text: String) -> Feedback {
        if self.passed[i] {
            return Feedback { right, text };
        }
        if right {
            self.passed[i] = true;
            if self.passed.iter().all(|p| *p) {
                self.finished = Some(self.score());
            }
        } else {
            self.wrong += 1;
        }
        Feedback { right, text }
    }

    /// The next hint, which then counts.
    pub fn hint(&mut self) -> Option<&lesson::Hint> {
        let h = self.lesson.hint.get(self.hints)?;
        self.hints += 1;
        Some(h)
    }

    /// Points so far: 100, less hints, reveals, wrong tries and slow minutes.
    pub fn score(&self) -> u32 {
        // Saturating: costs come from the lesson file (fuzzing found a sum that overflowed).
        let hints = self
            .lesson
            .hint
            .iter()
            .take(self.hints)
            .fold(0u32, |sum, h| sum.saturating_add(h.cost));
        let minutes = (self.started.elapsed().as_secs() / 60).saturating_sub(FREE_MINUTES);
        let lost = hints
            .saturating_add(self.wrong.saturating_mul(WRONG))
            .saturating_add(if self.revealed { REVEAL } else { 0 })
            .saturating_add(u32::try_from(minutes).unwrap_or(u32::MAX));
        100u32.saturating_sub(lost)
    }
}

fn no_such() -> Feedback {
    Feedback {
        right: false,
        text: "no such objective".into(),
    }
}

/// Best results per lesson, kept in the state directory (`learn.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Scores {
    pub lessons: BTreeMap<String, Best>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Best {
    pub best: u32,
    pub solved: u32,
    pub last: String,
}

impl Scores {
    pub fn path(state: &std::path::Path) -> PathBuf {
        state.join("learn.json")
    }

    pub fn load(state: &std::path::Path) -> Scores {
        std::fs::read_to_string(Scores::path(state))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Record a solved lesson and save; the error says where it could not be written.
    pub fn record(state: &std::path::Path, id: &str, score: u32) -> Result<Scores, String> {
        let mut s = Scores::load(state);
        let b = s.lessons.entry(id.to_string()).or_default();
        b.best = b.best.max(score);
        b.solved += 1;
        b.last = crate::model::time::format_utc(chrono::Utc::now().timestamp_micros());
        let path = Scores::path(state);
        let fail = |e: std::io::Error| format!("{}: cannot save the score ({e})", path.display());
        std::fs::create_dir_all(state).map_err(fail)?;
        let text = serde_json::to_string_pretty(&s).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(fail)?;
        Ok(s)
    }
}

/// Where scores are kept: beside the checklist progress.
pub fn state_dir() -> Option<PathBuf> {
    crate::progress::dir().and_then(|d| d.parent().map(|p| p.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
    }

    /// Found while fuzzing the lesson loader: hint costs that sum past `u32::MAX` made
    /// the score panic (debug) or wrap (release). Now the score bottoms out at 0 and lint
    /// names the hint.
    #[test]
    fn huge_hint_costs_score_zero_and_are_linted() {
        let text = "id = \"x\"\ntitle = \"x\"\nlevel = \"first-day\"\nbundle = \"healthy\"\nbrief = \"\"\ndebrief = \"\"\n[[hint]]\ntext = \"a\"\ncost = 4294967295\n[[hint]]\ntext = \"b\"\ncost = 1\n";
        let lesson = super::lesson::parse(text).unwrap();
        let incident = crate::ingest::load_files(
            crate::ingest::embedded::bundle("healthy").unwrap(),
            &Default::default(),
        );
        let problems = super::lesson::lint(&lesson, &incident);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("hint 1: costs 4294967295 points")),
            "{problems:?}"
        );
        let mut a = super::Attempt::new(lesson);
        while a.hint().is_some() {}
        assert_eq!(a.score(), 0);
    }

    #[test]
    fn every_lesson_lints_clean_against_its_bundle() {
        let dir = root().join("src/learn/lessons");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no lesson in {}", dir.display());
        let mut problems = Vec::new();
        for p in &paths {
            let text = std::fs::read_to_string(p).unwrap();
            let lesson = match super::lesson::parse(&text) {
                Ok(l) => l,
                Err(e) => {
                    problems.push(format!("{}: {e}", p.display()));
                    continue;
                }
            };
            let stem = p.file_stem().unwrap().to_string_lossy();
            if lesson.id != stem {
                problems.push(format!(
                    "{}: id {:?} is not the file name",
                    p.display(),
                    lesson.id
                ));
            }
            let Some(files) = crate::ingest::embedded::bundle(&lesson.bundle) else {
                problems.push(format!(
                    "{}: no embedded bundle {:?}",
                    p.display(),
                    lesson.bundle
                ));
                continue;
            };
            let incident = crate::ingest::load_files(files, &Default::default());
            for l in super::lesson::lint(&lesson, &incident) {
                problems.push(format!("{}: {l}", p.display()));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
