//! The app servers of an incident (gunicorn) and where each of their settings comes from.
//!
//! A gunicorn is found by its command line: an `ExecStart=` of `systemctl cat` or `systemctl
//! show`, or the master's row of a `ps` table (its workers carry the same command line). The config file it names with `-c` (matched by file name),
//! or the only gunicorn config file of its host, is read under the command line, as gunicorn
//! does. A lone config file with no command line is an app server too.
//!
//! Every value a rule states carries its [`Origin`]: the line that sets it; gunicorn's default
//! when the command line and its config file are in the bundle and neither sets it; or a
//! default *assumed* because the bundle holds neither. Rules say which, and checks treat an
//! assumed value as unknown.

use std::fmt::Display;

use crate::analysis::rules::{Context, Evidence};
use crate::ingest::formats::gunicorn_config::{
    GunicornSettings, from_argv, parse_settings, runs_gunicorn,
};
use crate::ingest::formats::ps::parse_processes;
use crate::ingest::formats::systemctl_cat::parse_units;
use crate::ingest::formats::systemctl_show::parse_show;
use crate::model::format_id::FormatId;

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A line of the bundle sets it; `what` says which ("its command line (ExecStart of
    /// gunicorn.service)", "gunicorn.conf.py").
    Set { evidence: Evidence, what: String },
    /// Nothing sets it where everything that could is in the bundle: the program's default
    /// applies. `what` says what was read.
    Default { what: String },
    /// The bundle lacks what would set it: the default is a guess. `what` says what is missing.
    Assumed { what: String },
}

/// A value and its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T: Display> Setting<T> {
    /// The value is read or known to be the default, not assumed.
    pub fn is_known(&self) -> bool {
        !matches!(self.origin, Origin::Assumed { .. })
    }

    /// The value with its unit and origin, for a sentence: `2 s (from its command line (ps))`,
    /// `30 s (the default: no --timeout on ...)`, `default 30 s assumed: no ...`.
    pub fn said(&self, unit: &str) -> String {
        let v = &self.value;
        match &self.origin {
            Origin::Set { what, .. } => format!("{v}{unit} (from {what})"),
            Origin::Default { what } => format!("{v}{unit} (the default: {what})"),
            Origin::Assumed { what } => format!("default {v}{unit} assumed: {what}"),
        }
    }

    /// The value with a short origin, for titles (the evidence says the rest): `2 s, from its
    /// command line`, `30 s, the default`; an assumed default is always said in full.
    pub fn short(&self, unit: &str) -> String {
        let v = &self.value;
        match &self.origin {
            Origin::Set { what, .. } => {
                format!(
                    "{v}{unit}, from {}",
                    what.split(" (").next().unwrap_or(what)
                )
            }
            Origin::Default { .. } => format!("{v}{unit}, the default"),
            Origin::Assumed { .. } => self.said(unit),
        }
    }

    /// The evidence for the value: the line that sets it, else a fact saying why the default
    /// is used.
    pub fn evidence(&self, name: &str, unit: &str) -> Evidence {
        match &self.origin {
            Origin::Set { evidence, .. } => evidence.clone(),
            _ => Evidence::Fact(format!("{name}: {}", self.said(unit))),
        }
    }
}

/// One gunicorn of the incident and where its settings were read.
#[derive(Debug, Clone)]
pub struct AppServer {
    pub host: String,
    /// The systemd unit that starts it, if known.
    pub unit: Option<String>,
    /// Effective settings: the config file with the command line on top.
    pub settings: GunicornSettings,
    /// The command line's line: an `ExecStart=` (of `systemctl cat`, else `systemctl show`) or
    /// a `ps` row.
    pub exec_line: Option<Evidence>,
    /// Where the command line was read, for sentences: "ExecStart of gunicorn.service", "ps".
    pub launched_by: Option<String>,
    /// The config file source, if one was read.
    pub config_source: Option<usize>,
    /// A config file the command line names (`-c PATH`) that the bundle does not hold.
    pub config_missing: Option<String>,
}

impl AppServer {
    /// A short name for sentences: the unit, else "gunicorn".
    pub fn name(&self) -> String {
        self.unit.clone().unwrap_or_else(|| "gunicorn".to_string())
    }

    /// Where the value of `name` (config-file spelling: `workers`, `timeout`) comes from:
    /// the command line when it sets it, else the config file's line, else `None` (default).
    pub fn setting_evidence(&self, cx: &Context, name: &str, flags: &[&str]) -> Option<Evidence> {
        if self.on_command_line(flags) {
            return self.exec_line.clone();
        }
        let src = self.config_source?;
        config_line(cx, src, name)
    }

    fn on_command_line(&self, flags: &[&str]) -> bool {
        let Some(Evidence::Line { text, .. }) = &self.exec_line else {
            return false;
        };
        text.split_whitespace().any(|w| {
            flags.iter().any(|f| {
                w == *f
                    || w.starts_with(&format!("{f}="))
                    || (f.len() == 2 && w.starts_with(f) && w.len() > 2)
            })
        })
    }

    /// A setting with its origin: `value` as read (`None` when not set), `default` gunicorn's.
    pub fn setting<T: Clone>(
        &self,
        cx: &Context,
        name: &str,
        flags: &[&str],
        value: Option<T>,
        default: T,
    ) -> Setting<T> {
        if let Some(v) = value {
            let what = if self.on_command_line(flags) {
                format!(
                    "its command line ({})",
                    self.launched_by.as_deref().unwrap_or("?")
                )
            } else {
                match self.config_source {
                    Some(i) => file_name(&cx.incident.sources[i].file).to_string(),
                    None => "its settings".to_string(),
                }
            };
            if let Some(evidence) = self.setting_evidence(cx, name, flags) {
                return Setting {
                    value: v,
                    origin: Origin::Set { evidence, what },
                };
            }
            return Setting {
                value: v,
                origin: Origin::Default { what },
            };
        }
        let flag = flags.first().copied().unwrap_or(name);
        let origin = match (&self.launched_by, &self.config_missing, self.config_source) {
            (_, Some(path), _) => Origin::Assumed {
                what: format!(
                    "no {flag} on gunicorn's command line, and its config file {path} is not in \
                     the bundle"
                ),
            },
            (Some(via), None, Some(i)) => Origin::Default {
                what: format!(
                    "no {flag} on gunicorn's command line ({via}) and no `{name}` in {}",
                    file_name(&cx.incident.sources[i].file)
                ),
            },
            (Some(via), None, None) => Origin::Default {
                what: format!("no {flag} on gunicorn's command line ({via}) and no config file"),
            },
            (None, None, Some(i)) => Origin::Assumed {
                what: format!(
                    "no `{name}` in {}, and gunicorn's command line is not in the bundle",
                    file_name(&cx.incident.sources[i].file)
                ),
            },
            (None, None, None) => Origin::Assumed {
                what: NO_APP_SERVER.to_string(),
            },
        };
        Setting {
            value: default,
            origin,
        }
    }

    /// The worker timeout in seconds, with its origin.
    pub fn timeout(&self, cx: &Context) -> Setting<u32> {
        use crate::ingest::formats::gunicorn_config::DEFAULT_TIMEOUT;
        self.setting(
            cx,
            "timeout",
            &["--timeout", "-t"],
            self.settings.timeout,
            DEFAULT_TIMEOUT,
        )
    }

    /// The number of workers, with its origin.
    pub fn workers(&self, cx: &Context) -> Setting<u32> {
        use crate::ingest::formats::gunicorn_config::DEFAULT_WORKERS;
        self.setting(
            cx,
            "workers",
            &["--workers", "-w"],
            self.settings.workers,
            DEFAULT_WORKERS,
        )
    }
}

/// What is said of a gunicorn setting when the bundle holds no gunicorn at all.
pub const NO_APP_SERVER: &str = "no command line or config of gunicorn in the bundle";

/// gunicorn's timeout on `host` with its origin: the largest of the host's gunicorns, else the
/// default, assumed.
pub fn host_timeout(cx: &Context, host: &str) -> Setting<u32> {
    cx.apps
        .iter()
        .filter(|a| a.host == host)
        .map(|a| a.timeout(cx))
        .max_by_key(|s| (s.is_known(), s.value))
        .unwrap_or(Setting {
            value: crate::ingest::formats::gunicorn_config::DEFAULT_TIMEOUT,
            origin: Origin::Assumed {
                what: NO_APP_SERVER.to_string(),
            },
        })
}

/// The line of config source `source` that assigns `name` at top level.
fn config_line(cx: &Context, source: usize, name: &str) -> Option<Evidence> {
    let data = &cx.incident.sources.get(source)?.data;
    let text = String::from_utf8_lossy(data);
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix(name) {
            let rest = rest.trim_start();
            if rest.starts_with('=') && !rest.starts_with("==") {
                return Some(cx.line_at(source, offset));
            }
        }
        offset += line.len();
    }
    None
}

/// The evidence line of the first `ExecStart=` of a whole-file source.
fn exec_start_line(cx: &Context, source: usize) -> Option<Evidence> {
    let data = &cx.incident.sources.get(source)?.data;
    let at = memchr::memmem::find(data, b"ExecStart=")?;
    Some(cx.line_at(source, at))
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// A gunicorn command line found in the bundle.
struct CommandLine {
    host: String,
    unit: Option<String>,
    /// The master's pid, for a command line read from a process table.
    pid: Option<u32>,
    cmd: String,
    line: Option<Evidence>,
    /// Read from what runs (`systemctl show`, `ps`) rather than a unit file.
    running: bool,
    via: String,
}

/// Every gunicorn command line of the bundle's units.
fn command_lines(cx: &Context) -> Vec<CommandLine> {
    let mut found = Vec::new();
    for (i, s) in cx.incident.sources.iter().enumerate() {
        match s.format {
            FormatId::SystemctlCat => {
                let text = String::from_utf8_lossy(&s.data);
                for unit in parse_units(&text) {
                    for cmd in unit.get("Service", "ExecStart") {
                        if cmd.contains("gunicorn") {
                            let name = unit.name.clone();
                            found.push(CommandLine {
                                host: s.host.clone(),
                                via: format!(
                                    "ExecStart of {}",
                                    name.as_deref().unwrap_or(file_name(&s.file))
                                ),
                                unit: name,
                                pid: None,
                                cmd: cmd.to_string(),
                                line: exec_start_line(cx, i),
                                running: false,
                            });
                        }
                    }
                }
            }
            FormatId::SystemctlShow => {
                let text = String::from_utf8_lossy(&s.data);
                for unit in parse_show(&text) {
                    if let Some(cmd) = unit.exec_start().filter(|c| c.contains("gunicorn")) {
                        let name = unit.id().map(str::to_string);
                        found.push(CommandLine {
                            host: s.host.clone(),
                            via: format!(
                                "ExecStart of {} as loaded",
                                name.as_deref().unwrap_or("a unit")
                            ),
                            unit: name,
                            pid: None,
                            cmd,
                            line: exec_start_line(cx, i),
                            running: true,
                        });
                    }
                }
            }
            FormatId::Ps => {
                let text = String::from_utf8_lossy(&s.data);
                let procs = parse_processes(&text);
                let is_gunicorn =
                    |args: &str| runs_gunicorn(&args.split_whitespace().collect::<Vec<_>>());
                for p in procs.iter().filter(|p| is_gunicorn(&p.args)) {
                    // A worker's parent is its master, with the same command line; a table
                    // without parents (`ps aux`) keeps the lowest pid of one command line.
                    let worker = match p.ppid {
                        Some(pp) => procs
                            .iter()
                            .any(|q| q.pid == pp && q.pid != p.pid && is_gunicorn(&q.args)),
                        None => procs.iter().any(|q| q.args == p.args && q.pid < p.pid),
                    };
                    // `gunicorn: master [app]` (setproctitle) shows no settings to read.
                    if worker || p.args.contains("gunicorn: ") {
                        continue;
                    }
                    found.push(CommandLine {
                        host: s.host.clone(),
                        unit: None,
                        pid: Some(p.pid),
                        cmd: p.args.clone(),
                        line: Some(cx.line_at(i, line_offset(&s.data, p.line))),
                        running: true,
                        via: format!("ps, pid {}", p.pid),
                    });
                }
            }
            _ => {}
        }
    }
    // A process table beside a unit that starts the same app adds nothing: the unit's
    // command line is the one to cite.
    let units: Vec<(String, Option<String>)> = found
        .iter()
        .filter(|f| f.pid.is_none())
        .map(|f| (f.host.clone(), from_argv(&f.cmd).wsgi_app))
        .collect();
    found.retain(|f| {
        f.pid.is_none() || !units.contains(&(f.host.clone(), from_argv(&f.cmd).wsgi_app))
    });
    found
}

/// Byte offset of 1-based line `line` of `data`.
fn line_offset(data: &[u8], line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    memchr::memchr_iter(b'\n', data)
        .nth(line as usize - 2)
        .map_or(data.len(), |i| i + 1)
}

/// Every gunicorn sitrep can see, one per unit (or one per host from a lone config file).
pub fn gunicorns(cx: &Context) -> Vec<AppServer> {
    let sources = &cx.incident.sources;
    let found = command_lines(cx);
    let mut out: Vec<AppServer> = Vec::new();
    // The unit file (cat) is the readable line; the loaded unit (show) is what runs. Prefer the
    // loaded command line, cite the unit file when both say the same.
    // Several `ps` files of one host show the same master: one app server per pid.
    let mut keys: Vec<(String, Option<String>, Option<u32>)> = Vec::new();
    for f in &found {
        let key = (f.host.clone(), f.unit.clone(), f.pid);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (host, unit, pid) in keys {
        let mine = |f: &&CommandLine| f.host == host && f.unit == unit && f.pid == pid;
        let file = found.iter().filter(mine).find(|f| !f.running);
        let running = found.iter().filter(mine).find(|f| f.running);
        let chosen = match (file, running) {
            (Some(c), Some(s)) => {
                let (a, b) = (from_argv(&c.cmd), from_argv(&s.cmd));
                if a.workers == b.workers && a.timeout == b.timeout && a.config == b.config {
                    c
                } else {
                    s
                }
            }
            (Some(c), None) => c,
            (None, Some(s)) => s,
            (None, None) => continue,
        };
        let argv = from_argv(&chosen.cmd);
        let configs: Vec<usize> = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.format == FormatId::GunicornConfig && s.host == host)
            .map(|(i, _)| i)
            .collect();
        // The file named by -c (matched by name), else the only config file of the host
        // (gunicorn also reads ./gunicorn.conf.py by default).
        let config_source = match &argv.config {
            Some(path) => configs
                .iter()
                .copied()
                .find(|i| file_name(&sources[*i].file) == file_name(path))
                .or_else(|| (configs.len() == 1).then(|| configs[0])),
            None => (configs.len() == 1).then(|| configs[0]),
        };
        let config_missing = match (&argv.config, config_source) {
            (Some(path), None) => Some(path.clone()),
            _ => None,
        };
        let settings = match config_source {
            Some(i) => {
                parse_settings(&String::from_utf8_lossy(&sources[i].data)).overridden_by(&argv)
            }
            None => argv,
        };
        out.push(AppServer {
            host,
            unit,
            settings,
            exec_line: chosen.line.clone(),
            launched_by: Some(chosen.via.clone()),
            config_source,
            config_missing,
        });
    }
    // A config file with no command line that starts it.
    for (i, s) in sources.iter().enumerate() {
        if s.format == FormatId::GunicornConfig
            && !out.iter().any(|a| a.config_source == Some(i))
            && !out.iter().any(|a| a.host == s.host)
        {
            out.push(AppServer {
                host: s.host.clone(),
                unit: None,
                settings: parse_settings(&String::from_utf8_lossy(&s.data)),
                exec_line: None,
                launched_by: None,
                config_source: Some(i),
                config_missing: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rules::test_bundle;

    #[test]
    fn each_gunicorn_with_where_its_settings_come_from() {
        let i4 = test_bundle("i4-retry-storm");
        let cx = Context::new(&i4);
        assert_eq!(cx.apps.len(), 1);
        let t = cx.apps[0].timeout(&cx);
        assert_eq!(t.value, 120);
        assert!(
            matches!(&t.origin, Origin::Set { evidence: Evidence::Line { text, .. }, what } if text == "timeout = 120" && what == "gunicorn.conf.py"),
            "{t:?}"
        );
        assert_eq!(cx.apps[0].workers(&cx).value, 2);

        let i5 = test_bundle("i5-single-worker-upload");
        let cx = Context::new(&i5);
        assert_eq!(cx.apps.len(), 1);
        let t = cx.apps[0].timeout(&cx);
        assert_eq!(t.value, 30);
        assert!(t.is_known());
        assert_eq!(
            t.said(" s"),
            "30 s (the default: no --timeout on gunicorn's command line (ExecStart of \
             inventory.service) and no config file)"
        );
    }

    /// `ps -eo pid,ppid,user,etime,args` of gunicorn 20.1 on Debian 12, master and two workers.
    const PS: &str = "\
  PID  PPID USER         ELAPSED COMMAND
 1130     1 root           00:02 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 2 --bind 127.0.0.1:18002 proj.wsgi
 1132  1130 root           00:01 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 2 --bind 127.0.0.1:18002 proj.wsgi
 1133  1130 root           00:01 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 2 --bind 127.0.0.1:18002 proj.wsgi
";

    /// `ps aux` of the same gunicorn.
    const PS_AUX: &str = "\
USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND
root        1130  0.5  0.3  31744 25600 ?        S    19:59   0:00 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 2 --bind 127.0.0.1:18002 proj.wsgi
root        1132  0.4  0.4  48000 37000 ?        S    19:59   0:00 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 2 --bind 127.0.0.1:18002 proj.wsgi
root        1133  0.4  0.4  48000 37000 ?        S    19:59   0:00 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 2 --bind 127.0.0.1:18002 proj.wsgi
";

    #[test]
    fn a_process_table_gives_the_masters_settings_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("web1");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("ps.txt"), PS).unwrap();
        // `ps aux` of the same moment: no parent column, so the workers look alike.
        std::fs::write(root.join("ps-aux.txt"), PS_AUX).unwrap();
        std::fs::write(
            root.join("nginx-T.txt"),
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
             # configuration file /etc/nginx/nginx.conf:\n\
             http {\n    server {\n        listen 8080;\n        location / {\n            \
             proxy_pass http://127.0.0.1:18002;\n            proxy_read_timeout 1s;\n        }\n    }\n}\n",
        )
        .unwrap();
        let inc = crate::ingest::load(&[root], &Default::default()).unwrap();
        let cx = Context::new(&inc);
        assert_eq!(cx.apps.len(), 1, "{:?}", cx.apps);
        let t = cx.apps[0].timeout(&cx);
        assert_eq!(t.value, 2);
        assert!(
            matches!(&t.origin, Origin::Set { evidence: Evidence::Line { line: 2, .. }, what } if what == "its command line (ps, pid 1130)"),
            "{t:?}"
        );
        assert_eq!(cx.apps[0].workers(&cx).value, 2);
        let d = crate::analysis::rules::diagnose(&inc);
        assert_eq!(
            d.findings
                .iter()
                .filter(|f| f.id == "proxy-timeout-not-above-app")
                .count(),
            1
        );
        let f = d
            .findings
            .iter()
            .find(|f| f.id == "proxy-timeout-not-above-app")
            .unwrap_or_else(|| panic!("{:#?}", d.findings));
        assert!(
            f.title.contains(
                "proxy_read_timeout (1 s) is not above the gunicorn timeout (2 s, from its command line)"
            ),
            "{}",
            f.title
        );
    }

    #[test]
    fn a_default_without_the_settings_is_assumed_and_said_so() {
        let healthy = test_bundle("i2-import-time-setting");
        let cx = Context::new(&healthy);
        let t = host_timeout(&cx, "nowhere");
        assert!(!t.is_known());
        assert_eq!(
            t.said(" s"),
            "default 30 s assumed: no command line or config of gunicorn in the bundle"
        );
        assert_eq!(t.short(" s"), t.said(" s"));
    }
}
