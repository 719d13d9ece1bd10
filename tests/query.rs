//! `sitrep timeline --where`: golden output of field queries on the fixture bundles, and a bad
//! query's one-line error.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;

fn sitrep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TZ", "UTC")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = sitrep(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[test]
fn i1_5xx_under_books() {
    let out = ok(&[
        "timeline",
        "tests/bundles/i1-socket-mismatch",
        "--where",
        "status>=500 and path~^/books",
    ]);
    assert_eq!(out.lines().count(), 33);
    insta::assert_snapshot!("i1-5xx-books", out);
}

#[test]
fn i4_slow_upstream() {
    let out = ok(&[
        "timeline",
        "tests/bundles/i4-retry-storm",
        "--where",
        "upstream_time>2.5",
    ]);
    insta::assert_snapshot!("i4-upstream-time", out);
}

#[test]
fn where_combines_with_the_other_filters() {
    let b = "tests/bundles/i1-socket-mismatch";
    let all = ok(&["timeline", b, "--where", "status>=500", "--count"]);
    assert!(all.ends_with("        99  total\n"), "{all}");
    let since = ok(&[
        "timeline",
        b,
        "--where",
        "status>=500",
        "--since",
        "2023-04-13T11:40:00Z",
        "--count",
    ]);
    let grep = ok(&[
        "timeline",
        b,
        "--where",
        "status>=500",
        "--grep",
        "Googlebot",
        "--count",
    ]);
    for narrower in [&since, &grep] {
        let total = |s: &str| -> usize {
            s.lines()
                .last()
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(total(narrower) > 0 && total(narrower) < 99, "{narrower}");
    }
    let json = ok(&[
        "timeline",
        b,
        "--where",
        "level>=error and source=nginx-error and client=192.0.2.18",
        "--format",
        "json",
    ]);
    assert!(!json.is_empty());
    for l in json.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["source"], "nginx-error");
        assert!(v["text"].as_str().unwrap().contains("client: 192.0.2.18"));
    }
    let none = ok(&[
        "timeline",
        b,
        "--where",
        "unit=gunicorn.service",
        "--source",
        "nginx-access",
        "--count",
    ]);
    assert!(none.ends_with("         0  total\n"), "{none}");
}

#[test]
fn a_bad_query_is_one_line_and_exit_2() {
    let (code, out, err) = sitrep(&[
        "timeline",
        "tests/bundles/i1-socket-mismatch",
        "--where",
        "status",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--where: expected an operator after 'status' at 6"),
        "{err}"
    );
    let (code, _, err) = sitrep(&[
        "timeline",
        "tests/bundles/i1-socket-mismatch",
        "--where",
        "path~(",
    ]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}
