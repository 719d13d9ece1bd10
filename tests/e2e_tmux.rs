//! The real binary in a real terminal (tmux): open the demo, move between panes, jump to an
//! error, quit, and find the terminal given back (the shell runs the next command); the same
//! after a hangup.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::{Tmux, wait_until};

use std::process::Command;
use std::time::{Duration, Instant};

/// tmux on a server of the session's own (`-L`): two tests starting the default server at
/// once can lose one of them.
fn tmux(session: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", session])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tmux is needed (apt-get install tmux; .ci/run does): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(session: &str, needle: &str) -> String {
    wait_until(needle, || capture(session))
}

/// A tmux server of a test's own, killed when the test ends, passed or not (a failed test
/// must not leave its console running).
struct Session(String);

impl std::ops::Deref for Session {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .output();
    }
}

/// Start `sitrep demo` in a new tmux session of `w`x`h`; after it exits, the shell prints its
/// exit code and whether the terminal was left in raw mode (`-icanon`).
fn start(name: &str, w: &str, h: &str) -> Session {
    let session = format!("sitrep-{name}-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_sitrep");
    let cmd = format!("{bin} demo; echo SITREP-EXIT=$?; stty -a | grep -o -- '-icanon' ; sleep 30");
    tmux(
        &session,
        &["new-session", "-d", "-s", &session, "-x", w, "-y", h, &cmd],
    );
    Session(session)
}

/// Wait for sitrep to end, close the session, and check it exited 0 with the terminal sane.
fn finish(session: &str) {
    let screen = wait_for(session, "SITREP-EXIT=");
    tmux(session, &["kill-server"]);
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
    // At 120x40 the layout is compact: a tab bar, then the focused pane.
    let screen = wait_for(&session, "1 Timeline (");
    assert!(
        screen.contains("2 Access") && screen.contains("3 Error"),
        "{screen}"
    );
    let opened = cursor(&screen);
    // Move down the error pane: the cursor follows its selection.
    tmux(&session, &["send-keys", "-t", &session, "3", "j", "j", "j"]);
    // Keys are taken one at a time: wait until the cursor has moved and then held still.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    let (screen, moved) = loop {
        std::thread::sleep(Duration::from_millis(300));
        let screen = capture(&session);
        let now = cursor(&screen);
        if screen.contains("3 Error (") && now != opened && now == last {
            break (screen, now);
        }
        assert!(
            Instant::now() < deadline,
            "the cursor did not move:\n{screen}"
        );
        last = now;
    };
    assert!(moved.starts_with("20"), "no cursor time in:\n{screen}");
    // The Timeline pane is aligned to that moment: its selected record, shown in the
    // Detail pane, is at the cursor's time.
    tmux(&session, &["send-keys", "-t", &session, "1"]);
    let screen = wait_for(&session, "1 Timeline (");
    assert!(
        screen
            .lines()
            .any(|l| l.trim_start_matches('│').starts_with(&moved)),
        "the Timeline's selection is not at {moved}:\n{screen}"
    );
    // Zoom shows the focused pane alone (no tab bar), and z again brings the layout back.
    tmux(&session, &["send-keys", "-t", &session, "z"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while capture(&session).contains("2 Access") {
        assert!(Instant::now() < deadline, "zoom kept the tab bar");
        std::thread::sleep(Duration::from_millis(50));
    }
    let zoomed = capture(&session);
    assert!(
        zoomed.contains("1 Timeline ("),
        "zoom shows one pane:\n{zoomed}"
    );
    tmux(&session, &["send-keys", "-t", &session, "z", "?"]);
    let help = wait_for(&session, "Keys (? closes)");
    assert!(help.contains("2 Access"), "unzoomed:\n{help}");
    tmux(&session, &["send-keys", "-t", &session, "?", "q"]);
    finish(&session);
}

fn capture(session: &str) -> String {
    tmux(session, &["capture-pane", "-p", "-t", session])
}

/// The cursor's time in the header (`cursor 2023-04-13T11:24:45.000000Z`).
fn cursor(screen: &str) -> String {
    screen
        .split_once("cursor ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_hangup_restores_the_terminal() {
    let session = start("hup", "100", "30");
    wait_for(&session, "1 Timeline");
    let shell = tmux(
        &session,
        &["display-message", "-p", "-t", &session, "#{pane_pid}"],
    );
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

/// `sitrep demo` in its own tmux server with progress kept in `state`, waiting for the
/// findings; tmux may set its clipboard from OSC 52.
fn open_demo(name: &str, state: &std::path::Path) -> Tmux {
    let tmux = Tmux::new(name);
    reopen_demo(&tmux, state);
    tmux
}

fn reopen_demo(tmux: &Tmux, state: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_sitrep");
    tmux.start(&format!(
        "XDG_STATE_HOME={} {bin} demo; echo SITREP-EXIT=$?; sleep 30",
        state.display()
    ));
    tmux.run(&["set-option", "-s", "set-clipboard", "on"]);
    tmux.wait_for("findings (f)");
}

#[test]
fn a_tick_in_the_checklist_survives_quitting_and_a_command_reaches_the_clipboard() {
    let state = tempfile::tempdir().unwrap();
    let tmux = open_demo("walk", state.path());
    tmux.run(&["send-keys", "-t", "s", "w"]);
    tmux.wait_for(" 1 Is the app server listening");
    // Step 3, "does every address nginx passes to have a listener?": tick it, copy its command.
    tmux.run(&["send-keys", "-t", "s", "j", "Space", "c"]);
    let screen = tmux.wait_for("☑  3");
    assert!(screen.contains("ticked by hand"), "{screen}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let buffer = loop {
        let b = tmux.run(&["show-buffer"]);
        if !b.is_empty() || Instant::now() > deadline {
            break b;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        buffer.starts_with("sudo tail -n 50 /var/log/nginx/error.log"),
        "clipboard: {buffer:?}"
    );
    tmux.quit();
    // The progress is in the state directory, not in the bundle.
    let saved: Vec<_> = std::fs::read_dir(state.path().join("sitrep/checklists"))
        .unwrap()
        .collect();
    assert_eq!(saved.len(), 1);
    // Reopened, the tick is there.
    reopen_demo(&tmux, state.path());
    tmux.run(&["send-keys", "-t", "s", "w"]);
    // The closed summary shows the tick as a mark; opened, step 3 is ticked.
    let screen = tmux.wait_for("☑  3 Does every address");
    assert!(screen.contains("Checklist: bad-gateway-502"), "{screen}");
    tmux.quit();
}

#[test]
fn killing_the_terminal_ends_sitrep_instead_of_leaving_it_spinning() {
    let state = tempfile::tempdir().unwrap();
    let tmux = open_demo("kill", state.path());
    let shell = tmux.run(&["display-message", "-p", "-t", "s", "#{pane_pid}"]);
    let out = Command::new("pgrep")
        .args(["-P", shell.trim(), "-f", "sitrep"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty(), "sitrep's pid under shell {shell}");
    // The terminal goes away with everything in it, as when an ssh connection drops.
    tmux.run(&["kill-server"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sitrep (pid {pid}) still runs after its terminal went away"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn r_writes_the_incident_report_where_sitrep_was_started() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("report");
    // Started from the temporary directory: the report lands there.
    tmux.start(&format!(
        "cd {d} && XDG_STATE_HOME={d} {} demo; echo SITREP-EXIT=$?; sleep 30",
        env!("CARGO_BIN_EXE_sitrep"),
        d = dir.path().display()
    ));
    tmux.wait_for("findings (f)");
    tmux.send(&["R"]);
    tmux.wait_for("wrote sitrep-report-web1.md");
    tmux.quit();
    let text = std::fs::read_to_string(dir.path().join("sitrep-report-web1.md")).unwrap();
    assert!(text.starts_with("# Incident report: web1"), "{text}");
    assert!(text.contains("upstream-socket-mismatch"));
}
