//! Everything a key can do, and the keymap: the one list the key handling, the footer hints
//! and the help overlay are all generated from.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
    Help,
    Quit,
}

/// One binding: the keys, the action, and the words the footer and help show.
pub struct Binding {
    pub keys: &'static str,
    pub codes: &'static [KeyCode],
    pub action: Action,
    pub help: &'static str,
    /// Shown in the one-line footer (the rest only in `?` help).
    pub footer: bool,
}

/// The keymap. Digits 1-9 focus panes and are handled with the list.
pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: "j/↓",
        codes: &[KeyCode::Char('j'), KeyCode::Down],
        action: Action::Down,
        help: "next line",
        footer: false,
    },
    Binding {
        keys: "k/↑",
        codes: &[KeyCode::Char('k'), KeyCode::Up],
        action: Action::Up,
        help: "previous line",
        footer: false,
    },
    Binding {
        keys: "PgDn/^f",
        codes: &[KeyCode::PageDown],
        action: Action::PageDown,
        help: "page down",
        footer: false,
    },
    Binding {
        keys: "PgUp/^b",
        codes: &[KeyCode::PageUp],
        action: Action::PageUp,
        help: "page up",
        footer: false,
    },
    Binding {
        keys: "g/Home",
        codes: &[KeyCode::Char('g'), KeyCode::Home],
        action: Action::Top,
        help: "first record",
        footer: false,
    },
    Binding {
        keys: "G/End",
        codes: &[KeyCode::Char('G'), KeyCode::End],
        action: Action::Bottom,
        help: "last record",
        footer: false,
    },
    Binding {
        keys: "Tab",
        codes: &[KeyCode::Tab],
        action: Action::FocusNext,
        help: "next pane",
        footer: true,
    },
    Binding {
        keys: "S-Tab",
        codes: &[KeyCode::BackTab],
        action: Action::FocusPrev,
        help: "previous pane",
        footer: false,
    },
    Binding {
        keys: "Enter",
        codes: &[KeyCode::Enter],
        action: Action::Pin,
        help: "align every pane to this record",
        footer: true,
    },
    Binding {
        keys: "e",
        codes: &[KeyCode::Char('e')],
        action: Action::NextProblem,
        help: "next error or warning, any source",
        footer: true,
    },
    Binding {
        keys: "E",
        codes: &[KeyCode::Char('E')],
        action: Action::PrevProblem,
        help: "previous error or warning",
        footer: false,
    },
    Binding {
        keys: "]",
        codes: &[KeyCode::Char(']')],
        action: Action::NextRecord,
        help: "next record, any source",
        footer: false,
    },
    Binding {
        keys: "[",
        codes: &[KeyCode::Char('[')],
        action: Action::PrevRecord,
        help: "previous record, any source",
        footer: false,
    },
    Binding {
        keys: "}",
        codes: &[KeyCode::Char('}')],
        action: Action::NextBurst,
        help: "next burst of errors",
        footer: false,
    },
    Binding {
        keys: "{",
        codes: &[KeyCode::Char('{')],
        action: Action::PrevBurst,
        help: "previous burst of errors",
        footer: false,
    },
    Binding {
        keys: "z",
        codes: &[KeyCode::Char('z')],
        action: Action::Zoom,
        help: "zoom the pane",
        footer: true,
    },
    Binding {
        keys: "/",
        codes: &[KeyCode::Char('/')],
        action: Action::Search,
        help: "search the pane (regex; smart case)",
        footer: true,
    },
    Binding {
        keys: "n",
        codes: &[KeyCode::Char('n')],
        action: Action::SearchNext,
        help: "next match",
        footer: false,
    },
    Binding {
        keys: "N",
        codes: &[KeyCode::Char('N')],
        action: Action::SearchPrev,
        help: "previous match",
        footer: false,
    },
    Binding {
        keys: "p",
        codes: &[KeyCode::Char('p')],
        action: Action::Play,
        help: "replay: play/pause",
        footer: true,
    },
    Binding {
        keys: "+",
        codes: &[KeyCode::Char('+')],
        action: Action::Faster,
        help: "replay faster (to 600x)",
        footer: false,
    },
    Binding {
        keys: "-",
        codes: &[KeyCode::Char('-')],
        action: Action::Slower,
        help: "replay slower (to 1x)",
        footer: false,
    },
    Binding {
        keys: "<",
        codes: &[KeyCode::Char('<')],
        action: Action::PlayheadBack,
        help: "playhead back a minute",
        footer: false,
    },
    Binding {
        keys: ">",
        codes: &[KeyCode::Char('>')],
        action: Action::PlayheadForward,
        help: "playhead forward a minute",
        footer: false,
    },
    Binding {
        keys: "?",
        codes: &[KeyCode::Char('?')],
        action: Action::Help,
        help: "help",
        footer: true,
    },
    Binding {
        keys: "q",
        codes: &[KeyCode::Char('q')],
        action: Action::Quit,
        help: "quit",
        footer: true,
    },
];

/// The action of a key press, if it has one.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => return Some(Action::Quit),
        KeyCode::Char('f') if ctrl => return Some(Action::PageDown),
        KeyCode::Char('b') if ctrl => return Some(Action::PageUp),
        KeyCode::Char(d @ '1'..='9') => return Some(Action::Focus(d as u8 - b'0')),
        KeyCode::Esc => return None,
        _ => {}
    }
    if ctrl {
        return None;
    }
    KEYMAP
        .iter()
        .find(|b| b.codes.contains(&key.code))
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_actions_and_every_action_has_a_key() {
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(action_for(k(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(action_for(k(KeyCode::Char('3'))), Some(Action::Focus(3)));
        assert_eq!(
            action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action_for(k(KeyCode::Char('x'))), None);
        for b in KEYMAP {
            assert_eq!(action_for(k(b.codes[0])), Some(b.action), "{}", b.keys);
        }
        // Every action but pane focus (digits) has a binding in the keymap.
        let all = [
            Action::Up,
            Action::Down,
            Action::PageUp,
            Action::PageDown,
            Action::Top,
            Action::Bottom,
            Action::FocusNext,
            Action::FocusPrev,
            Action::Pin,
            Action::NextProblem,
            Action::PrevProblem,
            Action::NextRecord,
            Action::PrevRecord,
            Action::Zoom,
            Action::Play,
            Action::Faster,
            Action::Slower,
            Action::PlayheadBack,
            Action::PlayheadForward,
            Action::Help,
            Action::Quit,
        ];
        for a in all {
            assert!(KEYMAP.iter().any(|b| b.action == a), "{a:?} has no key");
        }
    }
}
