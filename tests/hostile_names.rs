//! Names from a bundle cannot drive the terminal nor fake rows: a tar entry, a folder file
//! and a manifest host carrying ESC, BEL, C1 controls, a bidi override and newlines come out
//! escaped in `timeline`, `sources` and `report` (text and JSON); the console's `R` names its
//! report from the host with path-safe characters only; `report -o` never follows a link
//! planted where it writes.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a hostile name carries: an OSC 52 clipboard write ended by BEL, a C1 CSI, a bidi
/// override and isolate, and a newline followed by a fake row.
const NASTY: &str = "\x1b]52;c;ZXZpbA==\x07\u{9b}31m\u{202e}\u{2066}\nFAKE ROW\t";

const ACCESS: &str = "192.0.2.78 - - [13/Apr/2023:10:40:16 +0000] \"GET / HTTP/1.1\" 502 166 \"-\" \"curl/8\"\n\
192.0.2.78 - - [13/Apr/2023:10:40:17 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"curl/8\"\n";

const APP: &str = "2023-04-13 10:40:16,120 ERROR django.request: Internal Server Error: /\n\
2023-04-13 10:40:17,000 INFO app: ok\n";

fn manifest() -> String {
    // TOML escapes keep the file valid while the value holds the hostile characters.
    let host: String = format!("web1{NASTY}")
        .chars()
        .map(|c| {
            if c.is_control() || !c.is_ascii() {
                format!("\\u{:04X}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect();
    format!("host = \"{host}\"\ncaptured_at = \"2023-04-13T11:55:00Z\"\ntz = \"+00:00\"\n")
}

/// A folder bundle: a hostile host in its manifest, a log under a hostile name.
fn folder(root: &Path) -> PathBuf {
    let dir = root.join("folder");
    std::fs::create_dir_all(dir.join("nginx")).unwrap();
    std::fs::write(dir.join("manifest.toml"), manifest()).unwrap();
    std::fs::write(dir.join("nginx").join(format!("access{NASTY}.log")), ACCESS).unwrap();
    dir
}

/// A tar.gz bundle: the same manifest, an entry named `app/ESC]52...BEL x.log`.
fn archive(root: &Path) -> PathBuf {
    let path = root.join("bundle.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, data) in [
        ("manifest.toml".to_string(), manifest()),
        (format!("app/{NASTY}x.log"), APP.to_string()),
        (format!("nginx/access{NASTY}.log"), ACCESS.to_string()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_681_386_900);
        // set_path refuses nothing here but `..`; the raw name goes in as it is.
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        tar.append(&h, data.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    path
}

/// What none of the outputs may hold (besides a newline inside a name, checked apart).
fn assert_clean(what: &str, text: &str) {
    for c in text.chars() {
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what}: {:?} reached the output:\n{text}", c);
    }
    // A newline in a name would start a row of its own.
    for line in text.lines() {
        assert!(
            !line.starts_with("FAKE ROW"),
            "{what}: a name faked a row:\n{text}"
        );
    }
}

fn sitrep(args: &[&str], bundle: &Path) -> String {
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
    assert_clean(
        &format!("{args:?} stderr"),
        &String::from_utf8_lossy(&out.stderr),
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hostile_file_and_host_names_come_out_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    for bundle in [folder(tmp.path()), archive(tmp.path())] {
        for args in [
            &["timeline", "--format", "text"][..],
            &["timeline", "--format", "json"],
            &["sources"],
            &["sources", "--format", "json"],
            &["report"],
        ] {
            let out = sitrep(args, &bundle);
            let what = format!("{args:?} {}", bundle.display());
            assert_clean(&what, &out);
            if args.contains(&"json") {
                // JSON escapes survive a round trip: each line is a document.
                for line in out.lines().filter(|l| l.starts_with('{')) {
                    serde_json::from_str::<serde_json::Value>(line)
                        .unwrap_or_else(|e| panic!("{what}: {e}: {line}"));
                }
            }
            if args == ["sources"] || args == ["timeline", "--format", "text"] {
                // The names are there, escaped: nothing dropped to make them safe.
                assert!(
                    out.contains("access\\x1b]52;c;ZXZpbA==\\x07\\x9b31m\\u{202e}\\u{2066}\\x0aFAKE ROW\\x09.log"),
                    "{what}:\n{out}"
                );
            }
            if args == ["report"] || args == ["timeline", "--format", "text"] {
                assert!(out.contains("web1\\x1b]52"), "{what}:\n{out}");
            }
        }
    }
}

#[test]
fn report_does_not_follow_a_planted_link() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = folder(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    // The name the report used to write first, and names a guess at ours could take.
    let mut planted = vec![out.join("r.md.partial"), out.join(".r.md.partial")];
    planted
        .extend((0..4).map(|n| out.join(format!(".r.md.partial-{}-{n}", std::process::id() + 1))));
    for p in &planted {
        std::os::unix::fs::symlink(&victim, p).unwrap();
    }
    let target = out.join("r.md");
    let said = sitrep(&["report", "-o", target.to_str().unwrap()], &bundle);
    assert!(said.contains("wrote"), "{said}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("web1\\x1b]52")
    );
    for p in &planted {
        assert!(p.symlink_metadata().unwrap().file_type().is_symlink());
    }
    // Nothing but the report and the planted links is left in the folder.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), planted.len() + 1);
}

#[test]
fn console_report_is_named_from_the_host_path_safely() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = folder(tmp.path());
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let tmux = common::Tmux::new("hostile-names");
    tmux.start(&format!(
        "cd {cwd} && {bin} replay {b}; echo SITREP-EXIT=$?; sleep 30",
        cwd = cwd.display(),
        bin = env!("CARGO_BIN_EXE_sitrep"),
        b = bundle.display()
    ));
    tmux.wait_for("Timeline");
    // R waits for the findings; try until it writes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        tmux.send(&["R"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
        if tmux.screen().contains("wrote sitrep-report-") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", tmux.screen());
    }
    tmux.quit();
    let names: Vec<String> = std::fs::read_dir(&cwd)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(name.starts_with("sitrep-report-web1"), "{name}");
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
        "{name:?}"
    );
    let text = std::fs::read_to_string(cwd.join(name)).unwrap();
    assert_clean("console report", &text);
}
