//! The command line: parse arguments, run one command, map failures to exit codes.

mod diagnose;
mod explain;
mod learn;
mod live;
mod report;
mod runbook;
mod sources;
mod timeline;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::ingest::{LoadOptions, load};
use crate::model::Incident;
use crate::model::time::Offset;

const EXIT_CODES: &str = "Exit codes: 0 done; 2 a path, file, archive or option could not be used (one line on stderr says which and what to do).";

#[derive(Debug, Parser)]
#[command(
    name = "sitrep",
    version,
    about = "Incident console for nginx + gunicorn + systemd",
    long_about = concat!(
        "Incident console for nginx + gunicorn + systemd: reads logs, the journal, systemctl and ss output and nginx -T ",
        "from a bundle or a folder, and lines them up on one timeline.\n\n",
        "Exit codes: 0 done; 2 a path, file, archive or option could not be used (one line on stderr says which and what to do)."
    ),
    after_help = EXIT_CODES
)]
struct Cli {
    /// With no command: live mode on this host (`sitrep live`).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutFormat {
    Text,
    Json,
}

/// Options every command that reads bundles takes.
#[derive(Debug, clap::Args)]
pub struct Input {
    /// Bundles (directories, .tar.gz, .tgz) or log files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Zone of logs that print none (nginx error.log, journalctl -o short), e.g. +02:00.
    #[arg(long)]
    pub tz: Option<String>,
    /// A host's clock ran ahead (or behind, with -) by this much: HOST=+1.5s. Taken off its
    /// records' times so every host lines up on one timeline. Repeatable.
    #[arg(long = "skew", value_name = "HOST=OFFSET")]
    pub skew: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One row per file: detected format, counts, time range and zone.
    #[command(
        after_help = "Examples:\n  sitrep sources incident.tar.gz\n  sitrep sources /var/log/nginx/error.log --format json"
    )]
    Sources {
        #[command(flatten)]
        input: Input,
        #[arg(long, value_enum, default_value = "text")]
        format: OutFormat,
    },
    /// What is wrong, with the evidence: every rule's findings, root cause first.
    #[command(
        after_help = "Examples:\n  sitrep diagnose incident.tar.gz\n  sitrep diagnose ./bundle --format json | jq '.findings[].title'"
    )]
    Diagnose {
        #[command(flatten)]
        input: Input,
        #[arg(long, value_enum, default_value = "text")]
        format: OutFormat,
    },
    /// What a log line means: the known message it is, its parts, usual causes, next checks.
    #[command(
        after_help = "Examples:\n  sitrep explain '2023/04/13 11:24:04 [error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: app, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\", host: \"app\"'\n  sitrep explain '[2023-04-13 11:19:27 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)'"
    )]
    Explain {
        /// The line, as the log has it.
        line: String,
    },
    /// All sources merged into one timeline.
    #[command(
        after_help = "Examples:\n  sitrep timeline incident.tar.gz --severity error+\n  sitrep timeline ./bundle --since -15m --grep 'upstream' --format json\n  sitrep timeline ./bundle --source nginx-error --source journal/journal.json\n  sitrep timeline ./bundle --count"
    )]
    Timeline(timeline::Args),
    /// Open bundles in the console.
    #[command(
        after_help = "Examples:\n  sitrep replay incident.tar.gz\n  sitrep replay ./bundle --theme light"
    )]
    Replay {
        #[command(flatten)]
        input: Input,
        /// Colours: default, light, high-contrast, or a theme file of the config directory
        /// (NO_COLOR turns colour off).
        #[arg(long)]
        theme: Option<String>,
    },
    /// Open the built-in flagship incident (I-1: the socket nobody listened to) in the console.
    #[command(
        after_help = "Examples:\n  sitrep demo\n  NO_COLOR=1 sitrep demo\n  sitrep demo --theme high-contrast"
    )]
    Demo {
        /// Colours: default, light, high-contrast, or a theme file of the config directory
        /// (NO_COLOR turns colour off).
        #[arg(long)]
        theme: Option<String>,
    },
    /// Runbooks of the guided checklist: list them, show one (walked against a bundle), lint files.
    #[command(
        subcommand,
        after_help = "Examples:\n  sitrep runbook list\n  sitrep runbook show bad-gateway-502 incident.tar.gz\n  sitrep runbook lint ~/.config/sitrep/runbooks/*.toml"
    )]
    Runbook(runbook::Args),
    /// Follow this host live: finds the nginx logs (nginx -T), the journal, units and
    /// listeners on its own; `sitrep` with no command does the same.
    #[command(
        after_help = "Examples:\n  sitrep\n  sitrep live --since 30m --unit myapp.service\n  sitrep live --nginx-conf /srv/app/nginx.conf --log /srv/app/gunicorn.log --no-systemd"
    )]
    Live(live::Args),
    /// Pack this host's evidence (nginx -T, logs, journal, units, sockets) into a redacted
    /// bundle for replay, diagnose or sharing.
    #[command(
        after_help = "Examples:\n  sudo sitrep capture -o incident.tar.gz\n  sitrep capture -o b.tar.gz --since 30m --unit myapp.service\n  sitrep capture -o b.tar.gz --nginx-conf /srv/app/nginx.conf --log /srv/app/gunicorn.log --no-systemd\n\nPrograms can be pointed elsewhere with SITREP_NGINX, SITREP_SYSTEMCTL, SITREP_JOURNALCTL, SITREP_SS, SITREP_GUNICORN; SITREP_CAPTURE_TIMEOUT limits each command (seconds, default 20)."
    )]
    Capture(crate::capture::Args),
    /// Solve real-looking incidents in the console: a menu of lessons, or one by id.
    #[command(
        after_help = "Examples:\n  sitrep learn\n  sitrep learn i1-socket-mismatch\n  sitrep learn --list"
    )]
    Learn(learn::Args),
    /// A Markdown incident report: summary, impact, hosts, findings with evidence, checklist,
    /// the timeline around the start, notes, and how to see it again.
    #[command(
        after_help = "Examples:\n  sitrep report incident.tar.gz -o report.md\n  sitrep report web1.tar.gz app1.tar.gz app2/ > report.md"
    )]
    Report(report::Args),
    /// Check the settings file ($SITREP_CONFIG, else ~/.config/sitrep/config.toml) and say
    /// which file is in force.
    #[command(
        after_help = "Examples:\n  sitrep config\n  SITREP_CONFIG=./my-sitrep.toml sitrep config"
    )]
    Config,
    /// Print a shell completion script: sitrep completions bash > /etc/bash_completion.d/sitrep
    #[command(
        after_help = "Examples:\n  sitrep completions bash > ~/.local/share/bash-completion/completions/sitrep\n  sitrep completions zsh > ~/.zfunc/_sitrep\n  sitrep completions fish > ~/.config/fish/completions/sitrep.fish"
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), generated from this command line: sitrep man | man -l -
    #[command(
        after_help = "Examples:\n  sitrep man | man -l -\n  sitrep man > /usr/local/share/man/man1/sitrep.1"
    )]
    Man,
    /// Draw the console's main screens from the demo into DIR as SVG pictures (the README's).
    #[command(
        after_help = "Examples:\n  sitrep screenshots screenshots\n  rsvg-convert screenshots/grid-200x50.svg -o grid.png"
    )]
    Screenshots {
        /// Where to write the pictures.
        dir: PathBuf,
    },
}

/// A failure the user must act on; printed as one line, exit code 2.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn load_input(input: &Input) -> Result<Incident, Failure> {
    let tz = match &input.tz {
        Some(s) => Some(Offset::parse(s).ok_or_else(|| {
            Failure(format!(
                "--tz: cannot read {s:?}; give an offset such as +00:00, -04:00 or Z"
            ))
        })?),
        None => None,
    };
    let opts = LoadOptions {
        tz,
        ..LoadOptions::default()
    };
    let mut incident = load(&input.paths, &opts)?;
    for s in &input.skew {
        let (host, offset) = s
            .split_once('=')
            .ok_or_else(|| Failure(format!("--skew {s:?}: give HOST=OFFSET, e.g. app2=+1.5s")))?;
        let d = offset.trim();
        let (sign, rest) = match d.strip_prefix('-') {
            Some(r) => (-1, r),
            None => (1, d.strip_prefix('+').unwrap_or(d)),
        };
        let micros = match rest.strip_suffix("ms") {
            Some(ms) => ms.trim().parse::<f64>().ok().map(|v| (v * 1000.0) as i64),
            None => crate::model::time::parse_duration(rest),
        }
        .ok_or_else(|| {
            Failure(format!(
                "--skew {s:?}: give the offset as a duration such as +1.5s or -250ms"
            ))
        })?;
        if !incident.apply_skew(host, sign * micros) {
            let hosts: Vec<&str> = incident.hosts.iter().map(|h| h.name.as_str()).collect();
            return Err(Failure(format!(
                "--skew {s:?}: no host {host:?} here; the hosts are {}",
                hosts.join(", ")
            )));
        }
        incident.notes.push(format!(
            "{host}: clock {} s ahead taken off its times (--skew)",
            sign as f64 * micros as f64 / 1e6
        ));
    }
    // Hosts whose clocks disagree with the proxy's, by the requests both logged.
    for e in crate::analysis::skew::estimate(&incident) {
        let given = input
            .skew
            .iter()
            .any(|s| s.split('=').next() == Some(e.host.as_str()));
        if !given && e.skew.abs() >= crate::model::time::MICROS_PER_SEC / 2 {
            let secs = e.skew as f64 / 1e6;
            incident.notes.push(format!(
                "{}: clock about {secs:+.2} s ahead of {} ({} requests logged by both); --skew {}={secs:+.2}s lines them up",
                e.host, e.reference, e.matched, e.host
            ));
        }
    }
    Ok(incident)
}

/// Print the notes gathered while loading (refused entries, truncated files) to stderr.
fn print_notes(incident: &Incident) {
    let mut err = std::io::stderr().lock();
    for n in &incident.notes {
        let _ = writeln!(err, "sitrep: note: {}", crate::text::sanitize(n));
    }
}

/// Open the console on a loaded incident; needs a terminal.
/// `sitrep config`: say which settings file is in force and whether it is good.
fn check_config(out: &mut impl Write) -> Result<(), Failure> {
    let path = crate::config::path();
    let config = crate::config::load().map_err(Failure)?;
    let theme = config.theme.as_deref().unwrap_or("default");
    crate::ui::theme::Theme::resolve(theme, crate::config::dir().as_deref()).map_err(|e| {
        let file = path
            .as_ref()
            .map_or("settings".into(), |p| p.display().to_string());
        Failure(format!("{file}: theme: {e}"))
    })?;
    match path {
        Some(p) if p.exists() => writeln!(
            out,
            "{}: ok (theme {theme}, {} key change(s))",
            p.display(),
            config.keys.len()
        )?,
        Some(p) => writeln!(out, "{}: not there; the defaults are in force", p.display())?,
        None => writeln!(
            out,
            "no settings file (neither SITREP_CONFIG nor HOME is set); the defaults are in force"
        )?,
    }
    Ok(())
}

fn console(incident: Incident, theme: Option<&str>) -> Result<(), Failure> {
    if incident.sources.is_empty() {
        return Err(Failure(
            "nothing to show: no log files were found there".into(),
        ));
    }
    print_notes(&incident);
    let options = crate::ui::app::Options {
        runbooks: crate::config::dir().map(|d| d.join("runbooks")),
        state: crate::progress::dir(),
        progress_key: None,
    };
    run_console(crate::ui::app::App::new_deferred(incident, &options), theme)
}

/// Run the console on `app` with the theme and keys of the settings; the terminal is needed.
pub(crate) fn run_console(
    mut app: crate::ui::app::App,
    theme: Option<&str>,
) -> Result<(), Failure> {
    let config = crate::config::load().map_err(Failure)?;
    let name = theme.or(config.theme.as_deref()).unwrap_or("default");
    let theme =
        crate::ui::theme::Theme::resolve(name, crate::config::dir().as_deref()).map_err(|e| {
            let whence = if theme.is_some() {
                "--theme".to_string()
            } else {
                crate::config::path()
                    .map_or("settings".into(), |p| format!("{}: theme", p.display()))
            };
            Failure(format!("{whence}: {e}"))
        })?;
    let mut keymap = crate::ui::keymap::Keymap::default();
    keymap.patch(&config.keys).map_err(Failure)?;
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure(
            "the console needs a terminal; for scripts use `sitrep timeline` or `sitrep sources`"
                .into(),
        ));
    }
    app.keymap = keymap;
    match crate::ui::tui::run(app, &theme)? {
        Some(lesson) => learn::start(&lesson, None),
        None => Ok(()),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let Some(command) = cli.command else {
        return finish(live::run(&live::Args::default()), out);
    };
    let result = match command {
        Command::Sources { input, format } => load_input(&input).and_then(|inc| {
            print_notes(&inc);
            sources::print(&inc, format, &mut out).map_err(Failure::from)
        }),
        Command::Timeline(args) => timeline::run(&args, &mut out),
        Command::Explain { line } => explain::print(&line, &mut out).map_err(Failure::from),
        Command::Diagnose { input, format } => load_input(&input).and_then(|inc| {
            print_notes(&inc);
            diagnose::print(&inc, format, &mut out).map_err(Failure::from)
        }),
        Command::Replay { input, theme } => {
            // The syntax colours are built while the bundle is read, not before the first frame.
            crate::ui::highlight::warm();
            load_input(&input).and_then(|inc| console(inc, theme.as_deref()))
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "sitrep", &mut out);
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut out)
            .map_err(Failure::from),
        Command::Screenshots { dir } => {
            crate::ui::screenshots::write(&dir, &mut out).map_err(|e| Failure(e.to_string()))
        }
        Command::Demo { theme } => console(
            crate::ingest::load_files(crate::ingest::demo::bundle(), &LoadOptions::default()),
            theme.as_deref(),
        ),
        Command::Config => check_config(&mut out),
        Command::Report(args) => report::run(&args, &mut out),
        Command::Learn(args) => learn::run(&args, &mut out),
        Command::Live(args) => live::run(&args),
        Command::Capture(args) => crate::capture::run(&args).map_err(Failure),
        Command::Runbook(args) => runbook::run(args, &mut out),
    };
    finish(result, out)
}

/// Flush, and map a failure to its line on stderr and exit code 2.
fn finish(result: Result<(), Failure>, mut out: impl Write) -> ExitCode {
    let result = result.and_then(|()| out.flush().map_err(Failure::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) if msg.contains("Broken pipe") => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("sitrep: {}", crate::text::sanitize(&msg));
            ExitCode::from(2)
        }
    }
}
