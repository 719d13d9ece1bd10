//! Failure drills, run for real:
//! - live mode (`sitrep live` in tmux) reading a real journal (made with
//!   systemd-journal-remote) through a real `journalctl` that the drill kills, a
//!   `systemctl` that never answers, and a followed log whose file and then folder are
//!   removed; then SIGHUP, as when the ssh connection drops: the terminal is restored and
//!   no child process is left;
//! - `sitrep capture` onto a full disk (a 256 KiB tmpfs): exit 2, one line, nothing left.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A journal of `n` entries from the last minutes, written by systemd-journal-remote.
fn journal_store(root: &Path, n: usize) -> std::path::PathBuf {
    let now = chrono::Utc::now().timestamp_micros();
    let mut export = String::new();
    for i in 0..n as i64 {
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=drill\n_SYSTEMD_UNIT=app.service\nSYSLOG_IDENTIFIER=app\nPRIORITY=4\nMESSAGE=drill-entry-{i}\n\n",
            now - 300_000_000 + i * 1_000_000,
            1000 + i * 1_000_000
        ));
    }
    common::journal_store(root, &export)
}

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Processes whose command line holds `needle`.
fn processes(needle: &str) -> Vec<String> {
    let ps = Command::new("ps")
        .args(["-eo", "pid,args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(needle) && !l.contains("ps -eo"))
        .map(str::to_string)
        .collect()
}

fn wait_for_processes(needle: &str, want_none: bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = processes(needle);
        if found.is_empty() == want_none || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn live_mode_rides_out_a_killed_journalctl_a_hung_systemctl_a_removed_log_and_sighup() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let store = journal_store(root, 20);
    let journalctl = root.join("journalctl");
    script(
        &journalctl,
        &format!("exec journalctl --directory={} \"$@\"", store.display()),
    );
    // A systemctl that never answers; its sleep is recognised by its odd length.
    let systemctl = root.join("systemctl");
    script(&systemctl, "exec sleep 6061");
    // The sockets this host shows stay put: other servers coming and going on the machine
    // running the test would add state changes and push the log's line off the screen.
    let ss = root.join("ss");
    script(
        &ss,
        "echo 'LISTEN 0 128 127.0.0.1:8000 0.0.0.0:* users:((\"gunicorn\",pid=4242,fd=5))'",
    );
    let logs = root.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("app.log");
    std::fs::write(&log, "[2023-04-13 11:24:04 +0000] [9] [INFO] first-line\n").unwrap();

    let tmux = common::Tmux::new("drills");
    tmux.start(&format!(
        "SITREP_CAPTURE_TIMEOUT=2 XDG_STATE_HOME={r} {bin} live --log {log} --nginx {n} --journalctl {j} --systemctl {s} --ss {ss} --poll 1s; echo SITREP-EXIT=$?; sleep 30",
        r = root.display(),
        n = common::fake_nginx(root).display(),
        bin = env!("CARGO_BIN_EXE_sitrep"),
        log = log.display(),
        j = journalctl.display(),
        s = systemctl.display(),
        ss = ss.display(),
    ));
    tmux.wait_for("live ●");
    tmux.wait_for("drill-entry-19");
    let journal_count = |screen: &str| -> Option<String> {
        screen
            .lines()
            .find_map(|l| l.split("Journal (").nth(1))
            .map(|r| r.split(')').next().unwrap_or("").to_string())
    };
    let before = journal_count(&tmux.screen());

    // journalctl is killed: started again after its last cursor, no entry twice.
    let needle = format!("--directory={}", store.display());
    assert!(
        !wait_for_processes(&needle, false).is_empty(),
        "journalctl is not running"
    );
    let first: Vec<String> = processes(&needle);
    assert!(
        Command::new("pkill")
            .args(["-f", "--", &needle])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = processes(&needle);
        if !now.is_empty() && now != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "journalctl was not started again"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(journal_count(&tmux.screen()), before, "entries came twice");

    // systemctl hangs: the console still answers keys at once, and says what is wrong.
    let t = Instant::now();
    tmux.send(&["S"]);
    tmux.wait_for("Sources (any key closes)");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "a key took {:?}",
        t.elapsed()
    );
    tmux.send(&["x"]);

    // The followed file, then its folder, go away; what was read stays.
    std::fs::remove_file(&log).unwrap();
    std::fs::remove_dir(&logs).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let screen = tmux.screen();
    assert!(screen.contains("first-line"), "{screen}");
    // ... and the folder and file come back: followed again.
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(&log, "[2023-04-13 11:24:09 +0000] [9] [INFO] came-back\n").unwrap();
    tmux.wait_for("came-back");
    tmux.send(&["S"]);
    tmux.wait_for("Sources (any key closes)");
    let sources = tmux.wait_for("journalctl ended; starting it again");
    assert!(
        sources.contains("journalctl ended; starting it again")
            && sources.contains("after its last cursor"),
        "{sources}"
    );
    assert!(
        sources.contains("systemctl list-units: timed out after")
            && sources.contains("the journal is followed"),
        "the hung systemctl is not said:\n{sources}"
    );
    tmux.send(&["x"]);

    // SIGHUP, as when ssh drops: sitrep ends, the terminal is back, no child is left.
    let sitrep = wait_for_processes(" live --log ", false);
    let pid = sitrep
        .iter()
        .find(|l| l.split_whitespace().nth(1) == Some(env!("CARGO_BIN_EXE_sitrep")))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("sitrep not found in {sitrep:?}"))
        .to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    tmux.wait_for("SITREP-EXIT=");
    let flags = tmux.run(&[
        "display",
        "-p",
        "-t",
        "s",
        "#{alternate_on} #{mouse_any_flag} #{cursor_flag}",
    ]);
    assert_eq!(
        flags.trim(),
        "0 0 1",
        "alternate screen, mouse mode, cursor after SIGHUP"
    );
    assert_eq!(
        wait_for_processes(&needle, true),
        Vec::<String>::new(),
        "journalctl left behind"
    );
    assert_eq!(
        wait_for_processes("sleep 6061", true),
        Vec::<String>::new(),
        "systemctl left behind"
    );
}

/// A 256 KiB tmpfs at `dir`, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_capture_onto_a_full_disk_exits_2_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&full)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "mounting a tmpfs needs root, as in .ci/run"
    );
    let _unmount = Tmpfs(full.clone());
    // 2 MiB that does not compress: the bundle cannot fit.
    let big = tmp.path().join("noise.log");
    let mut noise = Vec::with_capacity(2 << 20);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while noise.len() < 2 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(format!("{x:016x}{}\n", x.rotate_left(29)).as_bytes());
    }
    std::fs::write(&big, noise).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(["capture", "--no-systemd", "--since", "10m", "--log"])
        .env("SITREP_NGINX", common::fake_nginx(tmp.path()))
        .arg(&big)
        .arg("-o")
        .arg(full.join("b.tar.gz"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("cannot write the bundle") && last.contains("No space left on device"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&full)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left on the full disk: {left:?}");
}

#[test]
fn live_mode_as_a_plain_user_says_when_a_rotated_log_is_unreadable_and_reads_it_once_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let open = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    open(root, 0o755);
    let state = root.join("state");
    std::fs::create_dir(&state).unwrap();
    open(&state, 0o777);
    let logs = root.join("logs");
    std::fs::create_dir(&logs).unwrap();
    open(&logs, 0o755);
    let log = logs.join("app.log");
    std::fs::write(
        &log,
        "[2023-04-13 11:24:04 +0000] [9] [INFO] before-rotation\n",
    )
    .unwrap();
    open(&log, 0o644);
    let setpriv = common::binary(&["/usr/bin/setpriv", "/bin/setpriv"], "util-linux");
    let tmux = common::Tmux::new("perm");
    // As nobody: root reads every file whatever its mode.
    tmux.start(&format!(
        "{setpriv} --reuid=65534 --regid=65534 --clear-groups env HOME={s} XDG_STATE_HOME={s} {bin} live --no-systemd --nginx {n} --log {log}; echo SITREP-EXIT=$?; sleep 30",
        s = state.display(),
        n = common::fake_nginx(&logs).display(),
        bin = env!("CARGO_BIN_EXE_sitrep"),
        log = log.display(),
    ));
    tmux.wait_for("before-rotation");
    // Rotated; the new file is root's alone, as a `create 0600 root root` rule makes it.
    std::fs::rename(&log, logs.join("app.log.1")).unwrap();
    std::fs::write(
        &log,
        "[2023-04-13 11:24:09 +0000] [9] [INFO] after-rotation\n",
    )
    .unwrap();
    open(&log, 0o600);
    std::thread::sleep(Duration::from_secs(2));
    tmux.send(&["S"]);
    let sources = tmux.wait_for("permission denied");
    assert!(!tmux.screen().contains("after-rotation"), "{sources}");
    tmux.send(&["x"]);
    // Allowed again: read from its start, nothing lost.
    open(&log, 0o644);
    tmux.wait_for("after-rotation");
    tmux.quit();
}
