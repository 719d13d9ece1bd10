//! Bounds that hold whatever a bundle holds: a small archive of very many short lines keeps
//! at most the records sitrep allows per file and per bundle (the newest), and says so.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sitrep::ingest::{LoadOptions, load};

/// A `.tar.gz` holding `app/flood.log.gz`: `lines` lines of `a`, then one last line.
fn flood(path: &std::path::Path, lines: usize) {
    let mut inner = GzEncoder::new(Vec::new(), Compression::fast());
    let chunk = "a\n".repeat(1 << 16);
    let mut left = lines;
    while left > 0 {
        let n = left.min(1 << 16);
        inner.write_all(&chunk.as_bytes()[..n * 2]).unwrap();
        left -= n;
    }
    inner.write_all(b"the last line\n").unwrap();
    let gz = inner.finish().unwrap();
    let mut tar = tar::Builder::new(GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        Compression::default(),
    ));
    let mut h = tar::Header::new_gnu();
    h.set_size(gz.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, "app/flood.log.gz", gz.as_slice())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_flood_of_short_lines_keeps_the_newest_records_within_the_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("flood.tar.gz");
    flood(&bundle, 3_000_000);
    assert!(std::fs::metadata(&bundle).unwrap().len() < 200_000);
    let opts = LoadOptions {
        max_records: (1_000_000, 2_000_000),
        ..LoadOptions::default()
    };
    let inc = load(&[bundle], &opts).unwrap();
    let s = &inc.sources[0];
    assert_eq!(s.len(), 1_000_000);
    // The newest lines: the file's last line is there, with its own line number.
    assert_eq!(s.text(s.len() - 1), "the last line");
    assert_eq!(s.lines[s.len() - 1], 3_000_001);
    let notes = inc.notes.join("\n");
    assert!(
        notes.contains(
            "app/flood.log.gz: 3000001 lines; kept the last 1000000 (at most 1000000 per file)"
        ),
        "{notes}"
    );
}

#[test]
fn the_default_bounds_are_said_in_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let d = LoadOptions::default().max_records;
    for n in [d.0, d.1] {
        let shown = n
            .to_string()
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(",");
        assert!(readme.contains(&shown), "README does not say {shown}");
    }
}

#[test]
fn a_long_first_line_does_not_hide_an_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let line = |path: &str, status: u16| {
        format!(
            "192.0.2.7 - - [03/Dec/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" {status} 12 \"-\" \"probe\"\n"
        )
    };
    // A scanner's 100 KiB request line first, then ordinary requests.
    let mut text = line(&format!("/?q={}", "A".repeat(100 * 1024)), 414);
    for i in 0..20 {
        text.push_str(&line(
            &format!("/page/{i}"),
            if i % 5 == 0 { 502 } else { 200 },
        ));
    }
    std::fs::write(&log, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("sources")
        .arg(&log)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(said.contains("nginx-access"), "{said}");
    assert!(
        err.contains("1 line(s) longer than 16 KiB at its start were passed over"),
        "{err}"
    );
}

/// The peak resident memory of the largest child process this test binary has waited for.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage fills the struct it is given and reads nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) }, 0);
    u64::try_from(u.ru_maxrss).unwrap() * 1024
}

#[test]
fn loading_a_big_log_never_holds_all_of_its_pages() {
    // 200 MB of access lines: counting them for the record bounds, and parsing them, each hand
    // their pages back as they go, so the peak stays far below the file's size.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let pad = "x".repeat(60);
    for i in 0..1_300_000u32 {
        writeln!(
            f,
            "203.0.113.{} - - [10/Mar/2024:11:{:02}:{:02} +0000] \"GET /items/{i}?q={pad} HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"",
            i % 250,
            i / 60_000 % 60,
            i / 1_000 % 60
        )
        .unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 190_000_000, "{size}");
    let out = common::run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .args(["timeline", "--count"])
            .arg(&path),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1300000  total"));
    let peak = children_peak_rss();
    assert!(
        peak < size / 2,
        "peak RSS {} MB for a {} MB file",
        peak >> 20,
        size >> 20
    );
}
