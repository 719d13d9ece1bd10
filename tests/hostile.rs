//! Hostile bundles, made here at run time: links out of a bundle folder, a named pipe, a
//! truncated archive, 100 000 tiny files, a 500 MB line, NUL bytes, times in 1970 and 2100
//! and going backwards, a manifest with wrong types, empty bundles. Each one gets a note or
//! a marker; nothing panics or hangs, and the good records around the bad ones are kept.
//! (tests/awkward.rs holds the committed awkward bundle, `..` and absolute tar entries,
//! gzip bombs and escape sequences in `timeline`.)

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::Incident;
use sitrep::model::source::flag;
use sitrep::model::time::format_utc;

fn access(day: &str, path: &str, status: u16) -> String {
    format!("192.0.2.7 - - [{day} +0000] \"GET {path} HTTP/1.1\" {status} 12 \"-\" \"probe\"\n")
}

fn load_one(path: &Path) -> Incident {
    load(&[path.to_path_buf()], &LoadOptions::default()).unwrap()
}

fn notes(inc: &Incident) -> String {
    inc.notes.join("\n")
}

fn texts(inc: &Incident) -> Vec<String> {
    inc.sources
        .iter()
        .flat_map(|s| (0..s.len()).map(|r| s.text(r).into_owned()))
        .collect()
}

/// An I-1-like folder: an access log with good lines.
fn folder(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("nginx")).unwrap();
    let mut log = String::new();
    for s in 0..10 {
        log.push_str(&access(
            &format!("13/Apr/2023:11:24:{s:02}"),
            &format!("/ok{s}"),
            200,
        ));
    }
    std::fs::write(dir.join("nginx/access.log"), log).unwrap();
    dir
}

#[test]
fn links_out_of_a_bundle_folder_and_a_pipe_are_said_and_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = folder(tmp.path(), "b");
    let outside = tmp.path().join("secret");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("passwd.log"),
        access("13/Apr/2023:11:00:00", "/secret", 200),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.join("passwd.log"), dir.join("nginx/error.log")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("app")).unwrap();
    let fifo = dir.join("nginx/fifo.log");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // A pipe nobody writes to would block a reader forever: loading must not open it.
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let _ = tx.send(load_one(&d));
    });
    let inc = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("loading a bundle with a named pipe hung");
    let n = notes(&inc);
    assert!(
        n.contains("nginx/error.log: a link that points outside the bundle; not followed"),
        "{n}"
    );
    assert!(
        n.contains("app: a link that points outside the bundle; not followed"),
        "{n}"
    );
    assert!(n.contains("nginx/fifo.log: not a regular file"), "{n}");
    let all = texts(&inc);
    assert!(all.iter().all(|t| !t.contains("/secret")));
    assert_eq!(all.len(), 10, "the good lines are all kept");
}

#[test]
fn a_truncated_archive_keeps_the_files_before_the_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles/i1-socket-mismatch");
    let archive = tmp.path().join("i1.tar.gz");
    let gz = GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(".", &bundle).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    let whole = std::fs::read(&archive).unwrap();
    let cut = tmp.path().join("cut.tar.gz");
    std::fs::write(&cut, &whole[..whole.len() * 6 / 10]).unwrap();
    let full = load_one(&archive);
    let inc = load_one(&cut);
    assert!(
        notes(&inc).contains("archive ends early; kept the files read before it"),
        "{}",
        notes(&inc)
    );
    assert!(!inc.sources.is_empty() && inc.sources.len() <= full.sources.len());
    // What was read is what the whole archive holds for those files, line for line (a file
    // cut in the middle keeps its first lines).
    for s in &inc.sources {
        let f = full.sources.iter().find(|f| f.file == s.file).unwrap();
        for r in 0..s.len().saturating_sub(1) {
            assert_eq!(s.raw(r), f.raw(r), "{} record {r}", s.file);
        }
    }
}

#[test]
fn a_hundred_thousand_tiny_files_load_in_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("many.tar.gz");
    let gz = GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for i in 0..100_000u32 {
        let line = access(
            &format!("13/Apr/2023:11:{:02}:{:02}", i / 6000 % 60, i / 100 % 60),
            &format!("/f{i}"),
            200,
        );
        let mut h = tar::Header::new_gnu();
        h.set_size(line.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_681_385_044);
        tar.append_data(&mut h, format!("app/f{i}.log"), line.as_bytes())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(["timeline", "--count"])
        .arg(&archive)
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("100000  total"),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    // Release builds take under a second; this is a debug build on a shared machine.
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn a_500_mb_line_is_kept_marked_and_its_neighbours_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("huge");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(dir.join("app/gunicorn.log")).unwrap());
        f.write_all(b"[2023-04-13 11:24:04 +0000] [901] [INFO] before\n")
            .unwrap();
        f.write_all(b"[2023-04-13 11:24:05 +0000] [901] [ERROR] payload ")
            .unwrap();
        let chunk = vec![b'y'; 1 << 20];
        for _ in 0..500 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\n[2023-04-13 11:24:06 +0000] [901] [INFO] after\n")
            .unwrap();
    }
    let start = Instant::now();
    let inc = load_one(&dir);
    let s = &inc.sources[0];
    assert_eq!(s.len(), 3);
    assert_ne!(s.flags[1] & flag::LONG_LINE, 0, "the long line is marked");
    assert!(s.raw(1).len() > 500 << 20, "and kept whole");
    assert!(s.text(1).ends_with("bytes in all]"), "shown cut, saying so");
    assert!(s.text(0).ends_with("before") && s.text(2).ends_with("after"));
    // The rules and the console's first frame read it too, within seconds.
    let a = sitrep::analysis::analyse(&inc, sitrep::analysis::checklist::Library::load(None, &inc));
    assert!(a.diagnosis.findings.len() < 100);
    let mut app = sitrep::ui::app::App::new(inc);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    for _ in 0..3 {
        app.update(sitrep::ui::action::Action::Down);
        t.draw(|f| sitrep::ui::draw(f, &mut app, &sitrep::ui::theme::Theme::plain()))
            .unwrap();
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(120), "took {took:?}");
}

#[test]
fn nul_bytes_far_times_and_times_going_back_keep_every_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("time");
    std::fs::create_dir_all(dir.join("nginx")).unwrap();
    let log = [
        access("13/Apr/2023:11:24:04", "/a", 200),
        access("01/Jan/1970:00:00:00", "/epoch", 502),
        access("13/Apr/2023:11:24:03", "/back", 200),
        access("31/Dec/2100:23:59:59", "/future", 502),
        access("13/Apr/2023:11:24:05", "/nul\0byte", 200),
        access("13/Apr/2023:11:24:06", "/after", 200),
    ]
    .concat();
    std::fs::write(dir.join("nginx/access.log"), log).unwrap();
    let inc = load_one(&dir);
    let s = &inc.sources[0];
    assert_eq!(s.len(), 6, "every line is a record");
    // Time order, with the line going back placed by its time.
    let order: Vec<String> = (0..s.len())
        .map(|i| format_utc(s.ts[s.row_in_time_order(i)]))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order[0], "1970-01-01T00:00:00.000000Z");
    assert_eq!(order[5], "2100-12-31T23:59:59.000000Z");
    // The far ones are named, with their lines.
    let n = notes(&inc);
    assert!(
        n.contains("2 record(s) dated more than a year from the rest (line 2 at 1970-01-01, line 4 at 2100-12-31)"),
        "{n}"
    );
    // The NUL byte is kept in the record and shown inert.
    let shown = sitrep::text::sanitize(&s.text(4)).into_owned();
    assert!(shown.contains("/nul\\x00byte"), "{shown}");
    // The incident start is not the lone 1970 line.
    let d = sitrep::analysis::rules::diagnose(&inc);
    if let Some(t) = d.incident_start {
        assert!(
            format_utc(t).starts_with("2023") || format_utc(t).starts_with("2100"),
            "{}",
            format_utc(t)
        );
    }
}

#[test]
fn a_manifest_with_wrong_types_is_ignored_with_a_note_and_the_logs_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = folder(tmp.path(), "badman");
    std::fs::write(dir.join("manifest.toml"), "host = 3\ntz = [\"+02:00\"]\n").unwrap();
    let inc = load_one(&dir);
    let n = notes(&inc);
    assert!(
        n.contains("manifest.toml: ignored") && n.contains("host"),
        "{n}"
    );
    assert_eq!(inc.hosts[0].name, "badman", "the folder names the host");
    assert_eq!(texts(&inc).len(), 10);
}

#[test]
fn empty_bundles_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let empty_tar = tmp.path().join("empty.tar.gz");
    tar::Builder::new(GzEncoder::new(
        std::fs::File::create(&empty_tar).unwrap(),
        Compression::fast(),
    ))
    .into_inner()
    .unwrap()
    .finish()
    .unwrap();
    for b in [&empty, &empty_tar] {
        let inc = load_one(b);
        assert!(
            notes(&inc).contains("no file in it to read (an empty bundle)"),
            "{}",
            notes(&inc)
        );
        let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .arg("diagnose")
            .arg(b)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("an empty bundle"));
    }
    // A zero-byte file named like an archive: one line, exit 2.
    let zero = tmp.path().join("zero.tar.gz");
    std::fs::write(&zero, b"").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("diagnose")
        .arg(&zero)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zero.tar.gz: not a readable archive"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
