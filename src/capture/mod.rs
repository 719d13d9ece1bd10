//! `sitrep capture`: pack this host's evidence into a redacted incident bundle (the layout of
//! DESIGN.md, "Incident bundle format").
//!
//! ```text
//! sitrep capture -o FILE.tar.gz [--since 1h] [--unit U]... [--nginx-conf PATH] [--log PATH]...
//!                [--no-systemd] [--no-redact] [--redact-ips] [--redact-pii]
//! ```
//!
//! What goes in: `manifest.toml`; `systemd/units.json`, `systemd/show/NAME.txt` and
//! `systemd/cat/NAME` for the failed units, the web stack's (nginx, gunicorn, uwsgi, uvicorn,
//! celery) and `--unit` ones; `sockets/ss.txt` (`ss -Haptn` then `ss -Hapx`);
//! `processes/ps.txt` (`ps -eo pid,ppid,user,etime,args`: the app servers' command lines);
//! `nginx/nginx-T.txt`; the nginx logs named by `nginx -T` (`access_log`, `error_log`; else
//! the compiled-in paths of `nginx -V`; else `/var/log/nginx/{access,error}.log`) with their
//! rotations modified since the window start, cut to the window, `.gz` kept compressed;
//! `journal/journal.json` for the relevant units (all units when none); running gunicorns'
//! config files and log files (from `/proc/PID/cmdline` and their working directory), and
//! `app/NAME` for each `--log`.
//!
//! Rules: a missing piece is never an error, it is listed (with why and what to do) at the
//! end of the summary and in the manifest's `[capture] missing`; only failing to write the
//! output is (exit 2, one line). The bundle is built in `.NAME.partial-PID` beside `-o` and
//! renamed at the end; on failure or Ctrl-C that file is removed. Nothing else is written.
//! Every text file goes through the [`redact::Redactor`] unless `--no-redact`; `--redact-ips`
//! also replaces client IP addresses (see [`redact`] for which ones stay), `--redact-pii`
//! e-mail addresses and payment card numbers.
//!
//! Commands run with stdin closed and a time limit; their names can be pointed elsewhere
//! (tests, unusual installs) with environment variables: `SITREP_NGINX`, `SITREP_SYSTEMCTL`,
//! `SITREP_JOURNALCTL`, `SITREP_SS`, `SITREP_PS`, `SITREP_GUNICORN`; `SITREP_CAPTURE_TIMEOUT` sets the
//! limit in seconds (default 20; `journalctl` gets three times as long).

pub mod collect;
pub mod fleet;
pub mod redact;
pub mod ssh;
pub mod tar;
pub mod target;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::model::time::{Micros, format_utc, parse_duration, parse_instant};
use collect::{LogKind, Programs};
use redact::Redactor;
use tar::BundleWriter;
use target::Target;

/// The command line of `sitrep capture`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the bundle (a .tar.gz or .tgz file name).
    #[arg(short, long, value_name = "FILE.tar.gz")]
    pub output: PathBuf,
    /// Start of the window: a span back from now (1h, 30m, 2d) or RFC 3339.
    #[arg(long, default_value = "1h", allow_hyphen_values = true)]
    pub since: String,
    /// A systemd unit to include besides the failed ones and the web stack's; repeatable.
    #[arg(long = "unit", value_name = "UNIT")]
    pub units: Vec<String>,
    /// Read nginx's configuration with `nginx -T -c PATH` (an nginx started with its own config).
    #[arg(long, value_name = "PATH")]
    pub nginx_conf: Option<PathBuf>,
    /// Another log file to include as app/NAME; repeatable.
    #[arg(long = "log", value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Skip systemctl and journalctl (containers, hosts without systemd).
    #[arg(long)]
    pub no_systemd: bool,
    /// Keep secrets as they are (the bundle is then not fit to share).
    #[arg(long)]
    pub no_redact: bool,
    /// Also replace client IP addresses with [REDACTED:ip].
    #[arg(long)]
    pub redact_ips: bool,
    /// Also replace e-mail addresses and payment card numbers ([REDACTED:email],
    /// [REDACTED:card]).
    #[arg(long)]
    pub redact_pii: bool,
    /// Capture these hosts over ssh instead of this one (comma-separated ssh destinations;
    /// -o DIR/ for a bundle per host, -o FILE.tar.gz for one bundle of all).
    #[arg(long, value_name = "HOST[,HOST...]", value_delimiter = ',')]
    pub ssh: Vec<String>,
    /// The ssh client configuration to use (ssh -F FILE).
    #[arg(long, value_name = "FILE", requires = "ssh")]
    pub ssh_config: Option<PathBuf>,
}

/// What to capture, resolved.
#[derive(Debug, Clone)]
pub struct Options {
    pub output: PathBuf,
    pub since: Micros,
    pub until: Micros,
    pub units: Vec<String>,
    pub nginx_conf: Option<PathBuf>,
    pub logs: Vec<PathBuf>,
    pub systemd: bool,
    pub redact: bool,
    pub redact_ips: bool,
    pub redact_pii: bool,
    pub programs: Programs,
}

/// What a capture wrote and what it could not get.
#[derive(Debug)]
pub struct Summary {
    pub output: PathBuf,
    /// Path in the bundle and uncompressed size.
    pub files: Vec<(String, u64)>,
    /// Size of the archive.
    pub size: u64,
    /// `what: why` for each piece that could not be had.
    pub missing: Vec<String>,
    pub redaction: BTreeMap<&'static str, u64>,
    pub redacted: bool,
}

fn now_micros() -> Micros {
    collect::micros_of(std::time::SystemTime::now())
}

/// Resolve the command line into [`Options`] at time `now`.
pub fn options(args: &Args, now: Micros) -> Result<Options, String> {
    let since = args.since.trim();
    let since = match parse_duration(since.strip_prefix('-').unwrap_or(since)) {
        Some(d) => now - d,
        None => parse_instant(since).ok_or_else(|| {
            format!(
                "--since: cannot read {since:?}; give a span back from now (1h, 30m, 2d) or RFC 3339 (2023-04-13T11:20:00Z)"
            )
        })?,
    };
    let name = args.output.to_string_lossy();
    if args.ssh.is_empty() && !(name.ends_with(".tar.gz") || name.ends_with(".tgz")) {
        return Err(format!(
            "-o {name}: give a file name ending in .tar.gz or .tgz (replay reads bundles by that name)"
        ));
    }
    Ok(Options {
        output: args.output.clone(),
        since,
        until: now,
        units: args.units.clone(),
        nginx_conf: args.nginx_conf.clone(),
        logs: args.logs.clone(),
        systemd: !args.no_systemd,
        redact: !args.no_redact,
        redact_ips: args.redact_ips,
        redact_pii: args.redact_pii,
        programs: Programs::from_env(),
    })
}

/// `sitrep capture`: progress and summary on stderr; `Err` is the one line for exit 2.
pub fn run(args: &Args) -> Result<(), String> {
    let opts = options(args, now_micros())?;
    let stop = collect::stop_flag();
    if !args.ssh.is_empty() {
        let output = fleet::Output::of(&args.output)?;
        let ssh = ssh::SshOptions {
            program: std::env::var("SITREP_SSH")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "ssh".into()),
            config: args.ssh_config.clone(),
            timeout: opts.programs.timeout,
        };
        let mut err = std::io::stderr();
        let results = fleet::capture_all(&opts, &args.ssh, &ssh, &output, &mut err, &stop)?;
        return fleet::report(&results, &output, &mut std::io::stderr().lock());
    }
    let mut err = std::io::stderr().lock();
    let summary = capture(&opts, &target::Local::new(), &mut err, &stop)?;
    print_summary(&summary, &mut err);
    Ok(())
}

fn human(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

pub fn print_summary(s: &Summary, out: &mut impl Write) {
    let _ = writeln!(
        out,
        "sitrep capture: wrote {} ({}), {} files:",
        s.output.display(),
        human(s.size),
        s.files.len()
    );
    let width = s.files.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for (p, n) in &s.files {
        let _ = writeln!(out, "  {p:<width$}  {:>10}", human(*n));
    }
    if !s.redacted {
        let _ = writeln!(
            out,
            "sitrep capture: not redacted (--no-redact): check it before sharing"
        );
    } else if s.redaction.is_empty() {
        let _ = writeln!(out, "sitrep capture: redacted nothing (no secret found)");
    } else {
        let parts: Vec<String> = s
            .redaction
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "sitrep capture: redacted {}: {}",
            s.redaction.values().sum::<u64>(),
            parts.join(", ")
        );
    }
    if s.missing.is_empty() {
        let _ = writeln!(out, "sitrep capture: nothing missing");
    } else {
        let _ = writeln!(out, "sitrep capture: missing ({}):", s.missing.len());
        for m in &s.missing {
            let _ = writeln!(out, "  {}", crate::text::sanitize(m));
        }
    }
}

#[derive(Serialize)]
struct ManifestOut {
    host: String,
    captured_at: String,
    tz: String,
    sitrep_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<u32>,
    window: WindowOut,
    versions: BTreeMap<&'static str, String>,
    redaction: BTreeMap<&'static str, u64>,
    capture: CaptureOut,
}

#[derive(Serialize)]
struct WindowOut {
    since: String,
    until: String,
}

#[derive(Serialize)]
struct CaptureOut {
    redacted: bool,
    redact_ips: bool,
    redact_pii: bool,
    /// The ssh destination it was read over, and the name that host gives itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    missing: Vec<String>,
}

/// `+02:00` for an offset in seconds east of UTC.
fn zone(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

fn rfc3339(t: Micros) -> String {
    // format_utc gives `YYYY-MM-DDTHH:MM:SS.ffffffZ`-like text; keep whole seconds.
    let s = format_utc(t);
    match (s.get(..19), s.ends_with('Z')) {
        (Some(head), _) => format!("{head}Z"),
        _ => s,
    }
}

/// One capture in progress.
struct Cap<'a> {
    opts: &'a Options,
    target: &'a dyn Target,
    /// `HOST: ` before each progress line when capturing over ssh.
    label: String,
    out: BundleWriter,
    red: Option<Redactor>,
    missing: Vec<String>,
    names: HashSet<String>,
    progress: &'a mut dyn Write,
    stop: &'a AtomicBool,
    now_secs: u64,
    versions: BTreeMap<&'static str, String>,
}

impl Cap<'_> {
    fn say(&mut self, line: &str) {
        let _ = writeln!(
            self.progress,
            "sitrep capture: {}{}",
            self.label,
            crate::text::sanitize(line)
        );
    }

    fn miss(&mut self, what: &str, why: &str) {
        self.say(&format!("{what}: {why}"));
        self.missing.push(format!("{what}: {why}"));
    }

    fn check(&self) -> Result<(), String> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(format!(
                "interrupted; nothing written to {}",
                self.opts.output.display()
            ));
        }
        Ok(())
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<collect::Ran, String> {
        self.run_for(program, args, self.opts.programs.timeout)
    }

    fn run_for(
        &self,
        program: &str,
        args: &[&str],
        timeout: std::time::Duration,
    ) -> Result<collect::Ran, String> {
        self.target.run(program, args, timeout, self.stop)
    }

    /// A name not used yet in the bundle: `dir/name`, else `dir/name-2`...
    fn unique(&mut self, dir: &str, name: &str) -> String {
        let name = name.replace(['/', '\0'], "_");
        let mut path = format!("{dir}/{name}");
        let mut n = 2;
        while self.names.contains(&path) {
            // Keep the suffixes that say what the file is (.log, .gz).
            let (stem, ext) = match name.find('.') {
                Some(i) if i > 0 => (&name[..i], &name[i..]),
                _ => (name.as_str(), ""),
            };
            path = format!("{dir}/{stem}-{n}{ext}");
            n += 1;
        }
        self.names.insert(path.clone());
        path
    }

    /// Redact and add a text file.
    fn text(&mut self, path: &str, data: &[u8], mtime: Option<u64>) -> Result<(), String> {
        self.check()?;
        let data = match self.red.as_mut() {
            Some(r) => r.redact_bytes(data),
            None => data.to_vec(),
        };
        self.names.insert(path.to_string());
        self.out.add(path, &data, mtime.unwrap_or(self.now_secs))
    }

    /// Redact and add a decompressed `.gz` file, compressed again.
    fn gz(&mut self, path: &str, data: &[u8], mtime: Option<u64>) -> Result<(), String> {
        self.check()?;
        let data = match self.red.as_mut() {
            Some(r) => r.redact_bytes(data),
            None => data.to_vec(),
        };
        let packed = tar::gzip(&data).map_err(|e| format!("{path}: cannot compress it ({e})"))?;
        self.names.insert(path.to_string());
        self.out.add(path, &packed, mtime.unwrap_or(self.now_secs))
    }
}

fn secs(t: Option<std::time::SystemTime>) -> Option<u64> {
    t.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
}

/// Capture per `opts`, with one progress line per step on `progress`; `Err` only when the
/// output cannot be written (or on interruption), and then nothing is left behind.
pub fn capture(
    opts: &Options,
    target: &dyn Target,
    progress: &mut dyn Write,
    stop: &AtomicBool,
) -> Result<Summary, String> {
    let out = BundleWriter::create(&opts.output)?;
    let red = opts.redact.then(|| {
        if opts.redact_ips {
            Redactor::with_ips()
        } else {
            Redactor::new()
        }
        .with_pii(opts.redact_pii)
    });
    let mut cap = Cap {
        opts,
        target,
        label: target
            .ssh()
            .map(|_| format!("{}: ", target.host()))
            .unwrap_or_default(),
        out,
        red,
        missing: Vec::new(),
        names: HashSet::new(),
        progress,
        stop,
        now_secs: (opts.until / 1_000_000).max(0) as u64,
        versions: BTreeMap::new(),
    };
    let p = opts.programs.clone();

    // nginx first: its config names the logs, and its addresses stay under --redact-ips.
    let (nginx_t, prefix, compiled) = nginx_config(&mut cap, &p)?;
    let sockets = sockets(&mut cap, &p)?;
    if let Some(r) = cap.red.as_mut() {
        if let Some(t) = &nginx_t {
            r.keep_ips_in(t);
        }
        for s in crate::ingest::formats::ss::parse_sockets(&sockets) {
            if s.is_listener() {
                r.keep_ips_in(&s.local.host);
            }
        }
    }
    if let Some(t) = &nginx_t {
        cap.text("nginx/nginx-T.txt", t.as_bytes(), None)?;
    }
    if !sockets.is_empty() {
        cap.text("sockets/ss.txt", sockets.as_bytes(), None)?;
    }
    processes(&mut cap, &p)?;
    let units = if opts.systemd {
        systemd(&mut cap, &p)?
    } else {
        cap.say("systemctl, journalctl: skipped (--no-systemd)");
        Vec::new()
    };
    nginx_logs(&mut cap, nginx_t.as_deref(), prefix.as_deref(), &compiled)?;
    if opts.systemd {
        journal(&mut cap, &p, &units)?;
    }
    let mut seen_files: HashSet<PathBuf> = HashSet::new();
    gunicorn(&mut cap, &p, &mut seen_files)?;
    for log in &opts.logs {
        app_file(&mut cap, log, &mut seen_files, true)?;
    }
    manifest(&mut cap)?;
    let files = std::mem::take(&mut cap.out.files);
    let redaction = cap
        .red
        .as_ref()
        .map(|r| r.counts().clone())
        .unwrap_or_default();
    let missing = std::mem::take(&mut cap.missing);
    cap.check()?;
    let Cap { out, .. } = cap;
    let output = out.finish()?;
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    Ok(Summary {
        output,
        files,
        size,
        missing,
        redaction,
        redacted: opts.redact,
    })
}

/// `nginx -V` (version, prefix, compiled-in log paths) and `nginx -T`.
#[allow(clippy::type_complexity)]
fn nginx_config(
    cap: &mut Cap,
    p: &Programs,
) -> Result<(Option<String>, Option<String>, Vec<(LogKind, PathBuf)>), String> {
    cap.check()?;
    let mut prefix = None;
    let mut compiled = Vec::new();
    if let Ok(v) = cap.run(&p.nginx, &["-V"]) {
        let text = String::from_utf8_lossy(&[v.stderr, v.stdout].concat()).into_owned();
        let (version, pre) = collect::nginx_version(&text);
        if let Some(v) = version {
            cap.versions.insert("nginx", v);
        }
        prefix = pre;
        for w in text.split_whitespace() {
            if let Some(e) = w.strip_prefix("--error-log-path=") {
                compiled.push((LogKind::Error { offset: 0 }, PathBuf::from(e)));
            }
            if let Some(a) = w.strip_prefix("--http-log-path=") {
                compiled.push((LogKind::Access, PathBuf::from(a)));
            }
        }
    }
    let conf = cap
        .opts
        .nginx_conf
        .as_ref()
        .map(|c| c.to_string_lossy().into_owned());
    let mut args = vec!["-T"];
    if let Some(c) = &conf {
        args.extend(["-c", c.as_str()]);
    }
    let what = if conf.is_some() {
        "nginx -T -c"
    } else {
        "nginx -T"
    };
    let text = match cap.run(&p.nginx, &args) {
        Err(why) => {
            cap.miss(what, &why);
            None
        }
        Ok(r) if !r.success => {
            let why = r.reason();
            cap.miss(what, &why);
            None
        }
        Ok(r) => {
            let t = String::from_utf8_lossy(&[r.stderr, r.stdout].concat()).into_owned();
            cap.say(&format!("{what}: {}", human(t.len() as u64)));
            Some(t)
        }
    };
    Ok((text, prefix, compiled))
}

/// `ss -Haptn` then `ss -Hapx`.
fn sockets(cap: &mut Cap, p: &Programs) -> Result<String, String> {
    cap.check()?;
    let mut text = String::new();
    for args in [["-Haptn"], ["-Hapx"]] {
        let what = format!("ss {}", args[0]);
        match cap.run(&p.ss, &args) {
            Err(why) => cap.miss(&what, &why),
            Ok(r) if !r.success => {
                let why = r.reason();
                cap.miss(&what, &why);
            }
            Ok(r) => {
                let t = String::from_utf8_lossy(&r.stdout);
                let n = t.lines().filter(|l| !l.trim().is_empty()).count();
                cap.say(&format!("{what}: {n} sockets"));
                text.push_str(&t);
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
            }
        }
    }
    Ok(text)
}

/// The process table: the command lines the app servers run with (`--timeout`, `--bind`,
/// `--workers`), which no log prints.
fn processes(cap: &mut Cap, p: &Programs) -> Result<(), String> {
    cap.check()?;
    let args = ["-eo", "pid,ppid,user,etime,args"];
    let what = "ps -eo pid,ppid,user,etime,args";
    match cap.run(&p.ps, &args) {
        Err(why) => cap.miss(what, &why),
        Ok(r) if !r.success => {
            let why = r.reason();
            cap.miss(what, &why);
        }
        Ok(r) => {
            let n = r.stdout.iter().filter(|b| **b == b'\n').count();
            cap.say(&format!("{what}: {} processes", n.saturating_sub(1)));
            cap.text("processes/ps.txt", &r.stdout, None)?;
        }
    }
    Ok(())
}

/// Units, their show/cat, systemd's version. Returns the relevant units.
fn systemd(cap: &mut Cap, p: &Programs) -> Result<Vec<String>, String> {
    cap.check()?;
    let listed = cap.run(
        &p.systemctl,
        &["list-units", "--all", "--output=json", "--no-pager"],
    );
    let listed = match listed {
        Ok(r) if !r.success && String::from_utf8_lossy(&r.stderr).contains("output") => {
            // Older systemd: no JSON output; the plain list instead.
            cap.run(
                &p.systemctl,
                &["list-units", "--all", "--no-pager", "--plain"],
            )
            .map(|r| (r, "systemd/units.txt"))
        }
        other => other.map(|r| (r, "systemd/units.json")),
    };
    let units = match listed {
        Err(why) => {
            cap.miss("systemctl", &why);
            return Ok(cap.opts.units.clone());
        }
        Ok((r, _)) if !r.success => {
            let why = r.reason();
            cap.miss("systemctl", &why);
            return Ok(cap.opts.units.clone());
        }
        Ok((r, path)) => {
            let units = collect::relevant_units(&r.stdout, &cap.opts.units);
            cap.say(&format!(
                "systemctl list-units: {}; {} unit(s) to look at",
                human(r.stdout.len() as u64),
                units.len()
            ));
            cap.text(path, &r.stdout, None)?;
            units
        }
    };
    for unit in &units {
        cap.check()?;
        let name = unit.replace('/', "_");
        match cap.run(&p.systemctl, &["show", unit, "--no-pager"]) {
            Ok(r) if r.success => {
                let path = cap.unique("systemd/show", &format!("{name}.txt"));
                cap.text(&path, &r.stdout, None)?;
            }
            Ok(r) => cap.miss(&format!("systemctl show {unit}"), &r.reason()),
            Err(why) => cap.miss(&format!("systemctl show {unit}"), &why),
        }
        match cap.run(&p.systemctl, &["cat", unit, "--no-pager"]) {
            Ok(r) if r.success => {
                let path = cap.unique("systemd/cat", &name);
                cap.text(&path, &r.stdout, None)?;
            }
            Ok(r) => cap.miss(&format!("systemctl cat {unit}"), &r.reason()),
            Err(why) => cap.miss(&format!("systemctl cat {unit}"), &why),
        }
    }
    if !units.is_empty() {
        cap.say(&format!("systemctl show, cat: {} unit(s)", units.len()));
    }
    if let Ok(r) = cap.run(&p.systemctl, &["--version"])
        && let Some(v) = collect::systemd_version(&String::from_utf8_lossy(&r.stdout))
    {
        cap.versions.insert("systemd", v);
    }
    Ok(units)
}

/// `journalctl -o json` over the window for `units` (all when none).
fn journal(cap: &mut Cap, p: &Programs, units: &[String]) -> Result<(), String> {
    cap.check()?;
    let since = format!("@{}", cap.opts.since.div_euclid(1_000_000));
    let until = format!("@{}", cap.opts.until.div_euclid(1_000_000) + 1);
    let mut args: Vec<&str> = vec![
        "-o",
        "json",
        "--no-pager",
        "--since",
        &since,
        "--until",
        &until,
    ];
    for u in units {
        args.extend(["-u", u.as_str()]);
    }
    let timeout = p.timeout * 3;
    match cap.run_for(&p.journalctl, &args, timeout) {
        Err(why) => cap.miss("journalctl", &why),
        Ok(r) if !r.success => {
            let why = r.reason();
            cap.miss("journalctl", &why);
        }
        Ok(r) => {
            let stderr = String::from_utf8_lossy(&r.stderr);
            if stderr.contains("not seeing messages") {
                cap.miss(
                    "journalctl",
                    "only your own messages: add yourself to group systemd-journal or adm, or run with sudo",
                );
            }
            if r.cut {
                cap.miss(
                    "journalctl",
                    &format!(
                        "more than {} MiB; kept the start (narrow --since or --unit)",
                        collect::MAX_OUTPUT >> 20
                    ),
                );
            }
            if r.stdout.is_empty() {
                cap.miss("journalctl", "no entries in the window");
            } else {
                let n = r.stdout.iter().filter(|b| **b == b'\n').count();
                cap.say(&format!(
                    "journalctl: {n} entries ({})",
                    if units.is_empty() {
                        "all units".to_string()
                    } else {
                        format!("{} unit(s)", units.len())
                    }
                ));
                cap.text("journal/journal.json", &r.stdout, None)?;
            }
        }
    }
    Ok(())
}

/// The access and error logs nginx writes: named by `nginx -T`, else compiled in, else
/// Debian's paths.
fn nginx_logs(
    cap: &mut Cap,
    nginx_t: Option<&str>,
    prefix: Option<&str>,
    compiled: &[(LogKind, PathBuf)],
) -> Result<(), String> {
    let offset = cap.target.offset();
    let mut logs: Vec<(LogKind, PathBuf)> = Vec::new();
    let mut skipped = Vec::new();
    if let Some(t) = nginx_t {
        let config = crate::ingest::formats::nginx_config::parse_config(t);
        let named = config
            .access_logs
            .iter()
            .map(|a| (LogKind::Access, a.path.clone()))
            .chain(
                config
                    .error_logs
                    .iter()
                    .map(|e| (LogKind::Error { offset }, e.path.clone())),
            );
        for (kind, path) in named {
            if path == "off" || path == "stderr" || path.starts_with("/dev/") {
                continue;
            }
            if path.starts_with("syslog:") || path.starts_with("memory:") || path.contains('$') {
                skipped.push(path);
                continue;
            }
            let p = Path::new(&path);
            let p = match prefix {
                Some(pre) if p.is_relative() => Path::new(pre).join(p),
                _ => p.to_path_buf(),
            };
            logs.push((kind, p));
        }
    }
    for s in skipped {
        cap.miss(
            &format!("nginx log {s}"),
            "not a file (syslog, memory or a path with variables); not collected",
        );
    }
    let has = |logs: &[(LogKind, PathBuf)], access: bool| {
        logs.iter().any(|(k, _)| (*k == LogKind::Access) == access)
    };
    for access in [true, false] {
        if has(&logs, access) {
            continue;
        }
        let default = compiled
            .iter()
            .find(|(k, _)| (*k == LogKind::Access) == access)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| {
                PathBuf::from(if access {
                    "/var/log/nginx/access.log"
                } else {
                    "/var/log/nginx/error.log"
                })
            });
        let kind = if access {
            LogKind::Access
        } else {
            LogKind::Error { offset }
        };
        logs.push((kind, default));
    }
    let mut seen = HashSet::new();
    logs.retain(|(_, p)| seen.insert(p.clone()));
    for (kind, path) in logs {
        for (i, file) in cap
            .target
            .rotations(&path, cap.opts.since, cap.stop)
            .into_iter()
            .enumerate()
        {
            cap.check()?;
            let shown = file.display().to_string();
            let data = match cap.target.read_file(&file, cap.stop) {
                Ok(d) => d,
                Err(why) => {
                    cap.miss(&shown, &why);
                    continue;
                }
            };
            if i > 0
                && data
                    .mtime
                    .is_some_and(|t| collect::micros_of(t) < cap.opts.since)
            {
                continue;
            }
            if let Some(n) = &data.note {
                cap.miss(&shown, n);
            }
            let Some(kept) = collect::cut_to_window(&data.data, kind, cap.opts.since) else {
                if i == 0 {
                    cap.say(&format!("{shown}: no line in the window"));
                }
                continue;
            };
            let name = file
                .file_name()
                .map_or("log".into(), |n| n.to_string_lossy().into_owned());
            let bundle_path = cap.unique("nginx", &name);
            let mtime = secs(data.mtime);
            if name.ends_with(".gz") {
                cap.gz(&bundle_path, kept, mtime)?;
            } else {
                cap.text(&bundle_path, kept, mtime)?;
            }
            cap.say(&format!("{shown}: {}", human(kept.len() as u64)));
        }
    }
    Ok(())
}

/// A log or config file under `app/`, once per real path.
fn app_file(
    cap: &mut Cap,
    path: &Path,
    seen: &mut HashSet<PathBuf>,
    asked: bool,
) -> Result<(), String> {
    cap.check()?;
    let real = cap.target.canonical(path);
    if !seen.insert(real) {
        return Ok(());
    }
    let shown = path.display().to_string();
    let data = match cap.target.read_file(path, cap.stop) {
        Ok(d) => d,
        Err(why) => {
            if asked || !why.starts_with("not there") {
                cap.miss(&shown, &why);
            }
            return Ok(());
        }
    };
    if let Some(n) = &data.note {
        cap.miss(&shown, n);
    }
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy().into_owned());
    let bundle_path = cap.unique("app", &name);
    let mtime = secs(data.mtime);
    if name.ends_with(".gz") {
        cap.gz(&bundle_path, &data.data, mtime)?;
    } else {
        cap.text(&bundle_path, &data.data, mtime)?;
    }
    cap.say(&format!(
        "{shown}: {} as {bundle_path}",
        human(data.data.len() as u64)
    ));
    Ok(())
}

/// Running gunicorns: their config files and the log files they name; their version.
fn gunicorn(cap: &mut Cap, p: &Programs, seen: &mut HashSet<PathBuf>) -> Result<(), String> {
    cap.check()?;
    let procs = cap.target.gunicorns(cap.stop);
    if procs.is_empty() {
        cap.say("gunicorn: none running (no config or log of it looked for)");
    }
    let mut program = p.gunicorn.clone();
    for g in &procs {
        if program.is_none() {
            program = g
                .args
                .iter()
                .take(2)
                .find(|a| {
                    a.starts_with('/')
                        && a.rsplit('/')
                            .next()
                            .is_some_and(|b| b.starts_with("gunicorn"))
                })
                .cloned();
        }
        let mut logs = g.logs();
        if let Some((conf, named)) = g.config() {
            if let Ok(file) = cap.target.read_file(&conf, cap.stop) {
                let text = String::from_utf8_lossy(&file.data);
                logs.extend(collect::config_logs(&text, g.cwd.as_deref()));
            }
            app_file(cap, &conf, seen, named)?;
        }
        for log in logs {
            app_file(cap, &log, seen, false)?;
        }
    }
    let program = program.unwrap_or_else(|| "gunicorn".into());
    if let Ok(r) = cap.run(&program, &["--version"])
        && let Some(v) =
            collect::gunicorn_version(&String::from_utf8_lossy(&[r.stdout, r.stderr].concat()))
    {
        cap.versions.insert("gunicorn", v);
    }
    Ok(())
}

fn manifest(cap: &mut Cap) -> Result<(), String> {
    let offset = cap.target.offset();
    let m = ManifestOut {
        host: cap.target.host().to_string(),
        captured_at: rfc3339(cap.opts.until),
        tz: zone(offset),
        sitrep_version: env!("CARGO_PKG_VERSION"),
        cpus: cap.target.cpus(),
        window: WindowOut {
            since: rfc3339(cap.opts.since),
            until: rfc3339(cap.opts.until),
        },
        versions: cap.versions.clone(),
        redaction: cap
            .red
            .as_ref()
            .map(|r| r.counts().clone())
            .unwrap_or_default(),
        capture: CaptureOut {
            redacted: cap.opts.redact,
            redact_ips: cap.opts.redact && cap.opts.redact_ips,
            redact_pii: cap.opts.redact && cap.opts.redact_pii,
            ssh: cap.target.ssh().map(|(d, _)| d.to_string()),
            hostname: cap.target.ssh().map(|(_, h)| h.to_string()),
            missing: cap.missing.clone(),
        },
    };
    let text = toml::to_string(&m).map_err(|e| format!("manifest.toml: {e}"))?;
    cap.check()?;
    cap.names.insert("manifest.toml".into());
    let now = cap.now_secs;
    cap.out.add("manifest.toml", text.as_bytes(), now)?;
    cap.say("manifest.toml");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_times() {
        assert_eq!(zone(7200), "+02:00");
        assert_eq!(zone(-4 * 3600 - 1800), "-04:30");
        assert_eq!(zone(0), "+00:00");
        let t = parse_instant("2023-04-13T11:24:04Z").unwrap();
        assert_eq!(rfc3339(t + 123), "2023-04-13T11:24:04Z");
    }

    #[test]
    fn since_reads_spans_and_instants() {
        let args = |since: &str, out: &str| Args {
            output: out.into(),
            since: since.into(),
            units: vec![],
            nginx_conf: None,
            logs: vec![],
            no_systemd: true,
            no_redact: false,
            redact_ips: false,
            redact_pii: false,
            ssh: vec![],
            ssh_config: None,
        };
        let now = parse_instant("2023-04-13T12:00:00Z").unwrap();
        let o = options(&args("1h", "b.tar.gz"), now).unwrap();
        assert_eq!(now - o.since, 3_600_000_000);
        let o = options(&args("-10m", "b.tgz"), now).unwrap();
        assert_eq!(now - o.since, 600_000_000);
        let o = options(&args("2023-04-13T11:00:00Z", "b.tgz"), now).unwrap();
        assert_eq!(now - o.since, 3_600_000_000);
        assert!(
            options(&args("yesterday", "b.tgz"), now)
                .unwrap_err()
                .contains("--since")
        );
        assert!(
            options(&args("1h", "b.zip"), now)
                .unwrap_err()
                .contains(".tar.gz")
        );
    }

    #[test]
    fn manifest_reads_back() {
        let m = ManifestOut {
            host: "web \"1\"".into(),
            captured_at: "2023-04-13T12:00:00Z".into(),
            tz: "+02:00".into(),
            sitrep_version: "0.1.0",
            cpus: Some(2),
            window: WindowOut {
                since: "2023-04-13T11:00:00Z".into(),
                until: "2023-04-13T12:00:00Z".into(),
            },
            versions: [("nginx", "1.22.1".to_string())].into_iter().collect(),
            redaction: [("password", 2u64)].into_iter().collect(),
            capture: CaptureOut {
                redacted: true,
                redact_ips: false,
                redact_pii: false,
                ssh: None,
                hostname: None,
                missing: vec!["systemctl: not there".into()],
            },
        };
        let text = toml::to_string(&m).unwrap();
        let back = crate::ingest::manifest::Manifest::parse(&text).unwrap();
        assert_eq!(back.host.as_deref(), Some("web \"1\""));
        assert_eq!(back.cpus, Some(2));
        assert_eq!(back.window.since.as_deref(), Some("2023-04-13T11:00:00Z"));
        assert!(back.captured_at().is_some());
        assert!(text.contains("[redaction]\npassword = 2"), "{text}");
    }
}
