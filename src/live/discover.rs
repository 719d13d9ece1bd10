//! What live mode follows on this host: the nginx logs `nginx -T` names (else the usual
//! paths), the units worth watching, and what could not be found or read, with the fix.
//! Capture discovers the same things with code of its own (`capture/collect.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ingest::formats::nginx_config::parse_config;

/// Where the programs live mode runs are; tests point these at other programs and files.
#[derive(Debug, Clone)]
pub struct Programs {
    pub nginx: String,
    pub systemctl: String,
    pub journalctl: String,
    pub ss: String,
}

impl Default for Programs {
    /// The programs' names, or what `SITREP_NGINX`, `SITREP_SYSTEMCTL`, `SITREP_JOURNALCTL`
    /// and `SITREP_SS` say (as for capture).
    fn default() -> Self {
        let p = crate::capture::collect::Programs::from_env();
        Programs {
            nginx: p.nginx,
            systemctl: p.systemctl,
            journalctl: p.journalctl,
            ss: p.ss,
        }
    }
}

/// What the user asked for on the command line (or in the config).
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub programs: Programs,
    /// `nginx -T -c PATH` for an nginx started with its own configuration.
    pub nginx_conf: Option<PathBuf>,
    /// More log files to follow.
    pub logs: Vec<PathBuf>,
    /// More units to watch.
    pub units: Vec<String>,
    /// Skip systemctl and journalctl (containers, hosts without systemd).
    pub no_systemd: bool,
}

/// One log file to follow, and the name it gets in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    /// `nginx/access.log`, `nginx/error.log`, `app/NAME`: as a bundle would name it.
    pub name: String,
}

/// What was found, and what was not (with what to do about it).
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub nginx_t: Option<String>,
    pub logs: Vec<LogFile>,
    pub units: Vec<String>,
    pub systemd: bool,
    pub problems: Vec<String>,
}

/// Run `program args` (time-limited, stdin closed: the runner capture uses); its stdout, or
/// why not.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> Result<String, String> {
    let never = std::sync::atomic::AtomicBool::new(false);
    match crate::capture::collect::run(program, args, timeout, &never) {
        Ok(r) if r.success => Ok(String::from_utf8_lossy(&r.stdout).into_owned()),
        Ok(r) => Err(format!("{program} {}: {}", args.join(" "), r.reason())),
        Err(e) => Err(e),
    }
}

/// Units worth watching by name.
fn interesting(unit: &str) -> bool {
    ["nginx", "gunicorn", "uwsgi", "uvicorn", "celery"]
        .iter()
        .any(|k| unit.contains(k))
}

/// Look around this host.
pub fn discover(ask: &Ask) -> Found {
    let mut found = Found::default();
    let t = Duration::from_secs(10);
    // nginx: its own account of its logs.
    let mut args = vec!["-T"];
    let conf;
    if let Some(c) = &ask.nginx_conf {
        conf = c.display().to_string();
        args.extend(["-c", conf.as_str()]);
    }
    match run(&ask.programs.nginx, &args, t) {
        Ok(text) => {
            let cfg = parse_config(&text);
            let mut access: Vec<String> = cfg.access_logs.iter().map(|l| l.path.clone()).collect();
            let mut error: Vec<String> = cfg.error_logs.iter().map(|l| l.path.clone()).collect();
            access.dedup();
            error.dedup();
            for (paths, kind) in [(access, "access"), (error, "error")] {
                for p in paths {
                    add_log(&mut found, Path::new(&p), &format!("nginx/{kind}"));
                }
            }
            found.nginx_t = Some(text);
        }
        Err(e) => {
            found.problems.push(format!(
                "{e}; looking in /var/log/nginx instead{}",
                if e.contains("ermission") {
                    " (run with sudo to let nginx -T read its config)"
                } else {
                    ""
                }
            ));
            for kind in ["access", "error"] {
                let p = PathBuf::from(format!("/var/log/nginx/{kind}.log"));
                if p.exists() {
                    add_log(&mut found, &p, &format!("nginx/{kind}"));
                }
            }
        }
    }
    for p in &ask.logs {
        add_log(&mut found, p, "app");
    }
    if ask.no_systemd {
        return found;
    }
    match run(
        &ask.programs.systemctl,
        &["list-units", "--all", "--output=json", "--no-pager"],
        t,
    ) {
        Ok(json) => {
            found.systemd = true;
            let units: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap_or_default();
            for u in units {
                let name = u["unit"].as_str().unwrap_or_default();
                let failed = u["active"] == "failed";
                if (failed || interesting(name)) && !found.units.iter().any(|x| x == name) {
                    found.units.push(name.to_string());
                }
            }
        }
        // A systemctl that hangs means systemd is there but busy (PID 1 wedged, a dbus
        // storm): the journal is followed anyway and the units are asked again each poll.
        Err(e) if e.contains("timed out") => {
            found.systemd = true;
            found.problems.push(format!(
                "systemctl list-units: {e}; the journal is followed and units are asked again every poll"
            ));
        }
        Err(e) => found
            .problems
            .push(format!("{e}; units and the journal are not watched")),
    }
    for u in &ask.units {
        if !found.units.contains(u) {
            found.units.push(u.clone());
        }
    }
    found
}

/// Follow `path` as `NAME/base` unless it is not a plain file path (syslog:, stderr, off).
fn add_log(found: &mut Found, path: &Path, folder: &str) {
    let s = path.to_string_lossy();
    // nginx's own non-files (`error_log stderr`, `/dev/stderr`) are not logs to follow; a
    // path the user names is checked below and said when it is not a file.
    let nginx_stream = folder != "app" && s.starts_with("/dev/");
    if s == "off" || s.starts_with("syslog:") || s == "stderr" || nginx_stream {
        return;
    }
    let base = path
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".into());
    // nginx/access/access.log would read oddly: nginx logs keep their own name.
    let name = match folder {
        "nginx/access" | "nginx/error" => format!("nginx/{base}"),
        other => format!("{other}/{base}"),
    };
    if found.logs.iter().any(|l| l.path == path) {
        return;
    }
    let name = if found.logs.iter().any(|l| l.name == name) {
        format!("{name}.{}", found.logs.len())
    } else {
        name
    };
    use crate::ingest::regular_file::{Refused, open_regular};
    match open_regular(path).map_err(|e| match e {
        Refused::NotAFile(what) => Err(what),
        Refused::Io(e) => Ok(e),
    }) {
        Ok(_) => {}
        // A pipe or a device is never followed (open() would wait for a writer, /dev/zero
        // never ends): said, and left out.
        Err(Err(what)) => {
            found.problems.push(format!(
                "{}: {what}, not a log file: not followed",
                path.display()
            ));
            return;
        }
        Err(Ok(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => found.problems.push(format!(
            "{}: cannot read it (permission denied): add yourself to its group (often adm: sudo usermod -aG adm $USER), or run with sudo",
            path.display()
        )),
        Err(Ok(e)) if e.kind() == std::io::ErrorKind::NotFound => found.problems.push(format!(
            "{}: not there yet; followed from when it appears",
            path.display()
        )),
        Err(Ok(e)) => found.problems.push(format!("{}: {e}", path.display())),
    }
    found.logs.push(LogFile {
        path: path.to_path_buf(),
        name,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_a_problem_not_a_crash() {
        let ask = Ask {
            programs: Programs {
                nginx: "/nonexistent/nginx".into(),
                systemctl: "/nonexistent/systemctl".into(),
                ..Programs::default()
            },
            logs: vec![PathBuf::from("/nonexistent/app.log")],
            ..Ask::default()
        };
        let f = discover(&ask);
        assert!(f.nginx_t.is_none());
        assert!(!f.systemd);
        assert!(
            f.problems.iter().any(|p| p.contains("/nonexistent/nginx")),
            "{:?}",
            f.problems
        );
        assert!(
            f.problems
                .iter()
                .any(|p| p.contains("units and the journal")),
            "{:?}",
            f.problems
        );
        assert!(
            f.problems.iter().any(|p| p.contains("not there yet")),
            "{:?}",
            f.problems
        );
        assert!(
            f.logs
                .iter()
                .any(|l| l.path == Path::new("/nonexistent/app.log") && l.name == "app/app.log"),
            "a log that is not there yet is still followed: {:?}",
            f.logs
        );
    }

    #[test]
    #[allow(unsafe_code, reason = "makes a FIFO to test with")]
    fn a_pipe_or_a_device_named_as_a_log_is_said_and_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let ask = Ask {
            programs: Programs {
                nginx: "/nonexistent/nginx".into(),
                ..Programs::default()
            },
            logs: vec![fifo.clone(), PathBuf::from("/dev/zero")],
            no_systemd: true,
            ..Ask::default()
        };
        let t = std::time::Instant::now();
        let f = discover(&ask);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            !f.logs
                .iter()
                .any(|l| l.path == fifo || l.path == Path::new("/dev/zero")),
            "{:?}",
            f.logs
        );
        for said in [
            "a named pipe, not a log file",
            "/dev/zero: a character device",
        ] {
            assert!(
                f.problems.iter().any(|p| p.contains(said)),
                "{said}: {:?}",
                f.problems
            );
        }
    }
}
