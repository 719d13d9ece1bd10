//! The keymap in force: the defaults of [`KEYMAP`], patched by the `[keys]` table of the config
//! file. Key handling, the footer and the help overlay all read this one map.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, KEYMAP};

/// One key press: a key and whether Ctrl is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl KeyPress {
    /// `q`, `G`, `?`, `ctrl-c`, `tab`, `backtab`, `enter`, `esc`, `up`, `down`, `left`,
    /// `right`, `pgup`, `pgdn`, `home`, `end`, `space`.
    pub fn parse(s: &str) -> Result<KeyPress, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest {
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            one if one.chars().count() == 1 => KeyCode::Char(one.chars().next().unwrap_or(' ')),
            _ => {
                return Err(format!(
                    "unknown key {s:?}; use a character, ctrl-X, tab, enter, esc, up, down, pgup, pgdn, home, end or space"
                ));
            }
        };
        Ok(KeyPress { code, ctrl })
    }

    fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        if self.ctrl { format!("^{base}") } else { base }
    }
}

/// An action with its keys and words.
#[derive(Debug, Clone)]
pub struct Entry {
    pub keys: Vec<KeyPress>,
    pub action: Action,
    pub help: &'static str,
    pub footer: bool,
}

impl Entry {
    /// The keys as the footer and help show them: `j/↓`.
    pub fn label(&self) -> String {
        self.keys
            .iter()
            .map(KeyPress::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Action names as the config file's `[keys]` table spells them.
pub const NAMES: &[(&str, Action)] = &[
    ("down", Action::Down),
    ("up", Action::Up),
    ("page_down", Action::PageDown),
    ("page_up", Action::PageUp),
    ("top", Action::Top),
    ("bottom", Action::Bottom),
    ("focus_next", Action::FocusNext),
    ("focus_prev", Action::FocusPrev),
    ("pin", Action::Pin),
    ("next_problem", Action::NextProblem),
    ("prev_problem", Action::PrevProblem),
    ("next_record", Action::NextRecord),
    ("prev_record", Action::PrevRecord),
    ("next_burst", Action::NextBurst),
    ("prev_burst", Action::PrevBurst),
    ("zoom", Action::Zoom),
    ("findings", Action::Findings),
    ("explain", Action::Explain),
    ("search", Action::Search),
    ("search_next", Action::SearchNext),
    ("search_prev", Action::SearchPrev),
    ("play", Action::Play),
    ("faster", Action::Faster),
    ("slower", Action::Slower),
    ("playhead_back", Action::PlayheadBack),
    ("playhead_forward", Action::PlayheadForward),
    ("checklist", Action::Checklist),
    ("tick", Action::Tick),
    ("skip_step", Action::SkipStep),
    ("next_command", Action::NextCommand),
    ("prev_command", Action::PrevCommand),
    ("copy_command", Action::CopyCommand),
    ("run_command", Action::RunCommand),
    ("note", Action::Note),
    ("pick_runbook", Action::PickRunbook),
    ("palette", Action::Palette),
    ("jump", Action::Jump),
    ("filter_in", Action::FilterIn),
    ("filter_out", Action::FilterOut),
    ("severity_floor", Action::SeverityFloor),
    ("since_cursor", Action::SinceCursor),
    ("until_cursor", Action::UntilCursor),
    ("remove_filter", Action::RemoveFilter),
    ("clear_filters", Action::ClearFilters),
    ("mark", Action::Mark),
    ("notes", Action::Notes),
    ("lesson", Action::Lesson),
    ("hint", Action::Hint),
    ("glossary", Action::Glossary),
    ("report", Action::Report),
    ("detail_down", Action::DetailDown),
    ("detail_up", Action::DetailUp),
    ("detail_top", Action::DetailTop),
    ("sources", Action::Sources),
    ("help", Action::Help),
    ("quit", Action::Quit),
];

#[derive(Debug, Clone)]
pub struct Keymap {
    entries: Vec<Entry>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let mut entries: Vec<Entry> = KEYMAP
            .iter()
            .map(|b| Entry {
                keys: b
                    .codes
                    .iter()
                    .map(|c| KeyPress {
                        code: *c,
                        ctrl: false,
                    })
                    .collect(),
                action: b.action,
                help: b.help,
                footer: b.footer,
            })
            .collect();
        // less's page keys.
        for e in &mut entries {
            let extra = match e.action {
                Action::PageDown => 'f',
                Action::PageUp => 'b',
                _ => continue,
            };
            e.keys.push(KeyPress {
                code: KeyCode::Char(extra),
                ctrl: true,
            });
        }
        Keymap { entries }
    }
}

impl Keymap {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Give the named actions new keys (`quit = ["q", "ctrl-q"]`). An unknown action or key
    /// is an error that names it.
    pub fn patch(&mut self, keys: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
        for (name, presses) in keys {
            let action = NAMES
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| *a)
                .ok_or_else(|| {
                    format!(
                        "[keys] {name}: no such action; actions are {}",
                        NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    )
                })?;
            let parsed = presses
                .iter()
                .map(|p| KeyPress::parse(p).map_err(|e| format!("[keys] {name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            // A key moved to this action leaves the action it had.
            for e in &mut self.entries {
                e.keys.retain(|k| !parsed.contains(k));
            }
            if let Some(e) = self.entries.iter_mut().find(|e| e.action == action) {
                e.keys = parsed;
            }
        }
        Ok(())
    }

    /// The action of a key press, if it has one. Ctrl-C always quits; digits focus panes.
    pub fn action_for(&self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => return Some(Action::Quit),
            KeyCode::Char('p') if ctrl => return Some(Action::Jump),
            KeyCode::Char(d @ '1'..='9') if key.modifiers.contains(KeyModifiers::ALT) => {
                return Some(Action::ToggleFilter(d as u8 - b'0'));
            }
            KeyCode::Char(d @ '1'..='9') if !ctrl => return Some(Action::Focus(d as u8 - b'0')),
            _ => {}
        }
        let press = KeyPress {
            code: key.code,
            ctrl,
        };
        self.entries
            .iter()
            .find(|e| e.keys.contains(&press))
            .map(|e| e.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_cover_every_named_action() {
        let k = Keymap::default();
        for (name, a) in NAMES {
            assert!(
                k.entries()
                    .iter()
                    .any(|e| e.action == *a && !e.keys.is_empty()),
                "{name}"
            );
        }
        assert_eq!(k.action_for(key(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(
            k.action_for(key(KeyCode::Char('4'))),
            Some(Action::Focus(4))
        );
    }

    #[test]
    fn a_patch_moves_keys_and_names_what_is_wrong() {
        let mut k = Keymap::default();
        let mut keys = BTreeMap::new();
        keys.insert(
            "quit".to_string(),
            vec!["x".to_string(), "ctrl-q".to_string()],
        );
        keys.insert("zoom".to_string(), vec!["q".to_string()]);
        k.patch(&keys).unwrap();
        assert_eq!(k.action_for(key(KeyCode::Char('x'))), Some(Action::Quit));
        assert_eq!(k.action_for(key(KeyCode::Char('q'))), Some(Action::Zoom));
        let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(k.action_for(ctrl_q), Some(Action::Quit));
        let mut bad = BTreeMap::new();
        bad.insert("explode".to_string(), vec!["x".to_string()]);
        assert!(
            k.patch(&bad)
                .unwrap_err()
                .contains("[keys] explode: no such action")
        );
        let mut bad = BTreeMap::new();
        bad.insert("quit".to_string(), vec!["hyper-x".to_string()]);
        assert!(
            k.patch(&bad)
                .unwrap_err()
                .contains("unknown key \"hyper-x\"")
        );
    }
}
