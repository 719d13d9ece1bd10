//! Live mode for real: the collectors follow real files through rotation into the console's
//! panes, and `sitrep live` in tmux shows requests made to a real nginx as they happen.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::{Running, free_ports, get};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sitrep::live::collect::{Plan, start};
use sitrep::live::discover::{LogFile, Programs};
use sitrep::model::time::Offset;
use sitrep::model::{Host, Incident};
use sitrep::ui::app::{App, ListKind};
use sitrep::ui::live::LiveState;

fn access_line(n: usize) -> String {
    format!(
        "127.0.0.1 - - [23/Nov/2026:00:30:{:02} +0000] \"GET /p{n} HTTP/1.1\" 200 5 \"-\" \"t\"\n",
        (n / 100) % 60
    )
}

/// An app following `path` with the real collectors (no systemd), and nothing else.
fn live_app(path: &Path) -> App {
    let feed = start(Plan {
        logs: vec![LogFile {
            path: path.to_path_buf(),
            name: "nginx/access.log".into(),
        }],
        programs: Programs::default(),
        systemd: false,
        units: Vec::new(),
        since: Duration::from_secs(3600),
        tail_bytes: 1 << 20,
        poll: Duration::from_secs(1),
    });
    let ctx = sitrep::ingest::parse_ctx(None);
    let mut incident = Incident::default();
    incident.hosts.push(Host {
        name: "test".into(),
        origin: "live".into(),
        captured_at: None,
        cpus: None,
        parse_ctx: ctx.clone(),
        skew: 0,
    });
    let mut app = App::new(incident);
    app.live = true;
    app.feed = Some(LiveState::new(
        feed,
        ctx,
        Offset::UTC,
        1_000_000,
        Vec::new(),
    ));
    app
}

fn access_paths(app: &App) -> Vec<String> {
    let Some(p) = app.lists.iter().find(|p| p.kind == ListKind::Access) else {
        return Vec::new();
    };
    p.records
        .entries
        .iter()
        .map(|e| {
            let t = app.incident.sources[e.source as usize].text(e.row as usize);
            t.split_whitespace().nth(6).unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn followed_files_reach_the_panes_through_rotation_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, "").unwrap();
    let mut app = live_app(&log);
    const N: usize = 600;
    let path = log.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        for n in 0..N {
            if n == 200 || n == 400 {
                // rename + create, as logrotate's default does
                std::fs::rename(&path, path.with_extension(format!("log.{n}"))).unwrap();
                f = std::fs::File::create(&path).unwrap();
            }
            f.write_all(access_line(n).as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        app.poll_live();
        if access_paths(&app).len() >= N && writer.is_finished() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {N} lines arrived",
            access_paths(&app).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.join().unwrap();
    // A little longer: nothing more (no line twice).
    std::thread::sleep(Duration::from_millis(600));
    app.poll_live();
    let mut seen = access_paths(&app);
    assert_eq!(seen.len(), N);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), N, "a line came twice");
    // The console follows the newest record.
    let last = app.lists[app.focus].records.len() - 1;
    assert_eq!(app.lists[app.focus].selected, last);
}

#[test]
fn pausing_freezes_the_view_and_going_on_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, access_line(0)).unwrap();
    let mut app = live_app(&log);
    let wait = |app: &mut App, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while access_paths(app).len() < n {
            app.poll_live();
            assert!(Instant::now() < deadline, "never reached {n}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait(&mut app, 1);
    app.toggle_pause();
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for n in 1..50 {
        f.write_all(access_line(n).as_bytes()).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.feed.as_ref().unwrap().waiting < 49 {
        app.poll_live();
        assert!(Instant::now() < deadline, "the lines never arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(access_paths(&app).len(), 1, "paused: the view did not move");
    app.toggle_pause();
    assert_eq!(access_paths(&app).len(), 50);
}

// --- the console in tmux against a real nginx ---------------------------------------------

/// nginx on loopback proxying to a port where nothing listens; returns (server, port, conf).
fn nginx(root: &Path) -> (Running, u16, PathBuf) {
    let bin = common::nginx();
    let [port, dead] = free_ports();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {r}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n access_log {r}/access.log;\n client_body_temp_path {r}/b; proxy_temp_path {r}/p; fastcgi_temp_path {r}/f; uwsgi_temp_path {r}/u; scgi_temp_path {r}/s;\n server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://127.0.0.1:{dead}; }} }}\n}}\n",
        r = root.display()
    );
    let path = root.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut stop = Command::new(&bin);
    stop.arg("-c")
        .arg(&path)
        .args(["-s", "stop"])
        .stderr(Stdio::null());
    let child = Command::new(&bin)
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    get(port, "/warm-up", "");
    (Running(child, Some(stop)), port, path)
}

#[test]
fn sitrep_live_shows_real_nginx_requests_as_they_happen() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port, conf) = nginx(dir.path());
    let tmux = common::Tmux::new("live");
    tmux.start(&format!(
        "XDG_STATE_HOME={} {} live --nginx-conf {} --no-systemd; echo SITREP-EXIT=$?; sleep 30",
        dir.path().display(),
        env!("CARGO_BIN_EXE_sitrep"),
        conf.display()
    ));
    tmux.wait_for("live ●");
    // The history: the warm-up request made before sitrep started.
    tmux.wait_for("/warm-up");
    for n in 0..3 {
        get(port, &format!("/asked-live-{n}"), "");
    }
    let screen = tmux.wait_for("/asked-live-2");
    assert!(screen.contains("502"), "{screen}");
    // Their 502s name the cause once the rules have run on what arrived.
    tmux.wait_for("error nginx proxies to 127.0.0.1:");
    tmux.send(&["S"]);
    let sources = tmux.wait_for("Sources (any key closes)");
    assert!(
        sources.contains("nginx/access.log") && sources.contains("nginx-access"),
        "{sources}"
    );
    tmux.send(&["x"]);
    tmux.quit();
}
