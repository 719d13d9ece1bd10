//! The awkward bundle (tests/bundles/awkward) plus what is generated here: a 2 MiB line, a
//! truncated gzip, and an archive with entries that try to leave the bundle. Nothing panics,
//! nothing is dropped, every problem is said, and no escape sequence reaches the output.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::Compression;
use flate2::write::GzEncoder;
use sitrep::ingest::bundle::Limits;
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::Incident;
use sitrep::model::format_id::FormatId;
use sitrep::model::source::{MAX_DISPLAY_LINE, flag};
use sitrep::model::time::format_utc;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The committed awkward bundle plus the generated parts, in a temp dir.
fn awkward_dir(root: &Path) -> PathBuf {
    let dir = root.join("awkward");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles/awkward"),
        &dir,
    );
    let mut big = String::from("[2023-04-13 11:24:05 +0000] [901] [INFO] payload ");
    big.push_str(&"x".repeat(2 << 20));
    big.push_str("\n[2023-04-13 11:24:06 +0000] [901] [INFO] after the long line\n");
    std::fs::write(dir.join("app/big.log"), big).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    for i in 0..2000 {
        writeln!(
            gz,
            "[2023-04-13 10:{:02}:{:02} +0000] [900] [INFO] old line {i}",
            i / 60 % 60,
            i % 60
        )
        .unwrap();
    }
    let gz = gz.finish().unwrap();
    std::fs::write(dir.join("app/gunicorn.log.2.gz"), &gz[..gz.len() / 2]).unwrap();
    dir
}

fn source<'a>(inc: &'a Incident, file: &str) -> &'a sitrep::model::source::Source {
    inc.sources
        .iter()
        .find(|s| s.file == file)
        .unwrap_or_else(|| {
            panic!(
                "{file} missing from {:?}",
                inc.sources.iter().map(|s| &s.file).collect::<Vec<_>>()
            )
        })
}

#[test]
fn every_file_is_kept_and_every_problem_said() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = awkward_dir(tmp.path());
    let inc = load(&[dir], &LoadOptions::default()).unwrap();
    assert_eq!(
        inc.sources.len(),
        8,
        "{:?}",
        inc.sources.iter().map(|s| &s.file).collect::<Vec<_>>()
    );
    assert_eq!(source(&inc, "app/core.bin").format, FormatId::Unknown);
    assert_eq!(source(&inc, "nginx/access.log.1").len(), 0);

    // Zones: three logs in three zones meet at 11:24:04Z.
    let at = |file: &str| format_utc(source(&inc, file).ts[0]);
    assert_eq!(at("nginx/error.log"), "2023-04-13T11:24:04.000000Z");
    assert_eq!(at("nginx/access.log"), "2023-04-13T11:24:04.000000Z");
    assert_eq!(at("app/gunicorn.log"), "2023-04-13T11:24:03.000000Z");
    assert_eq!(
        source(&inc, "app/gunicorn.log").ts[1],
        source(&inc, "nginx/error.log").ts[0]
    );

    // CRLF: no \r in the text.
    assert!(!source(&inc, "nginx/error.log").text(0).contains('\r'));
    // Invalid UTF-8 is shown lossily, not refused.
    assert!(
        source(&inc, "nginx/access.log")
            .text(1)
            .contains('\u{fffd}')
    );

    // The long line is kept whole, marked, and cut for display; the next record is intact.
    let big = source(&inc, "app/big.log");
    assert_eq!(big.len(), 2);
    assert_ne!(big.flags[0] & flag::LONG_LINE, 0);
    assert!(big.raw(0).len() > 2 << 20);
    assert!(big.text(0).len() < MAX_DISPLAY_LINE + 100);
    assert!(big.text(0).ends_with("bytes in all]"));
    assert!(big.text(1).ends_with("after the long line"));

    // The truncated gzip keeps what it had and says so.
    let old = source(&inc, "app/gunicorn.log.2.gz");
    assert!(old.len() > 100, "kept {} records", old.len());
    assert!(
        inc.notes
            .iter()
            .any(|n| n.contains("gunicorn.log.2.gz") && n.contains("ends early")),
        "{:?}",
        inc.notes
    );

    // The broken journal line is a flagged record between its neighbours.
    let j = source(&inc, "journal/journal.json");
    assert_eq!((j.len(), j.stats.unparsed), (3, 1));
    assert_ne!(j.flags[1] & flag::UNPARSED, 0);
}

#[test]
fn decompression_is_bounded_and_the_cut_is_said() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bomb");
    std::fs::create_dir_all(&dir).unwrap();
    // 64 MiB of one repeated line compresses to a few hundred KiB.
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let line = b"[2023-04-13 11:24:05 +0000] [901] [INFO] again and again\n";
    for _ in 0..(64 << 20) / line.len() {
        gz.write_all(line).unwrap();
    }
    std::fs::write(dir.join("gunicorn.log.1.gz"), gz.finish().unwrap()).unwrap();
    let opts = LoadOptions {
        limits: Limits {
            max_file: 1 << 20,
            max_total: 4 << 20,
        },
        ..LoadOptions::default()
    };
    let inc = load(&[dir], &opts).unwrap();
    let s = &inc.sources[0];
    assert!(s.data.len() <= 1 << 20);
    assert!(s.len() > 1000);
    assert!(
        inc.notes
            .iter()
            .any(|n| n.contains("passed the limit of 1048576 bytes")),
        "{:?}",
        inc.notes
    );
}

#[test]
fn an_archive_refuses_entries_that_leave_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = awkward_dir(tmp.path());
    let archive = tmp.path().join("awkward.tar.gz");
    let gz = GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all("awkward", &dir).unwrap();
    for evil in ["../escape.log", "/etc/evil.log"] {
        let body = b"2023/04/13 13:24:04 [error] 1#1: should never be read\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        // Write the raw name: the tar crate refuses `..` in set_path, as it should.
        let name = &mut h.as_old_mut().name;
        name[..evil.len()].copy_from_slice(evil.as_bytes());
        h.set_cksum();
        tar.append(&h, &body[..]).unwrap();
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    tar.append_link(&mut link, "awkward/app/passwd", "/etc/passwd")
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();

    let before = std::fs::read(&archive).unwrap();
    let inc = load(std::slice::from_ref(&archive), &LoadOptions::default()).unwrap();
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        before,
        "reading changed the archive"
    );
    assert_eq!(inc.hosts[0].name, "odd1");
    assert!(
        inc.sources
            .iter()
            .all(|s| !s.file.contains("escape") && !s.file.contains("evil"))
    );
    assert!(inc.sources.iter().all(|s| !s.file.starts_with("awkward/")));
    assert_eq!(inc.sources.len(), 8);
    let notes = inc.notes.join("\n");
    assert!(
        notes.contains("../escape.log: refused, a path with `..`"),
        "{notes}"
    );
    assert!(
        notes.contains("/etc/evil.log: refused, an absolute path"),
        "{notes}"
    );
    assert!(
        notes.contains("app/passwd: a link inside the archive; not followed"),
        "{notes}"
    );
}

#[test]
fn no_escape_sequence_from_a_log_reaches_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = awkward_dir(tmp.path());
    for format in ["text", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .args(["timeline", dir.to_str().unwrap(), "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        let bytes = out.stdout;
        for bad in [0x1bu8, 0x07, b'\r'] {
            assert!(!bytes.contains(&bad), "{format} output holds byte {bad:#x}");
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains('\u{202e}') && !text.contains('\u{9b}'),
            "{format}: bidi/C1 control passed"
        );
        if format == "text" {
            assert!(
                text.contains("\\x1b]52;c;"),
                "the OSC 52 attempt is shown inert"
            );
        }
    }
}
