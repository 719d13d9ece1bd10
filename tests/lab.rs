//! The incident lab: each failure reproduced for real on loopback (nginx in front of
//! gunicorn serving a small Django project written by the harness), captured the way a
//! person copies it and with `sitrep capture`, then diagnosed by the real binary. Each test
//! says what sitrep SHOULD find; the ones sitrep does not manage yet are ignored with the
//! reason. The harness is in `tests/lab/`; goldens in `tests/lab/golden/`.
//!
//! By hand: `SITREP_LAB_KEEP=1 cargo test --test lab timeout_below -- --nocapture` keeps
//! the lab's folder (logs, `copy/`, `capture/bundle.tar.gz`) and prints where it is.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;
#[path = "lab/mod.rs"]
mod lab;

use std::time::{Duration, SystemTime};

use lab::capture::Dump;
use lab::django::{Breakage, Project};
use lab::others::Server;
use lab::stack::{Bind, Gunicorn, Nginx, get, read, request, status, worker_pids};
use lab::verdict::{Expect, Verdict, expect};
use lab::{Lab, wait_for};

/// Both captures diagnosed against `want` (and nothing else with `only`); the scenario may
/// add checks before [`Verdict::conclude`] reports them and compares the golden text.
fn judge(copy: &std::path::Path, bundle: &std::path::Path, want: &[Expect], only: bool) -> Verdict {
    let mut v = Verdict::default();
    v.judge("copy", copy, want, only);
    v.judge("capture", bundle, want, only);
    v
}

// ---- 1. The app does not boot: gunicorn exits, nginx answers 502.

fn boot_failure(
    name: &'static str,
    breakage: Breakage,
    app: &'static str,
    workers: u32,
    says: &'static [&'static str],
) {
    let mut lab = Lab::new(name);
    Project {
        breakage,
        ..Project::default()
    }
    .write(&lab.app, &lab.state);
    let (gport, nport) = (lab.port("GUNICORN_PORT"), lab.port("NGINX_PORT"));
    // When one of two workers fails, the master sometimes waits out its graceful timeout
    // (30 s) for the other, already gone: 3 s bounds that race.
    let g = lab.gunicorn(&Gunicorn {
        workers,
        app,
        graceful_timeout: Some(3),
        ..Gunicorn::new(Bind::Tcp(gport))
    });
    lab.nginx(&Nginx::new(nport, Bind::Tcp(gport).proxy_pass()));
    let exit = lab.wait_exit(&g, Duration::from_secs(30));
    assert!(!exit.success(), "gunicorn booted: {}", read(&g.error_log));
    for path in ["/", "/greeting/", "/"] {
        assert_eq!(get(nport, path), 502);
    }
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], "UTC");
    let want = [
        expect("app-boot-failure", says),
        expect(
            "upstream-unreachable",
            &[
                "(111: Connection refused) while connecting to upstream",
                "\" 502 ",
            ],
        ),
    ];
    let mut v = judge(&copy, &bundle, &want, false);
    v.title_has(
        "app-boot-failure",
        says[0].split(": ").next().unwrap_or(says[0]),
    );
    v.number("upstream-unreachable", r"(\d+) 502s", 3, "502s");
    v.racy = workers > 1;
    v.conclude(&lab);
}

/// What app-boot-failure's evidence must show; the first item's part before `: ` (the
/// exception's name, or gunicorn's whole message) its title must name.
const KEY_ERROR: &[&str] = &["KeyError: 'SECRET_KEY'", "Worker failed to boot"];
const NO_APP: &[&str] = &[
    "ModuleNotFoundError: No module named 'bookshelf_reviews'",
    "Worker failed to boot",
];
const NO_CALLABLE: &[&str] = &[
    "Failed to find attribute 'app' in 'proj.wsgi'",
    "App failed to load",
];

#[test]
fn boot_missing_env_1_worker() {
    boot_failure(
        "boot_missing_env_1_worker",
        Breakage::MissingEnv,
        "proj.wsgi:application",
        1,
        KEY_ERROR,
    );
}

#[test]
fn boot_missing_env_2_workers() {
    boot_failure(
        "boot_missing_env_2_workers",
        Breakage::MissingEnv,
        "proj.wsgi:application",
        2,
        KEY_ERROR,
    );
}

#[test]
fn boot_missing_app_1_worker() {
    boot_failure(
        "boot_missing_app_1_worker",
        Breakage::MissingApp,
        "proj.wsgi:application",
        1,
        NO_APP,
    );
}

#[test]
fn boot_missing_app_2_workers() {
    boot_failure(
        "boot_missing_app_2_workers",
        Breakage::MissingApp,
        "proj.wsgi:application",
        2,
        NO_APP,
    );
}

#[test]
fn boot_wrong_callable_1_worker() {
    boot_failure(
        "boot_wrong_callable_1_worker",
        Breakage::None,
        "proj.wsgi:app",
        1,
        NO_CALLABLE,
    );
}

#[test]
fn boot_wrong_callable_2_workers() {
    boot_failure(
        "boot_wrong_callable_2_workers",
        Breakage::None,
        "proj.wsgi:app",
        2,
        NO_CALLABLE,
    );
}

// ---- 2. nginx proxies to a TCP port, gunicorn binds a unix socket.

#[test]
fn socket_mismatch() {
    let mut lab = Lab::new("socket_mismatch");
    Project::default().write(&lab.app, &lab.state);
    let (dead, nport) = (lab.port("DEAD_PORT"), lab.port("NGINX_PORT"));
    let sock = lab.run.join("gunicorn.sock");
    let g = lab.gunicorn(&Gunicorn::new(Bind::Unix(sock.clone())));
    lab.wait_serving(&g);
    lab.nginx(&Nginx::new(nport, Bind::Tcp(dead).proxy_pass()));
    for path in ["/", "/greeting/", "/"] {
        assert_eq!(get(nport, path), 502);
    }
    let copy = lab.copy_as_a_person(Dump::Twice);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], "UTC");
    let want = [
        expect(
            "upstream-unreachable",
            &[
                "(111: Connection refused) while connecting to upstream",
                "proxy_pass http://127.0.0.1:",
            ],
        ),
        expect(
            "upstream-socket-mismatch",
            &["proxy_pass http://127.0.0.1:"],
        ),
    ];
    judge(&copy, &bundle, &want, false).conclude(&lab);
}

// ---- 3. A view slower than gunicorn's --timeout 2, nginx's proxy_read_timeout below or equal.

fn timeout(name: &'static str, read_timeout: &'static str) {
    let mut lab = Lab::new(name);
    Project::default().write(&lab.app, &lab.state);
    let (gport, nport) = (lab.port("GUNICORN_PORT"), lab.port("NGINX_PORT"));
    let g = lab.gunicorn(&Gunicorn {
        timeout: Some(2),
        ..Gunicorn::new(Bind::Tcp(gport))
    });
    lab.wait_serving(&g);
    lab.nginx(&Nginx {
        read_timeout: Some(read_timeout),
        ..Nginx::new(nport, Bind::Tcp(gport).proxy_pass())
    });
    assert_eq!(get(nport, "/greeting/"), 200);
    assert_eq!(get(nport, "/slow/?s=5"), 504);
    wait_for("WORKER TIMEOUT", Duration::from_secs(10), || {
        read(&g.error_log).contains("WORKER TIMEOUT")
    });
    wait_for("a new worker", Duration::from_secs(10), || {
        worker_pids(&g.error_log).len() >= 2
    });
    assert_eq!(get(nport, "/greeting/"), 200);
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], "UTC");
    let want = [
        expect(
            "proxy-timeout-not-above-app",
            match read_timeout {
                "1s" => &["proxy_read_timeout 1s;", "--timeout 2"],
                _ => &["proxy_read_timeout 2s;", "--timeout 2"],
            },
        ),
        expect("worker-timeout", &["WORKER TIMEOUT"]),
        expect(
            "upstream-timeout",
            &["upstream timed out (110: Connection timed out)", "\" 504 "],
        ),
    ];
    let mut v = judge(&copy, &bundle, &want, false);
    v.number(
        "worker-timeout",
        r"its (\d+) s timeout",
        2,
        "s of gunicorn timeout",
    );
    v.number(
        "worker-timeout",
        r"(\d+) request\(s\) cut",
        1,
        "requests cut",
    );
    v.number("upstream-timeout", r"(\d+) × 504", 1, "504s");
    v.number(
        "proxy-timeout-not-above-app",
        r"gunicorn timeout \((\d+) s\)",
        2,
        "s of gunicorn timeout",
    );
    v.conclude(&lab);
}

#[test]
fn timeout_below() {
    timeout("timeout_below", "1s");
}

#[test]
fn timeout_equal() {
    timeout("timeout_equal", "2s");
}

// ---- 4. A worker killed with SIGKILL while it serves a slow request.

#[test]
fn worker_killed() {
    let mut lab = Lab::new("worker_killed");
    Project::default().write(&lab.app, &lab.state);
    let (gport, nport) = (lab.port("GUNICORN_PORT"), lab.port("NGINX_PORT"));
    let g = lab.gunicorn(&Gunicorn::new(Bind::Tcp(gport)));
    lab.wait_serving(&g);
    lab.nginx(&Nginx::new(nport, Bind::Tcp(gport).proxy_pass()));
    let slow = std::thread::spawn(move || get(nport, "/slow/?s=5"));
    let state = lab.state.clone();
    let mut worker = 0u32;
    wait_for("the slow view to start", Duration::from_secs(10), || {
        let mark = std::fs::read_dir(&state).unwrap().find_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_prefix("slow-started-").and_then(|p| p.parse().ok())
        });
        mark.map(|pid| worker = pid).is_some()
    });
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &worker.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(slow.join().unwrap(), 502);
    wait_for("a new worker", Duration::from_secs(10), || {
        worker_pids(&g.error_log).len() >= 2
    });
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], "UTC");
    let want = [expect(
        "upstream-closed-early",
        &["upstream prematurely closed connection while reading response header from upstream"],
    )];
    judge(&copy, &bundle, &want, false).conclude(&lab);
}

// ---- 5. A unix socket in a folder nginx's workers (nobody) may not enter.

#[test]
fn socket_permission_denied() {
    // Only root can run nginx's workers as another user.
    let uid = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    if uid.trim() != "0" {
        eprintln!(
            "socket_permission_denied: skipped, needs root (nginx's workers must run as nobody)"
        );
        return;
    }
    let mut lab = Lab::new("socket_permission_denied");
    Project::default().write(&lab.app, &lab.state);
    let nport = lab.port("NGINX_PORT");
    let private = lab.run.join("private");
    std::fs::create_dir(&private).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = private.join("gunicorn.sock");
    let g = lab.gunicorn(&Gunicorn::new(Bind::Unix(sock.clone())));
    lab.wait_serving(&g);
    lab.nginx(&Nginx {
        user: Some("nobody nogroup"),
        ..Nginx::new(nport, Bind::Unix(sock).proxy_pass())
    });
    for path in ["/", "/greeting/", "/"] {
        assert_eq!(get(nport, path), 502);
    }
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], "UTC");
    let want = [expect(
        "upstream-permission-denied",
        &["(13: Permission denied) while connecting to upstream"],
    )];
    judge(&copy, &bundle, &want, false).conclude(&lab);
}

// ---- 6. Two gunicorns on one port.

#[test]
fn bind_conflict() {
    let mut lab = Lab::new("bind_conflict");
    Project::default().write(&lab.app, &lab.state);
    let (gport, nport) = (lab.port("GUNICORN_PORT"), lab.port("NGINX_PORT"));
    let first = lab.gunicorn(&Gunicorn::new(Bind::Tcp(gport)));
    lab.wait_serving(&first);
    let second = lab.gunicorn(&Gunicorn {
        name: "gunicorn2",
        ..Gunicorn::new(Bind::Tcp(gport))
    });
    let exit = lab.wait_exit(&second, Duration::from_secs(20));
    assert!(!exit.success());
    assert!(read(&second.error_log).contains("Connection in use"));
    lab.nginx(&Nginx::new(nport, Bind::Tcp(gport).proxy_pass()));
    assert_eq!(get(nport, "/"), 200);
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(
        &[
            &first.error_log,
            &first.access_log,
            &second.error_log,
            &second.access_log,
        ],
        "UTC",
    );
    let want = [expect("bind-conflict", &["Connection in use"])];
    judge(&copy, &bundle, &want, false).conclude(&lab);
}

// ---- 7. Logs in three zones: the same request at one UTC instant on the timeline.

/// nginx in New York, gunicorn (and Django) in Kolkata; one request answered, one refused.
/// Without nginx's access logs the zone-less error.log has no offset of nginx's beside it.
fn zones(name: &'static str, access_logs: bool) {
    const HOST_TZ: &str = "America/New_York";
    let mut lab = Lab::new(name);
    Project {
        time_zone: "Asia/Kolkata",
        ..Project::default()
    }
    .write(&lab.app, &lab.state);
    let (gport, nport, dead) = (
        lab.port("GUNICORN_PORT"),
        lab.port("NGINX_PORT"),
        lab.port("DEAD_PORT"),
    );
    let g = lab.gunicorn(&Gunicorn {
        tz: "Asia/Kolkata",
        ..Gunicorn::new(Bind::Tcp(gport))
    });
    lab.wait_serving(&g);
    lab.nginx(&Nginx {
        tz: HOST_TZ,
        access_logs,
        locations: format!("        location /dead/ {{ proxy_pass http://127.0.0.1:{dead}; }}\n"),
        ..Nginx::new(nport, Bind::Tcp(gport).proxy_pass())
    });
    let before = SystemTime::now();
    assert_eq!(get(nport, "/greeting/?req=lab-zone-ok"), 200);
    assert_eq!(get(nport, "/dead/?req=lab-zone-dead"), 502);
    let after = SystemTime::now();
    wait_for("gunicorn's access line", Duration::from_secs(5), || {
        read(&g.access_log).contains("lab-zone-ok")
    });
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], HOST_TZ);
    let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (lo, hi) = (secs(before) - 1, secs(after) + 1);
    let mut v = Verdict::default();
    // Where each is read: the capture anywhere (its manifest says the host's zone); the copy
    // away from the host (in UTC) when nginx's access logs, with the host's offset, are in
    // it, else on the host itself, whose local zone is nginx's.
    let copy_tz = if access_logs { "UTC" } else { HOST_TZ };
    for (label, p, tz) in [("copy", &copy, copy_tz), ("capture", &bundle, "UTC")] {
        let out = lab::capture::sitrep(
            &[
                "timeline",
                p.to_str().unwrap(),
                "--grep",
                "lab-zone-",
                "--format",
                "json",
            ],
            tz,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = String::from_utf8(out.stdout).unwrap();
        // Where each file puts each request.
        let mut seen = Vec::new();
        for l in lines.lines() {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            let ts = r["ts"].as_str().unwrap_or("");
            let file = r["file"].as_str().unwrap_or("?").to_string();
            let t = chrono_secs(ts);
            seen.push(file.clone());
            if !(lo..=hi).contains(&t) {
                v.problems.push(format!(
                    "{label}: {file} puts {:?} at {ts}, the request ran at {}..{} (UTC)",
                    r["text"].as_str().unwrap_or(""),
                    iso(lo + 1),
                    iso(hi - 1)
                ));
            }
        }
        let files: &[&str] = if access_logs {
            &[
                "access.log",
                "access-timing.log",
                "access.json.log",
                "gunicorn-access.log",
                "error.log",
            ]
        } else {
            &["gunicorn-access.log", "error.log"]
        };
        for f in files {
            if !seen.iter().any(|s| s.ends_with(f)) {
                v.problems.push(format!(
                    "{label}: no line of the requests from {f} on the timeline ({seen:?})"
                ));
            }
        }
    }
    let want = [expect(
        "upstream-unreachable",
        &["(111: Connection refused)"],
    )];
    v.judge("copy", &copy, &want, false);
    v.judge("capture", &bundle, &want, false);
    v.conclude(&lab);
}

#[test]
fn zones_align() {
    zones("zones_align", true);
}

#[test]
fn zones_without_access_logs() {
    zones("zones_without_access_logs", false);
}

/// Seconds since the epoch of sitrep's `2026-12-03T19:05:00.000000Z` (0 when it is not).
fn chrono_secs(ts: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| ts.get(r).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

/// `secs` as `YYYY-MM-DDTHH:MM:SSZ`, through `date` (the test's own clock words).
fn iso(secs: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

// ---- 8. A healthy run: scanners, garbage, reloads, and no finding at all.

#[test]
fn healthy() {
    let mut lab = Lab::new("healthy");
    Project::default().write(&lab.app, &lab.state);
    let (gport, nport) = (lab.port("GUNICORN_PORT"), lab.port("NGINX_PORT"));
    let g = lab.gunicorn(&Gunicorn {
        workers: 2,
        ..Gunicorn::new(Bind::Tcp(gport))
    });
    lab.wait_serving(&g);
    lab.nginx(&Nginx::new(nport, Bind::Tcp(gport).proxy_pass()));
    for path in ["/", "/greeting/", "/slow/?s=0.2", "/"] {
        assert_eq!(get(nport, path), 200, "{path}");
    }
    for path in ["/wp-login.php", "/.env", "/admin/config.php"] {
        assert_eq!(get(nport, path), 404, "{path}");
    }
    for raw in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"GARBAGE\r\n\r\n",
    ] {
        let answer = request(&Bind::Tcp(nport), raw);
        assert_eq!(status(&answer), 400, "{answer}");
    }
    // A graceful reload of both: new gunicorn workers, nginx's configuration read again.
    let booted = worker_pids(&g.error_log).len();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &g.pid.to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for(
        "gunicorn's workers after HUP",
        Duration::from_secs(15),
        || worker_pids(&g.error_log).len() >= booted + 2,
    );
    lab.nginx_reload();
    for path in ["/", "/greeting/"] {
        assert_eq!(get(nport, path), 200, "{path}");
    }
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&g.error_log, &g.access_log], "UTC");
    judge(&copy, &bundle, &[], true).conclude(&lab);
}

// ---- 9. App servers other than gunicorn: what their command lines say is read as theirs.

/// uWSGI kills a worker after `--harakiri 2`; nginx gives up after 1 s.
#[test]
fn uwsgi_harakiri_above_proxy() {
    let mut lab = Lab::new("uwsgi_harakiri_above_proxy");
    Project::default().write(&lab.app, &lab.state);
    let (uport, nport) = (lab.port("UWSGI_PORT"), lab.port("NGINX_PORT"));
    let u = lab.serve(&Server::Uwsgi {
        bind: Bind::Tcp(uport),
        processes: 2,
        harakiri: Some(2),
    });
    lab.nginx(&Nginx {
        read_timeout: Some("1s"),
        ..Nginx::new(nport, u.bind.proxy_pass())
    });
    assert_eq!(get(nport, "/greeting/"), 200);
    assert_eq!(get(nport, "/slow/?s=5"), 504);
    wait_for("uWSGI's harakiri", Duration::from_secs(10), || {
        read(&u.log).contains("HARAKIRI ON WORKER")
    });
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&u.log], "UTC");
    let want = [
        expect(
            "proxy-timeout-not-above-app",
            &["proxy_read_timeout 1s;", "--harakiri 2"],
        ),
        expect(
            "upstream-timeout",
            &["upstream timed out (110: Connection timed out)"],
        ),
    ];
    let mut v = judge(&copy, &bundle, &want, false);
    v.title_has(
        "proxy-timeout-not-above-app",
        "is not above the uWSGI harakiri (2 s, from its command line)",
    );
    v.conclude(&lab);
}

/// uvicorn listens on a unix socket (`--uds`); nginx sends to a TCP port.
#[test]
fn uvicorn_socket_mismatch() {
    let mut lab = Lab::new("uvicorn_socket_mismatch");
    Project::default().write(&lab.app, &lab.state);
    let (dead, nport) = (lab.port("DEAD_PORT"), lab.port("NGINX_PORT"));
    let sock = lab.run.join("uvicorn.sock");
    let u = lab.serve(&Server::Uvicorn {
        bind: Bind::Unix(sock),
        workers: 2,
    });
    lab.nginx(&Nginx::new(nport, Bind::Tcp(dead).proxy_pass()));
    for path in ["/", "/greeting/"] {
        assert_eq!(get(nport, path), 502);
    }
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&u.log], "UTC");
    let want = [
        expect(
            "upstream-unreachable",
            &["(111: Connection refused) while connecting to upstream"],
        ),
        expect(
            "upstream-socket-mismatch",
            &[
                "proxy_pass http://127.0.0.1:",
                "/run/uvicorn.sock --workers 2",
            ],
        ),
    ];
    judge(&copy, &bundle, &want, false).conclude(&lab);
}

/// Django's development server on one port (its reloader and the server: one command line
/// twice); nginx sends to another.
#[test]
fn runserver_socket_mismatch() {
    let mut lab = Lab::new("runserver_socket_mismatch");
    Project::default().write(&lab.app, &lab.state);
    let (rport, dead, nport) = (
        lab.port("RUNSERVER_PORT"),
        lab.port("DEAD_PORT"),
        lab.port("NGINX_PORT"),
    );
    let r = lab.serve(&Server::Runserver { port: rport });
    lab.nginx(&Nginx::new(nport, Bind::Tcp(dead).proxy_pass()));
    for path in ["/", "/greeting/"] {
        assert_eq!(get(nport, path), 502);
    }
    let copy = lab.copy_as_a_person(Dump::Once);
    let bundle = lab.sitrep_capture(&[&r.log], "UTC");
    let want = [
        expect(
            "upstream-unreachable",
            &["(111: Connection refused) while connecting to upstream"],
        ),
        expect(
            "upstream-socket-mismatch",
            &[
                "proxy_pass http://127.0.0.1:",
                "manage.py runserver 127.0.0.1:",
            ],
        ),
    ];
    judge(&copy, &bundle, &want, false).conclude(&lab);
}

// ---- The harness itself.

#[test]
fn the_golden_text_hides_what_changes_run_to_run() {
    let mut lab = Lab::new("normalise");
    let port = lab.port("NGINX_PORT");
    let text = format!(
        "   - {root}/logs/error.log:12 2026/12/03 19:07:41 [error] 24372#24372: *4 upstream timed out, upstream: \"http://127.0.0.1:{port}/slow/?s=5\"\n\
         - gunicorn-error.log:5 [2026-12-03 19:07:42 +0000] [24360] [CRITICAL] WORKER TIMEOUT (pid:24367) rt=2.001\n\
         - File \"/usr/lib/python3.11/importlib/__init__.py\", line 126 at 2026-12-03T19:07:42.000000Z; GET / HTTP/1.1\n",
        root = lab.root.display()
    );
    let got = lab::verdict::normalise(&lab, &text);
    assert_eq!(
        got,
        "   - <LAB>/logs/error.log:<LINE> <TIME> [error] <PID>#<TID>: *<CONN> upstream timed out, upstream: \"...\n\
         - gunicorn-error.log:<LINE> [<TIME>] [<PID>] [CRITICAL] WORKER TIMEOUT (pid:<PID>) rt=<SECS>\n\
         - File \"/usr/lib/python3.X/importlib/__init__.py\", line 126 at <TIME>; GET / HTTP/1.1\n"
    );
}
