//! The console drawn to a test backend from the embedded demo bundle (I-1), and driven through
//! its update function: frames at 80x24 and 160x48 with the cursor at fixed times, and what
//! each pane selects when the cursor moves.

#![allow(clippy::unwrap_used, clippy::panic)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sitrep::ingest::{LoadOptions, demo, load_files};
use sitrep::model::format_id::FormatId;
use sitrep::model::time::{format_utc, parse_instant};
use sitrep::ui::action::Action;
use sitrep::ui::app::{App, ListKind};
use sitrep::ui::theme::Theme;

fn app() -> App {
    App::new(load_files(demo::bundle(), &LoadOptions::default()))
}

fn frame(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| sitrep::ui::draw(f, app, &Theme::plain()))
        .unwrap();
    format!("{}", t.backend())
}

/// Options that keep checklist progress and notes in `state`.
fn saved_in(state: &std::path::Path) -> sitrep::ui::app::Options {
    sitrep::ui::app::Options {
        runbooks: None,
        state: Some(state.to_path_buf()),
        progress_key: None,
    }
}

fn at(app: &mut App, t: &str) {
    app.goto_time(parse_instant(t).unwrap());
}

fn pane(app: &App, kind: ListKind) -> usize {
    app.lists.iter().position(|p| p.kind == kind).unwrap()
}

#[test]
fn frames_at_both_sizes_with_the_cursor_on_the_first_502() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:24:04Z");
    insta::assert_snapshot!("demo-80x24-first-502", frame(&mut a, 80, 24));
    insta::assert_snapshot!("demo-160x48-first-502", frame(&mut a, 160, 48));
    a.update(Action::Focus(3));
    a.update(Action::Zoom);
    insta::assert_snapshot!("demo-120x40-error-zoomed", frame(&mut a, 120, 40));
}

#[test]
fn frames_before_the_incident_and_with_help() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:00:00Z");
    insta::assert_snapshot!("demo-160x48-before", frame(&mut a, 160, 48));
    a.update(Action::Help);
    insta::assert_snapshot!("demo-80x24-help", frame(&mut a, 80, 24));
}

#[test]
fn a_tiny_terminal_gets_a_clear_message() {
    let mut a = app();
    let f = frame(&mut a, 50, 10);
    assert!(f.contains("sitrep needs at least 60x15"), "{f}");
}

#[test]
fn selecting_anywhere_aligns_every_pane() {
    let mut a = app();
    // Focus the error pane and walk to its first refused connection.
    let err = pane(&a, ListKind::Error);
    a.update(Action::Focus(err as u8 + 1));
    a.update(Action::Top);
    while !a.incident.sources[a.selected_record().unwrap().0]
        .text(a.selected_record().unwrap().1)
        .contains("Connection refused")
    {
        a.update(Action::Down);
    }
    assert_eq!(format_utc(a.cursor), "2023-04-13T11:24:04.000000Z");
    // The access pane now sits on the 502 of the same second.
    let acc = &a.lists[pane(&a, ListKind::Access)];
    let e = acc.records.entries[acc.selected];
    let s = &a.incident.sources[e.source as usize];
    assert_eq!(s.format, FormatId::NginxAccess);
    assert!(
        s.text(e.row as usize).contains("\" 502 "),
        "{}",
        s.text(e.row as usize)
    );
    assert_eq!(acc.records.time(acc.selected), a.cursor);
}

#[test]
fn problem_keys_walk_errors_across_sources() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:24:00Z");
    a.update(Action::NextProblem);
    assert_eq!(format_utc(a.cursor), "2023-04-13T11:24:04.000000Z");
    a.update(Action::PrevProblem);
    assert!(a.cursor < parse_instant("2023-04-13T11:24:04Z").unwrap());
    let before = a.cursor;
    a.update(Action::NextRecord);
    assert!(a.cursor > before);
    a.update(Action::Quit);
    assert!(a.quit);
}

#[test]
fn the_playhead_hides_the_future_and_moves_with_a_virtual_clock() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:20:00Z");
    a.update(Action::Play);
    assert!(a.playing);
    let t0 = a.playhead.unwrap();
    let all = a.lists[0].records.len();
    let shown = a.visible_len(0);
    assert!(shown < all, "records after the playhead are hidden");
    assert!(a.lists[0].records.time(shown - 1) <= t0);
    // 10 s of real time at 60x is ten minutes of incident.
    a.tick(std::time::Duration::from_secs(10));
    assert_eq!(a.playhead.unwrap() - t0, 600_000_000);
    assert!(a.visible_len(0) > shown);
    assert_eq!(
        a.focused().selected,
        a.visible_len(a.focus) - 1,
        "the pane follows the newest record"
    );
    a.update(Action::Faster);
    assert_eq!(a.speed, 120);
    a.update(Action::PlayheadBack);
    assert_eq!(a.playhead.unwrap() - t0, 540_000_000);
    // Run to the end: playing stops by itself and everything is shown.
    for _ in 0..100 {
        a.tick(std::time::Duration::from_secs(60));
    }
    assert!(!a.playing);
    assert_eq!(a.visible_len(0), all);
    let f = frame(&mut a, 80, 24);
    assert!(f.contains("replay ⏸"), "{f}");
}

#[test]
fn search_finds_matches_in_the_focused_pane_with_smart_case() {
    let mut a = app();
    a.update(Action::Focus(1));
    a.update(Action::Top);
    a.update(Action::Search);
    for c in "connection refused".chars() {
        a.prompt_char(c);
    }
    a.prompt_submit();
    let text = |a: &App| {
        let (s, r) = a.selected_record().unwrap();
        a.incident.sources[s].text(r).into_owned()
    };
    assert!(
        text(&a).contains("Connection refused"),
        "smart case ignores case: {}",
        text(&a)
    );
    let first = a.cursor;
    a.update(Action::SearchNext);
    assert!(a.cursor > first);
    a.update(Action::SearchPrev);
    assert_eq!(a.cursor, first);
    // A capital letter makes the search exact; a bad regex is said, not a crash.
    a.update(Action::Search);
    for c in "CONNECTION".chars() {
        a.prompt_char(c);
    }
    a.prompt_submit();
    assert!(
        a.status
            .as_deref()
            .unwrap_or_default()
            .starts_with("no match"),
        "{:?}",
        a.status
    );
    a.update(Action::Search);
    a.prompt_char('(');
    a.prompt_submit();
    assert!(
        a.status
            .as_deref()
            .unwrap_or_default()
            .starts_with("bad regex"),
        "{:?}",
        a.status
    );
    let f = frame(&mut a, 80, 24);
    assert!(f.contains("bad regex"), "{f}");
}

#[test]
fn the_units_pane_shows_each_unit_as_it_was_at_the_cursor() {
    let b = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles/i2-import-time-setting");
    let mut a = App::new(sitrep::ingest::load(&[b], &LoadOptions::default()).unwrap());
    at(&mut a, "2023-05-02T08:19:00Z");
    let before = frame(&mut a, 160, 48);
    // The unit's line in the units pane (the leftmost column), with the state line below it
    // when the pane is too narrow for both.
    let gunicorn_line = |f: &str| {
        let rows: Vec<String> = f.lines().map(|l| l.chars().take(36).collect()).collect();
        let i = rows
            .iter()
            .position(|l| l.contains("gunicorn.service"))
            .unwrap_or_else(|| panic!("no gunicorn.service in the units pane:\n{f}"));
        format!(
            "{} {}",
            rows[i],
            rows.get(i + 1).cloned().unwrap_or_default()
        )
    };
    assert!(
        gunicorn_line(&before).contains("active/running"),
        "{before}"
    );
    insta::assert_snapshot!("i2-160x48-before-the-crash", before);
    at(&mut a, "2023-05-02T08:20:00Z");
    let after = frame(&mut a, 160, 48);
    assert!(
        gunicorn_line(&after).contains("failed (exit-code, 1/FAILURE)"),
        "{after}"
    );
    insta::assert_snapshot!("i2-160x48-after-the-crash", after);
    let small = frame(&mut a, 80, 24);
    assert!(small.contains("units failed: gunicorn.service"), "{small}");
}

#[test]
fn burst_keys_jump_between_quiet_separated_error_runs() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:00:00Z");
    a.update(Action::NextBurst);
    // After 11:00 the errors are the 11:12:40 static-file miss, then the 502 storm at 11:24:04.
    assert_eq!(format_utc(a.cursor), "2023-04-13T11:12:40.000000Z");
    a.update(Action::NextBurst);
    assert_eq!(format_utc(a.cursor), "2023-04-13T11:24:04.000000Z");
    a.update(Action::PrevBurst);
    assert_eq!(format_utc(a.cursor), "2023-04-13T11:12:40.000000Z");
}

#[test]
fn a_click_focuses_and_selects_and_the_wheel_scrolls() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:24:04Z");
    let screen = frame(&mut a, 160, 48);
    // Click the third record row of the Error pane (pane 3 in the bottom row).
    let err = pane(&a, ListKind::Error);
    let hit = a.hits.iter().find(|h| h.pane == err).copied().unwrap();
    a.click(hit.area.x + 5, hit.first_row + 2);
    assert_eq!(a.focus, err, "{screen}");
    assert_eq!(a.lists[err].selected, hit.first_index + 2);
    assert_eq!(a.cursor, a.lists[err].records.time(hit.first_index + 2));
    let before = a.lists[err].selected;
    a.scroll(hit.area.x + 5, hit.first_row, 3);
    assert_eq!(a.lists[err].selected, before + 3);
    a.scroll(hit.area.x + 5, hit.first_row, -100);
    assert_eq!(a.lists[err].selected, 0);
}

#[test]
fn rotated_files_merge_in_their_pane_with_the_file_shown() {
    let b = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles/i5-single-worker-upload");
    let mut a = App::new(sitrep::ingest::load(&[b], &LoadOptions::default()).unwrap());
    let acc = pane(&a, ListKind::Access);
    assert_eq!(a.lists[acc].files, 3);
    assert_eq!(a.lists[acc].records.len(), 116 + 120 + 35);
    a.update(Action::Focus(acc as u8 + 1));
    a.update(Action::Top);
    let f = frame(&mut a, 160, 48);
    assert!(f.contains("access.log.2.gz"), "{f}");
    a.update(Action::Bottom);
    let f = frame(&mut a, 160, 48);
    assert!(f.contains(" access.log "), "{f}");
}

#[test]
fn the_demo_goes_on_to_the_import_time_crash_and_time_travels_its_state() {
    let mut a = app();
    // Before the crash, gunicorn runs and listens on its unix socket.
    at(&mut a, "2023-04-13T11:38:00Z");
    let unit = |a: &App| {
        a.units
            .at(a.cursor)
            .into_iter()
            .find(|u| u.unit == "gunicorn.service")
            .map(|u| (u.active, u.result))
            .unwrap()
    };
    assert_eq!(unit(&a).0, "active");
    let listens = |a: &App| {
        a.sockets
            .listeners(a.cursor)
            .iter()
            .any(|l| l.local == "unix:/run/gunicorn.sock")
    };
    assert!(listens(&a));
    // The next release fails to boot: the unit is failed and the socket gone at capture.
    at(&mut a, "2023-04-13T11:55:00Z");
    assert_eq!(
        unit(&a),
        ("failed".to_string(), Some("exit-code".to_string()))
    );
    assert!(!listens(&a));
    // The traceback is one record, found by the error keys.
    at(&mut a, "2023-04-13T11:41:00Z");
    a.update(Action::Focus(4));
    a.update(Action::Search);
    for c in "ImproperlyConfigured".chars() {
        a.prompt_char(c);
    }
    a.prompt_submit();
    let (s, r) = a.selected_record().unwrap();
    let text = a.incident.sources[s].text(r);
    assert!(
        text.contains("Traceback (most recent call last):"),
        "{text}"
    );
    assert!(text.contains("bookshelf/__init__.py\", line 2"), "{text}");
}

#[test]
fn findings_are_listed_chosen_and_lead_to_their_evidence() {
    let mut a = app();
    assert!(!a.diagnosis.findings.is_empty());
    let f = frame(&mut a, 160, 48);
    assert!(f.contains("Findings ("), "{f}");
    assert!(f.contains("findings (f)"), "{f}");
    let unreachable = a
        .diagnosis
        .findings
        .iter()
        .position(|f| f.id == "upstream-unreachable")
        .unwrap();
    a.update(Action::Findings);
    assert!(a.findings_open);
    for _ in 0..unreachable {
        a.update(Action::Down);
    }
    assert_eq!(a.finding, unreachable);
    assert!(!a.evidence.is_empty(), "its evidence is marked");
    let open = frame(&mut a, 80, 24);
    assert!(open.contains("upstream-unreachable"), "{open}");
    a.update(Action::Pin);
    assert!(!a.findings_open);
    // The cursor went to the first refused connection, 11:24:04.
    assert_eq!(format_utc(a.cursor), "2023-04-13T11:24:04.000000Z");
}

#[test]
fn x_explains_the_selected_line() {
    let mut a = app();
    at(&mut a, "2023-04-13T11:24:04Z");
    let err = pane(&a, ListKind::Error);
    a.update(Action::Focus(err as u8 + 1));
    a.update(Action::Explain);
    assert!(a.explain_open);
    let f = frame(&mut a, 120, 40);
    assert!(f.contains("Explain (any key closes)"), "{f}");
    assert!(f.contains("errno: 111 Connection refused"), "{f}");
    assert!(f.contains("upstream: http://127.0.0.1:8000/"), "{f}");
    // Any key closes it without doing anything else.
    let cursor = a.cursor;
    a.update(Action::Down);
    assert!(!a.explain_open);
    assert_eq!(a.cursor, cursor);
}

#[test]
fn the_rules_can_run_behind_the_first_frame() {
    let mut a = App::new_deferred(
        load_files(demo::bundle(), &LoadOptions::default()),
        &Default::default(),
    );
    // The first frame does not wait for the rules: until their result is taken, the header
    // counts them instead of giving the findings (were they run before the frame, it would).
    let first = frame(&mut a, 160, 48);
    assert!(
        first.contains("findings: rules") && !first.contains("findings (f)"),
        "{first}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !a.poll_findings() {
        assert!(
            std::time::Instant::now() < deadline,
            "the rules never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let sync = app();
    let ids = |a: &App| {
        a.diagnosis
            .findings
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&sync));
    assert!(
        frame(&mut a, 160, 48).contains(&format!("{} findings (f)", sync.diagnosis.findings.len()))
    );
}

#[test]
fn the_checklist_walks_the_502_runbook_and_keeps_ticks_and_notes() {
    let state = tempfile::tempdir().unwrap();
    let options = saved_in(state.path());
    let demo = || load_files(demo::bundle(), &LoadOptions::default());
    let mut a = App::with(demo(), &options);
    a.update(Action::Checklist);
    assert!(a.walk.open);
    // It opens on the runbook the findings suggest, at the first step that failed.
    let w = a.current_walk().unwrap();
    assert_eq!(a.checklist.runbook(w).id, "bad-gateway-502");
    assert_eq!(a.walk.step, 1);
    insta::assert_snapshot!("demo-80x24-checklist", frame(&mut a, 80, 24));
    insta::assert_snapshot!("demo-160x48-checklist", frame(&mut a, 160, 48));
    // A step whose evidence is config lines and facts says there is no record to go to.
    a.update(Action::Pin);
    let status = a.status.clone().unwrap_or_default();
    assert!(status.contains("no log record"), "{status}");
    // Enter on the boot step goes to its journal records, one after the other.
    for _ in 0..3 {
        a.update(Action::Down);
    }
    a.update(Action::Pin);
    let status = a.status.clone().unwrap_or_default();
    assert!(status.starts_with("evidence 1/"), "{status}");
    assert!(
        format_utc(a.cursor).starts_with("2023-04-13T11:41:3"),
        "{}",
        format_utc(a.cursor)
    );
    a.update(Action::Pin);
    assert!(
        a.status
            .as_deref()
            .unwrap_or_default()
            .starts_with("evidence 2/")
    );
    for _ in 0..2 {
        a.update(Action::Up);
    }
    // Tick step 3, write a note on it, skip step 4; copy a command.
    a.update(Action::Tick);
    a.update(Action::Note);
    for c in "checked with curl".chars() {
        a.text_key(crossterm::event::KeyCode::Char(c));
    }
    a.text_key(crossterm::event::KeyCode::Enter);
    a.update(Action::Down);
    a.update(Action::SkipStep);
    a.update(Action::NextCommand);
    a.update(Action::CopyCommand);
    let copied = a.clipboard.take().unwrap();
    assert!(copied.starts_with("ps -o user= -C nginx"), "{copied}");
    // Reopened, the same bundle finds them again.
    drop(a);
    let b = App::with(demo(), &options);
    let mark = |app: &App, step: &str| app.walk.progress.mark("bad-gateway-502", step);
    assert!(mark(&b, "upstream-reachable").done);
    assert_eq!(mark(&b, "upstream-reachable").note, "checked with curl");
    assert!(mark(&b, "socket-permissions").skipped);
    // Another bundle has its own progress.
    let other = App::with(
        sitrep::ingest::load(
            &[std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/bundles/i2-import-time-setting")],
            &LoadOptions::default(),
        )
        .unwrap(),
        &options,
    );
    assert!(other.walk.progress.marks.is_empty());
}

#[test]
fn the_runbook_picker_filters_fuzzily_and_opens_the_choice() {
    let mut a = app();
    a.update(Action::Checklist);
    a.update(Action::PickRunbook);
    assert!(a.typing());
    for c in "504".chars() {
        a.text_key(crossterm::event::KeyCode::Char(c));
    }
    let f = frame(&mut a, 120, 40);
    assert!(f.contains("gateway-timeout-504"), "{f}");
    assert!(!f.contains("ci-failures "), "{f}");
    a.text_key(crossterm::event::KeyCode::Enter);
    assert!(!a.typing());
    let w = a.current_walk().unwrap();
    assert_eq!(a.checklist.runbook(w).id, "gateway-timeout-504");
    // In replay nothing runs.
    a.update(Action::RunCommand);
    assert!(
        a.status.as_deref().unwrap().contains("never run"),
        "{:?}",
        a.status
    );
}

#[test]
fn live_mode_runs_a_read_only_command_only_after_a_yes() {
    use crossterm::event::KeyCode;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        r#"id = "local-checks"
title = "Local checks"
[[step]]
id = "who"
title = "Who am I?"
commands = ["echo checked-by-$(id -un) && echo on stderr >&2", "echo {{revision_guid}}"]
[[step]]
id = "fix"
title = "Restart"
changes = true
commands = ["sudo systemctl restart nothing-at-all.service"]
"#,
    )
    .unwrap();
    let options = sitrep::ui::app::Options {
        runbooks: Some(dir.path().to_path_buf()),
        state: None,
        progress_key: None,
    };
    let mut a = App::with(
        load_files(demo::bundle(), &LoadOptions::default()),
        &options,
    );
    a.update(Action::Checklist);
    a.update(Action::PickRunbook);
    for c in "local-checks".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    assert_eq!(
        a.checklist.runbook(a.current_walk().unwrap()).id,
        "local-checks"
    );
    // Replay never runs anything.
    a.update(Action::RunCommand);
    assert!(a.walk.run.is_none());
    assert!(a.status.as_deref().unwrap().starts_with("replay"));
    a.live = true;
    // Any key but y cancels.
    a.update(Action::RunCommand);
    let confirm = frame(&mut a, 100, 30);
    assert!(confirm.contains("$ echo checked-by-$(id -un)"), "{confirm}");
    a.text_key(KeyCode::Char('n'));
    assert!(a.walk.run.is_none());
    // y runs it; the output comes back in a popup.
    a.update(Action::RunCommand);
    a.text_key(KeyCode::Char('y'));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !a.poll_run() {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = frame(&mut a, 100, 30);
    assert!(
        out.contains("(exit 0)") && out.contains("checked-by-") && out.contains("on stderr"),
        "{out}"
    );
    a.text_key(KeyCode::Char('x'));
    assert!(a.walk.run.is_none());
    // A command with a blank in it is not run.
    a.update(Action::NextCommand);
    a.update(Action::RunCommand);
    assert!(a.walk.run.is_none());
    assert!(
        a.status.as_deref().unwrap().contains("<revision_guid>"),
        "{:?}",
        a.status
    );
    // Nor is a step that changes the system.
    a.update(Action::Down);
    a.update(Action::RunCommand);
    assert!(a.walk.run.is_none());
    assert!(
        a.status.as_deref().unwrap().contains("never runs it"),
        "{:?}",
        a.status
    );
}

#[test]
fn filters_narrow_every_pane_and_come_off_again() {
    use crossterm::event::KeyCode;
    let mut a = app();
    let all = a.lists[0].records.len();
    a.update(Action::FilterIn);
    for c in "connect\\(\\) failed".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    let refused = a.lists[0].records.len();
    assert!(refused > 10 && refused < all, "{refused} of {all}");
    // Every pane shows only what passes: the access pane has none of these lines.
    let access = pane(&a, ListKind::Access);
    assert_eq!(a.lists[access].records.len(), 0);
    let error = pane(&a, ListKind::Error);
    assert_eq!(a.lists[error].records.len(), refused);
    let f = frame(&mut a, 120, 40);
    assert!(f.contains("[1] +/connect\\(\\) failed/"), "{f}");
    // Drop the ones about /books/, then switch that off with Alt-2.
    a.update(Action::FilterOut);
    for c in "/books/".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    let fewer = a.lists[0].records.len();
    assert!(fewer < refused, "{fewer}");
    a.update(Action::ToggleFilter(2));
    assert_eq!(a.lists[0].records.len(), refused);
    // A floor and a window from the cursor.
    a.update(Action::ClearFilters);
    assert_eq!(a.lists[0].records.len(), all);
    a.update(Action::SeverityFloor);
    let warn = a.lists[0].records.len();
    a.update(Action::SeverityFloor);
    let error_only = a.lists[0].records.len();
    assert!(error_only < warn && warn < all, "{error_only} {warn} {all}");
    a.update(Action::SeverityFloor);
    assert_eq!(a.lists[0].records.len(), all);
    at(&mut a, "2023-04-13T11:30:00Z");
    a.update(Action::SinceCursor);
    let t0 = parse_instant("2023-04-13T11:30:00Z").unwrap();
    let p = &a.lists[0];
    assert!((0..p.records.len()).all(|i| p.records.time(i) >= t0));
    a.update(Action::RemoveFilter);
    assert_eq!(a.lists[0].records.len(), all);
    // A field query instead of a regex: the 5xx of the access log.
    a.update(Action::FilterIn);
    for c in "status>=500".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    let access = pane(&a, ListKind::Access);
    let fives = a.lists[access].records.len();
    let want = a
        .incident
        .sources
        .iter()
        .filter(|s| s.format == FormatId::NginxAccess)
        .map(|s| {
            (0..s.len())
                .filter(|r| s.text(*r).contains("\" 502 "))
                .count()
        })
        .sum::<usize>();
    assert_eq!(fives, want);
    assert_eq!(
        a.lists[0].records.len(),
        fives,
        "only access lines have a status"
    );
    a.update(Action::ClearFilters);
    // A bad regex says so and adds nothing.
    a.update(Action::FilterIn);
    a.text_key(KeyCode::Char('('));
    a.text_key(KeyCode::Enter);
    assert!(a.status.as_deref().unwrap().starts_with("bad regex"));
    assert!(a.filters.list.is_empty());
}

#[test]
fn the_palette_finds_places_and_actions_fuzzily() {
    use crossterm::event::KeyCode;
    let mut a = app();
    a.update(Action::Palette);
    for c in "gunicorn.service".chars() {
        a.text_key(KeyCode::Char(c));
    }
    insta::assert_snapshot!("demo-100x30-palette", frame(&mut a, 100, 30));
    // The first match is the unit: Enter goes to its first journal record.
    a.text_key(KeyCode::Enter);
    assert!(a.palette.is_none());
    let (s, r) = a.selected_record().unwrap();
    assert!(a.incident.sources[s].format.is_journal());
    assert!(a.incident.sources[s].text(r).contains("gunicorn.service"));
    // An action by its words.
    a.update(Action::Palette);
    for c in "zoom".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    assert!(a.zoom);
    // `:report` offers writing the incident report first.
    let all = sitrep::ui::palette::entries(&a, false);
    let best = sitrep::ui::palette::ranked(&all, "report")[0].0;
    assert_eq!(
        all[best].target,
        sitrep::ui::palette::Target::Action(Action::Report)
    );
    // Ctrl-P: places only, no actions.
    a.update(Action::Jump);
    for c in "zoom".chars() {
        a.text_key(KeyCode::Char(c));
    }
    let f = frame(&mut a, 100, 30);
    assert!(f.contains("0 of"), "{f}");
    a.text_key(KeyCode::Esc);
    assert!(a.palette.is_none());
    // A lesson: this console closes and the lesson opens after it.
    a.update(Action::Palette);
    for c in "lesson import-time".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    assert!(a.quit);
    assert_eq!(a.next_lesson.as_deref(), Some("i2-import-time-setting"));
}

#[test]
fn search_matches_are_marked_in_the_rows() {
    let spans = vec![
        ratatui::text::Span::raw("11:24:04.000 "),
        ratatui::text::Span::raw("connect() failed, upstream: \"http://127.0.0.1:8000/\""),
    ];
    let re = regex::Regex::new("upstream|8000").unwrap();
    let style = ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::REVERSED);
    let out = sitrep::ui::panes::list::mark_matches(spans, &re, style);
    let marked: Vec<&str> = out
        .iter()
        .filter(|s| {
            s.style
                .add_modifier
                .contains(ratatui::style::Modifier::REVERSED)
        })
        .map(|s| s.content.as_ref())
        .collect();
    assert_eq!(marked, vec!["upstream", "8000"]);
    let whole: String = out.iter().map(|s| s.content.as_ref()).collect();
    assert!(whole.ends_with("127.0.0.1:8000/\""));
}

#[test]
fn evidence_notes_are_kept_with_the_bundle_and_listed_in_time_order() {
    use crossterm::event::KeyCode;
    let state = tempfile::tempdir().unwrap();
    let options = saved_in(state.path());
    let demo = || load_files(demo::bundle(), &LoadOptions::default());
    let mut a = App::with(demo(), &options);
    // The first refused connection: marked, with a note.
    at(&mut a, "2023-04-13T11:24:04Z");
    let err = pane(&a, ListKind::Error);
    a.update(Action::Focus(err as u8 + 1));
    a.update(Action::Mark);
    a.update(Action::Note);
    for c in "nginx still points at :8000".chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    // An earlier record of the journal, marked without words.
    let journal = pane(&a, ListKind::Journal);
    a.update(Action::Focus(journal as u8 + 1));
    at(&mut a, "2023-04-13T11:19:27Z");
    a.update(Action::Mark);
    a.update(Action::Notes);
    let f = frame(&mut a, 120, 40);
    assert!(f.contains("Notes (any key closes)"), "{f}");
    let first = f.find("11:19:2").unwrap();
    let second = f.find("nginx still points at :8000").unwrap();
    assert!(first < second, "time order:\n{f}");
    // Reopened: the notes are there.
    drop(a);
    let b = App::with(demo(), &options);
    let notes = &b.walk.progress.records;
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1].note, "nginx still points at :8000");
    assert_eq!(notes[1].file, "nginx/error.log");
    // m again on the same record unmarks it.
    let mut b = b;
    let journal = pane(&b, ListKind::Journal);
    b.update(Action::Focus(journal as u8 + 1));
    at(&mut b, "2023-04-13T11:19:27Z");
    b.update(Action::Mark);
    assert_eq!(b.walk.progress.records.len(), 1);
}

#[test]
fn several_hosts_are_grouped_in_units_and_sockets_and_one_can_be_kept() {
    use crossterm::event::KeyCode;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles");
    let incident = sitrep::ingest::load(
        &[dir.join("i1-socket-mismatch"), dir.join("i3-daemon-reload")],
        &LoadOptions::default(),
    )
    .unwrap();
    let names: Vec<String> = incident.hosts.iter().map(|h| h.name.clone()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let mut a = App::new(incident);
    let f = frame(&mut a, 200, 50);
    // Each host's units and listeners come under a heading with its name.
    for n in &names {
        assert!(
            f.matches(&format!("── {n} ")).count() >= 2,
            "no {n} headings in units and sockets:\n{f}"
        );
    }
    // The access pane says whose access.log a row comes from, and so do the sources.
    assert!(f.contains(&format!("{} access.log", names[0])), "{f}");
    a.update(Action::Sources);
    let s = frame(&mut a, 200, 50);
    for n in &names {
        assert!(s.contains(&format!("{n} nginx/access.log")), "{s}");
    }
    a.update(Action::Sources);
    let all: usize = a.lists[0].records.entries.len();
    // The palette keeps one host's records.
    a.update(Action::Palette);
    for c in format!("host {}", names[1]).chars() {
        a.text_key(KeyCode::Char(c));
    }
    a.text_key(KeyCode::Enter);
    let kept = &a.lists[0].records.entries;
    assert!(
        !kept.is_empty() && kept.len() < all,
        "{} of {all}",
        kept.len()
    );
    assert!(
        kept.iter()
            .all(|e| a.incident.sources[e.source as usize].host == names[1])
    );
    assert!(
        frame(&mut a, 200, 50).contains(&format!("host={}", names[1])),
        "the footer names the filter"
    );
}

#[test]
fn the_header_counts_the_rules_while_they_run() {
    let total = sitrep::analysis::rules::RULES.len();
    // A run that has not finished: the header says how far it is.
    let mut app = app();
    let (_tx, rx) = std::sync::mpsc::channel::<sitrep::ui::app::Ready>();
    app.pending = Some(rx);
    app.rules_done
        .store(7, std::sync::atomic::Ordering::Relaxed);
    let f = frame(&mut app, 200, 50);
    assert!(f.contains(&format!("findings: rules 7/{total}")), "{f}");
    // A real run counts every rule, then the header gives the findings.
    let mut app = App::new_deferred(
        load_files(demo::bundle(), &LoadOptions::default()),
        &Default::default(),
    );
    let start = std::time::Instant::now();
    while !app.poll_findings() {
        assert!(start.elapsed().as_secs() < 60, "the rules never finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(app.rules_done(), total);
    assert!(frame(&mut app, 200, 50).contains("findings (f)"));
}
