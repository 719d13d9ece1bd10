//! Log text cannot drive the terminal. The I-1 bundle with escape sequences planted in the
//! lines that become evidence (the first `connect() failed` and the first 502): OSC 52
//! clipboard writes, a title change, an OSC 8 hyperlink, a screen clear, a title report
//! request, a DCS string, a bidi override and a C1 CSI. The bytes `timeline`, `diagnose` and
//! `report` print, and the bytes the console writes to a real terminal (tmux's pipe-pane
//! records them), hold none of them; the console shows them escaped instead.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What a hostile log line carries.
const PLANTED: &str = "\x1b]52;c;ZXZpbA==\x07 \x1b]0;pwned\x07 \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ \x1b[2J\x1b[21t\x1b[8;5;5t \x1bP+q544e\x1b\\ \u{202e}gpj.exe \u{9b}31mred";

/// Byte strings none of which may come from log text. The console itself writes CSI
/// sequences (colours, cursor moves), so only what it never writes is looked for: OSC and
/// DCS introducers, BEL, the title report and resize requests, the bidi override and C1 controls.
const FORBIDDEN: &[(&str, &[u8])] = &[
    ("OSC", b"\x1b]"),
    ("DCS", b"\x1bP"),
    ("BEL", b"\x07"),
    ("title report request", b"\x1b[21t"),
    ("window resize", b"\x1b[8;5;5t"),
    ("bidi override", "\u{202e}".as_bytes()),
    ("C1 CSI", "\u{9b}".as_bytes()),
];

fn assert_inert(what: &str, bytes: &[u8]) {
    for (name, seq) in FORBIDDEN {
        if let Some(at) = bytes.windows(seq.len()).position(|w| w == *seq) {
            let from = at.saturating_sub(40);
            panic!(
                "{what}: {name} reached the output at byte {at}: {:?}",
                String::from_utf8_lossy(&bytes[from..(at + 40).min(bytes.len())])
            );
        }
    }
}

/// The I-1 bundle with the planted text in its first upstream error and first 502.
fn hostile_bundle(root: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles/i1-socket-mismatch");
    let dir = root.join("hostile");
    let status = Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    for (file, old, new) in [
        (
            "nginx/error.log",
            "request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\"",
            format!(
                "request: \"GET /HOSTILE{PLANTED} HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\""
            ),
        ),
        (
            "nginx/access.log",
            "[13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 502 166 \"-\" \"Mozilla",
            format!(
                "[13/Apr/2023:11:24:04 +0000] \"GET /HOSTILE{PLANTED} HTTP/1.1\" 502 166 \"-\" \"{PLANTED}Mozilla"
            ),
        ),
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(old), "{file} no longer holds {old:?}");
        std::fs::write(&path, text.replacen(old, &new, 1)).unwrap();
    }
    dir
}

fn sitrep(args: &[&str], bundle: &Path) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .arg(bundle)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_inert(&format!("{args:?} stderr"), &out.stderr);
    out.stdout
}

#[test]
fn headless_output_shows_planted_escapes_inert() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = hostile_bundle(tmp.path());
    for args in [
        &["timeline"][..],
        &["timeline", "--format", "json"],
        &["diagnose"],
        &["diagnose", "--format", "json"],
        &["report"],
        &["sources"],
    ] {
        let out = sitrep(args, &bundle);
        assert_inert(&format!("{args:?}"), &out);
        let text = String::from_utf8_lossy(&out);
        if args[0] == "timeline" || args == ["report"] {
            // The planted text is there, escaped: nothing was dropped to make it safe.
            assert!(
                text.contains("HOSTILE\\x1b]52;c;ZXZpbA==\\x07")
                    || text.contains("HOSTILE\\u001b]52;c;ZXZpbA==\\u0007"),
                "{args:?} does not show the planted text escaped"
            );
        }
    }
    // The report names the planted line among the evidence or the excerpt.
    let report = String::from_utf8_lossy(&sitrep(&["report"], &bundle)).into_owned();
    assert!(report.contains("/HOSTILE"), "{report}");
}

#[test]
fn the_console_writes_no_planted_escape_to_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = hostile_bundle(tmp.path());
    let raw = tmp.path().join("raw.out");
    let tmux = common::Tmux::new("safety");
    // The shell waits for pipe-pane to be in place before sitrep starts.
    let go = tmp.path().join("go");
    tmux.start(&format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; {bin} replay {b}; echo SITREP-EXIT=$?; sleep 30",
        go = go.display(),
        bin = env!("CARGO_BIN_EXE_sitrep"),
        b = bundle.display()
    ));
    tmux.run(&[
        "pipe-pane",
        "-O",
        "-t",
        "s",
        &format!("cat > {}", raw.display()),
    ]);
    std::fs::write(&go, b"").unwrap();
    tmux.wait_for("Timeline");
    // Go to the planted line, look at it every way the console shows a line.
    tmux.send(&["/"]);
    tmux.send(&["-l", "HOSTILE"]);
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("HOSTILE\\x1b]52");
    assert!(screen.contains("\\u{202e}"), "{screen}");
    for keys in [
        &["Enter"][..],
        &["x"],
        &["Escape"],
        &["f"],
        &["Enter"],
        &["w"],
        &["z"],
    ] {
        tmux.send(keys);
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux.send(&["Escape"]);
    tmux.quit();
    // pipe-pane's cat may still be writing: wait until the file stops growing.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let n = std::fs::metadata(&raw).map(|m| m.len()).unwrap_or(0);
        if (n == last && n > 0) || Instant::now() > deadline {
            break;
        }
        last = n;
    }
    let bytes = std::fs::read(&raw).unwrap();
    assert!(bytes.len() > 10_000, "only {} bytes recorded", bytes.len());
    assert!(
        bytes.windows(7).any(|w| w == b"HOSTILE"),
        "the recording does not hold the planted line"
    );
    assert_inert("console", &bytes);
}
