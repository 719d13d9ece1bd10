//! `app-boot-failure`: the app server could not start the application. Fires on gunicorn's
//! `Worker failed to boot` / `HaltServer` / `App failed to load`, or on a Python traceback
//! shortly before systemd reports the main process exited with a non-zero status. Evidence: the
//! traceback record (journal or gunicorn log), the halt record, and two facts worked out from the
//! traceback: its exception (last `pkg.Error: message` line) and its first application frame
//! (the first `File "..."` frame outside site-/dist-packages, the standard library and frozen
//! importlib), named like `app/__init__.py:2`.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

pub struct AppBootFailure;

/// Logs an app server's output can be in.
const LOGS: &[FormatId] = &[
    FormatId::JournalJson,
    FormatId::JournalExport,
    FormatId::JournalShort,
    FormatId::JournalShortIso,
    FormatId::JournalShortPrecise,
    FormatId::Gunicorn,
    FormatId::CfLogs,
    FormatId::PythonLogging,
];

/// How far before the halt the worker's traceback may be.
const LOOKBACK: Micros = 60 * MICROS_PER_SEC;

/// Every line [`is_halt`] or [`is_bad_exit`] is true of holds one of these.
const TRIGGERS: Lookout = Lookout {
    name: "app-boot-failure/triggers",
    formats: LOGS,
    words: &[
        "Worker failed to boot",
        "HaltServer",
        "App failed to load",
        "Main process exited, code=exited, status=",
    ],
};

/// One frame of a traceback: `File "/srv/app/app/__init__.py", line 2, in <module>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub path: String,
    pub line: u32,
}

impl Frame {
    /// The last two path components and the line: `app/__init__.py:2`.
    pub fn short(&self) -> String {
        let parts: Vec<&str> = self.path.rsplit('/').take(2).collect();
        let tail: Vec<&str> = parts.into_iter().rev().collect();
        format!("{}:{}", tail.join("/"), self.line)
    }
}

/// What a traceback says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TracebackInfo {
    /// The exception line: `django.core.exceptions.ImproperlyConfigured: Requested ...`.
    pub exception_line: Option<String>,
    pub app_frames: Vec<Frame>,
}

impl TracebackInfo {
    /// The exception's name: `django.core.exceptions.ImproperlyConfigured`.
    pub fn exception(&self) -> Option<&str> {
        self.exception_line
            .as_deref()
            .map(|l| l.split_once(':').map_or(l, |(n, _)| n).trim())
    }
}

/// A frame's path is a library's (installed package, standard library, frozen importlib) or
/// a program's entry script (`/usr/bin/gunicorn`, `venv/bin/gunicorn`).
fn is_library(path: &str) -> bool {
    path.starts_with('<')
        || path.contains("/bin/")
        || path.contains("/site-packages/")
        || path.contains("/dist-packages/")
        || path.contains("/lib/python")
        || path.contains("/lib64/python")
        || path.contains("/lib/pypy")
}

fn parse_frame(line: &str) -> Option<Frame> {
    let at = line.find("File \"")?;
    let rest = &line[at + 6..];
    let (path, rest) = rest.split_once('"')?;
    let rest = rest.trim_start().strip_prefix(',')?.trim_start();
    let rest = rest.strip_prefix("line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let line = digits.parse().ok()?;
    Some(Frame {
        path: path.to_string(),
        line,
    })
}

/// `pkg.mod.Error: message` (or a bare name followed by `:`) as Python prints the last line.
fn exception_line(line: &str) -> Option<&str> {
    let candidates = [Some(line), line.split_once("]: ").map(|(_, r)| r)];
    candidates.into_iter().flatten().find(|l| {
        let name_len = l
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
            .count();
        name_len > 0
            && l.as_bytes()[0].is_ascii_alphabetic()
            && l[name_len..].starts_with(':')
            && (l[..name_len].contains('.')
                || l[..name_len].ends_with("Error")
                || l[..name_len].ends_with("Exception"))
    })
}

/// The WSGI or ASGI entry module, which every boot failure's traceback passes through.
fn is_entry(f: &Frame) -> bool {
    let base = f.path.rsplit('/').next().unwrap_or(&f.path);
    base == "wsgi.py" || base == "asgi.py"
}

/// Read a traceback record: its exception and application frames.
pub fn read_traceback(text: &str) -> Option<TracebackInfo> {
    if !text.contains("Traceback (most recent call last)") {
        return None;
    }
    let mut info = TracebackInfo::default();
    for line in text.lines() {
        if let Some(f) = parse_frame(line) {
            if !is_library(&f.path) && !info.app_frames.contains(&f) {
                info.app_frames.push(f);
            }
        } else if !line.starts_with(' ')
            && let Some(e) = exception_line(line)
        {
            info.exception_line = Some(e.trim().to_string());
        }
    }
    // The WSGI entry module (`application = get_wsgi_application()` in Django's wsgi.py) is in
    // every boot failure's traceback; the frame that matters is the next one of the app's.
    if info.app_frames.len() > 1 && is_entry(&info.app_frames[0]) {
        let first = info.app_frames.remove(0);
        info.app_frames.push(first);
    }
    Some(info)
}

/// What gunicorn prints (bare, to stderr) when it cannot load the application object: its
/// `AppImportError` messages (`gunicorn/util.py`, `import_app`).
const LOAD_ERRORS: &[&str] = &[
    "Failed to find attribute ",
    "Failed to find application object",
    "Failed to parse ",
    "Function reference must be a simple name",
    "Application object must be callable",
];

/// The app-loading error in a record's text, if it is one: the line that says it.
fn load_error(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| LOAD_ERRORS.iter().any(|m| l.contains(m)))
}

/// The message says the app server gave up booting.
fn is_halt(text: &str) -> bool {
    text.contains("Worker failed to boot")
        || text.contains("HaltServer")
        || text.contains("App failed to load")
}

/// systemd: `X.service: Main process exited, code=exited, status=1/FAILURE`.
fn is_bad_exit(text: &str) -> bool {
    text.contains("Main process exited, code=exited, status=") && !text.contains("status=0/SUCCESS")
}

fn journal_unit(cx: &Context, r: (usize, usize)) -> Option<String> {
    let s = &cx.incident.sources[r.0];
    if !matches!(s.format, FormatId::JournalJson | FormatId::JournalExport) {
        return None;
    }
    cx.incident
        .fields(r.0, r.1)
        .into_iter()
        .find(|(k, v)| (k == "_SYSTEMD_UNIT" || k == "unit") && !v.is_empty())
        .map(|(_, v)| v)
}

impl Rule for AppBootFailure {
    fn id(&self) -> &'static str {
        "app-boot-failure"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&TRIGGERS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        // Records that say the app did not come up.
        let triggers: Vec<(usize, usize)> = cx
            .records_with(&TRIGGERS)
            .filter(|r| {
                let t = cx.text(*r);
                is_halt(&t) || is_bad_exit(&t)
            })
            .collect();
        // (key, traceback record, halt record, info)
        type Found = (String, (usize, usize), (usize, usize), TracebackInfo);
        let mut found: Vec<Found> = Vec::new();
        for &trigger in &triggers {
            let t_trigger = cx.time(trigger);
            let trig_text = cx.text(trigger);
            // The first traceback with an application frame in the minute before (same
            // source), else the app-loading error gunicorn printed bare.
            let mut best: Option<((usize, usize), TracebackInfo)> = None;
            let mut bare: Option<((usize, usize), TracebackInfo)> = None;
            for r in cx.back_in_source(trigger) {
                let t = cx.time(r);
                if t_trigger != UNTIMED && t != UNTIMED && t_trigger.saturating_sub(t) > LOOKBACK {
                    break;
                }
                let text = cx.text(r);
                if let Some(info) = read_traceback(&text)
                    && !info.app_frames.is_empty()
                {
                    // Keep walking back: the earliest traceback is the worker's own.
                    best = Some((r, info));
                } else if let Some(line) = load_error(&text) {
                    bare = Some((
                        r,
                        TracebackInfo {
                            exception_line: Some(line.to_string()),
                            app_frames: Vec::new(),
                        },
                    ));
                }
            }
            let best = best.or(bare).or_else(|| {
                // The halt alone: the cause went where the bundle does not reach.
                is_halt(&trig_text).then(|| (trigger, TracebackInfo::default()))
            });
            let Some((tb, info)) = best else {
                continue;
            };
            // A bad exit alone counts only with a traceback close before it.
            if !is_halt(&trig_text)
                && cx.time(tb) != UNTIMED
                && t_trigger.saturating_sub(cx.time(tb)) > 10 * MICROS_PER_SEC
            {
                continue;
            }
            let key = format!(
                "{}|{}|{}",
                cx.incident.sources[tb.0].host,
                info.exception().unwrap_or("?"),
                info.app_frames
                    .first()
                    .map(Frame::short)
                    .unwrap_or_default()
            );
            match found.iter_mut().find(|f| f.0 == key) {
                Some(f) => {
                    if is_halt(&trig_text) && !is_halt(&cx.text(f.2)) {
                        f.2 = trigger;
                    }
                }
                None => found.push((key, tb, trigger, info)),
            }
        }
        // A halt whose cause is not in the bundle says so only when no other halt of the host
        // has its cause.
        let hosts_with_cause: Vec<String> = found
            .iter()
            .filter(|f| f.3.exception_line.is_some())
            .map(|f| cx.incident.sources[f.1.0].host.clone())
            .collect();
        found
            .into_iter()
            .filter(|f| {
                f.3.exception_line.is_some()
                    || !hosts_with_cause.contains(&cx.incident.sources[f.1.0].host)
            })
            .map(|(_, tb, halt, info)| self.finding(cx, tb, halt, &info))
            .collect()
    }
}

impl AppBootFailure {
    fn finding(
        &self,
        cx: &Context,
        tb: (usize, usize),
        halt: (usize, usize),
        info: &TracebackInfo,
    ) -> Finding {
        let who = journal_unit(cx, tb)
            .or_else(|| journal_unit(cx, halt))
            .unwrap_or_else(|| "the app server".to_string());
        // When the only frame of the app's is its entry module, the cause is in what the
        // framework loaded (settings, INSTALLED_APPS): the exception's message says which.
        let only_entry = info.app_frames.len() == 1 && is_entry(&info.app_frames[0]);
        let exception = match (&info.exception_line, only_entry) {
            (Some(line), true) => line.chars().take(160).collect(),
            _ => info.exception().unwrap_or("an exception").to_string(),
        };
        let frame = info.app_frames.first();
        let frame_short = frame.map_or_else(|| "?".to_string(), Frame::short);
        let mut evidence = vec![Evidence::Record {
            source: tb.0,
            row: tb.1,
        }];
        if halt != tb {
            evidence.push(Evidence::Record {
                source: halt.0,
                row: halt.1,
            });
        }
        if let Some(e) = &info.exception_line {
            evidence.push(Evidence::Fact(format!("exception: {e}")));
        }
        if let Some(f) = frame {
            evidence.push(Evidence::Fact(format!(
                "first application frame: {} line {} ({})",
                f.path,
                f.line,
                f.short()
            )));
        }
        if let Some(f) = info.app_frames.get(1) {
            evidence.push(Evidence::Fact(format!(
                "next application frame: {}",
                f.short()
            )));
        }
        let when = cx.time(tb);
        let at = if when == UNTIMED {
            String::new()
        } else {
            format!(" at {}", format_utc(when).get(11..19).unwrap_or("?"))
        };
        let unit_cmds = if who.ends_with(".service") {
            vec![
                format!("systemctl status {who}"),
                format!("journalctl -u {who} -n 100 --no-pager"),
            ]
        } else {
            vec!["journalctl -u gunicorn -n 100 --no-pager".to_string()]
        };
        let mut next = unit_cmds;
        if let Some(f) = frame {
            next.push(format!(
                "sed -n '1,{}p' {}   # the line that runs at import",
                f.line + 5,
                f.path
            ));
        }
        next.push("gunicorn --check-config APP_MODULE   # import the app without serving".into());
        let (title, explanation) = match (&info.exception_line, frame) {
            (Some(_), Some(_)) if only_entry => (
                format!(
                    "{who} failed to boot{at}: {exception}, raised while the framework loaded \
                     the project (the only application frame is the entry module {frame_short})"
                ),
                format!(
                    "The app server started, but importing the application raised {exception}. \
                     The only frame of your code in the traceback is the entry module \
                     {frame_short}, which starts the framework; the error came from what the \
                     framework loaded next: the settings and what they name (a module in \
                     INSTALLED_APPS or MIDDLEWARE that is not installed, a misspelt name, a \
                     package missing from the virtualenv). Fix the name or install the package, \
                     then restart the service."
                ),
            ),
            (Some(_), Some(_)) => (
                format!(
                    "{who} failed to boot{at}: {exception}, first application frame {frame_short}"
                ),
                format!(
                    "The app server started, but importing the application raised {exception}, \
                     so no worker could come up and the server gave up. The bottom of the \
                     traceback only says the server halted; the cause is in the first frame \
                     that belongs to your code, {frame_short}, which runs while the module is \
                     imported. Fix that code (for example, do not read settings at import \
                     time), then restart the service."
                ),
            ),
            (Some(line), None) => (
                format!("{who} could not load the application{at}: {line}"),
                format!(
                    "The app server imported the module but could not get the application \
                     object from it: {line} The name after the colon in the app argument \
                     (`module:callable`, in the unit's ExecStart or the config's wsgi_app) must \
                     name the WSGI callable the module defines (Django's wsgi.py defines \
                     `application`). gunicorn prints this error without its usual prefix and \
                     exits with code 4 (App failed to load)."
                ),
            ),
            (None, _) => (
                format!(
                    "{who} stopped{at}: it could not load the application; the error itself is \
                     not in the bundle"
                ),
                "gunicorn logged that it gave up (`App failed to load` or `Worker failed to \
                 boot`), but the error that made it give up is not among the records read. \
                 gunicorn prints app-loading errors to its standard error, not to the file \
                 named by --log-file or --error-logfile: look where its stderr goes (the \
                 journal of its unit, a supervisor's log, the terminal it ran in), or run \
                 `gunicorn --check-config` with the same arguments."
                    .to_string(),
            ),
        };
        Finding {
            id: self.id(),
            severity: Severity::Error,
            depth: Depth::Cause,
            title,
            explanation,
            evidence,
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&AppBootFailure, name)
    }

    fn has_fact(f: &Finding, s: &str) -> bool {
        f.evidence
            .iter()
            .any(|e| matches!(e, Evidence::Fact(t) if t.contains(s)))
    }

    #[test]
    fn i2_names_the_exception_and_first_app_frame() {
        let f = run("i2-import-time-setting");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("app/__init__.py:2"), "{}", f.title);
        assert!(
            f.title
                .contains("django.core.exceptions.ImproperlyConfigured"),
            "{}",
            f.title
        );
        assert!(f.title.contains("gunicorn.service"), "{}", f.title);
        assert!(has_fact(f, "/srv/app/app/__init__.py"));
        assert!(has_fact(f, "app/utils.py:9"));
        assert_eq!((f.depth, f.severity), (Depth::Cause, Severity::Error));
        assert!(matches!(f.evidence[0], Evidence::Record { .. }));
    }

    #[test]
    fn i1_second_act_is_found() {
        let f = run("i1-socket-mismatch");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title.contains("bookshelf/__init__.py:2"),
            "{}",
            f[0].title
        );
        assert!(has_fact(&f[0], "bookshelf/mail.py:10"));
        assert!(f[0].title.contains("ImproperlyConfigured"));
    }

    #[test]
    fn silent_when_healthy() {
        assert!(run("healthy").is_empty());
        assert!(run("i4-retry-storm").is_empty());
    }

    #[test]
    fn the_wsgi_entry_module_is_not_the_cause() {
        // gunicorn 20.1 and Django 3.2, SECRET_KEY read from a missing environment variable.
        let t = "[2026-12-03 19:00:18 +0000] [9412] [ERROR] Exception in worker process\n\
                 Traceback (most recent call last):\n\
                 \x20 File \"/usr/lib/python3/dist-packages/gunicorn/arbiter.py\", line 589, in spawn_worker\n\
                 \x20 File \"/tmp/lab/proj/wsgi.py\", line 16, in <module>\n\
                 \x20   application = get_wsgi_application()\n\
                 \x20 File \"/usr/lib/python3/dist-packages/django/conf/__init__.py\", line 170, in __init__\n\
                 \x20 File \"/tmp/lab/proj/settings.py\", line 24, in <module>\n\
                 \x20   SECRET_KEY = os.environ[\"SECRET_KEY\"]\n\
                 \x20 File \"<frozen os>\", line 679, in __getitem__\n\
                 KeyError: 'SECRET_KEY'";
        let i = read_traceback(t).unwrap();
        assert_eq!(i.app_frames[0].short(), "proj/settings.py:24");
        assert_eq!(i.exception_line.as_deref(), Some("KeyError: 'SECRET_KEY'"));
    }

    #[test]
    fn a_wrong_callable_is_named_from_the_bare_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gunicorn.log");
        std::fs::write(&path, crate::ingest::formats::gunicorn::WRONG_CALLABLE).unwrap();
        let f = crate::analysis::rules::run_on_path(&AppBootFailure, &path);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title
                .contains("could not load the application at 19:00:27: Failed to find attribute 'app' in 'proj.wsgi'."),
            "{}",
            f[0].title
        );
        assert_eq!(f[0].evidence.len(), 3, "{:#?}", f[0].evidence);
    }

    #[test]
    fn the_masters_own_halt_traceback_has_no_application_frame() {
        // gunicorn 20.1's master, halting while its second worker dies (abridged).
        let t = "Traceback (most recent call last):\n\
                 \x20 File \"/usr/lib/python3/dist-packages/gunicorn/arbiter.py\", line 209, in run\n\
                 During handling of the above exception, another exception occurred:\n\
                 Traceback (most recent call last):\n\
                 \x20 File \"/usr/bin/gunicorn\", line 33, in <module>\n\
                 \x20 File \"/usr/lib/python3/dist-packages/gunicorn/arbiter.py\", line 527, in reap_workers\n\
                 gunicorn.errors.HaltServer: <HaltServer 'App failed to load.' 4>";
        let i = read_traceback(t).unwrap();
        assert!(i.app_frames.is_empty(), "{:?}", i.app_frames);
    }

    #[test]
    fn app_loading_errors_gunicorn_prints_bare_are_read() {
        assert_eq!(
            load_error("Failed to find attribute 'app' in 'proj.wsgi'."),
            Some("Failed to find attribute 'app' in 'proj.wsgi'.")
        );
        assert_eq!(load_error("[INFO] Booting worker with pid: 9"), None);
    }

    #[test]
    fn traceback_reading() {
        let t = "gunicorn[1]: [ERROR] Exception in worker process\nTraceback (most recent call last):\n  File \"/usr/lib/python3.10/x.py\", line 3, in f\n  File \"<frozen importlib._bootstrap>\", line 1, in g\n  File \"/srv/a/pkg/mod.py\", line 7, in <module>\n    x()\nValueError: bad";
        let i = read_traceback(t).unwrap();
        assert_eq!(i.exception(), Some("ValueError"));
        assert_eq!(i.app_frames[0].short(), "pkg/mod.py:7");
        assert!(read_traceback("no").is_none());
        assert!(read_traceback("Traceback (most recent call last)\n  File \"").is_some());
        assert_eq!(parse_frame("File \"x.py\", line"), None);
        assert_eq!(
            Frame {
                path: "x.py".into(),
                line: 1
            }
            .short(),
            "x.py:1"
        );
    }

    proptest::proptest! {
        #[test]
        fn readers_never_panic(s in "\\PC{0,80}") {
            let _ = read_traceback(&format!("Traceback (most recent call last)\n{s}"));
            let _ = parse_frame(&s);
            let _ = exception_line(&s);
            let _ = is_library(&s);
        }
    }
}
