//! A real `sos report` read as an incident bundle: the `.tar.xz` sos writes, the folder in it,
//! and the same folder packed as `.tar.gz` and `.tar.bz2`.
//!
//! sos copies files from `--sysroot`, so the nginx logs and unit files it collects are ones
//! this test writes; its commands (`ps`, `ss`, `nginx -T`, `systemctl`, `date`) run on this
//! machine (`--chroot never`), so only their structure is checked: each is read or named in a
//! note, never left out unsaid. Needs `sosreport` and `xz-utils` (.ci/run installs them) and
//! root, as sos wants.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// One row of `sitrep sources --format json`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Row {
    file: String,
    host: String,
    format: String,
    records: usize,
    tz: Option<String>,
    tz_reason: String,
}

fn sitrep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("run sitrep");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `sitrep sources PATH --format json`: rows by file, and the notes.
fn sources(path: &Path) -> (BTreeMap<String, Row>, String) {
    let (code, out, err) = sitrep(&["sources", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows = out
        .lines()
        .map(|l| serde_json::from_str::<Row>(l).unwrap())
        .map(|r| (r.file.clone(), r))
        .collect();
    (rows, err)
}

const ERROR_LINE: &str = "2026/12/03 18:00:00 [error] 812#812: *7 connect() to unix:/run/gunicorn.sock failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: app.test, request: \"GET / HTTP/1.1\", upstream: \"http://unix:/run/gunicorn.sock:/\", host: \"app.test\"\n";
const ACCESS_LINE: &str =
    "127.0.0.1 - - [03/Dec/2026:18:00:00 +0000] \"GET / HTTP/1.1\" 502 166 \"-\" \"curl/8.0\"\n";
const SERVICE: &str = "[Unit]\nDescription=app\nRequires=app.socket\n\n[Service]\nExecStart=/usr/bin/gunicorn --workers 2 --bind unix:/run/gunicorn.sock app:app\n";
const SOCKET: &str = "[Unit]\nDescription=app socket\n\n[Socket]\nListenStream=/run/gunicorn.sock\n\n[Install]\nWantedBy=sockets.target\n";

/// The report, made once for every test here: (its folder of temp files, the `.tar.xz`).
fn report() -> &'static (tempfile::TempDir, PathBuf) {
    static REPORT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    REPORT.get_or_init(|| {
        let sos = common::binary(&["/usr/bin/sos", "/usr/sbin/sos"], "sosreport");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let out = dir.path().join("out");
        for d in ["var/log/nginx", "etc/systemd/system", "out"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(root.join("var/log/nginx/access.log"), ACCESS_LINE).unwrap();
        std::fs::write(root.join("var/log/nginx/error.log"), ERROR_LINE).unwrap();
        std::fs::write(root.join("etc/systemd/system/app.service"), SERVICE).unwrap();
        std::fs::write(root.join("etc/systemd/system/app.socket"), SOCKET).unwrap();
        let started = Instant::now();
        let run = Command::new(sos)
            .args([
                "report",
                "--batch",
                "-o",
                "nginx,process,networking,logs,date,host,systemd",
                "--sysroot",
                root.to_str().unwrap(),
                "--chroot",
                "never",
                "-z",
                "xz",
                "--label",
                "sitrep",
                "--tmp-dir",
                out.to_str().unwrap(),
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run sos report");
        eprintln!("sos report took {:.1} s", started.elapsed().as_secs_f64());
        assert!(
            run.status.success(),
            "sos report failed: {}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        let archive = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".tar.xz"))
            .unwrap_or_else(|| {
                panic!(
                    "no .tar.xz from sos (is xz-utils installed?): {}",
                    String::from_utf8_lossy(&run.stdout)
                )
            });
        (dir, archive)
    })
}

/// The report's files unpacked (by the tar and liblzma crates, not by sitrep): the folder
/// `sosreport-HOST-...` inside `into`.
fn unpack(archive: &Path, into: &Path) -> PathBuf {
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(liblzma::read::XzDecoder::new_multi_decoder(file));
    tar.set_preserve_permissions(false);
    tar.unpack(into).unwrap();
    std::fs::read_dir(into)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sosreport-")
        })
        .unwrap()
}

/// Every regular file of the report (paths inside its top folder) and whether it is a link.
fn listing(archive: &Path) -> Vec<(String, bool)> {
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(liblzma::read::XzDecoder::new_multi_decoder(file));
    let mut out = Vec::new();
    for e in tar.entries().unwrap() {
        let e = e.unwrap();
        let kind = e.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let inner = path.split_once('/').map(|(_, p)| p.to_string()).unwrap();
        out.push((inner, kind.is_symlink() || kind.is_hard_link()));
    }
    out
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// This machine's offset as sitrep prints it (`+00:00`), from `date +%z`.
fn local_offset() -> String {
    let out = Command::new("date").arg("+%z").output().unwrap();
    let z = String::from_utf8_lossy(&out.stdout).trim().to_string();
    format!("{}:{}", &z[..3], &z[3..5])
}

fn digest(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    let mut data = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    (data, mtime)
}

#[test]
fn the_xz_report_reads_its_logs_units_and_commands_and_counts_the_rest() {
    let (_, archive) = report();
    let before = digest(archive);
    let (rows, notes) = sources(archive);
    let host = hostname();

    // The files this test wrote into the sysroot, with their formats and the host's zone.
    let access = &rows["var/log/nginx/access.log"];
    assert_eq!(
        (access.format.as_str(), access.records),
        ("nginx-access", 1)
    );
    let error = &rows["var/log/nginx/error.log"];
    assert_eq!((error.format.as_str(), error.records), ("nginx-error", 1));
    assert_eq!(error.tz_reason, "manifest", "{error:?}\n{notes}");
    assert_eq!(error.tz.as_deref(), Some(local_offset().as_str()));
    for unit in [
        "etc/systemd/system/app.service",
        "etc/systemd/system/app.socket",
    ] {
        assert_eq!(rows[unit].format, "systemctl-cat", "{unit}");
    }
    assert!(rows.values().all(|r| r.host == host), "{rows:?}");

    // Nothing of proc/, sys/, sos's own files or the rest of etc/ reaches the panes.
    for file in rows.keys() {
        assert!(
            !["proc/", "sys/", "sos_logs/", "sos_reports/", "sos_strings/"]
                .iter()
                .any(|p| file.starts_with(p))
                && (!file.starts_with("etc/") || file.starts_with("etc/systemd/")),
            "{file} should be left out"
        );
    }

    // Each command output sitrep reads is read, or said to be empty or without systemd.
    let list = listing(archive);
    let commands = list.iter().filter(|(p, link)| {
        !link
            && (p.starts_with("sos_commands/process/ps_")
                || p.starts_with("sos_commands/networking/ss_")
                || p.starts_with("sos_commands/networking/netstat_")
                || p.starts_with("sos_commands/nginx/nginx_-")
                || p == "sos_commands/systemd/systemctl_list-units"
                || p == "sos_commands/systemd/systemctl_status_--all")
    });
    let mut seen = 0;
    for (p, _) in commands {
        seen += 1;
        assert!(
            rows.contains_key(p) || notes.contains(p.as_str()),
            "{p}: neither read nor noted\n{notes}"
        );
    }
    assert!(seen >= 4, "sos ran process, networking and nginx: {list:?}");

    // One line counts what was left out; it is at least sos's own files, proc/ and sys/.
    let left: Vec<&str> = notes.lines().filter(|l| l.contains("left out")).collect();
    assert_eq!(left.len(), 1, "{notes}");
    let n: usize = left[0]
        .split("left out ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let surely_out = list
        .iter()
        .filter(|(p, link)| {
            !link
                && ["proc/", "sys/", "sos_logs/", "sos_reports/"]
                    .iter()
                    .any(|d| p.starts_with(d))
        })
        .count();
    assert!(
        n >= surely_out && surely_out > 0,
        "{n} < {surely_out}: {notes}"
    );
    assert!(left[0].contains("a sos report (sos "), "{notes}");
    assert!(notes.contains("the host's zone was"), "{notes}");
    assert!(
        notes.lines().count() < 12,
        "a few notes, not one per file:\n{notes}"
    );

    // Reading never changes the report.
    assert!(before == digest(archive), "the report changed while read");
}

#[test]
fn diagnose_names_the_host_of_the_report() {
    let (_, archive) = report();
    let (code, out, err) = sitrep(&["diagnose", archive.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["hosts"][0]["name"], hostname().as_str(), "{out}");
    let (code, text, err) = sitrep(&["diagnose", archive.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!text.is_empty());
    let (code, timeline, err) = sitrep(&["timeline", archive.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        timeline.contains("connect() to unix:/run/gunicorn.sock failed"),
        "{timeline}"
    );
}

#[test]
fn the_folder_and_gzip_and_bzip2_repacks_read_the_same() {
    let (_, archive) = report();
    let (want, _) = sources(archive);
    let tmp = tempfile::tempdir().unwrap();
    let folder = unpack(archive, tmp.path());
    let (rows, notes) = sources(&folder);
    assert_eq!(rows, want, "the folder reads as the archive\n{notes}");
    // The folder that holds the report folder reads the same too.
    let (rows, _) = sources(tmp.path());
    assert_eq!(rows, want);

    let top = folder.file_name().unwrap().to_string_lossy().into_owned();
    let pack = |w: Box<dyn std::io::Write>| {
        let mut b = tar::Builder::new(w);
        b.follow_symlinks(false);
        b.append_dir_all(&top, &folder).unwrap();
        b.into_inner().unwrap().flush().unwrap();
    };
    let gz = tmp.path().join("report.tar.gz");
    let f = std::fs::File::create(&gz).unwrap();
    pack(Box::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    )));
    let bz = tmp.path().join("report.tar.bz2");
    let f = std::fs::File::create(&bz).unwrap();
    pack(Box::new(bzip2::write::BzEncoder::new(
        f,
        bzip2::Compression::fast(),
    )));
    for p in [&gz, &bz] {
        let (rows, notes) = sources(p);
        assert_eq!(rows, want, "{}\n{notes}", p.display());
    }
}

#[test]
fn a_corrupt_or_unreadable_archive_is_an_error_not_an_all_clear() {
    let (_, archive) = report();
    let tmp = tempfile::tempdir().unwrap();
    let real = std::fs::read(archive).unwrap();
    // The xz header of the real report, then bytes that are no xz data.
    let bad = tmp.path().join("sosreport-bad.tar.xz");
    let mut data = real[..12].to_vec();
    data.extend(std::iter::repeat_n(0x55u8, 4096));
    std::fs::write(&bad, data).unwrap();
    for cmd in ["diagnose", "sources", "timeline"] {
        let (code, out, err) = sitrep(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(code, 2, "{cmd}: {out}{err}");
        assert!(
            err.contains("sosreport-bad.tar.xz: not a readable archive"),
            "{err}"
        );
        assert!(!out.contains("no rule found anything wrong"), "{out}");
    }
    // A compression sitrep has no reader for says which it is.
    let zst = tmp.path().join("report.tar.zst");
    std::fs::write(&zst, [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]).unwrap();
    let (code, _, err) = sitrep(&["diagnose", zst.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("zstd"), "{err}");
    // The report under another name is no longer one unknown file.
    let renamed = tmp.path().join("report.bin");
    std::fs::write(&renamed, &real).unwrap();
    let (code, _, err) = sitrep(&["diagnose", renamed.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a tar archive"), "{err}");
}
