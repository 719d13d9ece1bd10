//! The checklist in the console: which runbook is open, the chosen step and command, the
//! person's ticks and notes (saved per bundle, see [`crate::progress`]), the runbook picker.
//! The keys the checklist takes are handled here, on [`App`].

use crate::analysis::checklist::{Checklist, StepResult, StepState};
use crate::analysis::rules::Evidence;
use crate::progress::{Mark, Progress, Store};

use super::action::Action;
use super::app::App;

/// The checklist pane's state.
#[derive(Debug, Default)]
pub struct WalkView {
    /// The pane has the keys (and the screen, on small terminals).
    pub open: bool,
    /// Index into the checklist's walks.
    pub walk: usize,
    pub step: usize,
    /// The chosen command of the step (`c` copies it).
    pub command: usize,
    /// Which evidence record Enter goes to next.
    pub next_evidence: usize,
    /// Lines of the step's text scrolled away (PgDn/PgUp), for small screens.
    pub scroll: u16,
    pub progress: Progress,
    /// Where progress is saved; `None`: not saved (tests, no state directory).
    pub store: Option<Store>,
    /// The runbook picker, while open.
    pub picker: Option<Picker>,
    /// A note being typed for the chosen step.
    pub note: Option<String>,
    /// A command asked to run (live mode): its confirmation, its run, its output.
    pub run: Option<RunView>,
}

/// The life of one `r`: confirm exactly what will run, run it, show what it printed.
#[derive(Debug)]
pub enum RunView {
    Confirm { command: String, from_bundle: bool },
    Running(super::runner::Running),
    Done(super::runner::Outcome),
}

/// The fuzzy runbook picker: what is typed, and the chosen row of the matches.
#[derive(Debug, Default)]
pub struct Picker {
    pub query: String,
    pub selected: usize,
}

/// A step's state once the person's marks are laid over the check's.
pub fn effective(result: &StepResult, mark: &Mark) -> (StepState, String) {
    if mark.skipped {
        return (StepState::Skipped, "skipped by hand".into());
    }
    if mark.done {
        let check = match result.state {
            StepState::Todo => String::new(),
            s => format!("; the check says {}", s.word()),
        };
        return (StepState::Done, format!("ticked by hand{check}"));
    }
    (result.state, result.reason.clone())
}

/// Runbooks matching `query` (fuzzy, best first; all in library order when empty): walk
/// indexes.
pub fn matches(checklist: &Checklist, query: &str) -> Vec<usize> {
    use fuzzy_matcher::FuzzyMatcher;
    let n = checklist.walks.len();
    if query.is_empty() {
        return (0..n).collect();
    }
    let m = fuzzy_matcher::skim::SkimMatcherV2::default();
    let mut scored: Vec<(i64, usize)> = (0..n)
        .filter_map(|i| {
            let rb = checklist.runbook(i);
            let hay = format!("{} {}", rb.id, rb.title);
            m.fuzzy_match(&hay, query).map(|s| (s, i))
        })
        .collect();
    scored.sort_by_key(|(s, i)| (-s, *i));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// Standard base64 (RFC 4648, padded), for OSC 52.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl App {
    /// The walk on screen and its runbook id, once the checklist is worked out.
    pub fn current_walk(&self) -> Option<usize> {
        (self.walk.walk < self.checklist.walks.len()).then_some(self.walk.walk)
    }

    /// The chosen step's result and the person's mark on it.
    pub fn current_step(&self) -> Option<(&StepResult, Mark)> {
        let w = self.current_walk()?;
        let rb = self.checklist.runbook(w);
        let step = rb.steps.get(self.walk.step)?;
        let result = self.checklist.walks[w].steps.get(self.walk.step)?;
        Some((result, self.walk.progress.mark(&rb.id, &step.id)))
    }

    /// Take the checklist's result: open the runbook last used on this bundle, else the one
    /// the findings suggest, and load the saved marks.
    pub(crate) fn take_checklist(&mut self, checklist: Checklist, store: Option<Store>) {
        self.checklist = checklist;
        self.walk.store = store;
        // Runbooks that could not be read are said, not dropped in silence.
        if let Some(first) = self.checklist.library.problems.first() {
            let more = self.checklist.library.problems.len() - 1;
            self.status = Some(if more > 0 {
                format!("runbook problem: {first} (and {more} more; sitrep runbook lint)")
            } else {
                format!("runbook problem: {first} (sitrep runbook lint)")
            });
        }
        if let Some(store) = &self.walk.store {
            match store.load() {
                Ok(p) => self.walk.progress = p,
                Err(e) => self.status = Some(e),
            }
        }
        let saved = self
            .walk
            .progress
            .runbook
            .as_deref()
            .and_then(|id| self.checklist.library.find(id))
            .and_then(|rb| self.checklist.walks.iter().position(|w| w.runbook == rb));
        self.open_walk(saved.or(self.checklist.chosen).unwrap_or(0), false);
    }

    pub(crate) fn open_walk(&mut self, walk: usize, remember: bool) {
        self.walk.walk = walk;
        // Start at the first step that failed, else the first.
        self.walk.step = self
            .checklist
            .walks
            .get(walk)
            .and_then(|w| w.failed_at())
            .unwrap_or(0);
        self.choose_step(self.walk.step);
        if remember && let Some(w) = self.current_walk() {
            self.walk.progress.runbook = Some(self.checklist.runbook(w).id.clone());
            self.save_progress();
        }
    }

    fn choose_step(&mut self, i: usize) {
        self.walk.step = i;
        self.walk.command = 0;
        self.walk.next_evidence = 0;
        self.walk.scroll = 0;
        self.evidence = self
            .current_step()
            .map(|(r, _)| records(&r.evidence).collect())
            .unwrap_or_default();
        self.dirty = true;
    }

    pub(crate) fn save_progress(&mut self) {
        if let Some(store) = &self.walk.store
            && let Err(e) = store.save(&self.walk.progress)
        {
            self.status = Some(e);
        }
    }

    fn set_mark(&mut self, change: impl FnOnce(&mut Mark)) {
        let Some(w) = self.current_walk() else {
            return;
        };
        let rb = self.checklist.runbook(w);
        let Some(step) = rb.steps.get(self.walk.step) else {
            return;
        };
        let (rb, step) = (rb.id.clone(), step.id.clone());
        let mut mark = self.walk.progress.mark(&rb, &step);
        change(&mut mark);
        self.walk.progress.set(&rb, &step, mark);
        self.save_progress();
        self.dirty = true;
    }

    /// Keys while the checklist is open. Returns whether the key was used.
    pub(crate) fn checklist_key(&mut self, action: Action) -> bool {
        if self.pending.is_some() {
            return false;
        }
        let Some(w) = self.current_walk() else {
            return false;
        };
        let n = self.checklist.walks[w].steps.len();
        let commands = self.current_step().map_or(0, |(r, _)| r.commands.len());
        match action {
            Action::Down => self.choose_step((self.walk.step + 1).min(n.saturating_sub(1))),
            Action::Up => self.choose_step(self.walk.step.saturating_sub(1)),
            Action::PageDown => {
                self.walk.scroll = self.walk.scroll.saturating_add(5);
                self.dirty = true;
            }
            Action::PageUp => {
                self.walk.scroll = self.walk.scroll.saturating_sub(5);
                self.dirty = true;
            }
            Action::Top => self.choose_step(0),
            Action::Bottom => self.choose_step(n.saturating_sub(1)),
            Action::Pin => self.go_to_evidence(),
            Action::Tick => self.set_mark(|m| {
                m.done = !m.done;
                m.skipped = false;
            }),
            Action::SkipStep => self.set_mark(|m| {
                m.skipped = !m.skipped;
                m.done = false;
            }),
            Action::NextCommand => {
                self.walk.command = (self.walk.command + 1).min(commands.saturating_sub(1));
                self.dirty = true;
            }
            Action::PrevCommand => {
                self.walk.command = self.walk.command.saturating_sub(1);
                self.dirty = true;
            }
            Action::CopyCommand => self.copy_command(),
            Action::RunCommand => self.ask_to_run(),
            Action::Note => {
                self.walk.note = Some(self.current_step().map(|(_, m)| m.note).unwrap_or_default());
                self.dirty = true;
            }
            Action::PickRunbook => {
                self.walk.picker = Some(Picker::default());
                self.dirty = true;
            }
            _ => return false,
        }
        true
    }

    /// Enter on a step: align every pane to its next evidence record, round and round.
    fn go_to_evidence(&mut self) {
        let Some((result, _)) = self.current_step() else {
            return;
        };
        let recs: Vec<(usize, usize)> = records(&result.evidence).collect();
        if recs.is_empty() {
            self.status = Some("this step has no log record as evidence".into());
            self.dirty = true;
            return;
        }
        let k = self.walk.next_evidence % recs.len();
        let (s, r) = recs[k];
        self.walk.next_evidence = k + 1;
        let src = &self.incident.sources[s];
        let t = src.ts[r];
        self.status = Some(format!(
            "evidence {}/{}: {}:{}",
            k + 1,
            recs.len(),
            src.file,
            src.lines[r]
        ));
        if t != crate::model::time::UNTIMED {
            self.goto_time(t);
        }
        // Small screens show the panes again; wide ones keep the checklist beside them.
        if !self.wide {
            self.walk.open = false;
        }
        self.dirty = true;
    }

    fn copy_command(&mut self) {
        let Some((result, _)) = self.current_step() else {
            return;
        };
        let Some(cmd) = result.commands.get(self.walk.command).cloned() else {
            self.status = Some("this step has no command".into());
            self.dirty = true;
            return;
        };
        let from_bundle = self.current_walk().is_some_and(|w| {
            matches!(
                self.checklist.runbook(w).origin,
                crate::analysis::checklist::runbook::Origin::Bundle(_)
            )
        });
        let missing: Vec<String> = self
            .current_walk()
            .and_then(|w| self.checklist.runbook(w).steps.get(self.walk.step))
            .and_then(|s| s.commands.get(self.walk.command))
            .map(|raw| {
                self.checklist
                    .facts
                    .missing(raw)
                    .iter()
                    .map(|m| format!("<{m}>"))
                    .collect()
            })
            .unwrap_or_default();
        self.status = Some(if !missing.is_empty() {
            format!("copied; fill in {} before running it", missing.join(", "))
        } else if from_bundle {
            "copied; it comes from the bundle's runbook: read it before running it".into()
        } else {
            "copied to the clipboard (OSC 52)".into()
        });
        self.clipboard = Some(cmd);
        self.dirty = true;
    }

    /// `r`: in live mode, ask before running the chosen command; never in replay, never a
    /// command that changes the system, never one with a blank left in it.
    fn ask_to_run(&mut self) {
        self.dirty = true;
        let Some(w) = self.current_walk() else {
            return;
        };
        let rb = self.checklist.runbook(w);
        let Some(step) = rb.steps.get(self.walk.step) else {
            return;
        };
        let Some(raw) = step.commands.get(self.walk.command) else {
            self.status = Some("this step has no command".into());
            return;
        };
        let missing = self.checklist.facts.missing(raw);
        let refusal = if !self.live {
            Some("replay: commands never run here; c copies it to run on the host yourself".into())
        } else if step.changes {
            Some("this step changes the system: sitrep never runs it; c copies it".into())
        } else {
            missing
                .first()
                .map(|m| format!("fill in <{m}> first: c copies it"))
        };
        if let Some(r) = refusal {
            self.status = Some(r);
            return;
        }
        self.walk.run = Some(RunView::Confirm {
            command: self.checklist.facts.fill(raw),
            from_bundle: matches!(
                rb.origin,
                crate::analysis::checklist::runbook::Origin::Bundle(_)
            ),
        });
    }

    /// Take a finished run's output; true when one just ended.
    pub fn poll_run(&mut self) -> bool {
        let Some(RunView::Running(r)) = &self.walk.run else {
            return false;
        };
        match r.poll() {
            Some(outcome) => {
                self.walk.run = Some(RunView::Done(outcome));
                self.dirty = true;
                true
            }
            None => false,
        }
    }

    /// Whether keys go to a text being typed (search, note, picker) or to a run's prompt.
    pub fn typing(&self) -> bool {
        self.prompt.is_some()
            || self.record_note.is_some()
            || self.palette.is_some()
            || self.walk.note.is_some()
            || self.walk.picker.is_some()
            || self.walk.run.is_some()
    }

    /// A key while typing: characters edit, Enter accepts, Esc cancels; in the picker the
    /// arrows move.
    pub fn text_key(&mut self, code: crossterm::event::KeyCode) {
        use crossterm::event::KeyCode;
        self.dirty = true;
        if self.palette.is_some() {
            self.palette_key(code);
            return;
        }
        if let Some(note) = &mut self.record_note {
            match code {
                KeyCode::Enter => {
                    let text = std::mem::take(note);
                    self.record_note = None;
                    self.finish_record_note(text);
                }
                KeyCode::Esc => self.record_note = None,
                KeyCode::Backspace => {
                    note.pop();
                }
                KeyCode::Char(c) if !c.is_control() => note.push(c),
                _ => {}
            }
            return;
        }
        if self.prompt.is_some() {
            match code {
                KeyCode::Enter => self.prompt_submit(),
                KeyCode::Esc => self.prompt_cancel(),
                KeyCode::Backspace => self.prompt_backspace(),
                KeyCode::Char(c) => self.prompt_char(c),
                _ => {}
            }
            return;
        }
        if let Some(run) = &self.walk.run {
            match run {
                // Only `y` runs it; any other key says no.
                RunView::Confirm { command, .. } => {
                    self.walk.run = (code == KeyCode::Char('y')).then(|| {
                        RunView::Running(super::runner::spawn(command, super::runner::TIMEOUT))
                    });
                }
                RunView::Running(_) => {}
                RunView::Done(_) => self.walk.run = None,
            }
            return;
        }
        if let Some(note) = &mut self.walk.note {
            match code {
                KeyCode::Enter => {
                    let text = note.trim().to_string();
                    self.walk.note = None;
                    self.set_mark(|m| m.note = text);
                }
                KeyCode::Esc => self.walk.note = None,
                KeyCode::Backspace => {
                    note.pop();
                }
                KeyCode::Char(c) if !c.is_control() => note.push(c),
                _ => {}
            }
            return;
        }
        let Some(p) = &mut self.walk.picker else {
            return;
        };
        let found = matches(&self.checklist, &p.query);
        match code {
            KeyCode::Esc => self.walk.picker = None,
            KeyCode::Enter => {
                let chosen = found.get(p.selected).copied();
                self.walk.picker = None;
                if let Some(w) = chosen {
                    self.open_walk(w, true);
                }
            }
            KeyCode::Down => p.selected = (p.selected + 1).min(found.len().saturating_sub(1)),
            KeyCode::Up => p.selected = p.selected.saturating_sub(1),
            KeyCode::Backspace => {
                p.query.pop();
                p.selected = 0;
            }
            KeyCode::Char(c) if !c.is_control() => {
                p.query.push(c);
                p.selected = 0;
            }
            _ => {}
        }
    }
}

/// The log records among some evidence.
fn records(ev: &[Evidence]) -> impl Iterator<Item = (usize, usize)> + '_ {
    ev.iter().filter_map(|e| match e {
        Evidence::Record { source, row } => Some((*source, *row)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }
}
