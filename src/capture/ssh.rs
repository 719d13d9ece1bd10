//! Capturing another host over the user's own OpenSSH client: `ssh DEST COMMAND` with their
//! `~/.ssh/config` (or `--ssh-config FILE`), keys and agent. Nothing is installed there and
//! only reading commands run: the capture's (`systemctl`, `journalctl`, `ss`, `nginx -T`),
//! plus `stat`, `cat`/`tail` on the log files, `tr`/`readlink` over `/proc` to find gunicorn.
//!
//! One connection per host: an OpenSSH control master (`ssh -M -N`, our child process, its
//! socket in a private temporary directory) that every command reuses; it is closed and
//! waited for when the target is dropped. `BatchMode=yes`: a host that would ask for a password fails at once, with ssh's
//! own reason, instead of waiting on a prompt nobody sees.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::collect::{self, FileData, Gunicorn, Ran};
use super::target::Target;
use crate::model::time::Micros;

/// How to reach the hosts.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// The ssh program (`SITREP_SSH`, default `ssh`).
    pub program: String,
    /// `-F FILE` for ssh.
    pub config: Option<PathBuf>,
    /// Limit for one command (file reads get ten times as long).
    pub timeout: Duration,
}

/// A host reached over ssh.
pub struct Ssh {
    dest: String,
    host: String,
    remote_hostname: String,
    offset: i32,
    cpus: Option<u32>,
    opts: SshOptions,
    /// Private directory of the control socket.
    control: PathBuf,
    /// The control master.
    master: Option<Child>,
}

/// Quote a word for the remote POSIX shell.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The host name a destination stands for: `user@web1` is `web1`.
pub fn host_of(dest: &str) -> &str {
    dest.rsplit_once('@').map_or(dest, |(_, h)| h)
}

/// Refuse what ssh would read as an option, and what cannot be a host name.
pub fn check_dest(dest: &str) -> Result<(), String> {
    if dest.is_empty() {
        return Err("--ssh: an empty host name".into());
    }
    if dest.starts_with('-') || dest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "--ssh: {:?} is not a host name (no leading '-', spaces or control characters)",
            crate::text::sanitize(dest)
        ));
    }
    Ok(())
}

const PROBE: &str = r#"h=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname); printf 'host %s\n' "$h"; printf 'tz %s\n' "$(date +%z)"; printf 'cpus %s\n' "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)""#;

const READ: &str = r#"f=$1
s=$(stat -L -c '%s %Y %F' -- "$f") || exit 3
printf '%s\n' "$s"
case "$s" in *directory*) exit 4;; esac
case "$f" in *.gz) exec cat -- "$f";; esac
if [ "${s%% *}" -gt "$2" ]; then exec tail -c "$2" -- "$f"; fi
exec cat -- "$f""#;

const ROTATIONS: &str =
    r#"for f in "$1"*; do [ -f "$f" ] && stat -L -c '%Y %n' -- "$f"; done; exit 0"#;

const GUNICORNS: &str = r#"printf 'self %s\n' "$$"
for d in /proc/[0-9]*; do
  c=$(tr '\000' '\037' < "$d/cmdline" 2>/dev/null) || continue
  case "$c" in *gunicorn*) printf '%s\t%s\t%s\n' "${d#/proc/}" "$(readlink "$d/cwd" 2>/dev/null)" "$c";; esac
done
exit 0"#;

impl Ssh {
    /// Open the connection and learn the host's name, zone and CPUs; `Err` is ssh's reason
    /// (unreachable, refused, no key accepted).
    pub fn connect(dest: &str, opts: &SshOptions, stop: &AtomicBool) -> Result<Ssh, String> {
        check_dest(dest)?;
        let control = private_dir()?;
        let mut ssh = Ssh {
            dest: dest.to_string(),
            host: host_of(dest).to_string(),
            remote_hostname: String::new(),
            offset: 0,
            cpus: None,
            opts: opts.clone(),
            control,
            master: None,
        };
        ssh.open(stop)?;
        let r = ssh.shell(PROBE, &[], opts.timeout, stop, 1 << 16)?;
        let text = String::from_utf8_lossy(&r.stdout);
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("host", h)) => ssh.remote_hostname = h.trim().to_string(),
                Some(("tz", z)) => ssh.offset = parse_z(z.trim()).unwrap_or(0),
                Some(("cpus", n)) => ssh.cpus = n.trim().parse().ok(),
                _ => {}
            }
        }
        if ssh.remote_hostname.is_empty() {
            return Err(format!(
                "ssh {dest}: connected, but the shell there did not answer ({})",
                r.reason()
            ));
        }
        Ok(ssh)
    }

    /// Start the control master and wait for its socket; `Err` is ssh's own reason.
    fn open(&mut self, stop: &AtomicBool) -> Result<(), String> {
        let mut args = self.base_args(true);
        args.extend(["-N", "--", self.dest.as_str()].map(String::from));
        let mut child = Command::new(&self.opts.program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => format!(
                    "no `{}` found: install OpenSSH's client (Debian: openssh-client)",
                    self.opts.program
                ),
                _ => format!("cannot run `{}` ({e})", self.opts.program),
            })?;
        let socket = self.control.join("cm");
        let start = Instant::now();
        let limit = self.opts.timeout.max(Duration::from_secs(15));
        loop {
            if socket.exists() {
                self.master = Some(child);
                return Ok(());
            }
            if let Ok(Some(_)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let why = err
                    .lines()
                    .map(str::trim)
                    .rfind(|l| !l.is_empty())
                    .unwrap_or("ssh ended without saying why");
                let why = why.strip_prefix("ssh: ").unwrap_or(why);
                return Err(format!("ssh {}: {}", self.dest, crate::text::sanitize(why)));
            }
            if stop.load(Ordering::Relaxed) || start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return Err(if stop.load(Ordering::Relaxed) {
                    "interrupted".into()
                } else {
                    format!(
                        "ssh {}: no connection after {} s",
                        self.dest,
                        limit.as_secs()
                    )
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The name the host gives itself.
    pub fn remote_hostname(&self) -> &str {
        &self.remote_hostname
    }

    /// Options for every ssh run: the user's config, no prompts, the control socket (as
    /// its master when `master`).
    fn base_args(&self, master: bool) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(c) = &self.opts.config {
            a.push("-F".to_string());
            a.push(c.to_string_lossy().into_owned());
        }
        for o in [
            "BatchMode=yes".to_string(),
            "ConnectTimeout=10".to_string(),
            format!("ControlMaster={}", if master { "yes" } else { "no" }),
            format!("ControlPath={}", self.control.join("cm").display()),
            "LogLevel=ERROR".to_string(),
        ] {
            a.push("-o".into());
            a.push(o);
        }
        a
    }

    /// Run one remote command line (already quoted for the shell there).
    fn remote(
        &self,
        line: &str,
        timeout: Duration,
        stop: &AtomicBool,
        limit: usize,
    ) -> Result<Ran, String> {
        let mut args = self.base_args(false);
        args.push("--".into());
        args.push(self.dest.clone());
        args.push(line.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = collect::run_limited(&self.opts.program, &args, timeout, stop, limit)
            .map_err(|e| format!("ssh {}: {e}", self.dest))?;
        if r.code == Some(255) {
            let why = r.reason();
            let why = why.strip_prefix("ssh: ").unwrap_or(&why).to_string();
            return Err(format!("ssh {}: {why}", self.dest));
        }
        Ok(r)
    }

    /// `sh -c SCRIPT sh ARGS...` there.
    fn shell(
        &self,
        script: &str,
        args: &[&str],
        timeout: Duration,
        stop: &AtomicBool,
        limit: usize,
    ) -> Result<Ran, String> {
        let mut line = format!("env LC_ALL=C sh -c {} sh", quote(script));
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        self.remote(&line, timeout, stop, limit)
    }
}

impl Drop for Ssh {
    fn drop(&mut self) {
        let mut args = self.base_args(false);
        args.extend(["-O".into(), "exit".into(), "--".into(), self.dest.clone()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Some(mut master) = self.master.take() {
            let never = AtomicBool::new(false);
            let _ = collect::run(&self.opts.program, &args, Duration::from_secs(5), &never);
            let start = Instant::now();
            while !matches!(master.try_wait(), Ok(Some(_))) {
                if start.elapsed() > Duration::from_secs(5) {
                    let _ = master.kill();
                    let _ = master.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = std::fs::remove_dir_all(&self.control);
    }
}

/// A new directory only this user can enter, for the control socket.
fn private_dir() -> Result<PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = base.join(format!("sitrep-ssh-{}-{n}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot make a directory for the ssh connection in {} ({e})",
                    base.display()
                ));
            }
        }
    }
    Err("cannot make a directory for the ssh connection".into())
}

/// `+0200` (from `date +%z`) in seconds east of UTC.
fn parse_z(z: &str) -> Option<i32> {
    let (sign, digits) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// Why a remote file could not be read, from what `stat`/`cat` said there.
fn file_error(path: &Path, r: &Ran) -> String {
    let text = String::from_utf8_lossy(&r.stderr);
    if r.code == Some(4) {
        return "a directory, not a file".into();
    }
    let kind = if text.contains("No such file") {
        ErrorKind::NotFound
    } else if text.contains("Permission denied") {
        ErrorKind::PermissionDenied
    } else {
        return format!("cannot read it ({})", r.reason());
    };
    collect::read_error(path, &std::io::Error::from(kind))
}

impl Target for Ssh {
    fn host(&self) -> &str {
        &self.host
    }

    fn offset(&self) -> i32 {
        self.offset
    }

    fn cpus(&self) -> Option<u32> {
        self.cpus
    }

    fn ssh(&self) -> Option<(&str, &str)> {
        Some((&self.dest, &self.remote_hostname))
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
        stop: &AtomicBool,
    ) -> Result<Ran, String> {
        let mut line = String::from("env LC_ALL=C SYSTEMD_PAGER= SYSTEMD_COLORS=0");
        for w in std::iter::once(program).chain(args.iter().copied()) {
            line.push(' ');
            line.push_str(&quote(w));
        }
        let r = self.remote(&line, timeout, stop, collect::MAX_OUTPUT)?;
        match r.code {
            Some(127) => Err(format!(
                "not installed on {} (no `{program}` found)",
                self.host
            )),
            Some(126) => Err(format!("cannot run `{program}` on {}", self.host)),
            _ => Ok(r),
        }
    }

    fn read_file(&self, path: &Path, stop: &AtomicBool) -> Result<FileData, String> {
        let shown = path.to_string_lossy();
        let max = collect::MAX_FILE.to_string();
        let r = self.shell(
            READ,
            &[&shown, &max],
            self.opts.timeout * 10,
            stop,
            collect::MAX_FILE as usize + 4096,
        )?;
        let nl = memchr::memchr(b'\n', &r.stdout);
        let (head, body) = match nl {
            Some(i) if r.success => (&r.stdout[..i], &r.stdout[i + 1..]),
            _ => return Err(file_error(path, &r)),
        };
        let head = String::from_utf8_lossy(head);
        let mut words = head.split_whitespace();
        let len: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let mtime = words
            .next()
            .and_then(|w| w.parse::<u64>().ok())
            .map(|s| std::time::UNIX_EPOCH + Duration::from_secs(s));
        let (data, mut note) = collect::decode(shown.ends_with(".gz"), body.to_vec(), len);
        if r.cut {
            note = Some(format!("cut at {} MiB", collect::MAX_FILE >> 20));
        }
        Ok(FileData { data, mtime, note })
    }

    fn rotations(&self, path: &Path, since: Micros, stop: &AtomicBool) -> Vec<PathBuf> {
        let shown = path.to_string_lossy();
        let Ok(r) = self.shell(ROTATIONS, &[&shown], self.opts.timeout, stop, 1 << 20) else {
            return vec![path.to_path_buf()];
        };
        let listed = String::from_utf8_lossy(&r.stdout)
            .lines()
            .filter_map(|l| {
                let (t, p) = l.split_once(' ')?;
                Some((PathBuf::from(p), t.parse::<i64>().ok()? * 1_000_000))
            })
            .collect();
        collect::pick_rotations(path, listed, since)
    }

    fn gunicorns(&self, stop: &AtomicBool) -> Vec<Gunicorn> {
        let Ok(r) = self.shell(GUNICORNS, &[], self.opts.timeout, stop, 4 << 20) else {
            return Vec::new();
        };
        let mut me = None;
        let mut out = Vec::new();
        for line in r.stdout.split(|b| *b == b'\n') {
            if let Some(pid) = line.strip_prefix(b"self ") {
                me = String::from_utf8_lossy(pid).trim().parse::<u32>().ok();
                continue;
            }
            let mut parts = line.splitn(3, |b| *b == b'\t');
            let (Some(pid), Some(cwd), Some(cmd)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Ok(pid) = String::from_utf8_lossy(pid).parse::<u32>() else {
                continue;
            };
            if Some(pid) == me {
                continue;
            }
            let cwd =
                (!cwd.is_empty()).then(|| PathBuf::from(String::from_utf8_lossy(cwd).into_owned()));
            out.extend(collect::gunicorn_of(pid, cmd, 0x1f, cwd));
        }
        out.sort_by_key(|g| g.pid);
        out
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_remote_shell() {
        assert_eq!(
            quote("/var/log/nginx/access.log"),
            "/var/log/nginx/access.log"
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn destinations_and_zones() {
        assert_eq!(host_of("deploy@web1"), "web1");
        assert_eq!(host_of("web1"), "web1");
        assert!(check_dest("-oProxyCommand=x").is_err());
        assert!(check_dest("web 1").is_err());
        assert!(check_dest("web1.example.com").is_ok());
        assert_eq!(parse_z("+0200"), Some(7200));
        assert_eq!(parse_z("-0430"), Some(-16200));
        assert_eq!(parse_z("CEST"), None);
    }
}
