//! A journal-remote store made for real: systemd-journal-remote writes the journals of two
//! hosts (from export-format input) into a directory; sitrep reads it back as two hosts.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::process::Command;

#[test]
fn a_journal_remote_store_is_read_back_as_one_host_per_machine() {
    let dir = tempfile::tempdir().unwrap();
    // Export format: fields one per line, entries separated by a blank line.
    let base: i64 = 1_695_218_400_000_000;
    let mut export = String::new();
    for i in 0..12i64 {
        let (host, ident, msg) = if i % 2 == 0 {
            ("web1", "nginx", "upstream refused")
        } else {
            ("app1", "gunicorn", "worker timeout")
        };
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME={host}\nSYSLOG_IDENTIFIER={ident}\nPRIORITY=3\nMESSAGE={msg} {i}\n\n",
            base + i * 1_500_000,
            1000 + i * 1_500_000
        ));
    }
    let store = common::journal_store(dir.path(), &export);

    let out = common::run_ok(Command::new(env!("CARGO_BIN_EXE_sitrep")).args([
        "timeline",
        store.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 12);
    let on = |h: &str| rows.iter().filter(|r| r["host"] == h).count();
    assert_eq!((on("web1"), on("app1")), (6, 6));
    // Merged in time order across the two hosts, each with its own message.
    assert_eq!(rows[0]["host"], "web1");
    assert_eq!(rows[1]["host"], "app1");
    assert!(
        rows[1]["text"]
            .as_str()
            .unwrap()
            .contains("worker timeout 1")
    );
    assert_eq!(rows[0]["severity"], "error");
}
