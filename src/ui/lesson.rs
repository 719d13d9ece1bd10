//! A lesson in the console: the learner marks records (`m`), opens the lesson panel (`L`) to
//! submit evidence (Enter) or answer (the answer's number), takes hints (`H`), and reads the
//! debrief at the end. Findings and the checklist stay hidden until asked for, which costs
//! like a hint; `g` opens the glossary.

use std::path::PathBuf;

use crate::learn::{Attempt, Feedback, Scores};

use super::action::Action;
use super::app::App;

/// The lesson's side of the console.
#[derive(Debug)]
pub struct LessonView {
    pub attempt: Attempt,
    /// The panel is open (it takes j/k, digits, Enter).
    pub open: bool,
    /// The objective chosen in the panel.
    pub objective: usize,
    pub feedback: Option<Feedback>,
    /// The debrief is on screen.
    pub debrief: bool,
    /// Where the best scores are saved (`None`: not saved).
    pub state: Option<PathBuf>,
}

impl LessonView {
    pub fn new(attempt: Attempt, state: Option<PathBuf>) -> LessonView {
        LessonView {
            attempt,
            open: true,
            objective: 0,
            feedback: None,
            debrief: false,
            state,
        }
    }
}

impl App {
    /// A lesson hides the findings and the checklist until the learner asks for them.
    pub fn findings_hidden(&self) -> bool {
        self.lesson.as_ref().is_some_and(|l| !l.attempt.revealed)
    }

    /// Keys of a lesson. Returns whether the key was used.
    pub(crate) fn lesson_key(&mut self, action: Action) -> bool {
        let Some(view) = &mut self.lesson else {
            return false;
        };
        if view.debrief {
            view.debrief = false;
            self.dirty = true;
            self.quit = action == Action::Quit;
            return true;
        }
        match action {
            Action::Mark => {
                let Some(rec) = self.selected_record() else {
                    return true;
                };
                let Some(view) = &mut self.lesson else {
                    return true;
                };
                let on = view.attempt.toggle_mark(rec);
                let s = &self.incident.sources[rec.0];
                self.status = Some(format!(
                    "{} {}:{} ({} marked); L, then Enter on the objective, submits",
                    if on { "marked" } else { "unmarked" },
                    s.file,
                    s.lines[rec.1],
                    view.attempt.marked.len()
                ));
                self.evidence = view.attempt.marked.iter().copied().collect();
            }
            Action::Lesson => view.open = !view.open,
            Action::Hint => {
                let text = view.attempt.hint().map(|h| (h.text.clone(), h.cost));
                self.status = Some(match text {
                    Some((t, cost)) => format!("hint (-{cost}): {t}"),
                    None => "no more hints".into(),
                });
                view.open = true;
            }
            Action::Findings | Action::Checklist if !view.attempt.revealed => {
                view.attempt.revealed = true;
                self.status = Some(format!(
                    "shown: it counts like a hint (-{}); press again to open it",
                    crate::learn::REVEAL
                ));
            }
            Action::Down if view.open => {
                view.objective =
                    (view.objective + 1).min(view.attempt.lesson.objective.len().saturating_sub(1));
                view.feedback = None;
            }
            Action::Up if view.open => {
                view.objective = view.objective.saturating_sub(1);
                view.feedback = None;
            }
            Action::Focus(n) if view.open => {
                let f = view
                    .attempt
                    .answer(view.objective, usize::from(n).saturating_sub(1));
                view.feedback = Some(f);
                self.after_progress();
            }
            Action::Pin if view.open => {
                let f = view.attempt.submit(view.objective, &self.incident);
                view.feedback = Some(f);
                self.after_progress();
            }
            _ => return false,
        }
        self.dirty = true;
        true
    }

    /// After an answer: move to the next open objective; at the end, show the debrief and
    /// save the score.
    fn after_progress(&mut self) {
        let Some(view) = &mut self.lesson else {
            return;
        };
        if view.feedback.as_ref().is_some_and(|f| f.right)
            && let Some(next) = (0..view.attempt.passed.len()).find(|i| !view.attempt.passed[*i])
        {
            view.objective = next;
        }
        if let Some(score) = view.attempt.finished
            && !view.debrief
        {
            view.debrief = true;
            if let Some(state) = &view.state
                && let Err(e) = Scores::record(state, &view.attempt.lesson.id, score)
            {
                self.status = Some(e);
            }
        }
    }
}
