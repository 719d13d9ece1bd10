//! Every lesson of `sitrep learn` lints against its bundle, is solved through the console's
//! own actions (mark the evidence, answer), and answers a wrong mark with its feedback.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use sitrep::learn::lesson::Kind;
use sitrep::learn::{Attempt, Scores, all, load};
use sitrep::model::Incident;
use sitrep::ui::action::Action;
use sitrep::ui::app::App;
use sitrep::ui::lesson::LessonView;

/// A record the objective accepts, as (source, row).
fn accepted(incident: &Incident, file: &str, contains: &str) -> (usize, usize) {
    for (i, s) in incident.sources.iter().enumerate() {
        if s.file == file
            && let Some(r) = (0..s.timed_len()).find(|r| s.text(*r).contains(contains))
        {
            return (i, r);
        }
    }
    panic!("no record of {file} contains {contains:?}");
}

/// A timed record no accept of the objective matches.
fn unrelated(incident: &Incident, accepts: &[(String, String)]) -> (usize, usize) {
    for (i, s) in incident.sources.iter().enumerate() {
        for r in 0..s.timed_len() {
            let t = s.text(r);
            if !accepts
                .iter()
                .any(|(f, c)| s.file == *f && t.contains(c.as_str()))
            {
                return (i, r);
            }
        }
    }
    panic!("every record is accepted");
}

fn start(id: &str, state: &std::path::Path) -> App {
    let lesson = all().unwrap().into_iter().find(|l| l.id == id).unwrap();
    let incident = load(&lesson).unwrap();
    let mut app = App::new(incident);
    app.lesson = Some(LessonView::new(
        Attempt::new(lesson),
        Some(state.to_path_buf()),
    ));
    app
}

#[test]
fn there_is_a_lesson_per_incident_and_each_lints_clean() {
    let lessons = all().unwrap();
    let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
    for want in [
        "i1-socket-mismatch",
        "i2-import-time-setting",
        "i3-daemon-reload",
        "i3-permission-denied",
        "i4-retry-storm",
        "i5-single-worker-upload",
        "i6-pipeline-platform",
        "healthy",
        "restart-loop",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    for l in &lessons {
        let incident = load(l).unwrap();
        let problems = sitrep::learn::lesson::lint(l, &incident);
        assert!(problems.is_empty(), "{}: {problems:?}", l.id);
        assert!(!l.hint.is_empty(), "{}: no hint", l.id);
    }
}

#[test]
fn every_lesson_is_solved_through_the_console_and_a_wrong_mark_is_answered() {
    for lesson in all().unwrap() {
        let state = tempfile::tempdir().unwrap();
        let mut app = start(&lesson.id, state.path());
        // The findings stay hidden until asked for.
        for (i, o) in lesson.objective.iter().enumerate() {
            // The panel is open at the first objective still open; move to this one.
            let view = app.lesson.as_mut().unwrap();
            view.open = true;
            while app.lesson.as_ref().unwrap().objective < i {
                app.update(Action::Down);
            }
            while app.lesson.as_ref().unwrap().objective > i {
                app.update(Action::Up);
            }
            match o.kind {
                Kind::Evidence => {
                    let accepts: Vec<(String, String)> = o
                        .accept
                        .iter()
                        .map(|a| (a.file.clone(), a.contains.clone()))
                        .collect();
                    // A wrong mark first: the objective's own feedback, and it stays open.
                    let wrong = unrelated(&app.incident, &accepts);
                    app.update(Action::Lesson);
                    assert!(app.select_record(wrong), "{}: cannot select", lesson.id);
                    app.update(Action::Mark);
                    app.update(Action::Lesson);
                    app.update(Action::Pin);
                    let fb = app.lesson.as_ref().unwrap().feedback.clone().unwrap();
                    assert!(!fb.right, "{}: a wrong mark was accepted", lesson.id);
                    assert_eq!(fb.text, o.wrong, "{}", lesson.id);
                    assert!(!app.lesson.as_ref().unwrap().attempt.passed[i]);
                    // Unmark it, mark the right one.
                    app.update(Action::Lesson);
                    app.update(Action::Mark);
                    let right = accepted(&app.incident, &o.accept[0].file, &o.accept[0].contains);
                    assert!(app.select_record(right), "{}: cannot select", lesson.id);
                    app.update(Action::Mark);
                    app.update(Action::Lesson);
                    app.update(Action::Pin);
                    let fb = app.lesson.as_ref().unwrap().feedback.clone().unwrap();
                    assert!(
                        fb.right,
                        "{}: the right mark was refused: {}",
                        lesson.id, fb.text
                    );
                    assert_eq!(fb.text, o.right);
                    // Later objectives start from no marks.
                    app.update(Action::Lesson);
                    app.update(Action::Mark);
                    app.update(Action::Lesson);
                }
                Kind::Question | Kind::Fix => {
                    let right = o.choice.iter().position(|c| c.right).unwrap();
                    let wrong = (right + 1) % o.choice.len();
                    app.update(Action::Focus(wrong as u8 + 1));
                    let fb = app.lesson.as_ref().unwrap().feedback.clone().unwrap();
                    assert!(!fb.right);
                    assert_eq!(fb.text, o.choice[wrong].why);
                    app.update(Action::Focus(right as u8 + 1));
                    let fb = app.lesson.as_ref().unwrap().feedback.clone().unwrap();
                    assert!(fb.right, "{}", lesson.id);
                }
            }
        }
        let view = app.lesson.as_ref().unwrap();
        assert!(view.debrief, "{}: no debrief at the end", lesson.id);
        let score = view.attempt.finished.unwrap();
        // One wrong try per objective, no hints: 100 less 5 each.
        assert_eq!(
            score,
            100 - 5 * lesson.objective.len() as u32,
            "{}",
            lesson.id
        );
        let saved = Scores::load(state.path());
        assert_eq!(saved.lessons[&lesson.id].best, score);
        // Any key closes the debrief.
        app.update(Action::Down);
        assert!(!app.lesson.as_ref().unwrap().debrief);
    }
}

#[test]
fn hints_and_findings_cost_points_and_the_findings_stay_hidden_until_asked() {
    let state = tempfile::tempdir().unwrap();
    let mut app = start("i1-socket-mismatch", state.path());
    let before = app.lesson.as_ref().unwrap().attempt.score();
    assert_eq!(before, 100);
    app.update(Action::Hint);
    let cost = app.lesson.as_ref().unwrap().attempt.lesson.hint[0].cost;
    assert_eq!(app.lesson.as_ref().unwrap().attempt.score(), 100 - cost);
    assert!(app.status.as_deref().unwrap().starts_with("hint"));
    // f asks first; the second f opens the findings.
    app.update(Action::Lesson);
    app.update(Action::Findings);
    assert!(!app.findings_open);
    assert_eq!(
        app.lesson.as_ref().unwrap().attempt.score(),
        100 - cost - sitrep::learn::REVEAL
    );
    app.update(Action::Findings);
    assert!(app.findings_open);
}

// --- the whole thing in a real terminal --------------------------------------------------

#[test]
fn a_lesson_is_played_in_tmux_from_the_menu_to_the_debrief() {
    let lesson = all().unwrap().into_iter().next().unwrap();
    let state = tempfile::tempdir().unwrap();
    let tmux = common::Tmux::new("learn");
    tmux.start(&format!(
        "XDG_STATE_HOME={} {} learn; echo SITREP-EXIT=$?; sleep 30",
        state.path().display(),
        env!("CARGO_BIN_EXE_sitrep")
    ));
    tmux.wait_for("choose an incident");
    // The first lesson is the first row.
    tmux.send(&["Enter"]);
    tmux.wait_for("Lesson (L)");
    for (i, o) in lesson.objective.iter().enumerate() {
        match o.kind {
            Kind::Evidence => {
                let pattern = regex::escape(&o.accept[0].contains);
                tmux.send(&["L", "/"]);
                tmux.send(&["-l", &pattern]);
                tmux.send(&["Enter", "m", "L", "Enter"]);
            }
            Kind::Question | Kind::Fix => {
                let right = o.choice.iter().position(|c| c.right).unwrap() + 1;
                tmux.send(&[&right.to_string()]);
            }
        }
        if i + 1 < lesson.objective.len() {
            // The panel shows one more objective ticked.
            let want = i + 1;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let screen = tmux.screen();
                if screen.matches(" ✓ ").count() >= want {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "objective {want} never ticked:\n{screen}"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    let debrief = tmux.wait_for("Debrief");
    assert!(debrief.contains("Solved:"), "{debrief}");
    tmux.quit();
    let scores = Scores::load(state.path().join("sitrep").as_path());
    assert!(scores.lessons.contains_key(&lesson.id), "{scores:?}");
}
