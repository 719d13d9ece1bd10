//! One record of a million lines (a python-logging traceback) does not stall the console: the
//! detail pane reads only the lines it shows, so the first frame comes soon after the file is
//! read and a key on that record is answered at once; `d`/`D` scroll the record, `b` goes back
//! to its first line.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Lines of the traceback.
const LINES: usize = 1_000_000;

fn write_log(path: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "2023-04-13 11:20:00,000 INFO app: starting").unwrap();
    writeln!(
        f,
        "2023-04-13 11:20:01,123 ERROR django.request: Internal Server Error: /api/orders"
    )
    .unwrap();
    writeln!(f, "Traceback (most recent call last):").unwrap();
    for i in 0..LINES / 2 {
        writeln!(
            f,
            "  File \"/srv/app/orders/views.py\", line {i}, in create\n    total = compute(cart{i})"
        )
        .unwrap();
    }
    writeln!(f, "ZeroDivisionError: division by zero").unwrap();
    writeln!(f, "2023-04-13 11:20:02,000 INFO app: after").unwrap();
    f.flush().unwrap();
}

/// Poll the screen (every 20 ms) until `done` holds; how long it took, and the screen.
fn until(tmux: &common::Tmux, done: impl Fn(&str) -> bool, what: &str) -> (Duration, String) {
    let t0 = Instant::now();
    loop {
        let screen = tmux.screen();
        if done(&screen) {
            return (t0.elapsed(), screen);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "never saw {what}; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first line of the record the detail pane shows, from its title.
fn detail_line(screen: &str) -> Option<usize> {
    let at = screen.find("Detail · line ")?;
    let rest = &screen[at + "Detail · line ".len()..];
    rest.split(' ').next()?.parse().ok()
}

#[test]
fn a_million_line_record_is_drawn_and_scrolled_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("app.log");
    write_log(&log);
    let bin = env!("CARGO_BIN_EXE_sitrep");
    // What reading the file costs on this machine (a debug build, other work beside it): the
    // first frame may take that, plus a small budget; drawing the whole record took a minute.
    let t0 = Instant::now();
    let out = Command::new(bin).arg("sources").arg(&log).output().unwrap();
    assert!(out.status.success());
    let load = t0.elapsed();
    let tmux = common::Tmux::new("long-record");
    let t0 = Instant::now();
    tmux.start_at(
        200,
        50,
        &format!(
            "{bin} replay {}; echo SITREP-EXIT=$?; sleep 30",
            log.display()
        ),
    );
    let total = format!("of {}", LINES + 3);
    // A frame is written to the terminal in pieces: wait for the last of what is checked
    // below, not only the title, before reading it.
    let (_, screen) = until(
        &tmux,
        |s| s.contains(&total) && s.contains("compute(cart3)"),
        "the detail of the long record",
    );
    let first = t0.elapsed();
    assert!(
        first < load * 2 + Duration::from_millis(1500),
        "first frame after {first:?} (reading the file alone: {load:?})\n{screen}"
    );
    assert_eq!(detail_line(&screen), Some(1), "{screen}");
    assert!(
        screen.contains("Traceback (most recent call last):"),
        "{screen}"
    );
    assert!(screen.contains("compute(cart3)"), "{screen}");
    // Keys on that record are answered at once.
    let mut last = 1;
    for _ in 0..3 {
        tmux.send(&["d"]);
        let (took, screen) = until(
            &tmux,
            |s| detail_line(s).is_some_and(|l| l > last),
            "the detail scrolled down",
        );
        assert!(took < Duration::from_millis(1500), "d took {took:?}");
        let now = detail_line(&screen).unwrap();
        // The screen shows the record from there: the line at the top is the one numbered.
        let frame = (now - 3) / 2;
        assert!(
            screen.contains(&format!("line {frame}, in create"))
                || screen.contains(&format!("compute(cart{frame})")),
            "line {now}:\n{screen}"
        );
        last = now;
    }
    tmux.send(&["D"]);
    let (took, _) = until(
        &tmux,
        |s| detail_line(s).is_some_and(|l| l < last),
        "the detail scrolled up",
    );
    assert!(took < Duration::from_millis(1500), "D took {took:?}");
    tmux.send(&["b"]);
    let (took, screen) = until(&tmux, |s| detail_line(s) == Some(1), "back to the top");
    assert!(took < Duration::from_millis(1500), "b took {took:?}");
    assert!(
        screen.contains("Traceback (most recent call last):"),
        "{screen}"
    );
    // Moving off the record and back is as quick.
    tmux.send(&["j"]);
    let (took, _) = until(&tmux, |s| !s.contains(&total), "the next record");
    assert!(took < Duration::from_millis(1500), "j took {took:?}");
    tmux.send(&["k"]);
    let (took, _) = until(&tmux, |s| s.contains(&total), "the long record again");
    assert!(took < Duration::from_millis(1500), "k took {took:?}");
    tmux.quit();
}
