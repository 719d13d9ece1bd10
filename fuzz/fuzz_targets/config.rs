//! The settings file and theme files.
//!
//! Input: byte 0 picks what the rest (lossy UTF-8 for themes, raw bytes for the config) is:
//! 0 the config file, read from disk by `config::load_from` and its keys applied to a
//! keymap, and every key of it parsed as a key press; 1..=3 a theme file at one colour depth
//! (true colour, 256, 16); otherwise a single key press (`ctrl-q`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::ui::keymap::{KeyPress, Keymap};
use sitrep::ui::theme::{Depth, Theme};

fuzz_target!(|input: &[u8]| {
    let [sel, rest @ ..] = input else {
        return;
    };
    match sel % 5 {
        0 => {
            let mut f = tempfile::NamedTempFile::new().expect("tempfile");
            std::io::Write::write_all(&mut f, rest).expect("write config");
            if let Ok(cfg) = sitrep::config::load_from(f.path()) {
                let mut km = Keymap::default();
                km.patch(&cfg.keys)
                    .expect("keys load_from accepted must patch");
                for e in km.entries() {
                    let _ = e.label();
                }
                if let Some(t) = &cfg.theme {
                    let _ = Theme::named(t);
                }
            }
        }
        d @ 1..=3 => {
            let depth = [Depth::TrueColor, Depth::Indexed256, Depth::Basic16][d as usize - 1];
            let text = String::from_utf8_lossy(rest);
            if let Ok(theme) = Theme::parse_at(&text, false, depth) {
                let _ = (
                    theme.colours(),
                    theme.header(),
                    theme.selection(),
                    theme.muted(),
                );
            }
        }
        _ => {
            let _ = KeyPress::parse(&String::from_utf8_lossy(rest));
        }
    }
});
