//! The programs of a lab incident: gunicorn serving the Django project, nginx in front with
//! a configuration of its own, and the clients that talk to them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Running};

use super::{Lab, wait_for};

/// Where gunicorn listens and nginx sends.
#[derive(Clone, Debug)]
pub enum Bind {
    Tcp(u16),
    Unix(PathBuf),
}

impl Bind {
    /// gunicorn's `--bind` value.
    pub fn gunicorn(&self) -> String {
        match self {
            Bind::Tcp(p) => format!("127.0.0.1:{p}"),
            Bind::Unix(p) => format!("unix:{}", p.display()),
        }
    }

    /// nginx's `proxy_pass` target.
    pub fn proxy_pass(&self) -> String {
        match self {
            Bind::Tcp(p) => format!("http://127.0.0.1:{p}"),
            Bind::Unix(p) => format!("http://unix:{}:", p.display()),
        }
    }
}

/// How to start one gunicorn.
pub struct Gunicorn {
    /// Names its log files: `logs/NAME-error.log`, `logs/NAME-access.log`.
    pub name: &'static str,
    pub bind: Bind,
    pub workers: u32,
    /// `--timeout`, when the scenario sets one.
    pub timeout: Option<u32>,
    /// `--graceful-timeout`, when the scenario sets one.
    pub graceful_timeout: Option<u32>,
    /// The WSGI callable, `proj.wsgi:application` unless the scenario breaks it.
    pub app: &'static str,
    /// The zone the master runs in (`TZ`).
    pub tz: &'static str,
}

impl Gunicorn {
    pub fn new(bind: Bind) -> Gunicorn {
        Gunicorn {
            name: "gunicorn",
            bind,
            workers: 1,
            timeout: None,
            graceful_timeout: None,
            app: "proj.wsgi:application",
            tz: "UTC",
        }
    }
}

/// A started gunicorn: its master's pid, log files and place among the lab's processes.
pub struct App {
    pub pid: u32,
    pub error_log: PathBuf,
    pub access_log: PathBuf,
    pub bind: Bind,
    index: usize,
}

pub fn gunicorn_bin() -> String {
    common::binary(
        &["/usr/bin/gunicorn", "/usr/local/bin/gunicorn"],
        "gunicorn python3-django",
    )
}

impl Lab {
    /// Starts gunicorn as a person would from the project folder, with both its log files
    /// and `--capture-output` (so what Python prints to stderr lands in the error log, as
    /// under systemd it lands in the journal). Returns at once; see [`Lab::wait_serving`]
    /// and [`Lab::wait_exit`].
    pub fn gunicorn(&mut self, g: &Gunicorn) -> App {
        let error_log = self.logs.join(format!("{}-error.log", g.name));
        let access_log = self.logs.join(format!("{}-access.log", g.name));
        let stray = std::fs::File::create(self.run.join(format!("{}.stray", g.name))).unwrap();
        let mut cmd = Command::new(gunicorn_bin());
        cmd.arg("--bind")
            .arg(g.bind.gunicorn())
            .arg("--workers")
            .arg(g.workers.to_string());
        if let Some(t) = g.timeout {
            cmd.arg("--timeout").arg(t.to_string());
        }
        if let Some(t) = g.graceful_timeout {
            cmd.arg("--graceful-timeout").arg(t.to_string());
        }
        cmd.arg("--error-logfile")
            .arg(&error_log)
            .arg("--access-logfile")
            .arg(&access_log)
            .arg("--capture-output")
            .arg("--chdir")
            .arg(&self.app)
            .arg(g.app)
            .current_dir(&self.app)
            .env("TZ", g.tz)
            .env_remove("SECRET_KEY")
            .env_remove("DJANGO_SETTINGS_MODULE")
            .stdin(Stdio::null())
            .stdout(stray.try_clone().unwrap())
            .stderr(stray);
        let child = cmd.spawn().expect("start gunicorn");
        let pid = child.id();
        self.procs.push(Running(child, None));
        App {
            pid,
            error_log,
            access_log,
            bind: g.bind.clone(),
            index: self.procs.len() - 1,
        }
    }

    /// Waits (20 s at most) until `app` answers on its bind: a worker booted and loaded the
    /// project. The one request it takes for that is a plain GET of `/` straight to gunicorn.
    pub fn wait_serving(&mut self, app: &App) {
        wait_for("gunicorn's first worker", Duration::from_secs(20), || {
            read(&app.error_log).contains("Booting worker with pid")
        });
        let answer = request(&app.bind, b"GET / HTTP/1.0\r\nHost: app.test\r\n\r\n");
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "gunicorn does not serve: {answer:?}\n{}",
            read(&app.error_log)
        );
    }

    /// Waits (`limit` at most) for the master to exit; its status.
    pub fn wait_exit(&mut self, app: &App, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.procs[app.index].0.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "gunicorn {} still runs after {limit:?}:\n{}",
                app.pid,
                read(&app.error_log)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `run/nginx.conf` and starts nginx on it (`nginx -p RUN -c CONF`, in the
    /// foreground, in zone `tz`); returns once it accepts on its port.
    pub fn nginx(&mut self, n: &Nginx) -> PathBuf {
        let conf = self.run.join("nginx.conf");
        std::fs::write(&conf, n.conf(&self.run, &self.logs)).unwrap();
        let bin = common::nginx();
        let mut stop = Command::new(&bin);
        stop.arg("-p")
            .arg(&self.run)
            .arg("-c")
            .arg(&conf)
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let stray = std::fs::File::create(self.run.join("nginx.stray")).unwrap();
        let child = Command::new(&bin)
            .arg("-p")
            .arg(&self.run)
            .arg("-c")
            .arg(&conf)
            .env("TZ", n.tz)
            .stdin(Stdio::null())
            .stdout(stray.try_clone().unwrap())
            .stderr(stray)
            .spawn()
            .expect("start nginx");
        self.procs.push(Running(child, Some(stop)));
        let port = n.port;
        let run = self.run.clone();
        wait_for("nginx to accept", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok() || {
                // nginx failing to start says why in its stray output.
                let why = read(&run.join("nginx.stray"));
                assert!(!why.contains("[emerg]"), "nginx did not start: {why}");
                false
            }
        });
        self.nginx_conf = Some(conf.clone());
        conf
    }

    /// `nginx -s reload` on the lab's nginx.
    pub fn nginx_reload(&self) {
        let conf = self.nginx_conf.as_ref().expect("nginx started");
        crate::common::run_ok(
            Command::new(common::nginx())
                .arg("-p")
                .arg(&self.run)
                .arg("-c")
                .arg(conf)
                .args(["-s", "reload"]),
        );
    }
}

/// How nginx is set up: one server on 127.0.0.1:`port` proxying `/` to `upstream`, with
/// three access logs (the default combined, a timing one, a JSON one with `$time_iso8601`).
pub struct Nginx {
    pub port: u16,
    pub upstream: String,
    /// `proxy_read_timeout`, when the scenario sets one.
    pub read_timeout: Option<&'static str>,
    /// `user` of the worker processes, when the scenario sets one.
    pub user: Option<&'static str>,
    pub tz: &'static str,
    /// More `location` blocks.
    pub locations: String,
    /// The three access logs; `false` writes none (`access_log off;`, as busy sites do).
    pub access_logs: bool,
}

impl Nginx {
    pub fn new(port: u16, upstream: String) -> Nginx {
        Nginx {
            port,
            upstream,
            read_timeout: None,
            user: None,
            tz: "UTC",
            locations: String::new(),
            access_logs: true,
        }
    }

    fn conf(&self, run: &Path, logs: &Path) -> String {
        let user = self
            .user
            .map(|u| format!("user {u};\n"))
            .unwrap_or_default();
        let timeout = self
            .read_timeout
            .map(|t| format!("            proxy_read_timeout {t};\n"))
            .unwrap_or_default();
        let access = if self.access_logs {
            format!(
                "        access_log {l}/access.log;\n        access_log {l}/access-timing.log timing;\n        access_log {l}/access.json.log json;\n",
                l = logs.display()
            )
        } else {
            "        access_log off;\n".to_string()
        };
        format!(
            r#"# The lab's nginx: one site in front of gunicorn.
{user}daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {logs}/error.log;

events {{
    worker_connections 64;
}}

http {{
    log_format timing '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                      'rt=$request_time uct="$upstream_connect_time" urt="$upstream_response_time"';
    log_format json escape=json '{{"time":"$time_iso8601","remote_addr":"$remote_addr",'
                    '"request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,'
                    '"request_time":$request_time,"upstream_addr":"$upstream_addr",'
                    '"upstream_response_time":"$upstream_response_time",'
                    '"http_user_agent":"$http_user_agent"}}';
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;

    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
{access}
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
{timeout}        }}
{locations}    }}
}}
"#,
            run = run.display(),
            logs = logs.display(),
            port = self.port,
            upstream = self.upstream,
            locations = self.locations,
        )
    }
}

/// A file's text ("" when it is not there yet).
pub fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Sends `raw` to `bind` and reads the answer until the server closes (15 s at most).
pub fn request(bind: &Bind, raw: &[u8]) -> String {
    let limit = Some(Duration::from_secs(15));
    let mut out = Vec::new();
    match bind {
        Bind::Tcp(port) => {
            let mut s = connect(*port);
            s.set_read_timeout(limit).unwrap();
            s.write_all(raw).unwrap();
            let _ = s.read_to_end(&mut out);
        }
        Bind::Unix(path) => {
            let mut s = UnixStream::connect(path).unwrap();
            s.set_read_timeout(limit).unwrap();
            s.write_all(raw).unwrap();
            let _ = s.read_to_end(&mut out);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(e) => {
                assert!(Instant::now() < deadline, "nothing accepts on {port}: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// `GET path` through nginx on `port`, as a browser would; the status code (0 when the
/// answer has none).
pub fn get(port: u16, path: &str) -> u16 {
    let raw = format!(
        "GET {path} HTTP/1.1\r\nHost: app.test\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) lab\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    status(&request(&Bind::Tcp(port), raw.as_bytes()))
}

/// The status code of an HTTP answer.
pub fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The worker pids gunicorn's error log says it booted, in order.
pub fn worker_pids(log: &Path) -> Vec<u32> {
    read(log)
        .lines()
        .filter_map(|l| l.split("Booting worker with pid: ").nth(1))
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}
