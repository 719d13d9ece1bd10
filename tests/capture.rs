//! `sitrep capture` for real: I-1 reproduced on loopback (gunicorn on a unix socket, nginx
//! proxying to a TCP port where nothing listens), captured by the real binary into a
//! redacted bundle that `sitrep diagnose` then reads. Also: a capture that cannot write
//! leaves nothing, and without `--no-systemd` on a host without systemd it still succeeds.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::{free_ports, get};

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sitrep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitrep"))
}

/// The text of one bundle entry (`.gz` entries decompressed).
fn entry(bundle: &Path, name: &str) -> Option<String> {
    let file = std::fs::File::open(bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == name {
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            return Some(s);
        }
    }
    None
}

const BEARER: &str = "s3cr3tBearerT0ken.abc";

#[test]
fn capture_of_i1_is_redacted_and_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let gunicorn_log = root.join("gunicorn.log");
    let (app, sock) = common::gunicorn_on_socket(root, &gunicorn_log);
    let [port, dead] = free_ports();
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // The access log also records the Authorization header, as some sites do.
    let conf_path = common::i1_nginx_conf(
        root,
        &logs,
        port,
        dead,
        "log_format withauth '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$http_authorization\"';\n    access_log {access_log} withauth",
    );
    let server = common::start_nginx(root, &conf_path);
    assert!(get(port, "/", "").contains("502 Bad Gateway"));
    let auth = format!("Authorization: Bearer {BEARER}\r\n");
    assert!(get(port, "/login?password=hunter2&token=abc", &auth).contains("502 Bad Gateway"));
    assert!(get(port, "/books/", "").contains("502 Bad Gateway"));

    let out_dir = root.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let bundle = out_dir.join("b.tar.gz");
    let run = sitrep()
        .arg("capture")
        .arg("-o")
        .arg(&bundle)
        .arg("--nginx-conf")
        .arg(&conf_path)
        .arg("--log")
        .arg(&gunicorn_log)
        .args(["--no-systemd", "--since", "10m"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    drop(server);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("wrote") && stderr.contains("nginx/access.log"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped (--no-systemd)"), "{stderr}");
    // Only the bundle: no partial file left beside it.
    let names: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["b.tar.gz"]);

    let access = entry(&bundle, "nginx/access.log").unwrap();
    let error = entry(&bundle, "nginx/error.log").unwrap();
    assert!(access.contains("\" 502 "), "{access}");
    assert!(
        access.contains(
            "GET /login?password=[REDACTED:password]&token=[REDACTED:token] HTTP/1.1\" 502 "
        ),
        "{access}"
    );
    assert!(access.contains("\"Bearer [REDACTED:token]\""), "{access}");
    assert!(
        error.contains("(111: Connection refused) while connecting to upstream")
            && error.contains("[REDACTED:password]"),
        "{error}"
    );
    for (name, text) in [("access", &access), ("error", &error)] {
        assert!(
            !text.contains("hunter2") && !text.contains(BEARER),
            "{name}: {text}"
        );
    }
    let t = entry(&bundle, "nginx/nginx-T.txt").unwrap();
    assert!(
        t.contains(&format!("proxy_pass http://127.0.0.1:{dead};")),
        "{t}"
    );
    let ss = entry(&bundle, "sockets/ss.txt").unwrap();
    assert!(ss.contains(&sock.display().to_string()), "{ss}");
    // The process table holds the test's gunicorn with its command line (its --bind).
    let ps = entry(&bundle, "processes/ps.txt").unwrap();
    let row = ps
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&app.0.id().to_string()))
        .unwrap_or_else(|| panic!("no row of pid {} in\n{ps}", app.0.id()));
    assert!(
        row.contains("gunicorn") && row.contains(&sock.display().to_string()),
        "{row}"
    );
    assert!(
        entry(&bundle, "app/gunicorn.log")
            .unwrap()
            .contains("Booting worker")
    );
    let manifest = entry(&bundle, "manifest.toml").unwrap();
    let m: toml::Table = toml::from_str(&manifest).unwrap();
    let red = m["redaction"].as_table().unwrap();
    assert!(red["password"].as_integer().unwrap() >= 2, "{manifest}");
    assert!(red["token"].as_integer().unwrap() >= 2, "{manifest}");
    assert!(
        m["window"]["since"].as_str().is_some() && m["tz"].as_str().is_some(),
        "{manifest}"
    );

    let diag = common::run_ok(
        sitrep()
            .arg("diagnose")
            .arg(&bundle)
            .args(["--format", "json"]),
    );
    let v: serde_json::Value = serde_json::from_slice(&diag.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let f = findings
        .iter()
        .find(|f| f["id"] == "upstream-unreachable")
        .unwrap_or_else(|| panic!("no upstream-unreachable in {v:#}"));
    let title = f["title"].as_str().unwrap();
    assert!(title.contains(&format!("127.0.0.1:{dead}")), "{title}");
    assert!(
        title.contains(&format!("unix:{}", sock.display())),
        "{title}"
    );
}

#[test]
fn a_capture_that_cannot_write_exits_2_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    for target in [
        dir.path().join("missing/b.tar.gz"),
        file.join("b.tar.gz"),
        dir.path().join("b.zip"),
    ] {
        let run = sitrep()
            .arg("capture")
            .arg("-o")
            .arg(&target)
            .args(["--no-systemd", "--since", "1m"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        let last: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("sitrep: "))
            .collect();
        assert_eq!(last.len(), 1, "{stderr}");
    }
    // A directory as -o: refused before anything is written.
    let run = sitrep()
        .arg("capture")
        .arg("-o")
        .arg(dir.path().join("d.tar.gz"))
        .args(["--no-systemd"])
        .env("SITREP_NGINX", common::fake_nginx(dir.path()))
        .output()
        .unwrap();
    assert!(run.status.success());
    std::fs::remove_file(dir.path().join("d.tar.gz")).unwrap();
    std::fs::create_dir(dir.path().join("d.tar.gz")).unwrap();
    let run = sitrep()
        .arg("capture")
        .arg("-o")
        .arg(dir.path().join("d.tar.gz"))
        .args(["--no-systemd"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["d.tar.gz", "nginx-of-this-test", "plain"]);
}

#[test]
fn without_systemd_on_the_host_the_capture_still_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.tar.gz");
    // A hanging command is cut at the limit and reported, never a hang.
    let hang = dir.path().join("hang");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 30\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o755)).unwrap();
    let t = Instant::now();
    let run = sitrep()
        .arg("capture")
        .arg("-o")
        .arg(&bundle)
        .args(["--since", "5m"])
        .env("SITREP_NGINX", common::fake_nginx(dir.path()))
        .env("SITREP_SS", &hang)
        .env("SITREP_CAPTURE_TIMEOUT", "1")
        .env("SITREP_SYSTEMCTL", "/nonexistent/systemctl")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(t.elapsed() < Duration::from_secs(20), "{stderr}");
    assert!(
        stderr.contains("ss -Haptn: timed out after 1 s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("missing") && stderr.contains("systemctl: not installed"),
        "{stderr}"
    );
    assert!(
        entry(&bundle, "manifest.toml")
            .unwrap()
            .contains("systemctl: not installed")
    );
    // And with the real systemctl of this container, which has no systemd running.
    if Path::new("/usr/bin/systemctl").exists() && !Path::new("/run/systemd/system").exists() {
        let run = sitrep()
            .arg("capture")
            .arg("-o")
            .arg(&bundle)
            .args(["--since", "5m"])
            .env("SITREP_NGINX", common::fake_nginx(dir.path()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        assert!(
            stderr.contains("systemctl: System has not been booted with systemd"),
            "{stderr}"
        );
    }
}

#[test]
fn personal_data_goes_with_redact_pii_and_journal_bytes_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pay.log");
    std::fs::write(
        &log,
        "2023-04-13 11:24:04 charge for jane.doe@example.org card 4111 1111 1111 1111 password=hunter2\n",
    )
    .unwrap();
    // journald writes a MESSAGE with colour codes as an array of bytes.
    let msg: Vec<String> = "\x1b[31mlogin password=hunter2\x1b[0m"
        .bytes()
        .map(|b| b.to_string())
        .collect();
    let journal = dir.path().join("journal.json");
    std::fs::write(
        &journal,
        format!(
            "{{\"__REALTIME_TIMESTAMP\":\"1681385044000000\",\"_SYSTEMD_UNIT\":\"app.service\",\"MESSAGE\":[{}]}}\n",
            msg.join(",")
        ),
    )
    .unwrap();
    let capture = |bundle: &Path, pii: bool| {
        let mut cmd = sitrep();
        cmd.arg("capture")
            .arg("-o")
            .arg(bundle)
            .arg("--log")
            .arg(&log)
            .arg("--log")
            .arg(&journal)
            .args(["--no-systemd", "--since", "5m"])
            .env("SITREP_NGINX", common::fake_nginx(dir.path()))
            .env("SITREP_SS", "/nonexistent/ss");
        if pii {
            cmd.arg("--redact-pii");
        }
        let run = cmd.output().unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    };
    let with = dir.path().join("with.tar.gz");
    capture(&with, true);
    let pay = entry(&with, "app/pay.log").unwrap();
    assert!(
        !pay.contains("jane.doe@example.org") && !pay.contains("4111 1111"),
        "{pay}"
    );
    assert!(
        pay.contains("[REDACTED:email]") && pay.contains("[REDACTED:card]"),
        "{pay}"
    );
    let j = entry(&with, "app/journal.json").unwrap();
    let hunter: Vec<String> = "hunter2".bytes().map(|b| b.to_string()).collect();
    assert!(!j.contains(&hunter.join(",")), "{j}");
    let v: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
    assert!(v["MESSAGE"].is_array(), "{j}");
    let manifest = entry(&with, "manifest.toml").unwrap();
    let m: toml::Table = toml::from_str(&manifest).unwrap();
    assert_eq!(m["redaction"]["email"].as_integer(), Some(1), "{manifest}");
    assert_eq!(
        m["capture"]["redact_pii"].as_bool(),
        Some(true),
        "{manifest}"
    );

    let without = dir.path().join("without.tar.gz");
    capture(&without, false);
    let pay = entry(&without, "app/pay.log").unwrap();
    assert!(
        pay.contains("jane.doe@example.org") && !pay.contains("hunter2"),
        "{pay}"
    );
}
