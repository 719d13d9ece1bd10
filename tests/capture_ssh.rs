//! `sitrep capture --ssh` for real: Debian's OpenSSH server started by the test on a
//! loopback port (listening on 127.0.0.1 and 127.0.0.2: two "hosts"), a throwaway key, the
//! I-1 stack (gunicorn on a unix socket, nginx proxying to a dead port) on this machine, and
//! a third host where nothing answers. Both reachable hosts are captured in parallel over
//! the real `ssh`, redacted, and read back by `sitrep diagnose`; the dead one is reported
//! without stopping the others.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::{Running, free_ports, get};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sitrep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitrep"))
}

/// Every entry of a bundle: path and text.
fn entries(bundle: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut s = String::new();
        e.read_to_string(&mut s).unwrap();
        out.push((path, s));
    }
    out
}

fn text_of<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
    all.iter()
        .find(|(p, _)| p == name)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            let names: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
            panic!("no {name} in {names:?}")
        })
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
}

/// sshd on `port` of 127.0.0.1 and 127.0.0.2 accepting `key` for the current user; an ssh
/// config naming app1, app2 and `down` (a port where nothing listens).
fn sshd(root: &Path) -> (Running, PathBuf) {
    let sshd = common::binary(&["/usr/sbin/sshd"], "openssh-server");
    // sshd refuses to start without its privilege separation directory.
    std::fs::create_dir_all("/run/sshd").unwrap_or_else(|e| {
        panic!("cannot make /run/sshd ({e}); this test runs sshd as root, as .ci/run does")
    });
    let [port, dead] = free_ports();
    keygen(&root.join("host_key"));
    keygen(&root.join("user_key"));
    std::fs::copy(root.join("user_key.pub"), root.join("authorized_keys")).unwrap();
    let r = root.display();
    std::fs::write(
        root.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nListenAddress 127.0.0.2\nHostKey {r}/host_key\nAuthorizedKeysFile {r}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nPidFile {r}/sshd.pid\n"
        ),
    )
    .unwrap();
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    let config = root.join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host app1\n  HostName 127.0.0.1\nHost app2\n  HostName 127.0.0.2\nHost down\n  HostName 127.0.0.1\n  Port {dead}\nHost *\n  Port {port}\n  User {}\n  IdentityFile {r}/user_key\n  IdentitiesOnly yes\n  UserKnownHostsFile {r}/known_hosts\n  StrictHostKeyChecking accept-new\n",
            user.trim()
        ),
    )
    .unwrap();
    let server = Running(
        Command::new(&sshd)
            .args(["-D", "-f"])
            .arg(root.join("sshd_config"))
            .arg("-E")
            .arg(root.join("sshd.log"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.2", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not listen: {}",
            std::fs::read_to_string(root.join("sshd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, config)
}

/// The I-1 stack: gunicorn on a unix socket, nginx on `port` proxying to a dead port.
fn i1_stack(root: &Path) -> (Running, Running, PathBuf, u16, u16) {
    let gunicorn_log = root.join("gunicorn.log");
    let (app, sock) = common::gunicorn_on_socket(root, &gunicorn_log);
    let [port, dead] = free_ports();
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let conf_path = common::i1_nginx_conf(root, &logs, port, dead, "access_log {access_log}");
    let server = common::start_nginx(root, &conf_path);
    assert!(get(port, "/", "").contains("502 Bad Gateway"));
    assert!(get(port, "/login?password=hunter2", "").contains("502 Bad Gateway"));
    let _ = sock;
    (app, server, conf_path, port, dead)
}

fn capture(root: &Path, config: &Path, conf: &Path, output: &Path) -> (bool, String, u32) {
    let child = sitrep()
        .args(["capture", "--ssh", "app1,down,app2", "--ssh-config"])
        .arg(config)
        .arg("--nginx-conf")
        .arg(conf)
        .args(["--no-systemd", "--since", "10m", "-o"])
        .arg(output)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code() == Some(0),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        pid,
    )
}

/// Nothing of the ssh connections is left: no control directory, no ssh process using it.
fn nothing_left(pid: u32) {
    let prefix = format!("sitrep-ssh-{pid}-");
    let dirs: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(dirs.is_empty(), "control directories left: {dirs:?}");
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(
        !ps.lines().any(|l| l.contains(&prefix)),
        "an ssh process is left:\n{ps}"
    );
}

#[test]
fn two_hosts_are_captured_over_ssh_while_a_dead_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (_sshd, config) = sshd(root);
    let (_app, _nginx, conf, _port, dead) = i1_stack(root);

    // One bundle of every host.
    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let fleet = out.join("fleet.tar.gz");
    let (ok, stderr, pid) = capture(root, &config, &conf, &fleet);
    assert!(
        !ok,
        "a failed host must make the exit status say so\n{stderr}"
    );
    nothing_left(pid);
    for host in ["app1", "app2"] {
        assert!(
            stderr.contains(&format!("{host}: connected")),
            "{host}\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("{host}: nginx -T -c: ")),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("down: not captured: ssh down: connect to host 127.0.0.1 port")
            && stderr.contains("Connection refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 3 host(s) captured; wrote"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 3 host(s) failed (down)"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["fleet.tar.gz"], "parts left beside the bundle");

    let all = entries(&fleet);
    let top: toml::Table = toml::from_str(text_of(&all, "manifest.toml")).unwrap();
    assert_eq!(
        top["hosts"].as_array().unwrap(),
        &vec![toml::Value::from("app1"), toml::Value::from("app2")]
    );
    assert!(
        top["failed"].as_array().unwrap()[0]
            .as_str()
            .unwrap()
            .starts_with("down: ssh down:"),
        "{top}"
    );
    for host in ["app1", "app2"] {
        let m: toml::Table =
            toml::from_str(text_of(&all, &format!("hosts/{host}/manifest.toml"))).unwrap();
        assert_eq!(m["host"].as_str(), Some(host));
        assert_eq!(m["capture"]["ssh"].as_str(), Some(host));
        assert!(
            m["capture"]["hostname"]
                .as_str()
                .is_some_and(|h| !h.is_empty())
        );
        // Read there: nginx's log (redacted before it was written), the config naming the
        // dead upstream, the sockets, and gunicorn's log found from its command line in /proc.
        let access = text_of(&all, &format!("hosts/{host}/nginx/access.log"));
        assert!(
            access.contains("GET /login?password=[REDACTED:password] HTTP/1.1\" 502"),
            "{access}"
        );
        assert!(!access.contains("hunter2"));
        assert!(
            text_of(&all, &format!("hosts/{host}/nginx/nginx-T.txt"))
                .contains(&format!("proxy_pass http://127.0.0.1:{dead};"))
        );
        assert!(text_of(&all, &format!("hosts/{host}/sockets/ss.txt")).contains("gunicorn.sock"));
        assert!(
            text_of(&all, &format!("hosts/{host}/app/gunicorn.log")).contains("Booting worker")
        );
    }

    // Replay reads it as two hosts, each with the I-1 finding, and says which host is missing.
    let diag = sitrep()
        .arg("diagnose")
        .arg(&fleet)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let diag_err = String::from_utf8_lossy(&diag.stderr);
    assert!(diag.status.success(), "{diag_err}");
    assert!(diag_err.contains("not captured: down:"), "{diag_err}");
    let v: serde_json::Value = serde_json::from_slice(&diag.stdout).unwrap();
    let hosts: Vec<&str> = v["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("no hosts in {v:#}"))
        .iter()
        .filter_map(|h| h["name"].as_str().or(h.as_str()))
        .collect();
    assert_eq!(hosts, ["app1", "app2"], "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "upstream-unreachable"),
        "{v:#}"
    );

    // A bundle per host.
    let per = root.join("per");
    std::fs::create_dir_all(&per).unwrap();
    let (ok, stderr, pid) = capture(root, &config, &conf, &per.join(""));
    assert!(!ok, "{stderr}");
    nothing_left(pid);
    let mut names: Vec<_> = std::fs::read_dir(&per)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["app1.tar.gz", "app2.tar.gz"], "{stderr}");
    let one = entries(&per.join("app2.tar.gz"));
    let m: toml::Table = toml::from_str(text_of(&one, "manifest.toml")).unwrap();
    assert_eq!(m["host"].as_str(), Some("app2"));
}
