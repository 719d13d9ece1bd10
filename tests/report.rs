//! `sitrep report`: the Markdown report of I-4 (golden), written atomically to `-o`, with the
//! checklist notes of the bundle when there are some.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn bundle(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles")
        .join(name)
        .display()
        .to_string()
}

fn report(args: &[&str], state: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("report")
        .args(args)
        .env("XDG_STATE_HOME", state)
        .env("XDG_CONFIG_HOME", state)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_report_of_i4_is_golden() {
    let state = tempfile::tempdir().unwrap();
    let b = bundle("i4-retry-storm");
    let (ok, text) = report(&[&b], state.path());
    assert!(ok);
    // The paths in "see it again" depend on where the repository is.
    let text = text.replace(&b, "tests/bundles/i4-retry-storm");
    insta::assert_snapshot!("report-i4", text);
    for part in [
        "## Summary",
        "## Hosts",
        "## 5xx by minute",
        "## Findings",
        "## Checklist",
        "## Timeline around the start",
        "## See it again",
    ] {
        assert!(text.contains(part), "{part} missing");
    }
}

#[test]
fn written_to_a_file_with_the_notes_taken_in_the_console() {
    let state = tempfile::tempdir().unwrap();
    let b = bundle("i1-socket-mismatch");
    // A note on a checklist step, as the console saves it for this bundle.
    let incident = sitrep::ingest::load(&[b.clone().into()], &Default::default()).unwrap();
    let store = sitrep::progress::Store::for_key(
        &state.path().join("sitrep/checklists"),
        &sitrep::progress::content_key(&incident),
    );
    let mut p = sitrep::progress::Progress::default();
    p.set(
        "bad-gateway-502",
        "nginx-points-at-listener",
        sitrep::progress::Mark {
            done: true,
            skipped: false,
            note: "proxy_pass fixed at 11:52 by Dana".into(),
        },
    );
    p.records.push(sitrep::progress::RecordNote {
        file: "nginx/error.log".into(),
        line: 3,
        time: "2023-04-13T11:24:04.000000Z".into(),
        text: "connect() failed (111: Connection refused) while connecting to upstream".into(),
        note: "the first refused connection".into(),
    });
    store.save(&p).unwrap();
    let out = state.path().join("report.md");
    let (ok, said) = report(&[&b, "-o", out.to_str().unwrap()], state.path());
    assert!(ok);
    assert!(said.starts_with("wrote "));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("## Checklist notes"), "{text}");
    assert!(text.contains("proxy_pass fixed at 11:52 by Dana"));
    assert!(text.contains("## Evidence noted"), "{text}");
    assert!(
        text.contains("`nginx/error.log:3` the first refused connection"),
        "{text}"
    );
    assert!(text.contains("upstream-socket-mismatch"));
    // No temporary file is left beside it.
    let left: Vec<_> = std::fs::read_dir(state.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(left.is_empty());
}

#[test]
fn the_report_says_how_the_evidence_was_read() {
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("web1");
    std::fs::create_dir_all(&root).unwrap();
    // gunicorn prints UTC, nginx +05:30; the error log borrows nginx's and the report says
    // that the host's logs disagree. The nginx -T copied twice is read once.
    std::fs::write(
        root.join("gunicorn.log"),
        "[2026-12-03 08:00:00 +0000] [7] [INFO] Starting gunicorn 20.1.0\n",
    )
    .unwrap();
    std::fs::write(
        root.join("access.log"),
        "127.0.0.1 - - [03/Dec/2026:13:30:05 +0530] \"GET / HTTP/1.1\" 502 157 \"-\" \"curl/7.88\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("error.log"),
        "2026/12/03 13:30:05 [error] 9#9: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\", host: \"x\"\n",
    )
    .unwrap();
    let dump = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n    server {\n        listen 80;\n        location / {\n            proxy_pass http://127.0.0.1:8000;\n        }\n    }\n}\n";
    std::fs::write(root.join("nginx-T.txt"), dump).unwrap();
    std::fs::write(root.join("nginx-T.stdout"), dump).unwrap();
    let (ok, text) = report(&[&root.display().to_string()], state.path());
    assert!(ok, "{text}");
    let part = text
        .split("## How the evidence was read")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        part.contains("error.log: no offset in its lines: took +05:30 from its program's other logs (same-program)")
            && part.contains("gunicorn.log (+00:00)"),
        "{part}"
    );
    assert!(part.contains("the same bytes as"), "{part}");
}
