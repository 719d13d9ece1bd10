//! Emoji of several code points (joined by zero-width joiners, flags, skin tones) take two
//! cells on screen, as ratatui and terminals lay them out; sitrep measures them so too where
//! it cuts and pads columns, so columns after such a name stay aligned, in the console (a
//! real terminal, tmux) and in `sitrep sources`.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use unicode_width::UnicodeWidthStr;

/// A woman technologist (three code points joined), a flag, a thumb with a skin tone.
const EMOJI: &str = "\u{1f469}\u{200d}\u{1f4bb}\u{1f1eb}\u{1f1f7}\u{1f44d}\u{1f3fd}";

fn bundle(root: &Path, dir: &str, host: &str, second: u32) {
    let d = root.join(dir);
    std::fs::create_dir_all(d.join("app")).unwrap();
    std::fs::write(
        d.join("manifest.toml"),
        format!("host = \"{host}\"\ncaptured_at = \"2023-04-13T11:55:00Z\"\ntz = \"+00:00\"\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("app").join(format!("{host}.log")),
        format!(
            "2023-04-13 11:20:0{second},000 ERROR app: {EMOJI} deploy by {EMOJI}{EMOJI} failed\n"
        ),
    )
    .unwrap();
}

/// The display column where `needle` starts in `line`, as a terminal lays the line out.
fn column(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|at| line[..at].width())
}

#[test]
fn emoji_in_host_names_keep_the_timeline_columns_aligned() {
    let tmp = tempfile::tempdir().unwrap();
    // Two hosts: one named with the emoji, one with as many plain characters as it has
    // code points, so counting characters pads them differently.
    let fancy = format!("w{EMOJI}");
    let plain = "w".repeat(fancy.chars().count());
    bundle(tmp.path(), "a", &fancy, 1);
    bundle(tmp.path(), "b", &plain, 2);
    let tmux = common::Tmux::new("wide-glyphs");
    tmux.start_at(
        200,
        50,
        &format!(
            "{} replay {} {}; echo SITREP-EXIT=$?; sleep 30",
            env!("CARGO_BIN_EXE_sitrep"),
            tmp.path().join("a").display(),
            tmp.path().join("b").display()
        ),
    );
    let screen = tmux.wait_for("deploy by");
    let rows: Vec<&str> = screen
        .lines()
        // The timeline's rows (the detail below may show the text too).
        .filter(|l| l.contains(" journal ") && l.contains("deploy by"))
        .collect();
    assert_eq!(rows.len(), 2, "{screen}");
    // The source tag after the host column, and the text, start at one column in every row.
    let tags: Vec<_> = rows.iter().map(|r| column(r, " journal ")).collect();
    let texts: Vec<_> = rows.iter().map(|r| column(r, "2023-04-13 11:20")).collect();
    assert!(
        tags.iter().all(|t| t.is_some() && *t == tags[0]),
        "{tags:?}\n{screen}"
    );
    assert!(texts.iter().all(|t| *t == texts[0]), "{texts:?}\n{screen}");
    // Every line of the frame is as wide as the terminal: no glyph pushed a border out.
    for line in screen.lines().take(45) {
        if line.contains('│') {
            assert!(line.width() <= 200, "{} cells: {line}", line.width());
        }
    }
    tmux.quit();
}

#[test]
fn emoji_in_file_names_keep_the_sources_table_aligned() {
    let tmp = tempfile::tempdir().unwrap();
    let fancy = format!("w{EMOJI}");
    let plain = "w".repeat(fancy.chars().count());
    bundle(tmp.path(), "a", &fancy, 1);
    bundle(tmp.path(), "b", &plain, 2);
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("sources")
        .arg(tmp.path().join("a/app").join(format!("{fancy}.log")))
        .arg(tmp.path().join("b/app").join(format!("{plain}.log")))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let cols: Vec<_> = text
        .lines()
        .filter(|l| l.contains(".log"))
        .map(|l| column(l, "journal-short-iso"))
        .collect();
    assert_eq!(cols.len(), 2, "{text}");
    assert!(cols[0].is_some() && cols[0] == cols[1], "{cols:?}\n{text}");
}
