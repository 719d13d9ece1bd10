//! App servers other than gunicorn serving the lab's project: uWSGI (`uwsgi-plugin-python3`),
//! uvicorn (its WSGI interface) and Django's `manage.py runserver`, started as a person
//! starts them by hand, so `ps` shows the command lines they really have.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{self, Running};

use super::stack::{Bind, request};
use super::{Lab, wait_for};

/// Which server, and how it is started.
pub enum Server {
    /// `uwsgi --http-socket BIND --master --processes N [--harakiri S]`.
    Uwsgi {
        bind: Bind,
        processes: u32,
        harakiri: Option<u32>,
    },
    /// `uvicorn --interface wsgi (--uds PATH | --port P) --workers N`.
    Uvicorn { bind: Bind, workers: u32 },
    /// `python3 APP/manage.py runserver 127.0.0.1:PORT`, with Django's autoreloader (a parent
    /// and the server it restarts, one command line).
    Runserver { port: u16 },
}

/// A started server: where it listens and the file its output goes to.
pub struct Started {
    pub bind: Bind,
    pub log: PathBuf,
}

/// `manage.py` as `django-admin startproject` writes it.
const MANAGE_PY: &str = r#"#!/usr/bin/env python3
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
"#;

impl Lab {
    /// Starts `server` from the project folder, its output into `logs/NAME.log`, in a process
    /// group of its own (stopped as a group: runserver's reloader leaves its server behind
    /// otherwise); returns once it answers `GET /` with 200.
    pub fn serve(&mut self, server: &Server) -> Started {
        let (name, bind, mut cmd) = match server {
            Server::Uwsgi {
                bind,
                processes,
                harakiri,
            } => {
                let bin = common::binary(&["/usr/bin/uwsgi"], "uwsgi uwsgi-plugin-python3");
                let mut c = Command::new(bin);
                c.args(["--plugin", "python3", "--http-socket"])
                    .arg(match bind {
                        Bind::Tcp(p) => format!("127.0.0.1:{p}"),
                        Bind::Unix(p) => p.display().to_string(),
                    })
                    .args(["--master", "--die-on-term", "--processes"])
                    .arg(processes.to_string());
                if let Some(h) = harakiri {
                    c.arg("--harakiri").arg(h.to_string());
                }
                c.arg("--chdir")
                    .arg(&self.app)
                    .args(["--module", "proj.wsgi:application"]);
                ("uwsgi", bind.clone(), c)
            }
            Server::Uvicorn { bind, workers } => {
                let bin = common::binary(&["/usr/bin/uvicorn"], "uvicorn");
                let mut c = Command::new(bin);
                c.args(["--interface", "wsgi"]);
                match bind {
                    Bind::Tcp(p) => c.arg("--port").arg(p.to_string()),
                    Bind::Unix(p) => c.arg("--uds").arg(p),
                };
                c.arg("--workers")
                    .arg(workers.to_string())
                    .arg("--app-dir")
                    .arg(&self.app)
                    .arg("proj.wsgi:application");
                ("uvicorn", bind.clone(), c)
            }
            Server::Runserver { port } => {
                let manage = self.app.join("manage.py");
                std::fs::write(&manage, MANAGE_PY).unwrap();
                let mut c = Command::new("/usr/bin/python3");
                c.arg(&manage)
                    .arg("runserver")
                    .arg(format!("127.0.0.1:{port}"));
                ("runserver", Bind::Tcp(*port), c)
            }
        };
        let log = self.logs.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        cmd.current_dir(&self.app)
            .env("TZ", "UTC")
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("DJANGO_SETTINGS_MODULE")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        let mut stop = Command::new("kill");
        stop.arg("-TERM")
            .arg("--")
            .arg(format!("-{}", child.id()))
            .stderr(Stdio::null());
        self.procs.push(Running(child, Some(stop)));
        let answers = |b: &Bind| match b {
            Bind::Tcp(p) => std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok(),
            Bind::Unix(p) => std::os::unix::net::UnixStream::connect(p).is_ok(),
        };
        wait_for(name, Duration::from_secs(30), || answers(&bind));
        let answer = request(&bind, b"GET / HTTP/1.0\r\nHost: app.test\r\n\r\n");
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "{name} does not serve: {answer:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Started { bind, log }
    }
}
