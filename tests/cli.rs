//! The binary as a user runs it: clear one-line errors with exit code 2, and filters.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;

fn sitrep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run sitrep");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_path_is_one_clear_line_and_exit_2() {
    let (code, out, err) = sitrep(&["timeline", "/nonexistent/bundle"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/bundle: no such file or directory"),
        "{err}"
    );
}

#[test]
fn a_corrupt_archive_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.tar.gz");
    std::fs::write(&p, b"this is not gzip at all").unwrap();
    let (code, _, err) = sitrep(&["sources", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("broken.tar.gz: not a readable archive"),
        "{err}"
    );
}

#[test]
fn an_unreadable_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("secret.log");
    std::fs::write(&p, b"x\n").unwrap();
    // A directory where a file is expected inside a path also fails to read.
    let bad = p.join("child.log");
    let (code, _, err) = sitrep(&["sources", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("child.log"), "{err}");
}

#[test]
fn bad_filter_values_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.log");
    std::fs::write(&p, b"2023/04/13 11:24:04 [error] 1#1: boom\n").unwrap();
    let f = p.to_str().unwrap();
    let (code, _, err) = sitrep(&["timeline", f, "--since", "yesterday-ish"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
    let (code, _, err) = sitrep(&["timeline", f, "--severity", "loud"]);
    assert_eq!(code, 2);
    assert!(err.contains("--severity"), "{err}");
    let (code, _, err) = sitrep(&["timeline", f, "--grep", "("]);
    assert_eq!(code, 2);
    assert!(err.contains("--grep"), "{err}");
    let (code, _, err) = sitrep(&["timeline", f, "--source", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("sitrep sources"), "{err}");
}

#[test]
fn filters_select_by_time_severity_source_and_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("error.log"),
        "2023/04/13 11:24:04 [error] 1#1: *1 connect() failed (111: Connection refused) while connecting to upstream\n\
         2023/04/13 11:25:00 [notice] 1#1: signal process started\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("access.log"),
        "10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 502 166 \"-\" \"curl\"\n\
         10.0.0.1 - - [13/Apr/2023:11:26:00 +0000] \"GET / HTTP/1.1\" 200 16 \"-\" \"curl\"\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let lines = |args: &[&str]| {
        let mut a = vec!["timeline", d, "--format", "json"];
        a.extend_from_slice(args);
        let (code, out, err) = sitrep(&a);
        assert_eq!(code, 0, "{err}");
        out.lines().map(String::from).collect::<Vec<_>>()
    };
    assert_eq!(lines(&[]).len(), 4);
    assert_eq!(lines(&["--severity", "error+"]).len(), 2);
    assert_eq!(lines(&["--source", "nginx-access"]).len(), 2);
    assert_eq!(lines(&["--grep", "Connection refused"]).len(), 1);
    assert_eq!(lines(&["--since", "2023-04-13T11:25:00Z"]).len(), 2);
    assert_eq!(lines(&["--since", "-1m"]).len(), 2);
    assert_eq!(lines(&["--until", "2023-04-13T11:24:05Z"]).len(), 2);
    let first: serde_json::Value = serde_json::from_str(&lines(&[])[0]).unwrap();
    assert_eq!(first["ts"], "2023-04-13T11:24:04.000000Z");
    assert_eq!(first["source"], "nginx-access");
    assert_eq!(first["line"], 1);
    let (_, count, _) = sitrep(&["timeline", d, "--count"]);
    assert!(count.contains("4  total"), "{count}");
}

#[test]
fn completions_man_page_and_console_without_a_terminal() {
    let (code, out, _) = sitrep(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(out.contains("_sitrep()") && out.contains("replay"), "{out}");
    let (code, out, _) = sitrep(&["man"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(".TH sitrep") && out.contains("Exit codes"),
        "{out}"
    );
    // The console needs a terminal; under a test there is none.
    let (code, _, err) = sitrep(&["demo"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a terminal"), "{err}");
    let (code, _, err) = sitrep(&["demo", "--theme", "neon"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("built in: default, light, high-contrast"),
        "{err}"
    );
    for sub in [
        "sources",
        "timeline",
        "replay",
        "demo",
        "config",
        "completions",
        "man",
        "screenshots",
    ] {
        let (code, out, _) = sitrep(&[sub, "--help"]);
        assert_eq!(code, 0);
        assert!(
            out.contains("Examples:"),
            "{sub} --help has no examples:\n{out}"
        );
    }
}

#[test]
fn explain_names_the_parts_of_a_line_or_says_it_knows_nothing() {
    let line = "2023/04/13 11:24:04 [error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: app, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\", host: \"app\"";
    let (code, out, _) = sitrep(&["explain", line]);
    assert_eq!(code, 0);
    assert!(out.contains("errno: 111 Connection refused"), "{out}");
    assert!(out.contains("upstream: http://127.0.0.1:8000/"), "{out}");
    assert!(out.contains("usual causes:"), "{out}");
    let (code, out, _) = sitrep(&["explain", "hello world"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "nothing known about this line");
}

#[test]
fn skew_moves_one_hosts_times_and_names_an_unknown_host() {
    let b = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bundles/i4-retry-storm");
    let first = |extra: &[&str]| {
        let mut args = vec![
            "timeline",
            b,
            "--grep",
            "WORKER TIMEOUT",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = sitrep(&args);
        assert_eq!(code, 0, "{err}");
        let line = out.lines().next().unwrap().to_string();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        (v["ts"].as_str().unwrap().to_string(), err)
    };
    let (plain, _) = first(&[]);
    assert_eq!(plain, "2023-06-20T08:02:06.031000Z");
    // A clock 1.5 s ahead: its records move 1.5 s earlier, and the notes say so.
    let (ahead, err) = first(&["--skew", "deploy1=+1.5s"]);
    assert_eq!(ahead, "2023-06-20T08:02:04.531000Z");
    assert!(err.contains("deploy1: clock 1.5 s ahead"), "{err}");
    let (behind, _) = first(&["--skew", "deploy1=-250ms"]);
    assert_eq!(behind, "2023-06-20T08:02:06.281000Z");
    let (code, _, err) = sitrep(&["timeline", b, "--skew", "web9=+1s", "--count"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no host \"web9\"") && err.contains("deploy1"),
        "{err}"
    );
}

#[test]
fn a_host_whose_clock_disagrees_is_pointed_out_with_the_fix() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hosts");
    let (p, a1, a2) = (
        format!("{root}/proxy1"),
        format!("{root}/app1"),
        format!("{root}/app2"),
    );
    let (code, _, err) = sitrep(&["sources", &p, &a1, &a2]);
    assert_eq!(code, 0);
    assert!(
        err.contains("app2: clock about +2.") && err.contains("--skew app2=+2."),
        "{err}"
    );
    assert!(!err.contains("app1: clock"), "{err}");
    // Given, it is applied and no longer pointed out.
    let (_, _, err) = sitrep(&["sources", &p, &a1, &a2, "--skew", "app2=+2.3s"]);
    assert!(err.contains("app2: clock 2.3 s ahead taken off"), "{err}");
    assert!(!err.contains("clock about"), "{err}");
}

#[test]
fn text_and_json_output_of_many_records_come_whole_and_in_time_order() {
    // Two logs whose records interleave, more than the output formats in one round on any
    // machine: every record once, in time order, the same in text and JSON.
    let dir = tempfile::tempdir().unwrap();
    let n = 60_000u32;
    for (name, odd) in [("a.log", 0u32), ("b.log", 1)] {
        let mut text = String::new();
        for i in (0..n).filter(|i| i % 2 == odd) {
            text.push_str(&format!(
                "203.0.113.{} - - [10/Mar/2024:{:02}:{:02}:{:02} +0000] \"GET /r/{i} HTTP/1.1\" 200 1 \"-\" \"c\"\n",
                i % 250,
                i / 3600 % 24,
                i / 60 % 60,
                i % 60
            ));
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().to_str().unwrap();
    let (code, out, err) = sitrep(&["timeline", path]);
    assert_eq!(code, 0, "{err}");
    let requests: Vec<u32> = out
        .lines()
        .map(|l| {
            let at = l.find("GET /r/").unwrap() + 7;
            l[at..].split(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(requests, (0..n).collect::<Vec<_>>());
    let (code, json, err) = sitrep(&["timeline", path, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let times: Vec<String> = json
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["ts"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(times.len(), n as usize);
    assert!(times.windows(2).all(|w| w[0] < w[1]), "out of order");
}
