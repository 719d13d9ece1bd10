//! The real binary in a real terminal (tmux): open the demo, move between panes, jump to an
//! error, quit, and find the terminal given back (the shell runs the next command); the same
//! after a hangup.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tmux is needed (apt-get install tmux; .ci/run does): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(session: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(needle) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {needle:?}; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Start `sitrep demo` in a new tmux session of `w`x`h`; after it exits, the shell prints its
/// exit code and whether the terminal was left in raw mode (`-icanon`).
fn start(name: &str, w: &str, h: &str) -> String {
    let session = format!("sitrep-{name}-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_sitrep");
    let cmd = format!("{bin} demo; echo SITREP-EXIT=$?; stty -a | grep -o -- '-icanon' ; sleep 30");
    tmux(&["new-session", "-d", "-s", &session, "-x", w, "-y", h, &cmd]);
    session
}

/// Wait for sitrep to end, close the session, and check it exited 0 with the terminal sane.
fn finish(session: &str) {
    let screen = wait_for(session, "SITREP-EXIT=");
    tmux(&["kill-session", "-t", session]);
    assert!(screen.contains("SITREP-EXIT=0"), "{screen}");
    // Raw mode was left: canonical input is back on, so stty does not print -icanon.
    assert!(
        !screen.contains("-icanon"),
        "terminal left in raw mode:\n{screen}"
    );
}

#[test]
fn demo_in_tmux_moves_aligns_and_quits_cleanly() {
    let session = start("e2e", "120", "40");
    let screen = wait_for(&session, "1 Timeline");
    assert!(
        screen.contains("2 Access") && screen.contains("3 Error"),
        "{screen}"
    );
    // Jump to the next problem, go to the error pane, zoom it.
    tmux(&["send-keys", "-t", &session, "g", "e", "3", "z"]);
    let screen = wait_for(&session, "3 Error (");
    assert!(
        !screen.contains("1 Timeline ("),
        "zoom shows one pane:\n{screen}"
    );
    tmux(&["send-keys", "-t", &session, "z", "?"]);
    wait_for(&session, "Keys (? closes)");
    tmux(&["send-keys", "-t", &session, "?", "q"]);
    finish(&session);
}

#[test]
fn a_hangup_restores_the_terminal() {
    let session = start("hup", "100", "30");
    wait_for(&session, "1 Timeline");
    let shell = tmux(&["display-message", "-p", "-t", &session, "#{pane_pid}"]);
    let out = Command::new("pgrep")
        .args(["-P", shell.trim(), "-f", "sitrep"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty(), "sitrep's pid under shell {shell}");
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    finish(&session);
}
