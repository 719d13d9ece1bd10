//! The console's state and its update function: keys become [`Action`]s through the keymap
//! (where Ctrl-C, Ctrl-P and the digits are fixed, not configurable), except typed text,
//! which `walk.rs` reads around it (`typing`, `text_key`); every action changes the state
//! here, and the screen is drawn from the state. No terminal in this file.

use crate::analysis::state::{Sockets, Units};
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
    pub(crate) fn holds(self, format: FormatId) -> bool {
        match self {
            ListKind::Timeline => true,
            ListKind::Access => format == FormatId::NginxAccess,
            ListKind::Error => format == FormatId::NginxError,
            ListKind::Journal => format.is_journal(),
        }
    }
}

/// A list pane: its records (an index into the sources) and its selection.
#[derive(Debug)]
pub struct ListPane {
    pub kind: ListKind,
    /// Shared with the rules' thread for the whole timeline (it is the one they read).
    pub records: std::sync::Arc<Timeline>,
    pub selected: usize,
    /// `errors_before[i]`: records at error or worse among the first `i` (histograms in O(1)).
    pub errors_before: Vec<u32>,
    /// How many files feed the pane.
    pub files: usize,
}

impl ListPane {
    pub(crate) fn new(kind: ListKind, incident: &Incident) -> ListPane {
        ListPane::filtered(kind, incident, None)
    }

    /// The pane with only the records `masks` keeps (per source, per row).
    pub(crate) fn filtered(
        kind: ListKind,
        incident: &Incident,
        masks: Option<&[Vec<bool>]>,
    ) -> ListPane {
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
        let records = Timeline::build(&incident.sources, &ranges, |s, r| {
            masks.is_none_or(|m| m[s].get(r).copied().unwrap_or(true))
        });
        ListPane::of(kind, records, incident)
    }

    /// The pane of `kind` over `records` (already in time order).
    pub(crate) fn of(kind: ListKind, records: Timeline, incident: &Incident) -> ListPane {
        let mut errors_before = Vec::with_capacity(records.len() + 1);
        let mut n = 0u32;
        errors_before.push(0);
        for e in &records.entries {
            if incident.sources[e.source as usize].sev[e.row as usize] <= Severity::Error {
                n += 1;
            }
            errors_before.push(n);
        }
        let files = incident
            .sources
            .iter()
            .filter(|s| kind.holds(s.format) && s.timed_len() > 0)
            .count();
        ListPane {
            kind,
            records: std::sync::Arc::new(records),
            selected: 0,
            errors_before,
            files,
        }
    }

    /// Add the records of `incident` past `before` (each source's timed records when the pane
    /// was last built or extended); false, changing nothing, when the pane must be built again
    /// instead (a source it holds was renumbered, or a new record is earlier than its last).
    pub(crate) fn extend(
        &mut self,
        incident: &Incident,
        before: &[usize],
        renumbered: &[bool],
    ) -> bool {
        let mut ranges = Vec::with_capacity(incident.sources.len());
        for (i, s) in incident.sources.iter().enumerate() {
            if !self.kind.holds(s.format) {
                ranges.push(0..0);
                continue;
            }
            if renumbered.get(i).copied().unwrap_or(false) {
                return false;
            }
            let from = before.get(i).copied().unwrap_or(0).min(s.timed_len());
            ranges.push(from..s.timed_len());
        }
        let more = Timeline::build(&incident.sources, &ranges, |_, _| true);
        let bad: Vec<bool> = more
            .entries
            .iter()
            .map(|e| incident.sources[e.source as usize].sev[e.row as usize] <= Severity::Error)
            .collect();
        if !std::sync::Arc::make_mut(&mut self.records).append(more) {
            return false;
        }
        let mut n = self.errors_before.last().copied().unwrap_or(0);
        for b in bad {
            n += u32::from(b);
            self.errors_before.push(n);
        }
        self.files = incident
            .sources
            .iter()
            .filter(|s| self.kind.holds(s.format) && s.timed_len() > 0)
            .count();
        true
    }

    /// Records at error or worse among positions `from..to`.
    pub fn errors_in(&self, from: usize, to: usize) -> usize {
        (self.errors_before[to] - self.errors_before[from]) as usize
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
    /// Shared with the thread that runs the rules when the console opens.
    pub incident: std::sync::Arc<Incident>,
    /// What the rules found, root cause first.
    pub diagnosis: crate::analysis::rules::Diagnosis,
    /// The rules' and the checklist's result while they still run in the background (see
    /// [`App::new_deferred`]).
    pub pending: Option<std::sync::mpsc::Receiver<Ready>>,
    /// How many rules the background run has finished, for the header.
    pub rules_done: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// What the header last showed of that count (a change redraws it).
    shown_rules_done: usize,
    /// Every runbook walked against the incident.
    pub checklist: crate::analysis::checklist::Checklist,
    /// The checklist pane: the runbook open, the chosen step, the person's marks.
    pub walk: crate::ui::walk::WalkView,
    /// The last frame was the wide layout (panes side by side).
    pub wide: bool,
    /// Text to put on the clipboard with the next frame (OSC 52).
    pub clipboard: Option<String>,
    /// Live mode: the collectors' feed and what goes with it.
    pub feed: Option<crate::ui::live::LiveState>,
    /// Where runbooks and progress are (kept to work the analysis out again in live mode).
    pub options: Options,
    /// Watching a live host (commands may be run from the checklist, after a confirmation);
    /// false in replay, where nothing ever runs.
    pub live: bool,
    /// The findings list has the keys; `finding` is the one chosen.
    pub findings_open: bool,
    /// The explanation overlay for the selected line is open.
    pub explain_open: bool,
    /// The sources overlay is open.
    pub sources_open: bool,
    /// The glossary overlay is open.
    pub glossary_open: bool,
    /// The notes overlay (`M`) is open.
    pub notes_open: bool,
    /// A note being typed on the selected record (`a` outside the checklist).
    pub record_note: Option<String>,
    /// A lesson being played (learn mode).
    pub lesson: Option<crate::ui::lesson::LessonView>,
    pub finding: usize,
    /// Records that are evidence of the chosen finding, marked in every pane.
    pub evidence: std::collections::HashSet<(usize, usize)>,
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
    /// Replay: records after this time are hidden. `None` shows everything.
    pub playhead: Option<Micros>,
    pub playing: bool,
    /// Replay speed, a multiple of real time.
    pub speed: u32,
    /// The search being typed after `/` (or a filter after `F`, `!`), while the prompt is open.
    pub prompt: Option<String>,
    pub prompt_kind: PromptKind,
    /// Filters over every pane.
    pub filters: crate::ui::filter::Filters,
    /// Every timed record merged, unfiltered: what filters select from (built on the first
    /// filter, dropped when live data arrives).
    pub base: Option<Timeline>,
    /// A lesson chosen in the palette, opened when this console closes.
    pub next_lesson: Option<String>,
    /// The command palette, while open.
    pub palette: Option<crate::ui::palette::Palette>,
    /// Searches made, oldest first (the palette offers them again).
    pub recent: Vec<String>,
    /// Units and listening sockets over time, built once from the snapshots and the journal.
    /// Shared with the rules' thread.
    pub units: std::sync::Arc<Units>,
    pub sockets: std::sync::Arc<Sockets>,
    /// The selected record's lines on screen in syntax colours, computed once per selection
    /// and scroll position.
    pub highlighted: Option<Coloured>,
    /// Where the detail pane is in the selected record.
    pub detail: DetailView,
    /// The keys in force (defaults patched by the config file).
    pub keymap: crate::ui::keymap::Keymap,
    /// Where the last frame put each list pane's rows (mouse clicks land by these).
    pub hits: Vec<crate::ui::panes::list::Hit>,
    /// The last search, and what went wrong with it (a bad regex, no match).
    pub search: Option<regex::Regex>,
    pub status: Option<String>,
}

/// A record's lines from `from` in syntax colours (`lines` is `None` when it has no known
/// syntax).
#[derive(Debug)]
pub struct Coloured {
    pub key: (usize, usize),
    pub from: usize,
    pub lines: Option<Vec<ratatui::text::Line<'static>>>,
}

/// The detail pane's place in a record: its first line shown, and how many it has.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DetailView {
    pub key: Option<(usize, usize)>,
    pub scroll: usize,
    pub total: usize,
}

/// Bytes of a record's text the detail pane reads per screen row it may show: the longest
/// line a terminal shows wrapped is about this wide times its rows.
const DETAIL_BYTES_PER_ROW: usize = 256;

/// What the prompt is typed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PromptKind {
    #[default]
    Search,
    FilterIn,
    FilterOut,
}

/// What the background run hands over: the analysis, and where this bundle's checklist
/// progress is kept.
#[derive(Debug)]
pub struct Ready {
    pub analysis: crate::analysis::Analysis,
    pub store: Option<crate::progress::Store>,
}

/// Where the console finds runbooks and keeps checklist progress.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The user's runbooks folder (`None`: built-ins and the bundle's only).
    pub runbooks: Option<std::path::PathBuf>,
    /// The state directory for checklist progress (`None`: nothing is saved).
    pub state: Option<std::path::PathBuf>,
    /// Progress is kept under this name rather than the bundle's content hash (live mode:
    /// the host's name, as the content grows).
    pub progress_key: Option<String>,
}

/// Replay speeds `+` and `-` step through.
pub const SPEEDS: [u32; 9] = [1, 2, 5, 10, 30, 60, 120, 300, 600];

impl App {
    /// The console's state with the findings worked out before it returns.
    pub fn new(incident: Incident) -> App {
        App::with(incident, &Options::default())
    }

    /// [`App::new`] with runbooks and progress from `options`.
    pub fn with(incident: Incident, options: &Options) -> App {
        let mut app = App::new_deferred(incident, options);
        if let Some(rx) = app.pending.take()
            && let Ok(ready) = rx.recv()
        {
            app.take(ready);
        }
        app
    }

    fn take(&mut self, ready: Ready) {
        self.diagnosis = ready.analysis.diagnosis;
        self.take_checklist(ready.analysis.checklist, ready.store);
        self.pending = None;
        self.dirty = true;
    }

    /// The console's state at once, with the rules running on a thread: on a big incident
    /// the first frame does not wait for them; [`App::poll_findings`] takes their result.
    pub fn new_deferred(incident: Incident, options: &Options) -> App {
        let mut app = App::build(std::sync::Arc::new(incident), options.clone());
        // Freshly built, the Timeline pane holds every timed record: what the rules merge.
        let built = crate::analysis::rules::Built {
            timeline: app
                .lists
                .iter()
                .find(|p| p.kind == ListKind::Timeline)
                .map(|p| std::sync::Arc::clone(&p.records)),
            units: Some(std::sync::Arc::clone(&app.units)),
            sockets: Some(std::sync::Arc::clone(&app.sockets)),
        };
        app.spawn_analysis(built);
        app
    }

    /// Run the rules and walk the runbooks on a thread; [`App::poll_findings`] takes the
    /// result. The thread holds the incident until it is done; what `built` holds the rules read
    /// instead of building it again.
    pub(crate) fn spawn_analysis(&mut self, built: crate::analysis::rules::Built) {
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = std::sync::Arc::clone(&self.incident);
        let options = self.options.clone();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        self.rules_done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let library =
                crate::analysis::checklist::Library::load(options.runbooks.as_deref(), &shared);
            // Where progress is kept is found by the bundle's content key (a hash of every
            // file), worked out beside the rules and only when progress is kept at all.
            let (analysis, store) = std::thread::scope(|scope| {
                let store = scope.spawn(|| {
                    options.state.as_deref().map(|dir| {
                        let key = options
                            .progress_key
                            .clone()
                            .unwrap_or_else(|| crate::progress::content_key(&shared));
                        crate::progress::Store::for_key(dir, &key)
                    })
                });
                let analysis = crate::analysis::analyse_counted(&shared, library, &done, built);
                let store = store
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                (analysis, store)
            });
            drop(shared);
            let _ = tx.send(Ready { analysis, store });
        });
        self.pending = Some(rx);
    }

    fn build(incident: std::sync::Arc<Incident>, options: Options) -> App {
        let lists: Vec<ListPane> = ListKind::ALL
            .iter()
            .map(|k| ListPane::new(*k, &incident))
            .filter(|p| p.kind == ListKind::Timeline || !p.records.is_empty())
            .collect();
        let diagnosis = crate::analysis::rules::Diagnosis::default();
        let units = std::sync::Arc::new(Units::build(&incident));
        let sockets = std::sync::Arc::new(Sockets::build(&incident));
        let mut app = App {
            diagnosis,
            pending: None,
            rules_done: Default::default(),
            shown_rules_done: 0,
            feed: None,
            options,
            checklist: Default::default(),
            walk: Default::default(),
            wide: false,
            clipboard: None,
            live: false,
            findings_open: false,
            explain_open: false,
            sources_open: false,
            glossary_open: false,
            notes_open: false,
            record_note: None,
            lesson: None,
            finding: 0,
            evidence: Default::default(),
            keymap: Default::default(),
            highlighted: None,
            detail: DetailView::default(),
            hits: Vec::new(),
            units,
            sockets,
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
            playhead: None,
            playing: false,
            speed: 60,
            prompt: None,
            prompt_kind: PromptKind::Search,
            filters: Default::default(),
            palette: None,
            next_lesson: None,
            base: None,
            recent: Vec::new(),
            search: None,
            status: None,
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

    /// Records of pane `pane` shown: those up to the playhead.
    pub fn visible_len(&self, pane: usize) -> usize {
        let r = &self.lists[pane].records;
        match self.playhead {
            Some(t) => r.seek(t.saturating_add(1)),
            None => r.len(),
        }
    }

    /// How many rules the background run has finished.
    pub fn rules_done(&self) -> usize {
        self.rules_done.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Take the rules' result if the background run has finished; true when it just did.
    pub fn poll_findings(&mut self) -> bool {
        let Some(rx) = &self.pending else {
            return false;
        };
        match rx.try_recv() {
            Ok(ready) => {
                self.take(ready);
                true
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                let n = self.rules_done();
                if n != self.shown_rules_done {
                    self.shown_rules_done = n;
                    self.dirty = true;
                }
                false
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.pending = None;
                false
            }
        }
    }

    /// Advance the playhead by `elapsed` of real time (scaled by the speed) while playing;
    /// the focused pane follows the newest record.
    pub fn tick(&mut self, elapsed: std::time::Duration) {
        let Some(t) = self.playhead.filter(|_| self.playing) else {
            return;
        };
        let step = (elapsed.as_micros() as i64).saturating_mul(i64::from(self.speed));
        let end = self.lists[0]
            .records
            .len()
            .checked_sub(1)
            .map(|i| self.lists[0].records.time(i));
        let next = t.saturating_add(step);
        self.set_playhead(next);
        if end.is_some_and(|e| next >= e) {
            self.playing = false;
        }
    }

    fn set_playhead(&mut self, t: Micros) {
        let before = self.visible_len(self.focus);
        self.playhead = Some(t);
        let now = self.visible_len(self.focus);
        if now == 0 {
            self.dirty = true;
            return;
        }
        // Follow the newest record when the selection was at the end, else keep it in view.
        let sel = self.lists[self.focus].selected;
        let follow = sel + 1 >= before;
        self.select(self.focus, if follow { now - 1 } else { sel.min(now - 1) });
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

    /// `R`: the incident report as `sitrep report` writes it, into the current directory.
    fn write_report(&mut self) {
        self.dirty = true;
        if self.pending.is_some() {
            self.status = Some("the findings are still being worked out; try again".into());
            return;
        }
        let paths: Vec<String> = self
            .incident
            .hosts
            .iter()
            .map(|h| h.origin.clone())
            .collect();
        let notes = crate::report::notes(&self.incident);
        let text = crate::report::render(
            &self.incident,
            &self.diagnosis,
            &self.checklist,
            &notes,
            &paths,
        );
        let host = self
            .incident
            .hosts
            .first()
            .map_or("incident".to_string(), |h| {
                crate::text::file_name_part(&h.name)
            });
        let path = std::path::PathBuf::from(format!("sitrep-report-{host}.md"));
        self.status = Some(match crate::partial_file::write(&path, text.as_bytes()) {
            Ok(()) => format!("wrote {}", path.display()),
            Err(e) => format!("{}: cannot write the report ({e})", path.display()),
        });
    }

    /// Build every pane again with the filters in force, keeping the cursor where it was.
    /// Add a field-query filter (`status>=500`, `host=app2`) that keeps or drops what it
    /// matches, and apply it; `Err` is the query's parse error.
    pub fn add_query_filter(&mut self, text: String, keep: bool) -> Result<(), String> {
        let query = crate::analysis::query::Query::parse(&text).map_err(|e| e.to_string())?;
        self.filters
            .add(crate::ui::filter::Rule::Where { query, text, keep });
        self.apply_filters();
        Ok(())
    }

    pub fn apply_filters(&mut self) {
        let masks = self.filters.masks(&self.incident);
        let kinds: Vec<ListKind> = self.lists.iter().map(|p| p.kind).collect();
        // The merge is done once; each pane selects from it what passes and is of its kind.
        let base = self
            .base
            .get_or_insert_with(|| Timeline::all(&self.incident.sources));
        let incident = &self.incident;
        let all = base.select(|s, r| masks.as_ref().is_none_or(|m| m[s][r]));
        self.lists = kinds
            .iter()
            .map(|k| {
                let records = if *k == ListKind::Timeline {
                    all.select(|_, _| true)
                } else {
                    all.select(|s, _| k.holds(incident.sources[s].format))
                };
                ListPane::of(*k, records, incident)
            })
            .collect();
        // The focused pane selects what passes nearest the cursor; the cursor moves there and
        // the other panes follow.
        let t = self.cursor;
        let f = self.focus;
        let near = self.lists[f].nearest(t);
        if self.visible_len(f) > 0 {
            self.select(f, near);
        } else {
            for p in &mut self.lists {
                p.selected = p.nearest(t);
            }
        }
        self.errors = self.count_errors();
        // The footer lists the filters and what passes.
        self.status = None;
        self.dirty = true;
    }

    /// Focus the timeline and select record (source, row) there, aligning every pane, as a
    /// search hit would; false when the record is not in the timeline (untimed, or past the
    /// playhead).
    pub fn select_record(&mut self, record: (usize, usize)) -> bool {
        let Some(i) = self.lists[0]
            .records
            .entries
            .iter()
            .position(|e| (e.source as usize, e.row as usize) == record)
        else {
            return false;
        };
        if i >= self.visible_len(0) {
            return false;
        }
        self.focus = 0;
        self.select(0, i);
        true
    }

    /// Select `index` in pane `pane` and align the others (for live mode's follow).
    pub(crate) fn select_index(&mut self, pane: usize, index: usize) {
        self.select(pane, index);
    }

    /// Select `index` in pane `pane`, move the cursor to its time and align the others.
    fn select(&mut self, pane: usize, index: usize) {
        let visible = self.visible_len(pane);
        let p = &mut self.lists[pane];
        if visible == 0 {
            return;
        }
        p.selected = index.min(visible - 1);
        self.cursor = p.records.time(p.selected);
        self.align(pane);
        self.dirty = true;
    }

    /// Every pane but `except` selects its record nearest the cursor.
    fn align(&mut self, except: usize) {
        let t = self.cursor;
        let limits: Vec<usize> = (0..self.lists.len()).map(|i| self.visible_len(i)).collect();
        for (i, p) in self.lists.iter_mut().enumerate() {
            if i != except {
                p.selected = p.nearest(t).min(limits[i].saturating_sub(1));
            }
        }
    }

    /// Move the cursor to time `t`: the focused pane selects its nearest record.
    pub fn goto_time(&mut self, t: Micros) {
        let t = self.playhead.map_or(t, |p| t.min(p));
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
            (start..self.visible_len(0))
                .find(|i| bad(*i))
                .map(|i| all.time(i))
        } else {
            let end = all.seek(self.cursor);
            (0..end).rev().find(|i| bad(*i)).map(|i| all.time(i))
        }
    }

    pub fn update(&mut self, action: Action) {
        // From an explanation, g goes on to the glossary.
        if self.explain_open && (action == Action::Top || action == Action::Glossary) {
            self.explain_open = false;
            self.glossary_open = true;
            self.dirty = true;
            return;
        }
        // Any key closes an overlay and does nothing else (q still quits).
        if self.explain_open || self.sources_open || self.glossary_open || self.notes_open {
            self.notes_open = false;
            self.glossary_open = false;
            self.explain_open = false;
            self.sources_open = false;
            self.dirty = true;
            self.quit = action == Action::Quit;
            return;
        }
        if self.lesson.is_some() && self.lesson_key(action) {
            return;
        }
        if self.findings_open && self.finding_key(action) {
            return;
        }
        if self.walk.open && self.checklist_key(action) {
            return;
        }
        let f = self.focus;
        let sel = self.lists[f].selected;
        let last = self.visible_len(f).saturating_sub(1);
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
                    (i < self.visible_len(0)).then(|| all.time(i))
                } else {
                    let i = all.seek(self.cursor);
                    (i > 0).then(|| all.time(i - 1))
                };
                if let Some(t) = t {
                    self.goto_time(t);
                }
            }
            Action::NextBurst | Action::PrevBurst => {
                if let Some(t) = self.burst(action == Action::NextBurst) {
                    self.goto_time(t);
                }
            }
            Action::Zoom => {
                self.zoom = !self.zoom;
                self.dirty = true;
            }
            Action::Search => {
                self.prompt = Some(String::new());
                self.prompt_kind = PromptKind::Search;
                self.dirty = true;
            }
            Action::FilterIn | Action::FilterOut => {
                self.prompt = Some(String::new());
                self.prompt_kind = if action == Action::FilterIn {
                    PromptKind::FilterIn
                } else {
                    PromptKind::FilterOut
                };
                self.dirty = true;
            }
            Action::SeverityFloor => {
                use crate::ui::filter::Rule;
                let now = self.filters.list.iter().find_map(|f| match f.rule {
                    Rule::Floor(s) if f.on => Some(s),
                    _ => None,
                });
                // none -> warn -> error -> none
                match now {
                    None => self.filters.add(Rule::Floor(Severity::Warn)),
                    Some(Severity::Warn) => self.filters.add(Rule::Floor(Severity::Error)),
                    Some(_) => self
                        .filters
                        .list
                        .retain(|f| !matches!(f.rule, Rule::Floor(_))),
                }
                self.apply_filters();
            }
            Action::SinceCursor => {
                self.filters
                    .add(crate::ui::filter::Rule::Since(self.cursor));
                self.apply_filters();
            }
            Action::UntilCursor => {
                self.filters
                    .add(crate::ui::filter::Rule::Until(self.cursor));
                self.apply_filters();
            }
            Action::RemoveFilter => {
                self.filters.list.pop();
                self.apply_filters();
            }
            Action::ClearFilters => {
                self.filters.list.clear();
                self.apply_filters();
            }
            Action::ToggleFilter(n) => {
                if let Some(f) = self.filters.list.get_mut(usize::from(n).saturating_sub(1)) {
                    f.on = !f.on;
                    self.apply_filters();
                }
            }
            Action::SearchNext => self.find(true),
            Action::SearchPrev => self.find(false),
            Action::Play => {
                if self.playhead.is_none() {
                    self.set_playhead(self.cursor);
                }
                self.playing = !self.playing;
                self.dirty = true;
            }
            Action::Faster | Action::Slower => {
                let i = SPEEDS.iter().position(|s| *s >= self.speed).unwrap_or(0);
                let i = if action == Action::Faster {
                    (i + 1).min(SPEEDS.len() - 1)
                } else {
                    i.saturating_sub(1)
                };
                self.speed = SPEEDS[i];
                self.dirty = true;
            }
            Action::PlayheadBack | Action::PlayheadForward => {
                let t = self.playhead.unwrap_or(self.cursor);
                let minute = 60 * crate::model::time::MICROS_PER_SEC;
                let t = if action == Action::PlayheadBack {
                    t - minute
                } else {
                    t + minute
                };
                self.set_playhead(t);
            }
            Action::Explain => {
                self.explain_open = true;
                self.dirty = true;
            }
            Action::Findings => {
                self.findings_open = !self.findings_open;
                self.walk.open = false;
                self.choose_finding(self.finding);
            }
            Action::Checklist => {
                self.walk.open = !self.walk.open;
                self.findings_open = false;
                if self.pending.is_some() {
                    self.status = Some("the checklist is being worked out…".into());
                }
                self.dirty = true;
            }
            // Space outside the checklist pauses live mode.
            Action::Tick => self.toggle_pause(),
            // Other checklist keys do nothing while it is closed.
            Action::SkipStep
            | Action::NextCommand
            | Action::PrevCommand
            | Action::CopyCommand
            | Action::RunCommand
            | Action::PickRunbook => {}
            Action::Note => self.start_record_note(),
            Action::Palette | Action::Jump => {
                self.palette = Some(crate::ui::palette::Palette {
                    places: action == Action::Jump,
                    ..Default::default()
                });
                self.dirty = true;
            }
            Action::Glossary => {
                self.glossary_open = true;
                self.dirty = true;
            }
            // Outside a lesson, m and a keep evidence notes; M lists them.
            Action::Mark => self.toggle_record_mark(),
            Action::Notes => {
                self.notes_open = true;
                self.dirty = true;
            }
            Action::Lesson | Action::Hint => {}
            Action::Report => self.write_report(),
            Action::DetailDown | Action::DetailUp | Action::DetailTop => self.scroll_detail(action),
            Action::Sources => {
                self.sources_open = true;
                self.dirty = true;
            }
            Action::Help => {
                self.help = !self.help;
                self.dirty = true;
            }
            Action::Quit => self.quit = true,
        }
    }

    /// Keys while the findings list is open: move between findings, Enter goes to the
    /// chosen one's first evidence. Returns whether the key was used.
    fn finding_key(&mut self, action: Action) -> bool {
        let n = self.diagnosis.findings.len();
        match action {
            Action::Down => self.choose_finding((self.finding + 1).min(n.saturating_sub(1))),
            Action::Up => self.choose_finding(self.finding.saturating_sub(1)),
            Action::Pin => {
                self.findings_open = false;
                if let Some(t) = self.first_evidence_time() {
                    self.goto_time(t);
                }
                self.dirty = true;
            }
            _ => return false,
        }
        true
    }

    /// Choose finding `i` and mark its evidence in every pane.
    fn choose_finding(&mut self, i: usize) {
        self.finding = i;
        self.evidence = self
            .diagnosis
            .findings
            .get(i)
            .map(|f| {
                f.evidence
                    .iter()
                    .filter_map(|e| match e {
                        crate::analysis::rules::Evidence::Record { source, row } => {
                            Some((*source, *row))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.dirty = true;
    }

    /// Time of the chosen finding's earliest evidence record.
    fn first_evidence_time(&self) -> Option<Micros> {
        self.evidence
            .iter()
            .map(|(s, r)| self.incident.sources[*s].ts[*r])
            .filter(|t| *t != crate::model::time::UNTIMED)
            .min()
    }

    /// Start of the next (previous) burst: an error with no other error in the minute before.
    fn burst(&self, forward: bool) -> Option<Micros> {
        const QUIET: Micros = 60 * crate::model::time::MICROS_PER_SEC;
        let all = &self.lists[0].records;
        let sources = &self.incident.sources;
        let n = self.visible_len(0);
        let errors: Vec<Micros> = (0..n)
            .filter(|i| {
                let e = all.entries[*i];
                sources[e.source as usize].sev[e.row as usize] <= Severity::Error
            })
            .map(|i| all.time(i))
            .collect();
        let starts = errors
            .iter()
            .enumerate()
            .filter(|(k, t)| *k == 0 || **t - errors[k - 1] >= QUIET)
            .map(|(_, t)| *t);
        if forward {
            starts.into_iter().find(|t| *t > self.cursor)
        } else {
            starts.into_iter().rfind(|t| *t < self.cursor)
        }
    }

    /// Keep the detail pane's place: back to the top when another record is selected.
    pub fn refresh_detail(&mut self) {
        let key = self.selected_record();
        if self.detail.key != key {
            let total = key.map_or(0, |(s, r)| self.incident.sources[s].line_count(r));
            self.detail = DetailView {
                key,
                scroll: 0,
                total,
            };
        }
    }

    /// `d`, `D`, `b`: move the detail pane through the selected record by half a page.
    fn scroll_detail(&mut self, action: Action) {
        self.refresh_detail();
        let step = (self.page / 2).max(1);
        let last = self.detail.total.saturating_sub(1);
        self.detail.scroll = match action {
            Action::DetailDown => (self.detail.scroll + step).min(last),
            Action::DetailUp => self.detail.scroll.saturating_sub(step),
            _ => 0,
        };
        self.dirty = true;
    }

    /// The selected record's lines the detail pane may show from its place: never more than
    /// a screen holds (rows, and bytes per row), however long the record.
    pub fn detail_window(&self) -> Vec<std::borrow::Cow<'_, str>> {
        let Some((source, row)) = self.detail.key else {
            return Vec::new();
        };
        let rows = self.page + 8;
        let mut budget = rows * DETAIL_BYTES_PER_ROW;
        let mut lines =
            self.incident.sources[source].text_lines(row, self.detail.scroll, rows, budget);
        let mut keep = 0;
        for l in &lines {
            if budget == 0 {
                break;
            }
            budget = budget.saturating_sub(l.len().max(1));
            keep += 1;
        }
        lines.truncate(keep.max(1));
        lines
    }

    /// Colour the lines of the selected record on screen if its syntax is known, unless done.
    pub fn refresh_highlight(&mut self, depth: crate::ui::theme::Depth) {
        self.refresh_detail();
        let Some(key) = self.detail.key else {
            return;
        };
        let from = self.detail.scroll;
        if self
            .highlighted
            .as_ref()
            .is_some_and(|c| c.key == key && c.from == from)
        {
            return;
        }
        let s = &self.incident.sources[key.0];
        // The syntax is told from the record's head: a whole record only when small.
        let head = if s.raw(key.1).len() <= 256 * 1024 {
            s.text(key.1).into_owned()
        } else {
            s.text_lines(key.1, 0, 200, 4096).join("\n")
        };
        let window = self.detail_window();
        let lines = crate::ui::highlight::syntax_for(s.format, &head).and_then(|syntax| {
            crate::ui::highlight::highlight_lines(window.iter().map(|l| l.as_ref()), syntax, depth)
        });
        self.highlighted = Some(Coloured { key, from, lines });
    }

    /// A click at screen cell (`x`, `y`): focus the pane there and select the row clicked.
    pub fn click(&mut self, x: u16, y: u16) {
        let Some(hit) = self.hit_at(x, y) else {
            return;
        };
        self.focus = hit.pane;
        self.dirty = true;
        if y >= hit.first_row {
            let index = hit.first_index + usize::from(y - hit.first_row);
            if index < self.visible_len(hit.pane) {
                self.select(hit.pane, index);
            }
        }
    }

    /// The wheel over a pane moves its selection by `lines` (negative: up).
    pub fn scroll(&mut self, x: u16, y: u16, lines: isize) {
        let pane = self.hit_at(x, y).map_or(self.focus, |h| h.pane);
        let last = self.visible_len(pane).saturating_sub(1);
        let sel = self.lists[pane].selected;
        let to = sel.saturating_add_signed(lines).min(last);
        self.focus = pane;
        self.select(pane, to);
    }

    fn hit_at(&self, x: u16, y: u16) -> Option<crate::ui::panes::list::Hit> {
        self.hits.iter().copied().find(|h| {
            let a = h.area;
            x >= a.x && x < a.x + a.width && y >= a.y && y < a.y + a.height
        })
    }

    /// A key typed into the open search prompt.
    pub fn prompt_char(&mut self, c: char) {
        if let Some(p) = &mut self.prompt {
            p.push(c);
            self.dirty = true;
        }
    }

    pub fn prompt_backspace(&mut self) {
        if let Some(p) = &mut self.prompt {
            p.pop();
            self.dirty = true;
        }
    }

    pub fn prompt_cancel(&mut self) {
        self.prompt = None;
        self.prompt_kind = PromptKind::Search;
        self.dirty = true;
    }

    /// Close the prompt and search for what was typed (smart case: a pattern with no capital
    /// letter ignores case).
    pub fn prompt_submit(&mut self) {
        let Some(text) = self.prompt.take() else {
            return;
        };
        self.dirty = true;
        if self.prompt_kind != PromptKind::Search {
            let kind = std::mem::take(&mut self.prompt_kind);
            if text.is_empty() {
                return;
            }
            if crate::analysis::query::Query::looks_like_query(&text) {
                if let Err(e) = self.add_query_filter(text, kind == PromptKind::FilterIn) {
                    self.status = Some(format!("bad query: {e}"));
                }
                return;
            }
            match crate::ui::filter::compile(&text) {
                Ok(re) => {
                    self.filters.add(if kind == PromptKind::FilterIn {
                        crate::ui::filter::Rule::In(re)
                    } else {
                        crate::ui::filter::Rule::Out(re)
                    });
                    self.apply_filters();
                }
                Err(e) => self.status = Some(e),
            }
            return;
        }
        if text.is_empty() {
            self.search = None;
            self.status = None;
            return;
        }
        let smart = if text.chars().any(char::is_uppercase) {
            text.clone()
        } else {
            format!("(?i){text}")
        };
        match regex::Regex::new(&smart) {
            Ok(re) => {
                self.recent.retain(|r| *r != text);
                self.recent.push(text.clone());
                self.search = Some(re);
                self.find(true);
            }
            Err(e) => self.status = Some(format!("bad regex: {e}").replace('\n', " ")),
        }
    }

    /// Select the next (previous) record of the focused pane matching the search, wrapping.
    fn find(&mut self, forward: bool) {
        let Some(re) = &self.search else {
            self.status = Some("no search yet: press / to type one".into());
            self.dirty = true;
            return;
        };
        let f = self.focus;
        let n = self.visible_len(f);
        let p = &self.lists[f];
        let hit = (1..=n)
            .map(|k| {
                if forward {
                    (p.selected + k) % n
                } else {
                    (p.selected + n * 2 - k) % n
                }
            })
            .find(|i| {
                let e = p.records.entries[*i];
                re.is_match(&self.incident.sources[e.source as usize].text(e.row as usize))
            });
        match hit {
            Some(i) => {
                self.status = Some(format!("/{}", re.as_str().trim_start_matches("(?i)")));
                self.select(f, i);
            }
            None => {
                self.status = Some(format!(
                    "no match for /{}",
                    re.as_str().trim_start_matches("(?i)")
                ));
                self.dirty = true;
            }
        }
    }

    fn focus_to(&mut self, pane: usize) {
        self.focus = pane;
        self.dirty = true;
    }

    /// Count of records at error or worse.
    fn count_errors(&self) -> usize {
        let p = &self.lists[0];
        p.errors_in(0, p.records.len())
    }
}
