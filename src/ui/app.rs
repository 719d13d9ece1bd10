//! The console's state and its update function: every key becomes an [`Action`], every action
//! changes the state here, and the screen is drawn from the state. No terminal in this file.

use crate::analysis::timeline::Timeline;
use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::Micros;

use super::action::Action;

/// The panes that list records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Timeline,
    Access,
    Error,
    Journal,
}

impl ListKind {
    pub const ALL: [ListKind; 4] = [
        ListKind::Timeline,
        ListKind::Access,
        ListKind::Error,
        ListKind::Journal,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ListKind::Timeline => "Timeline",
            ListKind::Access => "Access",
            ListKind::Error => "Error",
            ListKind::Journal => "Journal",
        }
    }

    /// Whether a source of `format` belongs in this pane.
    fn holds(self, format: FormatId) -> bool {
        match self {
            ListKind::Timeline => true,
            ListKind::Access => format == FormatId::NginxAccess,
            ListKind::Error => format == FormatId::NginxError,
            ListKind::Journal => matches!(
                format,
                FormatId::JournalJson
                    | FormatId::JournalExport
                    | FormatId::JournalShort
                    | FormatId::JournalShortIso
                    | FormatId::JournalShortPrecise
            ),
        }
    }
}

/// A list pane: its records (an index into the sources) and its selection.
#[derive(Debug)]
pub struct ListPane {
    pub kind: ListKind,
    pub records: Timeline,
    pub selected: usize,
}

impl ListPane {
    fn new(kind: ListKind, incident: &Incident) -> ListPane {
        let ranges: Vec<_> = incident
            .sources
            .iter()
            .map(|s| {
                if kind.holds(s.format) {
                    0..s.timed_len()
                } else {
                    0..0
                }
            })
            .collect();
        ListPane {
            kind,
            records: Timeline::build(&incident.sources, &ranges, |_, _| true),
            selected: 0,
        }
    }

    /// The record nearest to `t` (the later one on a tie).
    fn nearest(&self, t: Micros) -> usize {
        let n = self.records.len();
        if n == 0 {
            return 0;
        }
        let i = self.records.seek(t);
        if i == 0 {
            return 0;
        }
        if i >= n {
            return n - 1;
        }
        if t - self.records.time(i - 1) < self.records.time(i) - t {
            i - 1
        } else {
            i
        }
    }
}

/// Everything the screen shows.
#[derive(Debug)]
pub struct App {
    pub incident: Incident,
    /// List panes in screen order; the focus index runs over these.
    pub lists: Vec<ListPane>,
    pub focus: usize,
    /// The shared cursor: the time every pane is aligned to.
    pub cursor: Micros,
    pub zoom: bool,
    pub help: bool,
    pub quit: bool,
    /// Rows a page moves (set from the last draw).
    pub page: usize,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Records at error or worse, counted once.
    pub errors: usize,
}

impl App {
    pub fn new(incident: Incident) -> App {
        let lists: Vec<ListPane> = ListKind::ALL
            .iter()
            .map(|k| ListPane::new(*k, &incident))
            .filter(|p| p.kind == ListKind::Timeline || !p.records.is_empty())
            .collect();
        let mut app = App {
            incident,
            lists,
            focus: 0,
            cursor: 0,
            zoom: false,
            help: false,
            quit: false,
            page: 10,
            dirty: true,
            errors: 0,
        };
        app.errors = app.count_errors();
        // Open on the first error: that is where an incident starts.
        let first = app.lists[0]
            .records
            .first_error(&app.incident.sources)
            .map(|t| app.lists[0].nearest(t))
            .unwrap_or(0);
        app.select(0, first);
        app
    }

    pub fn focused(&self) -> &ListPane {
        &self.lists[self.focus]
    }

    /// The record the detail pane shows: the focused pane's selection.
    pub fn selected_record(&self) -> Option<(usize, usize)> {
        let p = self.focused();
        p.records
            .entries
            .get(p.selected)
            .map(|e| (e.source as usize, e.row as usize))
    }

    /// Select `index` in pane `pane`, move the cursor to its time and align the others.
    fn select(&mut self, pane: usize, index: usize) {
        let p = &mut self.lists[pane];
        if p.records.is_empty() {
            return;
        }
        p.selected = index.min(p.records.len() - 1);
        self.cursor = p.records.time(p.selected);
        self.align(pane);
        self.dirty = true;
    }

    /// Every pane but `except` selects its record nearest the cursor.
    fn align(&mut self, except: usize) {
        let t = self.cursor;
        for (i, p) in self.lists.iter_mut().enumerate() {
            if i != except {
                p.selected = p.nearest(t);
            }
        }
    }

    /// Move the cursor to time `t`: the focused pane selects its nearest record.
    pub fn goto_time(&mut self, t: Micros) {
        let i = self.lists[self.focus].nearest(t);
        self.select(self.focus, i);
        self.cursor = t;
        self.align(self.focus);
    }

    /// The next (or previous) record at warn or worse in any source, after (before) the cursor.
    fn problem(&self, forward: bool) -> Option<Micros> {
        let all = &self.lists[0].records;
        let sources = &self.incident.sources;
        let bad = |i: usize| {
            let e = all.entries[i];
            sources[e.source as usize].sev[e.row as usize] <= Severity::Warn
        };
        if forward {
            let start = all.seek(self.cursor + 1);
            (start..all.len()).find(|i| bad(*i)).map(|i| all.time(i))
        } else {
            let end = all.seek(self.cursor);
            (0..end).rev().find(|i| bad(*i)).map(|i| all.time(i))
        }
    }

    pub fn update(&mut self, action: Action) {
        let f = self.focus;
        let sel = self.lists[f].selected;
        let last = self.lists[f].records.len().saturating_sub(1);
        match action {
            Action::Down => self.select(f, (sel + 1).min(last)),
            Action::Up => self.select(f, sel.saturating_sub(1)),
            Action::PageDown => self.select(f, (sel + self.page).min(last)),
            Action::PageUp => self.select(f, sel.saturating_sub(self.page)),
            Action::Top => self.select(f, 0),
            Action::Bottom => self.select(f, last),
            Action::FocusNext => self.focus_to((f + 1) % self.lists.len()),
            Action::FocusPrev => self.focus_to((f + self.lists.len() - 1) % self.lists.len()),
            Action::Focus(n) => {
                if usize::from(n) >= 1 && usize::from(n) <= self.lists.len() {
                    self.focus_to(usize::from(n) - 1);
                }
            }
            Action::Pin => self.select(f, sel),
            Action::NextProblem => {
                if let Some(t) = self.problem(true) {
                    self.goto_time(t);
                }
            }
            Action::PrevProblem => {
                if let Some(t) = self.problem(false) {
                    self.goto_time(t);
                }
            }
            Action::NextRecord | Action::PrevRecord => {
                let all = &self.lists[0].records;
                let t = if action == Action::NextRecord {
                    let i = all.seek(self.cursor + 1);
                    (i < all.len()).then(|| all.time(i))
                } else {
                    let i = all.seek(self.cursor);
                    (i > 0).then(|| all.time(i - 1))
                };
                if let Some(t) = t {
                    self.goto_time(t);
                }
            }
            Action::Zoom => {
                self.zoom = !self.zoom;
                self.dirty = true;
            }
            Action::Help => {
                self.help = !self.help;
                self.dirty = true;
            }
            Action::Quit => self.quit = true,
        }
    }

    fn focus_to(&mut self, pane: usize) {
        self.focus = pane;
        self.dirty = true;
    }

    /// Count of records at error or worse.
    fn count_errors(&self) -> usize {
        let all = &self.lists[0].records;
        all.entries
            .iter()
            .filter(|e| {
                self.incident.sources[e.source as usize].sev[e.row as usize] <= Severity::Error
            })
            .count()
    }
}
