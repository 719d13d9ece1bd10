//! Gathering evidence from this host: external commands run with a time limit (a failure is
//! a reason, never a hang), log files and their rotations, running gunicorns.

#![allow(
    unsafe_code,
    reason = "installs the capture's signal handler through libc"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use crate::model::time::Micros;

/// The programs capture runs; each can be pointed elsewhere with an environment variable.
#[derive(Debug, Clone)]
pub struct Programs {
    pub nginx: String,
    pub systemctl: String,
    pub journalctl: String,
    pub ss: String,
    /// `ps`, for the process table (app servers' command lines).
    pub ps: String,
    pub gunicorn: Option<String>,
    /// Limit for one command.
    pub timeout: Duration,
}

impl Programs {
    /// `SITREP_NGINX`, `SITREP_SYSTEMCTL`, `SITREP_JOURNALCTL`, `SITREP_SS`, `SITREP_PS`,
    /// `SITREP_GUNICORN` and `SITREP_CAPTURE_TIMEOUT` (seconds, default 20).
    pub fn from_env() -> Programs {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let timeout = std::env::var("SITREP_CAPTURE_TIMEOUT")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(Duration::from_secs(20), Duration::from_secs_f64);
        Programs {
            nginx: var("SITREP_NGINX", "nginx"),
            systemctl: var("SITREP_SYSTEMCTL", "systemctl"),
            journalctl: var("SITREP_JOURNALCTL", "journalctl"),
            ss: var("SITREP_SS", "ss"),
            ps: var("SITREP_PS", "ps"),
            gunicorn: std::env::var("SITREP_GUNICORN")
                .ok()
                .filter(|v| !v.is_empty()),
            timeout,
        }
    }
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Ran {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub success: bool,
    /// stdout passed the limit and was cut.
    pub cut: bool,
    /// The exit code, when it exited (not killed by a signal).
    pub code: Option<i32>,
}

impl Ran {
    /// The line of stderr that says most about a failure.
    pub fn reason(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let best = lines
            .iter()
            .find(|l| l.contains("[emerg]") || l.contains("[crit]"))
            .or_else(|| lines.first())
            .copied()
            .unwrap_or("it failed and printed nothing");
        let best = best.strip_prefix("nginx: ").unwrap_or(best);
        let mut s = crate::text::sanitize(best).into_owned();
        if s.len() > 240 {
            let mut cut = 240;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push('…');
        }
        if text.contains("Permission denied") || text.contains("permission denied") {
            format!("permission denied ({s}); run sitrep capture with sudo")
        } else {
            s
        }
    }
}

/// Largest output kept from one command.
pub const MAX_OUTPUT: usize = 256 << 20;

fn drain(mut r: impl Read + Send + 'static, limit: usize) -> mpsc::Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut cut = false;
        let mut buf = [0u8; 64 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.len() + n > limit {
                        cut = true;
                        out.extend_from_slice(&buf[..limit.saturating_sub(out.len())]);
                    } else {
                        out.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
        let _ = tx.send((out, cut));
    });
    rx
}

/// Run `program args` with stdin closed, at most `timeout`; `Err` says why nothing usable
/// came back (not installed, cannot run, timed out, interrupted). A non-zero exit is `Ok`
/// with `success == false`: the caller decides what the output is worth.
pub fn run(
    program: &str,
    args: &[&str],
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Ran, String> {
    run_limited(program, args, timeout, stop, MAX_OUTPUT)
}

/// [`run`], keeping at most `limit` bytes of stdout.
pub fn run_limited(
    program: &str,
    args: &[&str],
    timeout: Duration,
    stop: &AtomicBool,
    limit: usize,
) -> Result<Ran, String> {
    let mut child = Command::new(program)
        .args(args)
        .env("SYSTEMD_PAGER", "")
        .env("SYSTEMD_COLORS", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("not installed (no `{program}` found)"),
            std::io::ErrorKind::PermissionDenied => {
                format!("cannot run `{program}` (permission denied)")
            }
            _ => format!("cannot run `{program}` ({e})"),
        })?;
    let out = child.stdout.take().map(|s| drain(s, limit));
    let err = child.stderr.take().map(|s| drain(s, 1 << 20));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("lost track of `{program}` ({e})")),
        }
        let interrupted = stop.load(Ordering::Relaxed);
        if interrupted || start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(if interrupted {
                "interrupted".to_string()
            } else {
                format!("timed out after {} s; stopped it", timeout.as_secs_f64())
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // A grandchild may hold the pipes open: wait a little, then take what came.
    let take = |rx: Option<mpsc::Receiver<(Vec<u8>, bool)>>| {
        rx.and_then(|rx| rx.recv_timeout(Duration::from_secs(2)).ok())
            .unwrap_or_default()
    };
    let (stdout, cut) = take(out);
    let (stderr, _) = take(err);
    Ok(Ran {
        stdout,
        stderr,
        success: status.success(),
        cut,
        code: status.code(),
    })
}

/// Why a file cannot be read, said so the user knows what to do.
pub fn read_error(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "not there".to_string(),
        std::io::ErrorKind::PermissionDenied if path.starts_with("/var/log") => {
            "cannot read it (permission denied): add yourself to group adm (sudo usermod -aG adm $USER, then log in again) or run with sudo".to_string()
        }
        std::io::ErrorKind::PermissionDenied => {
            "cannot read it (permission denied): check its permissions or run with sudo".to_string()
        }
        _ => format!("cannot read it ({e})"),
    }
}

/// Largest file kept; a longer one keeps its end.
pub const MAX_FILE: u64 = 512 << 20;

/// A file read from disk: its bytes (decompressed when `.gz`) and modification time.
#[derive(Debug)]
pub struct FileData {
    pub data: Vec<u8>,
    pub mtime: Option<SystemTime>,
    /// What happened on the way (cut to its end, broken gzip).
    pub note: Option<String>,
}

pub fn read_file(path: &Path) -> Result<FileData, String> {
    use crate::ingest::regular_file::{Refused, open_regular};
    // A named pipe would block the capture in open(), a device would fill it with its bytes.
    let mut f = open_regular(path).map_err(|e| match e {
        Refused::NotAFile(what) => format!("{what}, not a regular file: not collected"),
        Refused::Io(e) => read_error(path, &e),
    })?;
    let meta = f.metadata().map_err(|e| read_error(path, &e))?;
    let gz = path.to_string_lossy().ends_with(".gz");
    let len = meta.len();
    if !gz && len > MAX_FILE {
        use std::io::Seek;
        let _ = f.seek(std::io::SeekFrom::Start(len - MAX_FILE));
    }
    let mut raw = Vec::new();
    let limit = if gz { u64::MAX } else { MAX_FILE };
    f.take(limit)
        .read_to_end(&mut raw)
        .map_err(|e| read_error(path, &e))?;
    let (data, note) = decode(gz, raw, len);
    Ok(FileData {
        data,
        mtime: meta.modified().ok(),
        note,
    })
}

/// The bytes kept of a file read whole (`.gz`: decompressed, at most [`MAX_FILE`]) or, when
/// longer than [`MAX_FILE`] (`len`), read from its last [`MAX_FILE`] bytes: then the first,
/// partial line is dropped. Also says what happened on the way.
pub fn decode(gz: bool, raw: Vec<u8>, len: u64) -> (Vec<u8>, Option<String>) {
    if gz {
        let mut out = Vec::new();
        let r = flate2::read::MultiGzDecoder::new(raw.as_slice())
            .take(MAX_FILE)
            .read_to_end(&mut out);
        let note = match r {
            Err(e) => Some(format!(
                "gzip data ends early ({e}); kept the {} bytes before it",
                out.len()
            )),
            Ok(_) if out.len() as u64 == MAX_FILE => Some(format!("cut at {} MiB", MAX_FILE >> 20)),
            Ok(_) => None,
        };
        return (out, note);
    }
    let mut out = raw;
    if len <= MAX_FILE {
        return (out, None);
    }
    if let Some(nl) = memchr::memchr(b'\n', &out) {
        out.drain(..=nl);
    }
    (
        out,
        Some(format!("larger than {} MiB; kept its end", MAX_FILE >> 20)),
    )
}

/// `path` and its rotations (`.1`, `.2.gz`, `-20230412.gz`) modified at or after `since`,
/// newest first. The current file is listed even when older (it names the log).
pub fn with_rotations(path: &Path, since: Micros) -> Vec<PathBuf> {
    let mut listed = Vec::new();
    if let Some(dir) = path.parent()
        && let Ok(rd) = std::fs::read_dir(dir)
    {
        for ent in rd.flatten() {
            let Ok(meta) = ent.metadata() else { continue };
            let Ok(mtime) = meta.modified() else { continue };
            if meta.is_file() {
                listed.push((ent.path(), micros_of(mtime)));
            }
        }
    }
    pick_rotations(path, listed, since)
}

/// [`with_rotations`] over a listing of the files beside `path` with their modification
/// times (from this host's directory or from `stat` run on another).
pub fn pick_rotations(path: &Path, listed: Vec<(PathBuf, Micros)>, since: Micros) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    let Some(base) = path.file_name() else {
        return out;
    };
    let base = base.to_string_lossy().into_owned();
    let mut rotated: Vec<(Micros, PathBuf)> = Vec::new();
    for (file, mtime) in listed {
        let Some(name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if name == base || !name.starts_with(&base) || file.parent() != path.parent() {
            continue;
        }
        let (group, rank) = crate::ingest::rotation::rotation_of(&name);
        if group != base || rank == 0 {
            continue;
        }
        if mtime >= since {
            rotated.push((mtime, file));
        }
    }
    rotated.sort_by_key(|r| std::cmp::Reverse(r.0));
    out.extend(rotated.into_iter().map(|(_, p)| p));
    out
}

pub fn micros_of(t: SystemTime) -> Micros {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as Micros,
        Err(e) => -(e.duration().as_micros() as Micros),
    }
}

/// Which log a window cut reads times from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// `[13/Apr/2023:11:24:04 +0000]` anywhere on the line.
    Access,
    /// `2023/04/13 11:24:04` at the start, in the host's zone (`offset` seconds east).
    Error { offset: i32 },
}

/// Drop the lines before the window: everything from the first line whose time is at or
/// after `since` is kept. A file where no line has a readable time is kept whole; `None`
/// when every timed line is older than the window.
pub fn cut_to_window(data: &[u8], kind: LogKind, since: Micros) -> Option<&[u8]> {
    let mut pos = 0;
    let mut any_time = false;
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1);
        let line = &data[pos..end];
        let t = match kind {
            LogKind::Access => memchr::memchr(b'[', line)
                .and_then(|i| crate::ingest::timestamp::clf(&line[i + 1..]))
                .map(|(t, _)| t),
            LogKind::Error { offset } => crate::ingest::timestamp::ymd_hms(line, b'/')
                .map(|(t, _)| t - i64::from(offset) * 1_000_000),
        };
        if let Some(t) = t {
            any_time = true;
            if t >= since {
                return Some(&data[pos..]);
            }
        }
        pos = end;
    }
    if any_time { None } else { Some(data) }
}

/// A running gunicorn, from /proc/PID/cmdline.
#[derive(Debug, Clone)]
pub struct Gunicorn {
    pub pid: u32,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
}

impl Gunicorn {
    /// The value of an option given as `-x V`, `-xV`, `--long V` or `--long=V`.
    fn option(&self, short: Option<&str>, long: &str) -> Option<String> {
        let mut it = self.args.iter().skip(1);
        while let Some(a) = it.next() {
            if a == long || Some(a.as_str()) == short {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_string());
            }
            if let Some(s) = short
                && let Some(v) = a.strip_prefix(s)
                && !v.is_empty()
                && !a.starts_with("--")
            {
                return Some(v.to_string());
            }
        }
        None
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        match &self.cwd {
            Some(cwd) if p.is_relative() => cwd.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// Its config file and whether its command line names it: `-c FILE`, else
    /// `gunicorn.conf.py` in its working directory (which may not exist).
    pub fn config(&self) -> Option<(PathBuf, bool)> {
        match self.option(Some("-c"), "--config") {
            Some(c) if c.starts_with("python:") => None,
            Some(c) => Some((self.resolve(c.strip_prefix("file:").unwrap_or(&c)), true)),
            None => self
                .cwd
                .as_ref()
                .map(|d| (d.join("gunicorn.conf.py"), false)),
        }
    }

    /// Log files named on its command line (`--error-logfile`, `--log-file`, `--access-logfile`).
    pub fn logs(&self) -> Vec<PathBuf> {
        ["--error-logfile", "--log-file", "--access-logfile"]
            .iter()
            .filter_map(|o| self.option(None, o))
            .filter(|v| v != "-" && !v.is_empty())
            .map(|v| self.resolve(&v))
            .collect()
    }
}

/// Log files named in a gunicorn config (`errorlog = "..."`, `accesslog = '...'`).
pub fn config_logs(text: &str, dir: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        for key in ["errorlog", "accesslog"] {
            let Some(rest) = line.strip_prefix(key) else {
                continue;
            };
            let Some(v) = rest.trim_start().strip_prefix('=') else {
                continue;
            };
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            if v.is_empty() || v == "-" || v.contains(['"', '\'', ' ', '(']) {
                continue;
            }
            let p = Path::new(v);
            out.push(match dir {
                Some(d) if p.is_relative() => d.join(p),
                _ => p.to_path_buf(),
            });
        }
    }
    out
}

/// Every running gunicorn (masters and workers alike; callers dedupe by path).
pub fn gunicorns() -> Vec<Gunicorn> {
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ent in rd.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(ent.path().join("cmdline")) else {
            continue;
        };
        let cwd = std::fs::read_link(ent.path().join("cwd")).ok();
        out.extend(gunicorn_of(pid, &raw, b'\0', cwd));
    }
    out.sort_by_key(|g| g.pid);
    out
}

/// The process `pid` when its command line (arguments split by `sep`) runs gunicorn.
pub fn gunicorn_of(pid: u32, cmdline: &[u8], sep: u8, cwd: Option<PathBuf>) -> Option<Gunicorn> {
    let args: Vec<String> = cmdline
        .split(|b| *b == sep)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    crate::ingest::formats::gunicorn_config::runs_gunicorn(&args).then_some(Gunicorn {
        pid,
        args,
        cwd,
    })
}

/// The version in `nginx -V` output (`nginx version: nginx/1.22.1`) and its `--prefix=`.
pub fn nginx_version(text: &str) -> (Option<String>, Option<String>) {
    let version = text
        .lines()
        .find_map(|l| l.split("nginx/").nth(1))
        .map(|v| v.split_whitespace().next().unwrap_or(v).to_string());
    let prefix = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--prefix="))
        .map(str::to_string);
    (version, prefix)
}

/// The version in `gunicorn --version` (`gunicorn (version 20.1.0)`).
pub fn gunicorn_version(text: &str) -> Option<String> {
    let i = text.find("version")?;
    let v = text[i + "version".len()..]
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ')')
        .next()?;
    (!v.is_empty()).then(|| v.to_string())
}

/// The version in `systemctl --version` (`systemd 252 (252.22-1~deb12u1)`).
pub fn systemd_version(text: &str) -> Option<String> {
    let line = text.lines().next()?.trim();
    line.strip_prefix("systemd ").map(str::to_string)
}

/// Units worth a closer look in `systemctl list-units --output=json`: failed ones, the web
/// stack's, and `extra`.
pub fn relevant_units(units_json: &[u8], extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let stack = ["nginx", "gunicorn", "uwsgi", "uvicorn", "celery"];
    if let Ok(serde_json::Value::Array(units)) = serde_json::from_slice(units_json) {
        for u in units {
            let Some(name) = u.get("unit").and_then(|v| v.as_str()) else {
                continue;
            };
            let failed = u.get("active").and_then(|v| v.as_str()) == Some("failed");
            let lower = name.to_ascii_lowercase();
            if failed || stack.iter().any(|s| lower.contains(s)) {
                out.push(name.to_string());
            }
        }
    } else {
        // Plain `list-units` text: the first column, after a failure mark.
        for line in String::from_utf8_lossy(units_json).lines() {
            let mut words = line.split_whitespace();
            let Some(mut name) = words.next() else {
                continue;
            };
            if name == "●" || name == "*" {
                let Some(n) = words.next() else { continue };
                name = n;
            }
            let lower = name.to_ascii_lowercase();
            if (line.contains(" failed ") && name.contains('.'))
                || (name.contains('.') && stack.iter().any(|s| lower.contains(s)))
            {
                out.push(name.to_string());
            }
        }
    }
    for e in extra {
        out.push(e.clone());
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|u| seen.insert(u.clone()));
    out.truncate(64);
    out
}

/// How long a capture may take to wind down after SIGINT or SIGTERM before it is ended.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A stop flag raised by SIGINT and SIGTERM while capture runs. The capture looks at it
/// between steps and stops, removing its partial file; a second signal, or [`STOP_GRACE`]
/// passing after the first, ends the process at once, and removes the partial file too.
pub fn stop_flag() -> std::sync::Arc<AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use std::sync::atomic::AtomicI32;
    static SIGNAL: AtomicI32 = AtomicI32::new(0);
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let f = flag.clone();
        // SAFETY: the action touches only atomics and calls `unlink` and `_exit`, which are
        // async-signal-safe.
        let _ = unsafe {
            signal_hook::low_level::register(sig, move || {
                SIGNAL.store(sig, Ordering::SeqCst);
                if f.swap(true, Ordering::SeqCst) {
                    super::tar::remove_partial();
                    libc::_exit(128 + sig);
                }
            })
        };
    }
    let f = flag.clone();
    std::thread::spawn(move || {
        while !f.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(STOP_GRACE);
        super::tar::remove_partial();
        eprintln!("sitrep: capture did not stop within {STOP_GRACE:?} of the signal; ended");
        std::process::exit(128 + SIGNAL.load(Ordering::SeqCst));
    });
    flag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hanging_command_is_stopped_at_the_limit() {
        let stop = AtomicBool::new(false);
        let t = Instant::now();
        let r = run("sleep", &["30"], Duration::from_millis(200), &stop);
        assert!(r.unwrap_err().contains("timed out"));
        assert!(t.elapsed() < Duration::from_secs(5));
        let r = run("/nonexistent/nginx", &["-T"], Duration::from_secs(1), &stop);
        assert!(r.unwrap_err().contains("not installed"));
        let r = run("sh", &["-c", "echo out; echo 'nginx: [emerg] open() \"/etc/nginx/nginx.conf\" failed (13: Permission denied)' >&2; exit 1"], Duration::from_secs(5), &stop).unwrap();
        assert!(!r.success);
        assert_eq!(r.stdout, b"out\n");
        assert!(
            r.reason().starts_with("permission denied ([emerg] open()"),
            "{}",
            r.reason()
        );
    }

    #[test]
    fn window_cut_keeps_from_the_first_line_in_it() {
        let access = b"a - - [13/Apr/2023:11:00:00 +0000] \"GET / HTTP/1.1\" 200 1\nb - - [13/Apr/2023:11:30:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
        let since = crate::model::time::parse_instant("2023-04-13T11:10:00Z").unwrap();
        let kept = cut_to_window(access, LogKind::Access, since).unwrap();
        assert!(kept.starts_with(b"b - -"));
        let error = b"2023/04/13 13:00:00 [error] 1#1: x\n";
        // 13:00 at +02:00 is 11:00Z: before the window.
        assert!(cut_to_window(error, LogKind::Error { offset: 7200 }, since).is_none());
        assert!(cut_to_window(error, LogKind::Error { offset: 0 }, since).is_some());
        assert_eq!(
            cut_to_window(b"no time\n", LogKind::Access, since),
            Some(&b"no time\n"[..])
        );
    }

    #[test]
    fn versions_units_and_gunicorn_options() {
        let (v, p) = nginx_version(
            "nginx version: nginx/1.22.1\nbuilt with OpenSSL\nconfigure arguments: --with-cc-opt='-g' --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf",
        );
        assert_eq!(v.as_deref(), Some("1.22.1"));
        assert_eq!(p.as_deref(), Some("/usr/share/nginx"));
        assert_eq!(
            gunicorn_version("gunicorn (version 20.1.0)\n").as_deref(),
            Some("20.1.0")
        );
        assert_eq!(
            systemd_version("systemd 252 (252.22-1~deb12u1)\n+PAM").as_deref(),
            Some("252 (252.22-1~deb12u1)")
        );
        let units = br#"[{"unit":"gunicorn.service","load":"loaded","active":"active","sub":"running"},{"unit":"cron.service","active":"active"},{"unit":"app-worker.service","active":"failed"},{"unit":"nginx.service","active":"active"}]"#;
        assert_eq!(
            relevant_units(units, &["redis.service".into()]),
            [
                "gunicorn.service",
                "app-worker.service",
                "nginx.service",
                "redis.service"
            ]
        );
        let g = Gunicorn {
            pid: 1,
            args: [
                "/srv/venv/bin/python3",
                "/srv/venv/bin/gunicorn",
                "-c",
                "conf/gunicorn.conf.py",
                "--error-logfile=/var/log/g.log",
                "app:app",
            ]
            .map(String::from)
            .to_vec(),
            cwd: Some("/srv/app".into()),
        };
        assert_eq!(
            g.config(),
            Some((PathBuf::from("/srv/app/conf/gunicorn.conf.py"), true))
        );
        assert_eq!(g.logs(), [PathBuf::from("/var/log/g.log")]);
        assert_eq!(
            config_logs(
                "workers = 3\nerrorlog = '/var/log/gunicorn/error.log'\naccesslog = \"-\"\n",
                None
            ),
            [PathBuf::from("/var/log/gunicorn/error.log")]
        );
    }
}
