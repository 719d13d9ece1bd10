//! `sitrep screenshots DIR`: the README's pictures, drawn by the real renderer from the demo
//! bundle (and the I-2 bundle of the repository for a traceback), written as SVG.

use std::io::Write;
use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::action::Action;
use super::app::{App, ListKind};
use super::theme::Theme;
use crate::ingest::{LoadOptions, demo, load, load_files};
use crate::model::time::parse_instant;

/// Draw `app` at `w`x`h` into `dir/name.svg`.
fn shot(
    dir: &Path,
    name: &str,
    app: &mut App,
    (w, h): (u16, u16),
    theme: &Theme,
    out: &mut impl Write,
) -> std::io::Result<()> {
    // The test backend cannot fail: its error type has no values.
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| match e {});
    term.draw(|f| super::draw(f, app, theme))
        .unwrap_or_else(|e| match e {});
    let path = dir.join(format!("{name}.svg"));
    std::fs::write(&path, super::svg::render(term.backend().buffer()))
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    writeln!(out, "wrote {}", path.display())
}

fn at(app: &mut App, t: &str) {
    if let Some(t) = parse_instant(t) {
        app.goto_time(t);
    }
}

pub fn write(dir: &Path, out: &mut impl Write) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    // Pictures are drawn for a truecolor terminal whatever this one is.
    let theme = Theme::parse_at(super::theme::DEFAULT, false, super::theme::Depth::TrueColor)
        .map_err(std::io::Error::other)?;
    let demo = || {
        let mut app = App::new(load_files(demo::bundle(), &LoadOptions::default()));
        at(&mut app, "2023-04-13T11:24:04Z");
        app
    };
    let shots: [(&str, (u16, u16), &[Action]); 6] = [
        ("grid-200x50", (200, 50), &[]),
        ("compact-80x24", (80, 24), &[]),
        ("checklist-200x50", (200, 50), &[Action::Checklist]),
        ("checklist-80x24", (80, 24), &[Action::Checklist]),
        (
            "error-pane-zoomed-120x40",
            (120, 40),
            &[Action::Focus(3), Action::Zoom],
        ),
        ("help-100x30", (100, 30), &[Action::Help]),
    ];
    for (name, size, actions) in shots {
        let mut app = demo();
        for a in actions {
            app.update(*a);
        }
        shot(dir, name, &mut app, size, &theme, out)?;
    }
    // A lesson in progress: the first evidence marked and submitted, the cause still open.
    if let Ok(lesson) = crate::learn::find("i1-socket-mismatch")
        && let Ok(inc) = crate::learn::load(&lesson)
    {
        let accept = lesson
            .objective
            .first()
            .and_then(|o| o.accept.first())
            .cloned();
        let mut app = App::new(inc);
        app.lesson = Some(super::lesson::LessonView::new(
            crate::learn::Attempt::new(lesson),
            None,
        ));
        if let Some(a) = accept {
            let rec = app.incident.sources.iter().enumerate().find_map(|(i, s)| {
                (s.file == a.file)
                    .then(|| (0..s.timed_len()).find(|r| s.text(*r).contains(&a.contains)))
                    .flatten()
                    .map(|r| (i, r))
            });
            if let Some(rec) = rec {
                app.update(Action::Lesson);
                app.select_record(rec);
                app.update(Action::Mark);
                app.update(Action::Lesson);
                app.update(Action::Pin);
            }
        }
        shot(dir, "lesson-160x48", &mut app, (160, 48), &theme, out)?;
    }
    // The traceback of I-2 (the setting read at import time), from the repository's bundle.
    let i2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles/i2-import-time-setting");
    if let Ok(inc) = load(std::slice::from_ref(&i2), &LoadOptions::default()) {
        let mut app = App::new(inc);
        at(&mut app, "2023-05-02T08:19:22.561208Z");
        if let Some(j) = app.lists.iter().position(|p| p.kind == ListKind::Journal) {
            app.update(Action::Focus(j as u8 + 1));
        }
        shot(
            dir,
            "traceback-detail-160x48",
            &mut app,
            (160, 48),
            &theme,
            out,
        )?;
    }
    // Three hosts on one timeline (the proxy's nginx and two app servers, one of them 2.3 s
    // ahead), from the repository's test set.
    let hosts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts");
    let paths: Vec<_> = ["proxy1", "app1", "app2"]
        .iter()
        .map(|h| hosts.join(h))
        .collect();
    if let Ok(inc) = load(&paths, &LoadOptions::default()) {
        let mut app = App::new(inc);
        app.update(Action::Down);
        shot(dir, "hosts-200x50", &mut app, (200, 50), &theme, out)?;
    }
    Ok(())
}
