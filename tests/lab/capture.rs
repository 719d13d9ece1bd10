//! The evidence of an incident, taken twice: copied by hand the way a person on the host
//! does it (the log files, `ps`, `ss`, `nginx -T` redirected into files), and packed by
//! `sitrep capture`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common;

use super::Lab;

/// How the person copies `nginx -T`: into `nginx-T.txt`, or also a second time into
/// `nginx-T.stdout` (people redo a command and keep both files).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    Once,
    Twice,
}

/// `sitrep ARGS` with `TZ` set; its output (not checked).
pub fn sitrep(args: &[&str], tz: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .env("TZ", tz)
        .stdin(Stdio::null())
        .output()
        .expect("run sitrep")
}

/// A shell command's standard output, as `> FILE` would keep it.
fn shell(cmd: &str) -> Vec<u8> {
    let out = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::null())
        .output()
        .expect("sh");
    out.stdout
}

impl Lab {
    /// Waits until the live logs stop growing (sizes equal over 150 ms; 3 s at most): a
    /// gunicorn worker writes its access line after the client already has the answer.
    pub fn settle(&self) {
        let sizes = || -> Vec<u64> {
            let mut v: Vec<(std::ffi::OsString, u64)> = std::fs::read_dir(&self.logs)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| (e.file_name(), e.metadata().map_or(0, |m| m.len())))
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v.into_iter().map(|(_, n)| n).collect()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut last = sizes();
        loop {
            std::thread::sleep(std::time::Duration::from_millis(150));
            let now = sizes();
            if now == last || std::time::Instant::now() > deadline {
                return;
            }
            last = now;
        }
    }

    /// The pids of this lab's processes: its programs (their command lines name the lab's
    /// folder) and their children (nginx's workers).
    fn own_pids(&self) -> Vec<u32> {
        let root = self.root.display().to_string();
        let table = String::from_utf8_lossy(&shell("ps -eo pid=,ppid=,args=")).into_owned();
        let col = |l: &str, i: usize| -> Option<u32> { l.split_whitespace().nth(i)?.parse().ok() };
        let mut ours: Vec<u32> = table
            .lines()
            .filter(|l| l.contains(&root))
            .filter_map(|l| col(l, 0))
            .collect();
        loop {
            let more: Vec<u32> = table
                .lines()
                .filter_map(|l| Some((col(l, 0)?, col(l, 1)?)))
                .filter(|(pid, ppid)| ours.contains(ppid) && !ours.contains(pid))
                .map(|(pid, _)| pid)
                .collect();
            if more.is_empty() {
                return ours;
            }
            ours.extend(more);
        }
    }

    /// The lines of `ps` output (the pid in column `pid_col`) of this lab's processes, and
    /// the header. The lab runs on a shared machine (CI, other tests): this is the host a
    /// person would see, with nothing of the neighbours.
    fn own_processes(&self, ps: &[u8], pid_col: usize) -> Vec<u8> {
        let ours = self.own_pids();
        let mut out = String::new();
        for (i, l) in String::from_utf8_lossy(ps).lines().enumerate() {
            let pid = l
                .split_whitespace()
                .nth(pid_col)
                .and_then(|p| p.parse().ok());
            if i == 0 || pid.is_some_and(|p: u32| ours.contains(&p)) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out.into_bytes()
    }

    /// The lines of `ss` output about this lab's sockets (its folder, its ports) and the
    /// header, for the same reason as [`Lab::own_processes`].
    fn own_sockets(&self, ss: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(ss);
        let root = self.root.display().to_string();
        let mut out = String::new();
        for l in text.lines() {
            let port = self.ports.iter().any(|(p, _)| {
                let at = format!(":{p}");
                l.match_indices(&at)
                    .any(|(i, _)| !l[i + at.len()..].starts_with(|c: char| c.is_ascii_digit()))
            });
            if l.starts_with("Netid") || l.contains(&root) || port {
                out.push_str(l);
                out.push('\n');
            }
        }
        out.into_bytes()
    }

    /// A program `sitrep capture` runs as `ss` (`SITREP_SS`): the real `ss`, its output
    /// kept to this lab's sockets as in [`Lab::own_sockets`].
    fn ss_wrapper(&self) -> PathBuf {
        let ss = common::binary(&["/usr/bin/ss", "/bin/ss", "/usr/sbin/ss"], "iproute2");
        let ports: Vec<String> = self.ports.iter().map(|(p, _)| p.to_string()).collect();
        let script = format!(
            "#!/bin/sh\n{ss} \"$@\" | grep -E -e '^Netid' -e '{root}' -e ':({ports})([^0-9]|$)'\nexit 0\n",
            root = self.root.display(),
            ports = ports.join("|"),
        );
        self.script("ss-of-this-lab", &script)
    }

    /// A program `sitrep capture` runs as `ps` (`SITREP_PS`): the real `ps`, its table kept
    /// to the lab's processes of now (the pid is its first column in the `-eo` form sitrep
    /// asks for) and the header, as in [`Lab::own_processes`].
    fn ps_wrapper(&self) -> PathBuf {
        let ps = common::binary(&["/usr/bin/ps", "/bin/ps"], "procps");
        let pids: Vec<String> = self.own_pids().iter().map(|p| p.to_string()).collect();
        let script = format!(
            "#!/bin/sh\n{ps} \"$@\" | awk 'NR == 1 || $1 ~ /^({pids})$/'\n",
            pids = pids.join("|"),
        );
        self.script("ps-of-this-lab", &script)
    }

    /// An executable script `run/NAME`.
    fn script(&self, name: &str, text: &str) -> PathBuf {
        let path = self.run.join(name);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// `ROOT/copy/`: every live log file copied under its own name, `ps -eo
    /// pid,ppid,user,etime,args > ps.txt`, `ps auxww > ps-aux.txt`, `ss -ltnpx > ss.txt` (the
    /// three kept to the lab's own processes and sockets) and `nginx -T -c CONF >
    /// nginx-T.txt` (and `> nginx-T.stdout` with [`Dump::Twice`]).
    pub fn copy_as_a_person(&self, dump: Dump) -> PathBuf {
        self.settle();
        let copy = self.root.join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        for e in std::fs::read_dir(&self.logs).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
        }
        let ps = self.own_processes(&shell("ps -eo pid,ppid,user,etime,args"), 0);
        std::fs::write(copy.join("ps.txt"), ps).unwrap();
        let aux = self.own_processes(&shell("ps auxww"), 1);
        std::fs::write(copy.join("ps-aux.txt"), aux).unwrap();
        std::fs::write(copy.join("ss.txt"), self.own_sockets(&shell("ss -ltnpx"))).unwrap();
        if let Some(conf) = &self.nginx_conf {
            let t = shell(&format!("{} -T -c {}", common::nginx(), conf.display()));
            assert!(
                String::from_utf8_lossy(&t).contains("proxy_pass"),
                "nginx -T printed no configuration"
            );
            std::fs::write(copy.join("nginx-T.txt"), &t).unwrap();
            if dump == Dump::Twice {
                std::fs::write(copy.join("nginx-T.stdout"), &t).unwrap();
            }
        }
        copy
    }

    /// `sitrep capture -o ROOT/capture/bundle.tar.gz --nginx-conf CONF --log LOG...
    /// --no-systemd --since 15m`, run in zone `tz` (the host's: nginx's); the bundle.
    pub fn sitrep_capture(&self, logs: &[&Path], tz: &str) -> PathBuf {
        let dir = self.root.join("capture");
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = dir.join("bundle.tar.gz");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sitrep"));
        cmd.arg("capture").arg("-o").arg(&bundle);
        if let Some(conf) = &self.nginx_conf {
            cmd.arg("--nginx-conf").arg(conf);
        }
        for l in logs {
            cmd.arg("--log").arg(l);
        }
        let out = cmd
            .args(["--no-systemd", "--since", "15m"])
            .env("TZ", tz)
            .env("SITREP_NGINX", common::nginx())
            .env("SITREP_GUNICORN", super::stack::gunicorn_bin())
            .env("SITREP_CAPTURE_TIMEOUT", "10")
            .env("SITREP_SS", self.ss_wrapper())
            .env("SITREP_PS", self.ps_wrapper())
            .stdin(Stdio::null())
            .output()
            .expect("run sitrep capture");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "sitrep capture failed:\n{said}");
        std::fs::write(dir.join("capture.stderr"), said).unwrap();
        bundle
    }
}
