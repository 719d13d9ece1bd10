//! `sitrep live` (and `sitrep` alone): discover this host's sources, start the collectors and
//! open the console on what they bring.

use std::path::PathBuf;
use std::time::Duration;

use super::Failure;
use crate::ingest::append;
use crate::live::collect::{Plan, start};
use crate::live::discover::{Ask, Programs, discover};
use crate::model::time::{Offset, parse_duration};
use crate::model::{Host, Incident};
use crate::ui::app::{App, Options};
use crate::ui::live::LiveState;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// History to load first, then follow: `1h`, `30m`.
    #[arg(long, default_value = "1h")]
    pub since: String,
    /// Watch this unit too (repeatable).
    #[arg(long = "unit")]
    pub units: Vec<String>,
    /// nginx's configuration, for an nginx started with `-c PATH` (read with `nginx -T -c`).
    #[arg(long)]
    pub nginx_conf: Option<PathBuf>,
    /// Follow this log file too (repeatable).
    #[arg(long = "log")]
    pub logs: Vec<PathBuf>,
    /// No systemctl or journalctl (containers, hosts without systemd).
    #[arg(long)]
    pub no_systemd: bool,
    /// How often systemctl and ss are asked: `2s`.
    #[arg(long, default_value = "2s")]
    pub poll: String,
    /// Records kept per source; older ones are dropped from memory, with a note.
    #[arg(long, default_value_t = 1_000_000)]
    pub cap: usize,
    /// Zone of logs that print none (nginx error.log): this host's by default.
    #[arg(long)]
    pub tz: Option<String>,
    /// Colours: default, light, high-contrast, or a theme file of the config directory.
    #[arg(long)]
    pub theme: Option<String>,
    /// The programs run, over SITREP_NGINX, SITREP_SYSTEMCTL, SITREP_JOURNALCTL, SITREP_SS.
    #[arg(long, hide = true)]
    pub nginx: Option<String>,
    #[arg(long, hide = true)]
    pub systemctl: Option<String>,
    #[arg(long, hide = true)]
    pub journalctl: Option<String>,
    #[arg(long, hide = true)]
    pub ss: Option<String>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            since: "1h".into(),
            units: Vec::new(),
            nginx_conf: None,
            logs: Vec::new(),
            no_systemd: false,
            poll: "2s".into(),
            cap: 1_000_000,
            tz: None,
            theme: None,
            nginx: None,
            systemctl: None,
            journalctl: None,
            ss: None,
        }
    }
}

fn duration(flag: &str, s: &str) -> Result<Duration, Failure> {
    parse_duration(s)
        .filter(|d| *d > 0)
        .map(|d| Duration::from_micros(d as u64))
        .ok_or_else(|| {
            Failure(format!(
                "--{flag} {s:?}: give a duration such as 90s, 30m, 1h"
            ))
        })
}

/// This host's name.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let since = duration("since", &args.since)?;
    let poll = duration("poll", &args.poll)?;
    let now = chrono::Utc::now().timestamp_micros();
    let zone = match &args.tz {
        Some(t) => Offset::parse(t)
            .ok_or_else(|| Failure(format!("--tz {t:?}: give an offset such as +02:00")))?,
        None => {
            use chrono::Offset as _;
            Offset(chrono::Local::now().offset().fix().local_minus_utc())
        }
    };
    let ask = Ask {
        programs: {
            let env = Programs::default();
            Programs {
                nginx: args.nginx.clone().unwrap_or(env.nginx),
                systemctl: args.systemctl.clone().unwrap_or(env.systemctl),
                journalctl: args.journalctl.clone().unwrap_or(env.journalctl),
                ss: args.ss.clone().unwrap_or(env.ss),
            }
        },
        nginx_conf: args.nginx_conf.clone(),
        logs: args.logs.clone(),
        units: args.units.clone(),
        no_systemd: args.no_systemd,
    };
    eprintln!("sitrep: looking around this host…");
    let found = discover(&ask);
    let host = hostname();
    let mut ctx = crate::ingest::parse_ctx(Some(now));
    let mut incident = Incident::default();
    if let Some(t) = &found.nginx_t {
        ctx.log_formats = crate::ingest::log_formats_of(t);
        let mut s = append::empty("nginx/nginx-T.txt", &host);
        append::append(&mut s, t.as_bytes(), &ctx, zone, args.cap);
        incident.sources.push(s);
    }
    incident.hosts.push(Host {
        name: host.clone(),
        origin: "live".into(),
        captured_at: None,
        cpus: std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok()),
        parse_ctx: ctx.clone(),
        skew: 0,
    });
    let mut problems = found.problems.clone();
    if found.logs.is_empty() {
        problems.push("no log file found to follow: give one with --log PATH".into());
    }
    let feed = start(Plan {
        logs: found.logs.clone(),
        programs: ask.programs.clone(),
        systemd: found.systemd,
        units: found.units.clone(),
        since,
        tail_bytes: 32 << 20,
        poll,
    });
    let options = Options {
        runbooks: crate::config::dir().map(|d| d.join("runbooks")),
        state: crate::progress::dir(),
        progress_key: Some(format!("live-{host}")),
    };
    let mut app = App::new_deferred(incident, &options);
    app.live = true;
    app.feed = Some(LiveState::new(feed, ctx, zone, args.cap, problems));
    super::run_console(app, args.theme.as_deref())
}
