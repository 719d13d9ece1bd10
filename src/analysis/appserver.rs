//! The app servers of an incident (gunicorn, uWSGI, uvicorn, Django's runserver) and where
//! each of their settings comes from.
//!
//! An app server is found by its command line: an `ExecStart=` of `systemctl cat` or
//! `systemctl show`, or the master's row of a `ps` table (its workers carry the same command
//! line, or none of the server's). For gunicorn, the config file it names with `-c` (matched
//! by file name), or the only gunicorn config file of its host, is read under the command
//! line, as gunicorn does; a lone gunicorn config file with no command line is an app server
//! too. The config files of the others (uWSGI's `--ini`) are not read: what they could set
//! is assumed, and said so.
//!
//! Every value a rule states carries its [`Origin`]: the line that sets it; gunicorn's default
//! when the command line and its config file are in the bundle and neither sets it; or a
//! default *assumed* because the bundle holds neither. Rules say which, and checks treat an
//! assumed value as unknown.

use std::fmt::Display;

use crate::analysis::rules::{Context, Evidence};
use crate::ingest::formats::app_command::{ServerKind, settings as read_command};
use crate::ingest::formats::gunicorn_config::{GunicornSettings, parse_settings};
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

/// One app server of the incident and where its settings were read.
#[derive(Debug, Clone)]
pub struct AppServer {
    pub kind: ServerKind,
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
    /// A config file the command line names (`-c PATH`, `--ini PATH`) that was not read: not
    /// in the bundle, or (not gunicorn's) of a kind sitrep does not read.
    pub config_missing: Option<String>,
}

impl AppServer {
    /// A short name for sentences: the unit, else the program ("gunicorn", "uWSGI").
    pub fn name(&self) -> String {
        self.unit
            .clone()
            .unwrap_or_else(|| self.kind.name().to_string())
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

    /// A setting with its origin: `value` as read (`None` when not set), `default` the
    /// program's.
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
        let prog = self.kind.name();
        let origin = match (&self.launched_by, &self.config_missing, self.config_source) {
            (_, Some(path), _) => Origin::Assumed {
                what: format!(
                    "no {flag} on {prog}'s command line, and its config file {path} {}",
                    self.config_unread_why()
                ),
            },
            (Some(via), None, Some(i)) => Origin::Default {
                what: format!(
                    "no {flag} on {prog}'s command line ({via}) and no `{name}` in {}",
                    file_name(&cx.incident.sources[i].file)
                ),
            },
            (Some(via), None, None) => Origin::Default {
                what: format!("no {flag} on {prog}'s command line ({via}) and no config file"),
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

    /// Why a config file the command line names was not read.
    fn config_unread_why(&self) -> &'static str {
        match self.kind {
            ServerKind::Gunicorn => "is not in the bundle",
            _ => "is not read by sitrep",
        }
    }

    /// The time after which the server kills a worker busy with one request, in seconds,
    /// with its origin; `None` when it kills none as far as the bundle shows (uvicorn and
    /// runserver have no such limit; uWSGI only with `--harakiri`). See
    /// [`AppServer::timeout_unknown`] for a `None` that rests on a file not read.
    pub fn timeout(&self, cx: &Context) -> Option<Setting<u32>> {
        use crate::ingest::formats::gunicorn_config::DEFAULT_TIMEOUT;
        let flags = self.kind.timeout_flags();
        match self.kind {
            ServerKind::Gunicorn => {
                Some(self.setting(cx, "timeout", flags, self.settings.timeout, DEFAULT_TIMEOUT))
            }
            ServerKind::Uwsgi => self
                .settings
                .timeout
                .filter(|t| *t > 0)
                .map(|t| self.setting(cx, "harakiri", flags, Some(t), 0)),
            ServerKind::Uvicorn | ServerKind::Runserver => None,
        }
    }

    /// Why the bundle cannot say whether the server kills slow workers: a uWSGI whose
    /// harakiri may be set in a config file sitrep did not read.
    pub fn timeout_unknown(&self, cx: &Context) -> Option<String> {
        let path = self.config_missing.as_ref()?;
        (self.kind == ServerKind::Uwsgi && self.timeout(cx).is_none()).then(|| {
            format!(
                "uWSGI's harakiri (its worker timeout) is not on its command line, and its \
                 config file {path} {}",
                self.config_unread_why()
            )
        })
    }

    /// The number of worker processes, with its origin.
    pub fn workers(&self, cx: &Context) -> Setting<u32> {
        use crate::ingest::formats::gunicorn_config::DEFAULT_WORKERS;
        let default = match self.kind {
            ServerKind::Gunicorn => DEFAULT_WORKERS,
            // uWSGI runs one process, uvicorn one worker, runserver one process.
            _ => 1,
        };
        self.setting(
            cx,
            "workers",
            self.kind.workers_flags(),
            self.settings.workers,
            default,
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
        .filter(|a| a.host == host && a.kind == ServerKind::Gunicorn)
        .filter_map(|a| a.timeout(cx))
        .max_by_key(|s| (s.is_known(), s.value))
        .unwrap_or(Setting {
            value: crate::ingest::formats::gunicorn_config::DEFAULT_TIMEOUT,
            origin: Origin::Assumed {
                what: NO_APP_SERVER.to_string(),
            },
        })
}

/// Was unit `name` of `host` stopped (inactive, not failed) by the end of the evidence? Such a
/// unit (a dev server someone ran `systemctl disable --now` on) serves nothing: its command
/// line says nothing of where the app is meant to listen.
pub fn stopped(cx: &Context, host: &str, name: &str) -> bool {
    cx.units
        .unit_at(host, name, cx.end())
        .is_some_and(|u| u.active == "inactive")
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

/// An app server's command line found in the bundle.
struct CommandLine {
    kind: ServerKind,
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

/// Every app server command line of the bundle's units and process tables.
fn command_lines(cx: &Context) -> Vec<CommandLine> {
    let mut found = Vec::new();
    for (i, s) in cx.incident.sources.iter().enumerate() {
        match s.format {
            FormatId::SystemctlCat => {
                let text = String::from_utf8_lossy(&s.data);
                for unit in parse_units(&text) {
                    for cmd in unit.get("Service", "ExecStart") {
                        if let Some(kind) = ServerKind::of(cmd) {
                            let name = unit.name.clone();
                            found.push(CommandLine {
                                kind,
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
                    let cmd = unit.exec_start();
                    if let Some((cmd, kind)) = cmd.and_then(|c| ServerKind::of(&c).map(|k| (c, k)))
                    {
                        let name = unit.id().map(str::to_string);
                        found.push(CommandLine {
                            kind,
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
                for p in &procs {
                    let Some(kind) = ServerKind::of(&p.args) else {
                        continue;
                    };
                    // A worker's parent is its master, with the same command line (gunicorn,
                    // uWSGI; runserver's reloader and the server it restarts); a table without
                    // parents (`ps aux`) keeps the lowest pid of one command line.
                    let worker = match p.ppid {
                        Some(pp) => procs.iter().any(|q| {
                            q.pid == pp && q.pid != p.pid && ServerKind::of(&q.args) == Some(kind)
                        }),
                        None => procs.iter().any(|q| q.args == p.args && q.pid < p.pid),
                    };
                    // `gunicorn: master [app]` (setproctitle) shows no settings to read.
                    if worker || p.args.contains("gunicorn: ") {
                        continue;
                    }
                    found.push(CommandLine {
                        kind,
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
    let app = |f: &CommandLine| {
        (
            f.kind,
            f.host.clone(),
            read_command(f.kind, &f.cmd).wsgi_app,
        )
    };
    let units: Vec<_> = found.iter().filter(|f| f.pid.is_none()).map(app).collect();
    found.retain(|f| f.pid.is_none() || !units.contains(&app(f)));
    found.retain(|f| !f.unit.as_ref().is_some_and(|u| stopped(cx, &f.host, u)));
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

/// Every app server sitrep can see, one per unit or master process (or one per host from a
/// lone gunicorn config file).
pub fn app_servers(cx: &Context) -> Vec<AppServer> {
    let sources = &cx.incident.sources;
    let found = command_lines(cx);
    let mut out: Vec<AppServer> = Vec::new();
    // The unit file (cat) is the readable line; the loaded unit (show) is what runs. Prefer the
    // loaded command line, cite the unit file when both say the same.
    // Several `ps` files of one host show the same master: one app server per pid.
    let mut keys: Vec<(ServerKind, String, Option<String>, Option<u32>)> = Vec::new();
    for f in &found {
        let key = (f.kind, f.host.clone(), f.unit.clone(), f.pid);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (kind, host, unit, pid) in keys {
        let mine =
            |f: &&CommandLine| f.kind == kind && f.host == host && f.unit == unit && f.pid == pid;
        let file = found.iter().filter(mine).find(|f| !f.running);
        let running = found.iter().filter(mine).find(|f| f.running);
        let chosen = match (file, running) {
            (Some(c), Some(s)) => {
                let (a, b) = (read_command(kind, &c.cmd), read_command(kind, &s.cmd));
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
        let argv = read_command(kind, &chosen.cmd);
        // Only gunicorn's config files are read.
        let configs: Vec<usize> = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                kind == ServerKind::Gunicorn
                    && s.format == FormatId::GunicornConfig
                    && s.host == host
            })
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
            kind,
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
            && !out
                .iter()
                .any(|a| a.host == s.host && a.kind == ServerKind::Gunicorn)
        {
            out.push(AppServer {
                kind: ServerKind::Gunicorn,
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
        let t = cx.apps[0].timeout(&cx).unwrap();
        assert_eq!(t.value, 120);
        assert!(
            matches!(&t.origin, Origin::Set { evidence: Evidence::Line { text, .. }, what } if text == "timeout = 120" && what == "gunicorn.conf.py"),
            "{t:?}"
        );
        assert_eq!(cx.apps[0].workers(&cx).value, 2);

        let i5 = test_bundle("i5-single-worker-upload");
        let cx = Context::new(&i5);
        assert_eq!(cx.apps.len(), 1);
        let t = cx.apps[0].timeout(&cx).unwrap();
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
        let t = cx.apps[0].timeout(&cx).unwrap();
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

    /// A bundle folder of `files` (name, text) under host folder `web1`, loaded.
    fn bundle_of(files: &[(&str, &str)]) -> crate::model::Incident {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("web1");
        std::fs::create_dir_all(&root).unwrap();
        for (name, text) in files {
            std::fs::write(root.join(name), text).unwrap();
        }
        crate::ingest::load(&[root], &Default::default()).unwrap()
    }

    const NGINX_T: &str = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
        # configuration file /etc/nginx/nginx.conf:\n\
        http {\n    server {\n        listen 8080;\n        location / {\n            \
        proxy_pass http://127.0.0.1:8000;\n            proxy_read_timeout 1s;\n        }\n    }\n}\n";

    #[test]
    fn uwsgi_runserver_and_uvicorn_from_their_process_rows() {
        // Master and two workers of uWSGI started from Debian's ini files; runserver's
        // reloader and its server; uvicorn with two spawned workers.
        let ps = "\
  PID  PPID USER         ELAPSED COMMAND
  900     1 www-data       10:02 /usr/bin/uwsgi --ini /usr/share/uwsgi/conf/default.ini --ini /etc/uwsgi/apps-enabled/shop.ini --socket /run/uwsgi/app/shop/socket
  901   900 www-data       10:01 /usr/bin/uwsgi --ini /usr/share/uwsgi/conf/default.ini --ini /etc/uwsgi/apps-enabled/shop.ini --socket /run/uwsgi/app/shop/socket
  902   900 www-data       10:01 /usr/bin/uwsgi --ini /usr/share/uwsgi/conf/default.ini --ini /etc/uwsgi/apps-enabled/shop.ini --socket /run/uwsgi/app/shop/socket
 1000     1 deploy         02:00 /usr/bin/python3 /srv/shop/manage.py runserver 0.0.0.0:8001
 1002  1000 deploy         01:59 /usr/bin/python3 /srv/shop/manage.py runserver 0.0.0.0:8001
 1100     1 deploy         01:00 /usr/bin/python3 /usr/bin/uvicorn --uds /run/api.sock --workers 2 api.main:app
 1101  1100 deploy         00:59 /usr/bin/python3 -B -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7) --multiprocessing-fork
";
        let inc = bundle_of(&[("ps.txt", ps), ("nginx-T.txt", NGINX_T)]);
        let cx = Context::new(&inc);
        let kinds: Vec<ServerKind> = cx.apps.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                ServerKind::Uwsgi,
                ServerKind::Runserver,
                ServerKind::Uvicorn
            ],
            "{:#?}",
            cx.apps
        );
        let uwsgi = &cx.apps[0];
        assert_eq!(uwsgi.settings.bind, ["unix:/run/uwsgi/app/shop/socket"]);
        assert_eq!(uwsgi.timeout(&cx), None);
        assert!(
            uwsgi.timeout_unknown(&cx).is_some_and(
                |w| w.contains("/etc/uwsgi/apps-enabled/shop.ini is not read by sitrep")
            ),
            "{:?}",
            uwsgi.timeout_unknown(&cx)
        );
        let w = uwsgi.workers(&cx);
        assert!(!w.is_known());
        assert!(
            w.said("")
                .contains("no --processes on uWSGI's command line"),
            "{}",
            w.said("")
        );
        assert_eq!(cx.apps[1].settings.bind, ["0.0.0.0:8001"]);
        assert_eq!(cx.apps[1].timeout(&cx), None);
        assert_eq!(cx.apps[2].settings.bind, ["unix:/run/api.sock"]);
        assert_eq!(cx.apps[2].workers(&cx).value, 2);
        // No server here says its worker timeout, and the uWSGI's may be in its ini file:
        // the checklist cannot say whether nginx waits longer than the app.
        let rule = crate::analysis::rules::rule("proxy-timeout-not-above-app").unwrap();
        let why = rule.unknown(&cx);
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("uWSGI's harakiri")),
            "{why:?}"
        );
    }

    #[test]
    fn servers_with_no_worker_timeout_leave_nothing_to_compare() {
        let ps = "\
  PID  PPID USER         ELAPSED COMMAND
 1100     1 deploy         01:00 /usr/bin/python3 /usr/bin/uvicorn --port 8000 --workers 2 api.main:app
";
        let inc = bundle_of(&[("ps.txt", ps), ("nginx-T.txt", NGINX_T)]);
        let cx = Context::new(&inc);
        assert_eq!(cx.apps.len(), 1);
        assert_eq!(cx.apps[0].timeout(&cx), None);
        let rule = crate::analysis::rules::rule("proxy-timeout-not-above-app").unwrap();
        assert_eq!(rule.unknown(&cx), None);
        let d = crate::analysis::rules::diagnose(&inc);
        assert!(
            !d.findings
                .iter()
                .any(|f| f.id == "proxy-timeout-not-above-app"),
            "{:#?}",
            d.findings
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
