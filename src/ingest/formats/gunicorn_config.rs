//! gunicorn's configuration: the Python config file (`gunicorn.conf.py`, given with `-c`) of
//! top-level assignments (`bind = "unix:/run/gunicorn.sock"`, `workers = 5`, `timeout = 120`),
//! and the command-line flags of an `ExecStart=` line.
//!
//! Records: the file is one untimed record. [`parse_settings`] and [`from_argv`] read the
//! settings sitrep reasons about; unset settings stay `None` so "not set" shows, and the
//! `*_or_default` helpers give gunicorn's defaults (1 sync worker, 30 s timeout).

use serde::Serialize;

use super::{Format, Head, Line, ParseCtx, parse_lines};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct GunicornConfig;

pub const DEFAULT_BIND: &str = "127.0.0.1:8000";
pub const DEFAULT_WORKERS: u32 = 1;
pub const DEFAULT_THREADS: u32 = 1;
pub const DEFAULT_TIMEOUT: u32 = 30;
pub const DEFAULT_GRACEFUL_TIMEOUT: u32 = 30;
pub const DEFAULT_KEEPALIVE: u32 = 2;
pub const DEFAULT_WORKER_CLASS: &str = "sync";

/// The settings of one gunicorn, from a config file or a command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GunicornSettings {
    pub bind: Vec<String>,
    pub workers: Option<u32>,
    pub threads: Option<u32>,
    /// Worker timeout in seconds (`timeout`, `--timeout`, `-t`).
    pub timeout: Option<u32>,
    pub graceful_timeout: Option<u32>,
    pub keepalive: Option<u32>,
    pub worker_class: Option<String>,
    pub max_requests: Option<u32>,
    pub max_requests_jitter: Option<u32>,
    pub preload_app: Option<bool>,
    /// `-c/--config`: the config file a command line names.
    pub config: Option<String>,
    /// The WSGI application (`shop.wsgi:application`).
    pub wsgi_app: Option<String>,
    /// Every setting as written, in order (name as in the config file, raw value): also the
    /// ones sitrep cannot evaluate (`workers = multiprocessing.cpu_count() * 2 + 1`).
    pub raw: Vec<(String, String)>,
}

impl GunicornSettings {
    /// Was `name` (config-file spelling: `workers`, `max_requests`) given at all?
    pub fn is_set(&self, name: &str) -> bool {
        self.raw.iter().any(|(k, _)| k == name)
    }

    pub fn bind_or_default(&self) -> Vec<String> {
        if self.bind.is_empty() {
            vec![DEFAULT_BIND.to_string()]
        } else {
            self.bind.clone()
        }
    }

    pub fn workers_or_default(&self) -> u32 {
        self.workers.unwrap_or(DEFAULT_WORKERS)
    }

    pub fn threads_or_default(&self) -> u32 {
        self.threads.unwrap_or(DEFAULT_THREADS)
    }

    pub fn timeout_or_default(&self) -> u32 {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The worker class; gunicorn switches `sync` to `gthread` when threads > 1.
    pub fn worker_class_or_default(&self) -> String {
        match self.worker_class.as_deref() {
            Some(c) => c.to_string(),
            None if self.threads_or_default() > 1 => "gthread".to_string(),
            None => DEFAULT_WORKER_CLASS.to_string(),
        }
    }

    /// These settings with `over` applied on top (gunicorn: the command line overrides the
    /// config file).
    pub fn overridden_by(&self, over: &GunicornSettings) -> GunicornSettings {
        let mut raw = self.raw.clone();
        raw.extend(over.raw.iter().cloned());
        GunicornSettings {
            bind: if over.bind.is_empty() {
                self.bind.clone()
            } else {
                over.bind.clone()
            },
            workers: over.workers.or(self.workers),
            threads: over.threads.or(self.threads),
            timeout: over.timeout.or(self.timeout),
            graceful_timeout: over.graceful_timeout.or(self.graceful_timeout),
            keepalive: over.keepalive.or(self.keepalive),
            worker_class: over
                .worker_class
                .clone()
                .or_else(|| self.worker_class.clone()),
            max_requests: over.max_requests.or(self.max_requests),
            max_requests_jitter: over.max_requests_jitter.or(self.max_requests_jitter),
            preload_app: over.preload_app.or(self.preload_app),
            config: over.config.clone().or_else(|| self.config.clone()),
            wsgi_app: over.wsgi_app.clone().or_else(|| self.wsgi_app.clone()),
            raw,
        }
    }

    /// Record `name = value` (config-file spelling) and fill the typed field.
    fn set(&mut self, name: &str, value: &Value) {
        match name {
            "bind" => match value {
                Value::Str(s) => self.bind = vec![s.clone()],
                Value::List(l) => self.bind = l.clone(),
                _ => {}
            },
            "workers" => self.workers = value.int(),
            "threads" => self.threads = value.int(),
            "timeout" => self.timeout = value.int(),
            "graceful_timeout" => self.graceful_timeout = value.int(),
            "keepalive" => self.keepalive = value.int(),
            "max_requests" => self.max_requests = value.int(),
            "max_requests_jitter" => self.max_requests_jitter = value.int(),
            "worker_class" => self.worker_class = value.string(),
            "preload_app" => self.preload_app = value.boolean(),
            "wsgi_app" => self.wsgi_app = value.string(),
            "config" => self.config = value.string(),
            _ => {}
        }
    }
}

/// A Python value sitrep can read from a config line.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(i64),
    Str(String),
    Bool(bool),
    List(Vec<String>),
    Unknown,
}

impl Value {
    fn int(&self) -> Option<u32> {
        match self {
            Value::Int(n) => u32::try_from(*n).ok(),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn string(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Setting names of gunicorn's config file (`gunicorn --help`, "Settings" in its docs).
const SETTINGS: &[&str] = &[
    "bind",
    "backlog",
    "workers",
    "worker_class",
    "threads",
    "worker_connections",
    "max_requests",
    "max_requests_jitter",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "limit_request_line",
    "limit_request_fields",
    "limit_request_field_size",
    "reload",
    "reload_engine",
    "reload_extra_files",
    "spew",
    "check_config",
    "print_config",
    "preload_app",
    "sendfile",
    "reuse_port",
    "chdir",
    "daemon",
    "raw_env",
    "pidfile",
    "worker_tmp_dir",
    "user",
    "group",
    "umask",
    "initgroups",
    "tmp_upload_dir",
    "secure_scheme_headers",
    "forwarded_allow_ips",
    "accesslog",
    "disable_redirect_access_to_syslog",
    "access_log_format",
    "errorlog",
    "loglevel",
    "capture_output",
    "logger_class",
    "logconfig",
    "logconfig_dict",
    "syslog_addr",
    "syslog",
    "syslog_prefix",
    "syslog_facility",
    "enable_stdio_inheritance",
    "statsd_host",
    "statsd_prefix",
    "proc_name",
    "default_proc_name",
    "pythonpath",
    "paste",
    "proxy_protocol",
    "proxy_allow_ips",
    "keyfile",
    "certfile",
    "ca_certs",
    "ciphers",
    "wsgi_app",
];

/// Settings that only a gunicorn config sets (not `user`, `group`, `daemon`...): one must
/// appear for the file to be gunicorn's.
const CORE: &[&str] = &[
    "bind",
    "workers",
    "worker_class",
    "threads",
    "worker_connections",
    "max_requests",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "preload_app",
    "accesslog",
    "errorlog",
    "access_log_format",
    "proc_name",
    "wsgi_app",
    "forwarded_allow_ips",
];

/// `name = ...` at the start of a line (no indentation): the name.
fn assigned_name(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let name = &line[..end];
    let rest = line[end..].trim_start();
    let assigns = match rest.strip_prefix(':') {
        // `timeout: int = 30`
        Some(annot) => annot.contains('='),
        None => rest.starts_with('=') && !rest.starts_with("=="),
    };
    let ok = assigns && !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit());
    ok.then_some(name)
}

/// A line a Python config file may hold besides settings.
fn python_shaped(line: &str) -> bool {
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') || line.starts_with(char::is_whitespace) {
        return true;
    }
    const KEYWORDS: &[&str] = &[
        "import ", "from ", "def ", "class ", "@", "if ", "elif ", "else:", "try:", "except",
        "finally:", "for ", "while ", "with ", "return", "pass", "raise ", "]", ")", "}", "\"",
        "'",
    ];
    KEYWORDS.iter().any(|k| t.starts_with(k))
        || assigned_name(t).is_some()
        || t.split('(').next().is_some_and(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
}

impl Format for GunicornConfig {
    fn id(&self) -> FormatId {
        FormatId::GunicornConfig
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut names, mut core, mut bad, mut total) = (Vec::new(), false, 0u32, 0u32);
        for l in &head.lines {
            let l = String::from_utf8_lossy(l);
            total += 1;
            if !python_shaped(&l) {
                bad += 1;
            }
            if let Some(n) = assigned_name(&l)
                && SETTINGS.contains(&n)
                && !names.contains(&n.to_string())
            {
                core |= CORE.contains(&n);
                names.push(n.to_string());
            }
        }
        let base = head.base_name();
        let hinted = base.starts_with("gunicorn") && base.ends_with(".py");
        let enough = names.len() >= 2 || (hinted && !names.is_empty());
        if !core || !enough || bad * 10 > total {
            return 0;
        }
        if hinted { 95 } else { 85 }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut first = true;
        parse_lines(data, out, |_, _| {
            if std::mem::replace(&mut first, false) {
                Line::start(UNTIMED, Severity::Info)
            } else {
                Line::Continue
            }
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "# gunicorn.conf.py for the shop app\n\
             import multiprocessing\n\
             \n\
             bind = \"unix:/run/gunicorn.sock\"\n\
             workers = multiprocessing.cpu_count() * 2 + 1\n\
             threads = 2\n\
             timeout = 120\n\
             graceful_timeout = 30\n\
             max_requests = 1000\n\
             max_requests_jitter = 100\n\
             accesslog = \"-\"\n\
             \n\
             def on_starting(server):\n\
             \x20   server.log.info(\"starting shop\")\n",
            "bind = ['127.0.0.1:8000', 'unix:/run/shop.sock']\nworkers = 4\nworker_class = 'gevent'\n",
        ]
    }
}

/// Typed reading of a gunicorn Python config file: top-level assignments of gunicorn
/// settings, with string, number (simple integer arithmetic), boolean and list values.
/// Assignments spanning lines (an open bracket) are joined.
pub fn parse_settings(text: &str) -> GunicornSettings {
    let mut s = GunicornSettings::default();
    let mut lines = text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
    while let Some(line) = lines.next() {
        let Some(name) = assigned_name(line) else {
            continue;
        };
        if !SETTINGS.contains(&name) {
            continue;
        }
        let Some((_, value)) = line.split_once('=') else {
            continue;
        };
        let mut expr = strip_comment(value).trim().to_string();
        let (mut open, mut extra) = (depth(&expr), 0);
        while open > 0 && extra < 200 {
            let Some(next) = lines.next() else { break };
            let next = strip_comment(next).trim();
            open += depth(next);
            expr.push(' ');
            expr.push_str(next);
            extra += 1;
        }
        let v = eval(&expr);
        s.raw.push((name.to_string(), expr));
        s.set(name, &v);
    }
    s
}

/// Open brackets minus closed ones outside strings.
fn depth(expr: &str) -> i32 {
    let mut d = 0i32;
    let mut quote: Option<char> = None;
    for c in expr.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(' | '{') => d += 1,
            (None, ']' | ')' | '}') => d -= 1,
            _ => {}
        }
    }
    d
}

/// The text before a `#` that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// A Python literal or an integer expression of `+ - * //` and parentheses.
fn eval(expr: &str) -> Value {
    let e = expr.trim();
    match e {
        "True" => return Value::Bool(true),
        "False" => return Value::Bool(false),
        _ => {}
    }
    if let Some(s) = string_literal(e) {
        return Value::Str(s);
    }
    if let Some(inner) = e
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .or_else(|| e.strip_prefix('(').and_then(|r| r.strip_suffix(')')))
    {
        let items: Option<Vec<String>> = split_items(inner)
            .into_iter()
            .filter(|i| !i.trim().is_empty())
            .map(|i| string_literal(i.trim()))
            .collect();
        if let Some(items) = items {
            return Value::List(items);
        }
    }
    let mut p = Arith {
        b: e.as_bytes(),
        i: 0,
        depth: 0,
    };
    match p.expr() {
        Some(n) if p.done() => Value::Int(n),
        _ => Value::Unknown,
    }
}

/// `"..."` or `'...'` without escapes sitrep cannot read (f-strings are not literals).
fn string_literal(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = s.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q)).then(|| inner.to_string())
}

/// Split a list's inside on commas outside strings.
fn split_items(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quote) = (0usize, None::<char>);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, ',') => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Integer arithmetic: `60 * 5`, `2 * 4 + 1`, `(1 + 2) * 3`, `90 // 2`.
struct Arith<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl Arith<'_> {
    fn skip(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn done(&mut self) -> bool {
        self.skip();
        self.i >= self.b.len()
    }

    fn expr(&mut self) -> Option<i64> {
        let mut v = self.term()?;
        loop {
            self.skip();
            match self.b.get(self.i) {
                Some(b'+') => {
                    self.i += 1;
                    v = v.checked_add(self.term()?)?;
                }
                Some(b'-') => {
                    self.i += 1;
                    v = v.checked_sub(self.term()?)?;
                }
                _ => return Some(v),
            }
        }
    }

    fn term(&mut self) -> Option<i64> {
        let mut v = self.atom()?;
        loop {
            self.skip();
            if self.b.get(self.i..self.i + 2) == Some(b"//") {
                self.i += 2;
                let d = self.atom()?;
                v = v.checked_div_euclid(d)?;
            } else if self.b.get(self.i) == Some(&b'*') && self.b.get(self.i + 1) != Some(&b'*') {
                self.i += 1;
                v = v.checked_mul(self.atom()?)?;
            } else {
                return Some(v);
            }
        }
    }

    fn atom(&mut self) -> Option<i64> {
        self.skip();
        if self.b.get(self.i) == Some(&b'(') {
            self.depth += 1;
            if self.depth > 32 {
                return None;
            }
            self.i += 1;
            let v = self.expr()?;
            self.skip();
            if self.b.get(self.i) != Some(&b')') {
                return None;
            }
            self.i += 1;
            self.depth -= 1;
            return Some(v);
        }
        let start = self.i;
        while self
            .b
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
        {
            self.i += 1;
        }
        let digits: String = std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .chars()
            .filter(|c| *c != '_')
            .collect();
        digits.parse().ok()
    }
}

/// gunicorn flags that take no value.
const BOOL_FLAGS: &[&str] = &[
    "--reload",
    "--preload",
    "--spew",
    "--check-config",
    "--print-config",
    "--capture-output",
    "--no-sendfile",
    "--reuse-port",
    "--daemon",
    "-D",
    "-R",
    "--enable-stdio-inheritance",
    "--disable-redirect-access-to-syslog",
    "--strip-header-spaces",
    "--proxy-protocol",
    "--initgroups",
    "--log-syslog",
    "--do-handshake-on-connect",
    "--suppress-ragged-eofs",
    "-v",
    "--version",
    "-h",
    "--help",
];

/// Long and short flags and the config-file setting each sets.
const FLAG_NAMES: &[(&str, &str)] = &[
    ("--bind", "bind"),
    ("-b", "bind"),
    ("--workers", "workers"),
    ("-w", "workers"),
    ("--threads", "threads"),
    ("--timeout", "timeout"),
    ("-t", "timeout"),
    ("--graceful-timeout", "graceful_timeout"),
    ("--keep-alive", "keepalive"),
    ("--worker-class", "worker_class"),
    ("-k", "worker_class"),
    ("--max-requests", "max_requests"),
    ("--max-requests-jitter", "max_requests_jitter"),
    ("--config", "config"),
    ("-c", "config"),
    ("--preload", "preload_app"),
    ("--access-logfile", "accesslog"),
    ("--error-logfile", "errorlog"),
    ("--log-file", "errorlog"),
    ("--log-level", "loglevel"),
    ("--chdir", "chdir"),
    ("--user", "user"),
    ("-u", "user"),
    ("--group", "group"),
    ("-g", "group"),
    ("--pid", "pidfile"),
    ("-p", "pidfile"),
    ("--name", "proc_name"),
    ("-n", "proc_name"),
    ("--worker-connections", "worker_connections"),
    ("--backlog", "backlog"),
];

/// Shell-like words: quotes (`'...'`, `"..."`) and backslash escapes, as systemd splits
/// `ExecStart=`.
pub(crate) fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut in_word, mut quote) = (false, None::<char>);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Whether a command line (its words) runs gunicorn: the program or the script after an
/// interpreter is `gunicorn*` (`/usr/bin/python3 /usr/bin/gunicorn ...`), or `-m gunicorn`.
pub fn runs_gunicorn<S: AsRef<str>>(args: &[S]) -> bool {
    let base = |a: &str| a.rsplit('/').next().unwrap_or(a).starts_with("gunicorn");
    args.iter().take(3).any(|a| base(a.as_ref()))
        || args
            .windows(2)
            .any(|w| w[0].as_ref() == "-m" && w[1].as_ref() == "gunicorn")
}

/// Typed reading of a gunicorn command line (an `ExecStart=` value, or the `argv[]=` of
/// `systemctl show`): `--bind/-b`, `--workers/-w`, `--threads`, `--timeout/-t`,
/// `--worker-class/-k`, `--max-requests`, `--max-requests-jitter`, `--graceful-timeout`,
/// `-c/--config` and the rest of gunicorn's flags, in `--flag value`, `--flag=value` and `-wN`
/// forms; the last positional argument is the WSGI app.
pub fn from_argv(exec_start: &str) -> GunicornSettings {
    let w = words(exec_start);
    // Start after the gunicorn program (`/srv/venv/bin/gunicorn`, `python -m gunicorn`).
    let start = w
        .iter()
        .position(|t| {
            let t = t.trim_start_matches(['-', '@', '+', '!', ':']);
            t.rsplit('/').next().unwrap_or(t).starts_with("gunicorn")
        })
        .map_or(0, |i| i + 1);
    let mut s = GunicornSettings::default();
    let mut i = start;
    while i < w.len() {
        let tok = w[i].as_str();
        i += 1;
        if !tok.starts_with('-') || tok == "-" {
            if !tok.starts_with('$') && tok != "-" {
                s.wsgi_app = Some(tok.to_string());
            }
            continue;
        }
        if BOOL_FLAGS.contains(&tok) {
            if tok == "--preload" {
                s.raw.push(("preload_app".into(), "True".into()));
                s.preload_app = Some(true);
            }
            continue;
        }
        let (flag, value) =
            if let Some((f, v)) = tok.split_once('=').filter(|_| tok.starts_with("--")) {
                (f, Some(v.to_string()))
            } else if !tok.starts_with("--") && tok.len() > 2 && tok.is_char_boundary(2) {
                (&tok[..2], Some(tok[2..].to_string()))
            } else {
                let v = w.get(i).cloned();
                i += 1;
                (tok, v)
            };
        let Some(value) = value else { break };
        let name = FLAG_NAMES.iter().find(|(f, _)| *f == flag).map_or_else(
            || flag.trim_start_matches('-').replace('-', "_"),
            |(_, n)| n.to_string(),
        );
        let v = if name == "bind" {
            s.bind.push(value.clone());
            None
        } else {
            Some(match value.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Str(value.clone()),
            })
        };
        if let Some(v) = v {
            s.set(&name, &v);
        }
        s.raw.push((name, value));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn config_file_settings() {
        let s = parse_settings(GunicornConfig.samples()[0]);
        assert_eq!(s.bind, vec!["unix:/run/gunicorn.sock"]);
        assert_eq!(s.workers, None);
        assert!(s.is_set("workers"));
        assert_eq!(s.threads, Some(2));
        assert_eq!(s.timeout, Some(120));
        assert_eq!(s.max_requests_jitter, Some(100));
        assert_eq!(s.worker_class_or_default(), "gthread");
        let s = parse_settings(GunicornConfig.samples()[1]);
        assert_eq!(s.bind, vec!["127.0.0.1:8000", "unix:/run/shop.sock"]);
        assert_eq!(s.worker_class.as_deref(), Some("gevent"));
    }

    #[test]
    fn expressions_multiline_lists_and_comments() {
        let s = parse_settings(
            "timeout = 60 * 5  # five minutes\nworkers = (2 * 4) + 1\nbind = [\n    \"0.0.0.0:8000\",  # all\n]\npreload_app = True\nkeepalive: int = 5\n",
        );
        assert_eq!(s.timeout, Some(300));
        assert_eq!(s.workers, Some(9));
        assert_eq!(s.bind, vec!["0.0.0.0:8000"]);
        assert_eq!(s.preload_app, Some(true));
        assert_eq!(s.keepalive, Some(5));
        let d = parse_settings("");
        assert_eq!(d.workers_or_default(), 1);
        assert_eq!(d.timeout_or_default(), 30);
        assert_eq!(d.worker_class_or_default(), "sync");
        assert_eq!(d.bind_or_default(), vec!["127.0.0.1:8000"]);
    }

    #[test]
    fn command_line_flags() {
        let s = from_argv(
            "/srv/shop/venv/bin/gunicorn --access-logfile - --workers 3 -b unix:/run/gunicorn.sock --bind=127.0.0.1:8001 -t90 -k gevent --max-requests 500 --max-requests-jitter=50 --graceful-timeout 10 -c /etc/gunicorn.conf.py --preload shop.wsgi:application",
        );
        assert_eq!(s.workers, Some(3));
        assert_eq!(s.bind, vec!["unix:/run/gunicorn.sock", "127.0.0.1:8001"]);
        assert_eq!(s.timeout, Some(90));
        assert_eq!(s.worker_class.as_deref(), Some("gevent"));
        assert_eq!(s.max_requests, Some(500));
        assert_eq!(s.max_requests_jitter, Some(50));
        assert_eq!(s.graceful_timeout, Some(10));
        assert_eq!(s.config.as_deref(), Some("/etc/gunicorn.conf.py"));
        assert_eq!(s.preload_app, Some(true));
        assert_eq!(s.wsgi_app.as_deref(), Some("shop.wsgi:application"));
        let p = from_argv("-/usr/bin/python3 -m gunicorn 'app:create_app()' --threads 4");
        assert_eq!(p.threads, Some(4));
        assert_eq!(p.wsgi_app.as_deref(), Some("app:create_app()"));
        let merged = parse_settings("timeout = 30\nworkers = 2\n")
            .overridden_by(&from_argv("gunicorn -t 120 app:app"));
        assert_eq!((merged.timeout, merged.workers), (Some(120), Some(2)));
    }

    #[test]
    fn one_record_for_the_file() {
        let b = parse_str(
            &GunicornConfig,
            GunicornConfig.samples()[0],
            &ParseCtx::default(),
        );
        assert_eq!(b.stats.records, 1);
    }

    #[test]
    fn other_python_is_not_gunicorn_config() {
        let settings = "DEBUG = True\nALLOWED_HOSTS = ['x']\nTIME_ZONE = 'UTC'\n";
        assert_eq!(
            GunicornConfig.sniff(&Head::new("settings.py", settings.as_bytes())),
            0
        );
        let log = "[2023-04-13 11:19:27 +0000] [1] [INFO] Starting gunicorn 20.1.0\nbind = x\nworkers = 2\n";
        assert_eq!(GunicornConfig.sniff(&Head::new("x", log.as_bytes())), 0);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for t in [
            "workers = ((((",
            "timeout = 9999999999999999999 * 99999",
            "bind = [\"a",
            "x = 1 // 0",
            "timeout = é",
        ] {
            let _ = parse_settings(t);
        }
        let _ = from_argv("gunicorn -w");
        let _ = from_argv("gunicorn -wé é");
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("bind = ".to_string()), Just("workers = ".to_string()), Just("(".to_string()), Just(")".to_string()), Just("[".to_string()), Just("]".to_string()), Just("'".to_string()), Just("\"".to_string()), Just("*".to_string()),
            Just("//".to_string()), Just("9".to_string()), Just(" -w".to_string()), Just(" --bind=".to_string()), Just("gunicorn ".to_string()), Just("\\".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let _ = parse_settings(&text);
            let _ = from_argv(&text);
            let _ = parse_str(&GunicornConfig, &text, &ParseCtx::default());
        }
    }
}
