//! The incident lab: each failure of INCIDENTS.md reproduced for real on loopback (nginx in
//! front of gunicorn serving a small Django project), the evidence captured twice (copied by
//! hand as a person does, and with `sitrep capture`), and sitrep's diagnosis of each capture
//! checked against what should be said.
//!
//! One incident at a time: `sitrep capture` looks for every running gunicorn of the host, so
//! two incidents running together would land in each other's evidence (`ps` and `ss`, by
//! hand and in the capture, are kept to the lab's own processes and sockets: see
//! `capture.rs`). Every process a lab starts is stopped and reaped when the lab is dropped,
//! failed test or not.
//! `SITREP_LAB_KEEP=1` keeps the lab's folder (and prints where it is).

pub mod capture;
pub mod django;
pub mod others;
pub mod stack;
pub mod verdict;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::common::Running;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// One incident's folder and processes.
///
/// ```text
/// ROOT/app/       the Django project (proj/)
/// ROOT/run/       nginx's prefix: nginx.conf, pid, temp folders; sockets
/// ROOT/logs/      the live logs: nginx's error.log and access logs, gunicorn's
/// ROOT/state/     marks the slow view leaves when it starts
/// ROOT/copy/      the evidence as a person copies it
/// ROOT/capture/   bundle.tar.gz, written by `sitrep capture`
/// ```
pub struct Lab {
    // Dropped first: the processes, newest first, before the folder goes.
    procs: Vec<Running>,
    pub name: &'static str,
    pub root: PathBuf,
    pub app: PathBuf,
    pub run: PathBuf,
    pub logs: PathBuf,
    pub state: PathBuf,
    pub nginx_conf: Option<PathBuf>,
    /// Ports the incident uses, named for the golden output.
    pub ports: Vec<(u16, &'static str)>,
    _dir: Option<tempfile::TempDir>,
    _turn: MutexGuard<'static, ()>,
}

impl Lab {
    pub fn new(name: &'static str) -> Lab {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::Builder::new()
            .prefix(&format!("sitrep-lab-{name}-"))
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        // nginx's workers may run as another user (nobody, when started as root): they
        // must be able to walk to what they open; only a scenario's own folders say no.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = if keep() {
            eprintln!("lab {name}: kept in {}", root.display());
            let _ = dir.keep();
            None
        } else {
            Some(dir)
        };
        let sub = |s: &str| {
            let p = root.join(s);
            std::fs::create_dir_all(&p).unwrap();
            p
        };
        let (app, run, logs, state) = (sub("app"), sub("run"), sub("logs"), sub("state"));
        Lab {
            procs: Vec::new(),
            name,
            root,
            app,
            run,
            logs,
            state,
            nginx_conf: None,
            ports: Vec::new(),
            _dir: dir,
            _turn: turn,
        }
    }

    /// A free loopback port, remembered under `name` for the golden output.
    pub fn port(&mut self, name: &'static str) -> u16 {
        let p = crate::common::free_port();
        self.ports.push((p, name));
        p
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
    }
}

/// Whether `SITREP_LAB_KEEP` asks to keep the lab's folders.
pub fn keep() -> bool {
    std::env::var_os("SITREP_LAB_KEEP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Polls `done` every 50 ms until it holds; fails the test naming `what` after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
