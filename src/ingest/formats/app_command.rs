//! Which Python app server a command line starts, and what it says of its settings.
//!
//! gunicorn's own flags are read by [`gunicorn_config::from_argv`]. uWSGI, uvicorn and Django's
//! `manage.py runserver` are read here into the same [`GunicornSettings`] shape (bind,
//! workers, threads, worker timeout, app, config file), so the analysis has one view of every
//! app server. A setting the command line does not give stays `None`: the defaults, and
//! whether they can be trusted, are the analysis's business.

use super::gunicorn_config::{GunicornSettings, from_argv, runs_gunicorn, words};

/// The program behind an app server's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Gunicorn,
    Uwsgi,
    Uvicorn,
    /// Django's development server, `manage.py runserver` (or `django-admin runserver`).
    Runserver,
}

impl ServerKind {
    /// The kind of app server `cmd` starts, if it starts one.
    pub fn of(cmd: &str) -> Option<ServerKind> {
        let w = words(cmd);
        if runs_gunicorn(&w) {
            return Some(ServerKind::Gunicorn);
        }
        let base = |i: usize| {
            w.get(i).map_or(String::new(), |a| {
                let a = a.trim_start_matches(['-', '@', '+', '!', ':']);
                a.rsplit('/').next().unwrap_or(a).to_string()
            })
        };
        let b0 = base(0);
        let python = b0.starts_with("python");
        if b0 == "uwsgi" || b0.starts_with("uwsgi-") || b0.starts_with("uwsgi_") {
            return Some(ServerKind::Uwsgi);
        }
        let module = |m: &str| python && w.windows(2).any(|p| p[0] == "-m" && p[1] == m);
        if b0 == "uvicorn" || (python && base(1) == "uvicorn") || module("uvicorn") {
            return Some(ServerKind::Uvicorn);
        }
        if runserver_at(&w).is_some() {
            return Some(ServerKind::Runserver);
        }
        None
    }

    /// The program's name, for sentences.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Gunicorn => "gunicorn",
            ServerKind::Uwsgi => "uWSGI",
            ServerKind::Uvicorn => "uvicorn",
            ServerKind::Runserver => "Django's runserver",
        }
    }

    /// The flags that set the number of worker processes, the usual spelling first.
    pub fn workers_flags(self) -> &'static [&'static str] {
        match self {
            ServerKind::Gunicorn => &["--workers", "-w"],
            ServerKind::Uwsgi => &["--processes", "-p", "--workers"],
            ServerKind::Uvicorn => &["--workers"],
            ServerKind::Runserver => &[],
        }
    }

    /// The flags that set the time after which a worker busy with one request is killed,
    /// the usual spelling first; empty when the program has no such limit.
    pub fn timeout_flags(self) -> &'static [&'static str] {
        match self {
            ServerKind::Gunicorn => &["--timeout", "-t"],
            ServerKind::Uwsgi => &["--harakiri", "-t"],
            ServerKind::Uvicorn | ServerKind::Runserver => &[],
        }
    }

    /// What the program calls that limit: "timeout", "harakiri".
    pub fn timeout_word(self) -> &'static str {
        match self {
            ServerKind::Uwsgi => "harakiri",
            _ => "timeout",
        }
    }
}

/// The settings `cmd` (a command line of a `kind` server) gives.
pub fn settings(kind: ServerKind, cmd: &str) -> GunicornSettings {
    match kind {
        ServerKind::Gunicorn => from_argv(cmd),
        ServerKind::Uwsgi => uwsgi(&words(cmd)),
        ServerKind::Uvicorn => uvicorn(&words(cmd)),
        ServerKind::Runserver => runserver(&words(cmd)),
    }
}

/// The index of `runserver` in a `manage.py runserver` / `django-admin runserver` command.
fn runserver_at(w: &[String]) -> Option<usize> {
    // The program, or the script python runs.
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_string();
    let at = (0..w.len().min(2)).find(|&i| {
        let b = base(&w[i]);
        (i == 0 || base(&w[0]).starts_with("python"))
            && (b == "manage.py" || b.starts_with("django-admin"))
    })?;
    // The subcommand is the first word after the program that is not an option.
    let sub = w[at + 1..].iter().position(|a| !a.starts_with('-'))? + at + 1;
    (w[sub] == "runserver").then_some(sub)
}

/// A listening address as the app server writes it, in gunicorn's `--bind` spelling: a path
/// is `unix:PATH`, `:8000` is every interface.
fn bind_of(v: &str) -> String {
    let v = v.split(',').next().unwrap_or(v);
    if v.starts_with('/') || v.starts_with('@') || v.starts_with("./") {
        format!("unix:{v}")
    } else if let Some(port) = v.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else {
        v.to_string()
    }
}

/// The options of `w` after `from`: `(flag, value)` pairs, `--flag=value` split, a flag
/// followed by a non-option taking it as its value unless `is_bool(flag)`; other words are
/// positional, with an empty flag.
fn options(w: &[String], from: usize, is_bool: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = from;
    while i < w.len() {
        let tok = &w[i];
        i += 1;
        if !tok.starts_with('-') || tok == "-" {
            out.push((String::new(), tok.clone()));
            continue;
        }
        if let Some((f, v)) = tok.split_once('=').filter(|_| tok.starts_with("--")) {
            out.push((f.to_string(), v.to_string()));
            continue;
        }
        let takes = !is_bool(tok) && w.get(i).is_some_and(|n| !n.starts_with('-') || n == "-");
        if takes {
            out.push((tok.clone(), w[i].clone()));
            i += 1;
        } else {
            out.push((tok.clone(), String::new()));
        }
    }
    out
}

fn number(v: &str) -> Option<u32> {
    v.trim().parse().ok()
}

/// uWSGI: `--http/--http-socket/--socket/-s ADDR`, `--processes/-p/--workers N`,
/// `--threads N`, `--harakiri/-t N`, `--module/-w/--wsgi-file APP`, `--ini/--yaml/--json/--xml
/// FILE` (or a bare `*.ini`).
fn uwsgi(w: &[String]) -> GunicornSettings {
    let start = w
        .iter()
        .position(|a| a.rsplit('/').next().unwrap_or(a).starts_with("uwsgi"))
        .map_or(0, |i| i + 1);
    let mut s = GunicornSettings::default();
    // uWSGI's flags with no value are many; one followed by another option takes none.
    for (flag, v) in options(w, start, |_| false) {
        let name = match flag.as_str() {
            "--http" | "--http-socket" | "--http11-socket" | "--socket" | "-s"
            | "--uwsgi-socket" | "--fastcgi-socket" | "--https" => {
                s.bind.push(bind_of(&v));
                "bind"
            }
            "--processes" | "-p" | "--workers" => {
                s.workers = number(&v);
                "workers"
            }
            "--threads" => {
                s.threads = number(&v);
                "threads"
            }
            "--harakiri" | "-t" => {
                s.timeout = number(&v);
                "timeout"
            }
            "--module" | "-w" | "--wsgi-file" | "--wsgi" | "--file" => {
                s.wsgi_app = Some(v.clone());
                "wsgi_app"
            }
            "--ini" | "--yaml" | "-y" | "--json" | "-j" | "--xml" | "-x" => {
                s.config = Some(v.clone());
                "config"
            }
            "" if v.ends_with(".ini") || v.ends_with(".yaml") || v.ends_with(".xml") => {
                s.config = Some(v.clone());
                "config"
            }
            _ => continue,
        };
        s.raw.push((name.to_string(), v));
    }
    s
}

/// uvicorn's options that take no value.
const UVICORN_BOOLS: &[&str] = &[
    "--reload",
    "--use-colors",
    "--no-use-colors",
    "--proxy-headers",
    "--no-proxy-headers",
    "--server-header",
    "--no-server-header",
    "--date-header",
    "--no-date-header",
    "--access-log",
    "--no-access-log",
    "--factory",
    "--version",
    "--help",
];

/// uvicorn: `APP`, `--host H` (127.0.0.1) `--port P` (8000), `--uds PATH`, `--workers N`.
/// uvicorn has no worker timeout, and its workers are asynchronous.
fn uvicorn(w: &[String]) -> GunicornSettings {
    let start = w
        .iter()
        .position(|a| a.rsplit('/').next().unwrap_or(a) == "uvicorn")
        .map_or(0, |i| i + 1);
    let mut s = GunicornSettings {
        worker_class: Some("uvicorn".into()),
        ..Default::default()
    };
    let (mut host, mut port, mut uds, mut fd) = (None, None, None, false);
    for (flag, v) in options(w, start, |f| UVICORN_BOOLS.contains(&f)) {
        let name = match flag.as_str() {
            "--host" => {
                host = Some(v.clone());
                "host"
            }
            "--port" => {
                port = Some(v.clone());
                "port"
            }
            "--uds" => {
                uds = Some(v.clone());
                "bind"
            }
            "--fd" => {
                fd = true;
                "fd"
            }
            "--workers" => {
                s.workers = number(&v);
                "workers"
            }
            "" => {
                s.wsgi_app = Some(v.clone());
                "app"
            }
            _ => continue,
        };
        s.raw.push((name.to_string(), v));
    }
    if let Some(path) = uds {
        s.bind.push(format!("unix:{path}"));
    } else if !fd {
        let host = host.unwrap_or_else(|| "127.0.0.1".into());
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        s.bind
            .push(format!("{host}:{}", port.as_deref().unwrap_or("8000")));
    }
    s
}

/// `manage.py runserver [ADDRPORT]`: `8000`, `0:8000`, `0.0.0.0:8000`, `[::1]:8000`
/// (127.0.0.1:8000, or [::1]:8000 with `-6`); one process, a thread per request unless
/// `--nothreading`.
fn runserver(w: &[String]) -> GunicornSettings {
    let mut s = GunicornSettings::default();
    let Some(at) = runserver_at(w) else {
        return s;
    };
    let opts = options(w, at + 1, |f| {
        !matches!(f, "--settings" | "--pythonpath" | "--verbosity" | "-v")
    });
    let ipv6 = opts.iter().any(|(f, _)| f == "-6" || f == "--ipv6");
    let threads = !opts.iter().any(|(f, _)| f == "--nothreading");
    let addrport = opts
        .iter()
        .find(|(f, _)| f.is_empty())
        .map(|(_, v)| v.clone());
    let default_host = if ipv6 { "[::1]" } else { "127.0.0.1" };
    let bind = match addrport.as_deref() {
        None => format!("{default_host}:8000"),
        Some(p) if p.chars().all(|c| c.is_ascii_digit()) => format!("{default_host}:{p}"),
        Some(a) => match a.rsplit_once(':') {
            Some(("0", p)) => format!("0.0.0.0:{p}"),
            _ => a.to_string(),
        },
    };
    s.bind.push(bind);
    s.workers = Some(1);
    if !threads {
        s.threads = Some(1);
    }
    if let Some(a) = addrport {
        s.raw.push(("bind".into(), a));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    // Command lines as `ps -eo pid,ppid,user,etime,args` showed them on Debian 12 (uWSGI
    // 2.0.21, uvicorn 0.17.6, Django 3.2).
    const UWSGI: &str = "uwsgi --plugin python3 --http-socket 127.0.0.1:18555 --master --processes 2 --harakiri 2 --chdir /tmp/exp --module app:application";
    const UVICORN: &str = "/usr/bin/python3 /usr/bin/uvicorn --interface wsgi --uds /tmp/exp/uv.sock --workers 2 --app-dir /tmp/exp app:application";
    const RUNSERVER: &str = "/usr/bin/python3 /tmp/exp/manage.py runserver 127.0.0.1:18557";

    #[test]
    fn each_server_is_known_by_its_command_line() {
        assert_eq!(ServerKind::of(UWSGI), Some(ServerKind::Uwsgi));
        assert_eq!(ServerKind::of(UVICORN), Some(ServerKind::Uvicorn));
        assert_eq!(ServerKind::of(RUNSERVER), Some(ServerKind::Runserver));
        assert_eq!(
            ServerKind::of("/srv/venv/bin/python -m uvicorn app:app"),
            Some(ServerKind::Uvicorn)
        );
        assert_eq!(
            ServerKind::of(
                "/usr/bin/python3 /usr/bin/gunicorn -k uvicorn.workers.UvicornWorker app:app"
            ),
            Some(ServerKind::Gunicorn)
        );
        assert_eq!(ServerKind::of("/usr/bin/python3 manage.py migrate"), None);
        assert_eq!(ServerKind::of("nginx: worker process"), None);
        assert_eq!(ServerKind::of("grep uwsgi"), None);
        assert_eq!(ServerKind::of("vim /srv/app/manage.py runserver"), None);
        assert_eq!(ServerKind::of("less uvicorn.log"), None);
    }

    #[test]
    fn uwsgi_settings() {
        let s = settings(ServerKind::Uwsgi, UWSGI);
        assert_eq!(s.bind, vec!["127.0.0.1:18555"]);
        assert_eq!((s.workers, s.timeout), (Some(2), Some(2)));
        assert_eq!(s.wsgi_app.as_deref(), Some("app:application"));
        let s = settings(
            ServerKind::Uwsgi,
            "/usr/bin/uwsgi --ini /usr/share/uwsgi/conf/default.ini --ini /etc/uwsgi/apps-enabled/shop.ini --socket /run/uwsgi/app/shop/socket",
        );
        assert_eq!(s.bind, vec!["unix:/run/uwsgi/app/shop/socket"]);
        assert_eq!(
            s.config.as_deref(),
            Some("/etc/uwsgi/apps-enabled/shop.ini")
        );
        assert_eq!((s.workers, s.timeout), (None, None));
        let s = settings(
            ServerKind::Uwsgi,
            "uwsgi --http :8000 -p 4 -t 30 -w shop.wsgi",
        );
        assert_eq!(s.bind, vec!["0.0.0.0:8000"]);
        assert_eq!((s.workers, s.timeout), (Some(4), Some(30)));
    }

    #[test]
    fn uvicorn_settings_and_defaults() {
        let s = settings(ServerKind::Uvicorn, UVICORN);
        assert_eq!(s.bind, vec!["unix:/tmp/exp/uv.sock"]);
        assert_eq!(s.workers, Some(2));
        assert_eq!(s.timeout, None);
        assert_eq!(s.wsgi_app.as_deref(), Some("app:application"));
        let s = settings(
            ServerKind::Uvicorn,
            "uvicorn --reload shop.asgi:app --port 9000",
        );
        assert_eq!(s.bind, vec!["127.0.0.1:9000"]);
        assert_eq!(s.wsgi_app.as_deref(), Some("shop.asgi:app"));
        let s = settings(ServerKind::Uvicorn, "uvicorn --host :: shop.asgi:app");
        assert_eq!(s.bind, vec!["[::]:8000"]);
    }

    #[test]
    fn runserver_address_forms() {
        let bind = |cmd: &str| settings(ServerKind::Runserver, cmd).bind;
        assert_eq!(bind(RUNSERVER), vec!["127.0.0.1:18557"]);
        assert_eq!(bind("python manage.py runserver"), vec!["127.0.0.1:8000"]);
        assert_eq!(
            bind("python manage.py runserver 8080"),
            vec!["127.0.0.1:8080"]
        );
        assert_eq!(
            bind("python manage.py runserver 0:8000"),
            vec!["0.0.0.0:8000"]
        );
        assert_eq!(bind("python manage.py runserver -6"), vec!["[::1]:8000"]);
        assert_eq!(
            bind("python manage.py runserver --noreload --settings proj.prod 0.0.0.0:80"),
            vec!["0.0.0.0:80"]
        );
        assert_eq!(settings(ServerKind::Runserver, RUNSERVER).workers, Some(1));
    }
}
