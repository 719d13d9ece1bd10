//! The command palette (`:`): one fuzzy list over what can be done or gone to: actions,
//! panes, hosts, units, files, findings, runbooks, lessons and recent searches. `Ctrl-P` opens it on
//! the places only (units, files, findings). Matched characters are shown.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::action::Action;
use super::app::App;

/// Where an entry leads.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Action(Action),
    Pane(usize),
    Unit(String),
    /// A source: its first record.
    File(usize),
    Finding(usize),
    /// A walk of the checklist.
    Runbook(usize),
    Search(String),
    /// A lesson of `sitrep learn`: this console closes and the lesson opens.
    Lesson(String),
    /// Only this host's records (a `host=NAME` filter).
    Host(String),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: &'static str,
    pub label: String,
    pub target: Target,
}

/// The palette while open.
#[derive(Debug, Default)]
pub struct Palette {
    pub query: String,
    pub selected: usize,
    /// Opened with Ctrl-P: places only.
    pub places: bool,
}

/// Everything the palette offers now.
pub fn entries(app: &App, places: bool) -> Vec<Entry> {
    let mut out = Vec::new();
    if !places {
        for e in app.keymap.entries() {
            if matches!(e.action, Action::Palette | Action::Jump) {
                continue;
            }
            out.push(Entry {
                kind: "action",
                label: format!("{} ({})", e.help, e.label()),
                target: Target::Action(e.action),
            });
        }
        for (i, p) in app.lists.iter().enumerate() {
            out.push(Entry {
                kind: "pane",
                label: format!("{} {}", i + 1, p.kind.title()),
                target: Target::Pane(i),
            });
        }
    }
    if app.incident.hosts.len() > 1 {
        for h in &app.incident.hosts {
            out.push(Entry {
                kind: "host",
                label: format!("{} (only its records)", h.name),
                target: Target::Host(h.name.clone()),
            });
        }
    }
    let mut units: Vec<String> = app
        .units
        .at(app.cursor)
        .into_iter()
        .map(|u| u.unit)
        .collect();
    units.sort();
    units.dedup();
    for u in units {
        out.push(Entry {
            kind: "unit",
            label: u.clone(),
            target: Target::Unit(u),
        });
    }
    for (i, s) in app.incident.sources.iter().enumerate() {
        if s.timed_len() > 0 {
            out.push(Entry {
                kind: "file",
                label: format!("{} ({})", s.file, s.format.as_str()),
                target: Target::File(i),
            });
        }
    }
    if !app.findings_hidden() {
        for (i, f) in app.diagnosis.findings.iter().enumerate() {
            out.push(Entry {
                kind: "finding",
                label: f.title.clone(),
                target: Target::Finding(i),
            });
        }
    }
    if !places {
        if !app.findings_hidden() {
            for w in 0..app.checklist.walks.len() {
                let rb = app.checklist.runbook(w);
                out.push(Entry {
                    kind: "runbook",
                    label: format!("{} — {}", rb.id, rb.title),
                    target: Target::Runbook(w),
                });
            }
        }
        if app.lesson.is_none()
            && let Ok(lessons) = crate::learn::all()
        {
            for l in lessons {
                out.push(Entry {
                    kind: "lesson",
                    label: format!("{} — {} ({})", l.id, l.title, l.level.word()),
                    target: Target::Lesson(l.id),
                });
            }
        }
        for s in app.recent.iter().rev() {
            out.push(Entry {
                kind: "search",
                label: format!("/{s}"),
                target: Target::Search(s.clone()),
            });
        }
    }
    out
}

/// Entries matching `query`, best first, each with the positions of its matched characters
/// (in `kind label`). An empty query keeps the order.
pub fn ranked(entries: &[Entry], query: &str) -> Vec<(usize, Vec<usize>)> {
    if query.is_empty() {
        return (0..entries.len()).map(|i| (i, Vec::new())).collect();
    }
    let m = SkimMatcherV2::default();
    let mut scored: Vec<(i64, usize, Vec<usize>)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            m.fuzzy_indices(&format!("{} {}", e.kind, e.label), query)
                .map(|(score, idx)| (score, i, idx))
        })
        .collect();
    scored.sort_by_key(|(s, i, _)| (-s, *i));
    scored.into_iter().map(|(_, i, idx)| (i, idx)).collect()
}

impl App {
    /// Do what the chosen entry says.
    pub(crate) fn run_entry(&mut self, target: Target) {
        match target {
            Target::Action(a) => self.update(a),
            Target::Pane(i) => self.update(Action::Focus(u8::try_from(i + 1).unwrap_or(1))),
            Target::Unit(u) => {
                // The unit's first record in the journal.
                let hit = self.lists[0].records.entries.iter().find(|e| {
                    let s = &self.incident.sources[e.source as usize];
                    s.format.is_journal() && s.text(e.row as usize).contains(&u)
                });
                match hit.map(|e| (e.source as usize, e.row as usize)) {
                    Some(r) => {
                        self.select_record(r);
                    }
                    None => self.status = Some(format!("{u}: no journal record names it")),
                }
            }
            Target::File(s) => {
                let src = &self.incident.sources[s];
                if src.timed_len() > 0 {
                    let r = src.row_in_time_order(0);
                    self.select_record((s, r));
                }
            }
            Target::Finding(i) => {
                self.findings_open = false;
                self.update(Action::Findings);
                for _ in 0..i {
                    self.update(Action::Down);
                }
            }
            Target::Runbook(w) => {
                self.walk.open = true;
                self.findings_open = false;
                self.open_walk(w, true);
            }
            Target::Host(h) => {
                if let Err(e) = self.add_query_filter(format!("host={h}"), true) {
                    self.status = Some(format!("host {h}: {e}"));
                }
            }
            Target::Lesson(id) => {
                self.next_lesson = Some(id);
                self.quit = true;
            }
            Target::Search(s) => {
                self.prompt = Some(s);
                self.prompt_kind = super::app::PromptKind::Search;
                self.prompt_submit();
            }
        }
        self.dirty = true;
    }

    /// A key while the palette is open.
    pub(crate) fn palette_key(&mut self, code: crossterm::event::KeyCode) {
        use crossterm::event::KeyCode;
        let Some(p) = &mut self.palette else {
            return;
        };
        match code {
            KeyCode::Esc => self.palette = None,
            KeyCode::Down => p.selected += 1,
            KeyCode::Up => p.selected = p.selected.saturating_sub(1),
            KeyCode::Backspace => {
                p.query.pop();
                p.selected = 0;
            }
            KeyCode::Char(c) if !c.is_control() => {
                p.query.push(c);
                p.selected = 0;
            }
            KeyCode::Enter => {
                let (query, places, sel) = (p.query.clone(), p.places, p.selected);
                self.palette = None;
                let all = entries(self, places);
                let found = ranked(&all, &query);
                if let Some((i, _)) = found.get(sel.min(found.len().saturating_sub(1))) {
                    let target = all[*i].target.clone();
                    self.run_entry(target);
                }
            }
            _ => {}
        }
        self.dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_puts_the_closest_first_and_shows_the_matched_letters() {
        let es = vec![
            Entry {
                kind: "runbook",
                label: "gateway-timeout-504".into(),
                target: Target::Runbook(1),
            },
            Entry {
                kind: "runbook",
                label: "bad-gateway-502".into(),
                target: Target::Runbook(0),
            },
            Entry {
                kind: "file",
                label: "nginx/error.log (nginx-error)".into(),
                target: Target::File(0),
            },
        ];
        let r = ranked(&es, "502");
        assert_eq!(r[0].0, 1);
        assert_eq!(r.len(), 1, "{r:?}");
        let r = ranked(&es, "errlog");
        assert_eq!(es[r[0].0].kind, "file");
        assert!(!r[0].1.is_empty());
        assert_eq!(ranked(&es, "").len(), 3);
    }
}
