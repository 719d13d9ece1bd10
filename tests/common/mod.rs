//! What the tests that drive real programs share: finding an installed program, a free
//! loopback port, an HTTP GET, a child stopped cleanly when dropped, and waiting for a screen.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Run `cmd` to its end; the test fails, showing its standard error, unless it succeeded.
pub fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The first of `names` that exists; else the test fails saying what to install.
pub fn binary(names: &[&str], install: &str) -> String {
    for n in names {
        if Path::new(n).exists() {
            return n.to_string();
        }
    }
    panic!("not installed: `apt-get install {install}` (.ci/run does this)");
}

pub fn nginx() -> String {
    binary(
        &["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"],
        "nginx-light",
    )
}

/// An `nginx` program of the test's own under `dir`: `-T` prints a configuration whose only
/// logs are `dir/nginx-access.log` and `dir/nginx-error.log` (not there unless the test
/// writes them), `-V` a version. Live mode and capture given it never look at the nginx of
/// the machine running the test, nor at its `/var/log/nginx`.
pub fn fake_nginx(dir: &Path) -> PathBuf {
    let path = dir.join("nginx-of-this-test");
    let d = dir.display();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh
             case \"$*\" in *-V*) echo 'nginx version: nginx/1.22.1 (test)' >&2; exit 0;; esac
             echo 'nginx: the configuration file {d}/nginx.conf syntax is ok' >&2
             echo 'nginx: configuration file {d}/nginx.conf test is successful' >&2
             printf '%s\\n' '# configuration file {d}/nginx.conf:' 'events {{}}' 'http {{' \
             '    access_log {d}/nginx-access.log;' '    error_log {d}/nginx-error.log;' '}}'
"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `N` different free ports: each listener is held until all are taken, so two calls cannot
/// hand out the same port (a proxy pointed at its own port instead of a dead one).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:`port` (waiting up to 10 s for the server), with extra header
/// lines (each ending in `\r\n`); the whole response.
pub fn get(port: u16, path: &str, headers: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut s) => {
                write!(
                    s,
                    "GET {path} HTTP/1.1\r\nHost: app.test\r\nUser-Agent: sitrep-test\r\n{headers}Connection: close\r\n\r\n"
                )
                .unwrap();
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                return out;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("nothing accepts on {port}: {e}"),
        }
    }
}

/// A child process stopped (and reaped) when dropped: with its stop command when it has one
/// (`nginx -s stop`), else SIGTERM, then SIGKILL after 5 s. SIGTERM first matters for
/// gunicorn: its master stops its workers on it, while SIGKILL would leave a worker listening
/// and the next test would see its socket.
pub struct Running(pub Child, pub Option<Command>);

impl Drop for Running {
    fn drop(&mut self) {
        let stopped = self
            .1
            .as_mut()
            .is_some_and(|c| c.status().is_ok_and(|s| s.success()));
        if !stopped {
            let _ = Command::new("kill")
                .arg(self.0.id().to_string())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(self.0.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Capture the screen until it shows `needle` (20 s at most).
pub fn wait_until(needle: &str, capture: impl Fn() -> String) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = capture();
        if screen.contains(needle) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {needle:?}; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tmux server of its own (`-L`), so a server option set there touches no one else's, with
/// one session `s`; killed when dropped, even when the test fails.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn new(name: &str) -> Tmux {
        Tmux {
            socket: format!("sitrep-{name}-{}", std::process::id()),
        }
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux is needed (apt-get install tmux; .ci/run does): {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Session `s` at 160x48 running the shell command `cmd`.
    pub fn start(&self, cmd: &str) {
        self.start_at(160, 48, cmd);
    }

    /// Session `s` at `width`x`height` running the shell command `cmd`.
    pub fn start_at(&self, width: u16, height: u16, cmd: &str) {
        let (w, h) = (width.to_string(), height.to_string());
        self.run(&["new-session", "-d", "-s", "s", "-x", &w, "-y", &h, cmd]);
    }

    pub fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "s"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "s"])
    }

    pub fn wait_for(&self, needle: &str) -> String {
        wait_until(needle, || self.screen())
    }

    /// `q`, then the shell's `SITREP-EXIT=` line must say 0.
    pub fn quit(&self) {
        self.send(&["q"]);
        let screen = self.wait_for("SITREP-EXIT=");
        assert!(screen.contains("SITREP-EXIT=0"), "{screen}");
        self.run(&["kill-session", "-t", "s"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// gunicorn serving a one-line WSGI app on a unix socket in `root` (the I-1 app server), its
/// error log at `log`; returns once the socket exists.
pub fn gunicorn_on_socket(root: &Path, log: &Path) -> (Running, std::path::PathBuf) {
    let gunicorn = binary(
        &["/usr/bin/gunicorn", "/usr/local/bin/gunicorn"],
        "gunicorn",
    );
    std::fs::write(
        root.join("hello.py"),
        "def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hello\\n']\n",
    )
    .unwrap();
    let sock = root.join("gunicorn.sock");
    let app = Running(
        Command::new(&gunicorn)
            .arg("--bind")
            .arg(format!("unix:{}", sock.display()))
            .args(["--workers", "1", "--error-logfile"])
            .arg(log)
            .arg("--chdir")
            .arg(root)
            .arg("hello:app")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !sock.exists() {
        assert!(
            Instant::now() < deadline,
            "gunicorn did not create {}",
            sock.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (app, sock)
}

/// nginx with prefix `root` and configuration `conf`, its output kept off the test's (workers
/// holding it would stall `cargo test`), stopped with `nginx -s stop` when dropped.
pub fn start_nginx(root: &Path, conf: &Path) -> Running {
    let bin = nginx();
    let mut stop = Command::new(&bin);
    stop.arg("-p")
        .arg(root)
        .arg("-c")
        .arg(conf)
        .args(["-s", "stop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Running(
        Command::new(&bin)
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        Some(stop),
    )
}

/// The I-1 nginx: `root/nginx.conf` listening on 127.0.0.1:`port` and proxying everything
/// to 127.0.0.1:`dead`, where nothing listens; its logs in `logs`. `access` is the http
/// block's logging (`log_format` lines and the `access_log` directive), with `{access_log}`
/// standing for `logs/access.log`. Returns the config's path.
pub fn i1_nginx_conf(root: &Path, logs: &Path, port: u16, dead: u16, access: &str) -> PathBuf {
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {l}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n    {access};\n    client_body_temp_path {r}/body; proxy_temp_path {r}/proxy; fastcgi_temp_path {r}/fastcgi; uwsgi_temp_path {r}/uwsgi; scgi_temp_path {r}/scgi;\n    server {{\n        listen 127.0.0.1:{port};\n        location / {{ proxy_pass http://127.0.0.1:{dead}; }}\n    }}\n}}\n",
        r = root.display(),
        l = logs.display(),
        access = access.replace(
            "{access_log}",
            &logs.join("access.log").display().to_string()
        ),
    );
    let path = root.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

/// A journal store in `root/journal` written by Debian's systemd-journal-remote from
/// journal export text (entries separated by blank lines), as a fleet's log server keeps it.
pub fn journal_store(root: &Path, export: &str) -> PathBuf {
    let remote = binary(
        &[
            "/lib/systemd/systemd-journal-remote",
            "/usr/lib/systemd/systemd-journal-remote",
        ],
        "systemd-journal-remote",
    );
    let store = root.join("journal");
    std::fs::create_dir(&store).unwrap();
    let input = root.join("in.export");
    std::fs::write(&input, export).unwrap();
    run_ok(
        Command::new(&remote)
            .arg(format!(
                "--output={}",
                store.join("remote.journal").display()
            ))
            .arg(&input),
    );
    store
}
