//! Files that change under sitrep while it reads them (a log emptied by logrotate's
//! `copytruncate`), and paths that are not files at all (a named pipe, a device, standard
//! input). Each ends in a note or a marker and a normal exit, never a signal or a hang.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// A named pipe at `path`.
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

/// `sitrep ARGS` through `bash -c` (for `<(...)` and `<`), 20 s at most; (exit code, stdout,
/// stderr). A run that does not end in time fails the test: that is the hang.
fn sitrep_sh(script: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("SITREP", SITREP)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`{script}` still runs after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_pipe_or_a_device_is_refused_and_standard_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    access_log(&dir.path().join("a.log"), 3);
    // Alone, a pipe or a device is an error (exit 2) that says what it is, at once.
    for (path, what) in [
        (fifo.display().to_string(), "a named pipe"),
        ("/dev/zero".into(), "a character device"),
    ] {
        let (code, out, err) = sitrep_sh(&format!("\"$SITREP\" timeline {path}"));
        assert_eq!(code, Some(2), "{path}: {out}{err}");
        assert!(
            err.contains(&format!("{path}: {what}, not a file")),
            "{err}"
        );
    }
    // Beside a log, it is a note and the log is read.
    let (code, out, err) = sitrep_sh(&format!("\"$SITREP\" timeline {d}/fifo {d}/a.log"));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.matches("/page/").count(), 3, "{out}");
    assert!(err.contains("a named pipe, not a file"), "{err}");
    // A stream handed over on purpose: `-`, /dev/stdin, `<(...)`.
    for (script, name) in [
        (format!("\"$SITREP\" timeline - < {d}/a.log"), " stdin:1 "),
        (
            format!("cat {d}/a.log | \"$SITREP\" timeline /dev/stdin"),
            " /dev/stdin:1 ",
        ),
        (
            format!("\"$SITREP\" timeline <(cat {d}/a.log)"),
            " /dev/fd/",
        ),
    ] {
        let (code, out, err) = sitrep_sh(&script);
        assert_eq!(code, Some(0), "{script}: {err}");
        assert_eq!(out.matches("/page/").count(), 3, "{script}: {out}{err}");
        assert!(out.contains(name), "{script}: {out}");
    }
}

#[test]
fn capture_skips_pipes_and_devices_and_a_signal_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("fifo");
    mkfifo(&fifo);
    access_log(&d.join("a.log"), 3);
    // Programs that fail at once, or hang until stopped.
    let script = |name: &str, body: &str| {
        let p = d.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    };
    let (fails, hangs) = (script("fails", "exit 1"), script("hangs", "exec sleep 60"));
    // nginx -T names logs of this test's own (the machine's /var/log/nginx stays out).
    let nginx = common::fake_nginx(d);
    let capture = |nginx: &Path, out: &Path| {
        let mut c = Command::new(SITREP);
        c.arg("capture")
            .arg("-o")
            .arg(out)
            .args(["--no-systemd", "--log"])
            .arg(&fifo)
            .args(["--log", "/dev/zero", "--log"])
            .arg(d.join("a.log"))
            .env("SITREP_NGINX", nginx)
            .env("SITREP_GUNICORN", &fails)
            .env("SITREP_SS", &fails)
            .env("SITREP_PS", &fails)
            .env("SITREP_CAPTURE_TIMEOUT", "60")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let bundle = d.join("b.tar.gz");
    let mut child = capture(&nginx, &bundle).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "capture still runs after 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("a named pipe, not a regular file: not collected"),
        "{err}"
    );
    assert!(
        err.contains("/dev/zero: a character device, not a regular file"),
        "{err}"
    );
    assert!(std::fs::metadata(&bundle).unwrap().len() < 1 << 20);
    // SIGTERM while a program hangs; then SIGINT twice: the capture ends within seconds and
    // leaves neither a bundle nor its partial file.
    for signals in [&["-TERM"][..], &["-INT", "-INT"][..]] {
        let target = d.join(format!("stopped{}.tar.gz", signals.len()));
        let mut child = capture(&hangs, &target).spawn().unwrap();
        let partial = || {
            std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().contains(".partial-"))
        };
        let t = Instant::now();
        while !partial() {
            assert!(t.elapsed() < Duration::from_secs(10), "no partial file");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        for s in signals {
            Command::new("kill")
                .arg(s)
                .arg(child.id().to_string())
                .status()
                .unwrap();
        }
        let t = Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "capture still runs 10 s after {signals:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!target.exists());
        assert!(!partial(), "{signals:?} left a partial file");
    }
}
