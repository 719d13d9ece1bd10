//! Everything a key can do, and the default keymap: the one list the key handling, the footer
//! hints and the help overlay are all generated from (see [`super::keymap`] for the map in
//! force, with the config file's changes).

use crossterm::event::KeyCode;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FocusNext,
    FocusPrev,
    /// Focus pane N (1-based, as numbered on screen).
    Focus(u8),
    /// Align every pane to the selected record's time and keep it there.
    Pin,
    NextProblem,
    PrevProblem,
    NextRecord,
    PrevRecord,
    /// The start of the next (previous) burst of errors: errors after a quiet minute.
    NextBurst,
    PrevBurst,
    Zoom,
    /// Explain the selected line: what the message means, its causes, the next checks.
    Explain,
    /// Open or close the findings: j/k choose one, Enter goes to its evidence.
    Findings,
    /// Type a regex to search the focused pane.
    Search,
    SearchNext,
    SearchPrev,
    /// Start or pause the replay playhead.
    Play,
    Faster,
    Slower,
    /// Move the playhead back or forward a minute.
    PlayheadBack,
    PlayheadForward,
    /// Open or close the guided checklist: j/k choose a step, Enter goes to its evidence.
    Checklist,
    /// Checklist: tick the step as done by hand (again: untick).
    Tick,
    /// Checklist: skip the step by hand (again: unskip).
    SkipStep,
    /// Checklist: choose the step's next (previous) command.
    NextCommand,
    PrevCommand,
    /// Checklist: copy the chosen command to the clipboard (OSC 52; works over ssh).
    CopyCommand,
    /// Checklist: run the chosen command (live mode only, after a confirmation).
    RunCommand,
    /// Checklist: write a note on the step.
    Note,
    /// Checklist: choose another runbook (fuzzy).
    PickRunbook,
    /// The command palette: actions, panes, units, files, findings, runbooks, searches.
    Palette,
    /// The palette on places only: units, files, findings (Ctrl-P).
    Jump,
    /// Keep only lines matching a regex (typed), in every pane.
    FilterIn,
    /// Drop lines matching a regex (typed), in every pane.
    FilterOut,
    /// Severity floor: none, warn and worse, error and worse.
    SeverityFloor,
    /// Time window: from the cursor on, or up to the cursor.
    SinceCursor,
    UntilCursor,
    /// Remove the last filter; remove them all; switch filter N off or on.
    RemoveFilter,
    ClearFilters,
    ToggleFilter(u8),
    /// Learn mode: mark the selected record as evidence (again: unmark).
    Mark,
    /// The evidence notes, in time order.
    Notes,
    /// Learn mode: open or close the lesson panel.
    Lesson,
    /// Learn mode: the next hint (it costs points).
    Hint,
    /// The glossary (`g` in learn mode, and from the explanation).
    Glossary,
    /// Write the incident report (Markdown) to the current directory.
    Report,
    /// The detail pane: half a page on, half a page back, back to the record's first line.
    DetailDown,
    DetailUp,
    DetailTop,
    /// The sources: what was read or followed, in which format and zone, and what could
    /// not be found or read.
    Sources,
    Help,
    Quit,
}

/// One default binding: the keys, the action, and the words the footer and help show.
pub struct Binding {
    pub codes: &'static [KeyCode],
    pub action: Action,
    pub help: &'static str,
    /// Shown in the one-line footer (the rest only in `?` help).
    pub footer: bool,
}

/// The keymap. Digits 1-9 focus panes and are handled with the list.
pub const KEYMAP: &[Binding] = &[
    Binding {
        codes: &[KeyCode::Char('j'), KeyCode::Down],
        action: Action::Down,
        help: "next line",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('k'), KeyCode::Up],
        action: Action::Up,
        help: "previous line",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::PageDown],
        action: Action::PageDown,
        help: "page down",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::PageUp],
        action: Action::PageUp,
        help: "page up",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('g'), KeyCode::Home],
        action: Action::Top,
        help: "first record",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('G'), KeyCode::End],
        action: Action::Bottom,
        help: "last record",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Tab],
        action: Action::FocusNext,
        help: "next pane",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::BackTab],
        action: Action::FocusPrev,
        help: "previous pane",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Enter],
        action: Action::Pin,
        help: "align every pane to this record",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('e')],
        action: Action::NextProblem,
        help: "next error or warning, any source",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('E')],
        action: Action::PrevProblem,
        help: "previous error or warning",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char(']')],
        action: Action::NextRecord,
        help: "next record, any source",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('[')],
        action: Action::PrevRecord,
        help: "previous record, any source",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('}')],
        action: Action::NextBurst,
        help: "next burst of errors",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('{')],
        action: Action::PrevBurst,
        help: "previous burst of errors",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('z')],
        action: Action::Zoom,
        help: "zoom the pane",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('x')],
        action: Action::Explain,
        help: "explain this line",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('f')],
        action: Action::Findings,
        help: "findings: what is wrong (Enter: go to evidence)",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('/')],
        action: Action::Search,
        help: "search the pane (regex; smart case)",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('n')],
        action: Action::SearchNext,
        help: "next match",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('N')],
        action: Action::SearchPrev,
        help: "previous match",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('p')],
        action: Action::Play,
        help: "replay: play/pause",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('+')],
        action: Action::Faster,
        help: "replay faster (to 600x)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('-')],
        action: Action::Slower,
        help: "replay slower (to 1x)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('<')],
        action: Action::PlayheadBack,
        help: "playhead back a minute",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('>')],
        action: Action::PlayheadForward,
        help: "playhead forward a minute",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('w')],
        action: Action::Checklist,
        help: "checklist: walk a runbook step by step",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char(' ')],
        action: Action::Tick,
        help: "checklist: tick the step done (again: untick); live: pause/go on",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('s')],
        action: Action::SkipStep,
        help: "checklist: skip the step (again: unskip)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('l'), KeyCode::Right],
        action: Action::NextCommand,
        help: "checklist: next command of the step",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('h'), KeyCode::Left],
        action: Action::PrevCommand,
        help: "checklist: previous command of the step",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('c')],
        action: Action::CopyCommand,
        help: "checklist: copy the command (OSC 52, works over ssh)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('r')],
        action: Action::RunCommand,
        help: "checklist: run the command (live mode only, asks first)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('a')],
        action: Action::Note,
        help: "a note: on the checklist step, or on the selected record",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('o')],
        action: Action::PickRunbook,
        help: "checklist: open another runbook",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char(':')],
        action: Action::Palette,
        help: "command palette (fuzzy): actions, panes, units, files, findings, runbooks",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('J')],
        action: Action::Jump,
        help: "jump to a unit, file or finding (also Ctrl-P)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('F')],
        action: Action::FilterIn,
        help: "filter: keep lines matching a regex (every pane)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('!')],
        action: Action::FilterOut,
        help: "filter: drop lines matching a regex",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('v')],
        action: Action::SeverityFloor,
        help: "filter: severity floor (warn+, error+, off)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('(')],
        action: Action::SinceCursor,
        help: "filter: from the cursor on",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char(')')],
        action: Action::UntilCursor,
        help: "filter: up to the cursor",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('u')],
        action: Action::RemoveFilter,
        help: "filter: remove the last (Alt-N switches filter N off/on)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('U')],
        action: Action::ClearFilters,
        help: "filter: remove them all",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('m')],
        action: Action::Mark,
        help: "mark the record as evidence (a: note on it; in a lesson: to submit)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('M')],
        action: Action::Notes,
        help: "the evidence notes, in time order",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('L')],
        action: Action::Lesson,
        help: "lesson: the brief, objectives and answers",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('H')],
        action: Action::Hint,
        help: "lesson: the next hint (costs points)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('K')],
        action: Action::Glossary,
        help: "glossary (also g in a lesson or from an explanation)",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('d')],
        action: Action::DetailDown,
        help: "detail: scroll the record down",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('D')],
        action: Action::DetailUp,
        help: "detail: scroll the record up",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('b')],
        action: Action::DetailTop,
        help: "detail: back to the record's first line",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('R')],
        action: Action::Report,
        help: "write the incident report (Markdown) here",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('S')],
        action: Action::Sources,
        help: "sources: what is read, and what could not be",
        footer: false,
    },
    Binding {
        codes: &[KeyCode::Char('?')],
        action: Action::Help,
        help: "help",
        footer: true,
    },
    Binding {
        codes: &[KeyCode::Char('q')],
        action: Action::Quit,
        help: "quit",
        footer: true,
    },
];
