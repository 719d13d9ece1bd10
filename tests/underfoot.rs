//! Files that change under sitrep while it reads them (a log emptied by logrotate's
//! `copytruncate`), and paths that are not files at all (a named pipe, a device, standard
//! input). Each ends in a note or a marker and a normal exit, never a signal or a hang.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SITREP: &str = env!("CARGO_BIN_EXE_sitrep");

/// An nginx access log of `lines` requests, one a second from 10:00:00.
fn access_log(path: &Path, lines: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..lines {
        let (h, m, s) = (10 + i / 3600 % 14, i / 60 % 60, i % 60);
        writeln!(
            f,
            "192.0.2.{} - - [03/Dec/2026:{h:02}:{m:02}:{s:02} +0000] \"GET /page/{i} HTTP/1.1\" 200 {} \"-\" \"probe/1.0\"",
            i % 250,
            i % 9000
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// `truncate -s 0` as logrotate's copytruncate does it.
fn empty(path: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

#[test]
fn a_log_emptied_while_timeline_prints_it_ends_in_an_exit_not_a_bus_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    access_log(&log, 1_500_000);
    for cmd in [
        &["timeline", "--format", "text"][..],
        &["sources"][..],
        &["diagnose"][..],
    ] {
        // Written afresh each round: the round before emptied it.
        if std::fs::metadata(&log).unwrap().len() == 0 {
            access_log(&log, 1_500_000);
        }
        let mut child = Command::new(SITREP)
            .args(cmd)
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut n = 0u64;
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(k) = out.read(&mut buf) {
                if k == 0 {
                    break;
                }
                n += k as u64;
            }
            n
        });
        std::thread::sleep(Duration::from_millis(300));
        empty(&log);
        let status = child.wait().unwrap();
        let _ = reader.join();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(
            status.code().is_some(),
            "sitrep {cmd:?} was killed by a signal ({status:?}) when the file was emptied:\n{err}"
        );
    }
}

#[test]
fn the_console_survives_its_log_being_emptied_and_marks_the_text_that_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    access_log(&log, 200_000);
    let tmux = common::Tmux::new("underfoot");
    tmux.start(&format!(
        "XDG_STATE_HOME={} {SITREP} replay {}; echo SITREP-EXIT=$?; sleep 30",
        dir.path().display(),
        log.display()
    ));
    tmux.wait_for("/page/");
    empty(&log);
    // The last records' pages are read again from a file that no longer has them.
    tmux.send(&["G"]);
    let screen = tmux.wait_for("text gone");
    assert!(!screen.contains("SITREP-EXIT"), "{screen}");
    tmux.quit();
}
