//! nginx configuration: the dump of `nginx -T` (every file under a `# configuration file
//! PATH:` line, after nginx's `syntax is ok` / `test is successful` lines) or a plain
//! `nginx.conf`.
//!
//! Records: untimed, one per `# configuration file` section (its lines continue it), one per
//! `nginx: ...` message line; a plain file is one record.
//!
//! [`parse_config`] reads the directives sitrep reasons about (servers, locations, upstreams,
//! proxy timeouts, logs) with a small tokenizer for nginx syntax, following `include`s between
//! the files of the dump; [`NginxConfig::upstream_targets`] resolves each `proxy_pass` (and
//! `uwsgi_pass`, `fastcgi_pass`, `grpc_pass`) to the addresses it connects to.

use serde::Serialize;

use super::nginx_log_format::LogFormat;
use super::ss::Endpoint;
use super::{Format, Head, Line, ParseCtx, parse_lines};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct NginxConfig;

/// Where a directive is: the file of the dump, the line in that file, and the byte offset in
/// the whole text (to jump to it). A plain config has an empty file path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct At {
    pub file: String,
    pub line: u32,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    pub value: T,
    pub at: At,
}

/// One file of an `nginx -T` dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigFile {
    pub path: String,
    /// Byte offset of the `# configuration file` line in the text (0 for a plain file).
    pub offset: usize,
    /// 1-based line of the file's first line in the text.
    pub first_line: u32,
}

/// `log_format NAME [escape=json] '...' '...';` with the quoted parts joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogFormatDef {
    pub name: String,
    /// `json`, `default` or `none` when given.
    pub escape: Option<String>,
    pub format: String,
    pub at: At,
}

/// `access_log PATH [FORMAT]` (`off` as the path when logging is off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLog {
    pub path: String,
    pub format: Option<String>,
    /// Index into [`NginxConfig::servers`] when set inside a server.
    pub server: Option<usize>,
    pub at: At,
}

/// `error_log PATH [LEVEL]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorLog {
    pub path: String,
    pub level: Option<String>,
    pub server: Option<usize>,
    pub at: At,
}

/// A time value as written (`75s`, `5m`, `120`) and in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeout {
    pub raw: String,
    pub seconds: Option<f64>,
    pub at: At,
}

/// Proxy limits that `http`, `server` and `location` blocks set and inner blocks inherit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProxySettings {
    pub proxy_read_timeout: Option<Timeout>,
    pub proxy_connect_timeout: Option<Timeout>,
    pub proxy_send_timeout: Option<Timeout>,
    pub client_max_body_size: Option<Located<String>>,
}

impl ProxySettings {
    /// `self` with the unset values taken from `outer`.
    fn inherit(&self, outer: &ProxySettings) -> ProxySettings {
        ProxySettings {
            proxy_read_timeout: self
                .proxy_read_timeout
                .clone()
                .or_else(|| outer.proxy_read_timeout.clone()),
            proxy_connect_timeout: self
                .proxy_connect_timeout
                .clone()
                .or_else(|| outer.proxy_connect_timeout.clone()),
            proxy_send_timeout: self
                .proxy_send_timeout
                .clone()
                .or_else(|| outer.proxy_send_timeout.clone()),
            client_max_body_size: self
                .client_max_body_size
                .clone()
                .or_else(|| outer.client_max_body_size.clone()),
        }
    }
}

/// nginx's default for `proxy_read_timeout`, `proxy_connect_timeout`, `proxy_send_timeout`.
pub const DEFAULT_PROXY_TIMEOUT_SECS: f64 = 60.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Server {
    pub at: At,
    /// `listen` arguments as written (`80 default_server`, `unix:/run/x.sock`).
    pub listen: Vec<Located<String>>,
    pub server_names: Vec<String>,
    pub locations: Vec<Location>,
    /// Set in this server block itself.
    pub settings: ProxySettings,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// `/`, `= /health`, `~ \.php$`, `@app`.
    pub matcher: String,
    pub at: At,
    /// Index of the enclosing location in the same server, for nested locations.
    pub parent: Option<usize>,
    pub pass: Option<Pass>,
    /// Set in this location itself (see [`NginxConfig::upstream_targets`] for inheritance).
    pub settings: ProxySettings,
}

/// `proxy_pass http://app;` and its siblings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pass {
    /// `proxy_pass`, `uwsgi_pass`, `fastcgi_pass`, `grpc_pass`.
    pub directive: String,
    pub target: String,
    pub at: At,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upstream {
    pub name: String,
    pub at: At,
    pub servers: Vec<UpstreamServer>,
}

/// `server 127.0.0.1:8000 fail_timeout=0;` inside an upstream block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamServer {
    pub address: String,
    pub params: Vec<String>,
    pub at: At,
}

/// What `parse_config` read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Config {
    pub files: Vec<ConfigFile>,
    /// nginx's own lines: `nginx: the configuration file ... syntax is ok`, `[emerg] ...`.
    pub messages: Vec<String>,
    pub user: Option<Located<String>>,
    pub log_formats: Vec<LogFormatDef>,
    pub access_logs: Vec<AccessLog>,
    pub error_logs: Vec<ErrorLog>,
    /// Set at `http` level.
    pub http: ProxySettings,
    pub servers: Vec<Server>,
    pub upstreams: Vec<Upstream>,
}

/// Where one `*_pass` sends requests, resolved to one address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpstreamTarget {
    pub server_names: Vec<String>,
    pub listen: Vec<String>,
    pub location: String,
    pub directive: String,
    /// The directive's argument as written: `http://app`, `http://127.0.0.1:8000/`.
    pub value: String,
    /// The upstream block it went through, if any.
    pub upstream: Option<String>,
    /// `127.0.0.1:8000`, `unix:/run/gunicorn.sock`, or the raw host when it holds variables.
    pub address: String,
    /// `address` as an endpoint; `None` when it cannot be known (variables).
    pub endpoint: Option<Endpoint>,
    /// The `*_pass` directive.
    pub at: At,
    /// The upstream's `server` line, when resolved through one.
    pub server_at: Option<At>,
    /// The effective `proxy_read_timeout` (location, else server, else http); `None` means
    /// nginx's default of [`DEFAULT_PROXY_TIMEOUT_SECS`].
    pub read_timeout: Option<Timeout>,
    pub read_timeout_secs: f64,
    /// The effective `client_max_body_size` (`None`: nginx's default `1m`).
    pub client_max_body_size: Option<String>,
}

impl UpstreamTarget {
    /// How well this target's location matches a request for `path`: `None` when it does not;
    /// an exact `= /x` beats a regex, which beats a prefix, and longer prefixes beat shorter
    /// ones (nginx's order, near enough to tell which `*_pass` served an error line).
    pub fn location_score(&self, path: &str) -> Option<usize> {
        let m = self.location.trim();
        let path = path.split(['?', '#']).next().unwrap_or(path);
        if let Some(exact) = m.strip_prefix('=') {
            return (exact.trim() == path).then_some(usize::MAX);
        }
        let regex = |pat: &str, insensitive: bool| {
            regex::RegexBuilder::new(pat.trim())
                .case_insensitive(insensitive)
                .size_limit(1 << 20)
                .build()
                .ok()
                .filter(|r| r.is_match(path))
                .map(|_| usize::MAX - 1)
        };
        if let Some(pat) = m.strip_prefix("~*") {
            return regex(pat, true);
        }
        if let Some(pat) = m.strip_prefix('~') {
            return regex(pat, false);
        }
        let prefix = m.strip_prefix("^~").unwrap_or(m).trim();
        path.starts_with(prefix).then_some(prefix.len())
    }

    /// Whether this target's server answers for `name` (`server:` of an error line): one of
    /// its `server_name`s, or `_`/no name (the catch-all).
    pub fn serves_name(&self, name: &str) -> bool {
        self.server_names.is_empty()
            || self.server_names.iter().any(|n| {
                n == name
                    || n == "_"
                    || n.strip_prefix('*').is_some_and(|tail| name.ends_with(tail))
                    || n.strip_prefix('.')
                        .is_some_and(|d| name == d || name.ends_with(&format!(".{d}")))
            })
    }
}

/// Which of `targets` produced an error line about request `path` on server `server`: the
/// best location match among the targets whose server answers for that name (all of them when
/// none does).
pub fn target_for(
    targets: &[&UpstreamTarget],
    server: Option<&str>,
    path: Option<&str>,
) -> Option<usize> {
    let named: Vec<usize> = (0..targets.len())
        .filter(|i| server.is_none_or(|n| targets[*i].serves_name(n)))
        .collect();
    let pool = if named.is_empty() {
        (0..targets.len()).collect()
    } else {
        named
    };
    let path = path?;
    pool.into_iter()
        .filter_map(|i| targets[i].location_score(path).map(|s| (s, i)))
        .max_by_key(|(s, i)| (*s, std::cmp::Reverse(*i)))
        .map(|(_, i)| i)
}

impl Config {
    /// The `log_format`s compiled for the access-log reader.
    pub fn compiled_log_formats(&self) -> Vec<LogFormat> {
        self.log_formats
            .iter()
            .map(|f| LogFormat::compile(&f.name, &f.format, f.escape.as_deref() == Some("json")))
            .collect()
    }

    pub fn upstream(&self, name: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|u| u.name == name)
    }

    /// Every `*_pass` of every location resolved to concrete addresses: through an upstream
    /// block when the target's host names one (one target per `server` line), else the
    /// host and port of the URL (default port 80, or 443 for https).
    pub fn upstream_targets(&self) -> Vec<UpstreamTarget> {
        let mut out = Vec::new();
        let mut by_name: std::collections::HashMap<&str, &Upstream> = Default::default();
        for u in &self.upstreams {
            by_name.entry(u.name.as_str()).or_insert(u);
        }
        for server in &self.servers {
            let server_settings = server.settings.inherit(&self.http);
            for loc in &server.locations {
                let Some(pass) = &loc.pass else { continue };
                let settings = self.location_settings(server, loc, &server_settings);
                let read_timeout = settings.proxy_read_timeout.clone();
                let base = UpstreamTarget {
                    server_names: server.server_names.clone(),
                    listen: server.listen.iter().map(|l| l.value.clone()).collect(),
                    location: loc.matcher.clone(),
                    directive: pass.directive.clone(),
                    value: pass.target.clone(),
                    upstream: None,
                    address: String::new(),
                    endpoint: None,
                    at: pass.at.clone(),
                    server_at: None,
                    read_timeout_secs: read_timeout
                        .as_ref()
                        .and_then(|t| t.seconds)
                        .unwrap_or(DEFAULT_PROXY_TIMEOUT_SECS),
                    read_timeout,
                    client_max_body_size: settings.client_max_body_size.map(|l| l.value),
                };
                let (host, default_port) = pass_host(&pass.target);
                match by_name.get(host.as_str()) {
                    Some(up) if !host.contains('$') => {
                        for s in &up.servers {
                            let address = with_port(&s.address, 80);
                            out.push(UpstreamTarget {
                                upstream: Some(up.name.clone()),
                                endpoint: Endpoint::parse(&address),
                                address,
                                server_at: Some(s.at.clone()),
                                ..base.clone()
                            });
                        }
                    }
                    _ => {
                        let address = match default_port {
                            Some(p) if !host.contains('$') => with_port(&host, p),
                            _ => host.clone(),
                        };
                        let endpoint = if host.contains('$') {
                            None
                        } else {
                            Endpoint::parse(&address)
                        };
                        out.push(UpstreamTarget {
                            address,
                            endpoint,
                            ..base
                        });
                    }
                }
            }
        }
        out
    }

    /// A location's settings with its enclosing locations' and the server's filled in.
    fn location_settings(
        &self,
        server: &Server,
        loc: &Location,
        outer: &ProxySettings,
    ) -> ProxySettings {
        let mut s = loc.settings.clone();
        let mut parent = loc.parent;
        let mut guard = 0;
        while let Some(p) = parent {
            let Some(pl) = server.locations.get(p) else {
                break;
            };
            s = s.inherit(&pl.settings);
            parent = pl.parent;
            guard += 1;
            if guard > MAX_DEPTH {
                break;
            }
        }
        s.inherit(outer)
    }
}

/// The host (or `unix:` path) a `*_pass` argument connects to, and the port to assume when
/// it names none (`None` for unix sockets and for passes that take no default).
fn pass_host(target: &str) -> (String, Option<u16>) {
    let (scheme, rest) = match target.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("", target),
    };
    if let Some(path) = rest.strip_prefix("unix:") {
        // `http://unix:/run/gunicorn.sock:/uri/`: the path ends at the `:` before the uri.
        let path = path.split(':').next().unwrap_or(path);
        return (format!("unix:{path}"), None);
    }
    let host = rest.split('/').next().unwrap_or(rest).to_string();
    let port = match scheme {
        "https" | "grpcs" => Some(443),
        "http" | "grpc" => Some(80),
        _ => None,
    };
    (host, port)
}

/// `host` with `:port` added when it has none (unix paths unchanged).
fn with_port(host: &str, port: u16) -> String {
    if host.starts_with("unix:") || host.starts_with('/') {
        return host.to_string();
    }
    let has_port = match host.rsplit_once(':') {
        Some((h, p)) => !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) && !h.ends_with(':'),
        None => false,
    };
    let bare_v6 = host.matches(':').count() > 1 && !host.starts_with('[');
    if (has_port && !bare_v6) || host.contains("]:") {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// nginx time (`500ms`, `75s`, `5m`, `1h30m`, `120`) in seconds.
pub fn parse_time(raw: &str) -> Option<f64> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let (mut total, mut i) = (0f64, 0usize);
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: f64 = s[start..i].parse().ok()?;
        let unit_start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &s[unit_start..i] {
            "" | "s" => 1.0,
            "ms" => 0.001,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "M" => 2_592_000.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        total += n * mult;
    }
    Some(total)
}

// ---------------------------------------------------------------------------------------
// Tokenizer and tree

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Semi,
    Open,
    Close,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: u32,
    offset: usize,
}

/// nginx's own message lines, which `nginx -T 2>&1` mixes into the dump.
fn is_message(line: &[u8]) -> bool {
    line.starts_with(b"nginx: ")
}

/// Split nginx syntax into words and `;` `{` `}`: `#` comments (at a word start), single and
/// double quotes with `\` escapes, `${var}` inside words. `base_line`/`base` locate `text` in
/// the whole dump. One pass, no backtracking.
fn tokenize(text: &[u8], base_line: u32, base: usize) -> Vec<Token> {
    let mut out = Vec::new();
    let mut line = base_line;
    let mut i = 0usize;
    let mut at_line_start = true;
    while i < text.len() {
        let c = text[i];
        if c == b'\n' {
            line = line.saturating_add(1);
            i += 1;
            at_line_start = true;
            continue;
        }
        if (at_line_start && is_message(&text[i..])) || c == b'#' {
            while i < text.len() && text[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        at_line_start = false;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (start, start_line) = (i, line);
        let simple = match c {
            b';' => Some(Tok::Semi),
            b'{' => Some(Tok::Open),
            b'}' => Some(Tok::Close),
            _ => None,
        };
        if let Some(t) = simple {
            out.push(Token {
                tok: t,
                line,
                offset: base + i,
            });
            i += 1;
            continue;
        }
        let mut word = Vec::new();
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < text.len() && text[i] != c {
                if text[i] == b'\\' && i + 1 < text.len() {
                    let n = text[i + 1];
                    match n {
                        b'"' | b'\'' | b'\\' => word.push(n),
                        b'n' => word.push(b'\n'),
                        b't' => word.push(b'\t'),
                        b'r' => word.push(b'\r'),
                        _ => word.extend_from_slice(&[b'\\', n]),
                    }
                    if n == b'\n' {
                        line = line.saturating_add(1);
                    }
                    i += 2;
                    continue;
                }
                if text[i] == b'\n' {
                    line = line.saturating_add(1);
                }
                word.push(text[i]);
                i += 1;
            }
            i += 1; // the closing quote
        } else {
            while i < text.len() {
                let b = text[i];
                if b.is_ascii_whitespace() || b == b';' || b == b'{' || b == b'}' {
                    if b == b'{' && word.last() == Some(&b'$') {
                        // `${var}`: read through the closing brace.
                        while i < text.len() && text[i] != b'}' && text[i] != b'\n' {
                            word.push(text[i]);
                            i += 1;
                        }
                        if text.get(i) == Some(&b'}') {
                            word.push(b'}');
                            i += 1;
                        }
                        continue;
                    }
                    break;
                }
                if b == b'\\' && i + 1 < text.len() {
                    word.push(text[i + 1]);
                    i += 2;
                    continue;
                }
                word.push(b);
                i += 1;
            }
        }
        out.push(Token {
            tok: Tok::Word(String::from_utf8_lossy(&word).into_owned()),
            line: start_line,
            offset: base + start,
        });
    }
    out
}

/// Blocks nested deeper than this are skipped (nginx itself allows far less).
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, Default)]
struct Directive {
    name: String,
    args: Vec<String>,
    line: u32,
    offset: usize,
    block: Option<Vec<Directive>>,
}

/// Directives of one file as a tree; unbalanced braces are tolerated.
fn build_tree(tokens: Vec<Token>) -> Vec<Directive> {
    let mut stack: Vec<(Directive, Vec<Directive>)> = Vec::new();
    let mut top: Vec<Directive> = Vec::new();
    let mut words: Vec<(String, u32, usize)> = Vec::new();
    let mut skipped = 0usize;
    let take = |words: &mut Vec<(String, u32, usize)>| {
        let mut it = std::mem::take(words).into_iter();
        let (name, line, offset) = it.next().unwrap_or_default();
        Directive {
            name,
            args: it.map(|(w, _, _)| w).collect(),
            line,
            offset,
            block: None,
        }
    };
    for t in tokens {
        match t.tok {
            Tok::Word(w) => {
                if skipped == 0 {
                    words.push((w, t.line, t.offset));
                }
            }
            Tok::Semi => {
                if skipped == 0 && !words.is_empty() {
                    let d = take(&mut words);
                    match stack.last_mut() {
                        Some((_, children)) => children.push(d),
                        None => top.push(d),
                    }
                }
            }
            Tok::Open => {
                if skipped > 0 || stack.len() >= MAX_DEPTH {
                    skipped += 1;
                    words.clear();
                    continue;
                }
                let mut d = take(&mut words);
                if d.name.is_empty() {
                    d.line = t.line;
                    d.offset = t.offset;
                }
                stack.push((d, Vec::new()));
            }
            Tok::Close => {
                if skipped > 0 {
                    skipped -= 1;
                    continue;
                }
                words.clear();
                if let Some((mut d, children)) = stack.pop() {
                    d.block = Some(children);
                    match stack.last_mut() {
                        Some((_, c)) => c.push(d),
                        None => top.push(d),
                    }
                }
            }
        }
    }
    while let Some((mut d, children)) = stack.pop() {
        d.block = Some(children);
        match stack.last_mut() {
            Some((_, c)) => c.push(d),
            None => top.push(d),
        }
    }
    top
}

// ---------------------------------------------------------------------------------------
// Sections of the dump

/// `# configuration file /etc/nginx/nginx.conf:` -> the path.
fn section_path(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"# configuration file ")?;
    let path = rest.trim_ascii_end().strip_suffix(b":")?;
    (!path.is_empty()).then_some(path)
}

struct Section {
    file: ConfigFile,
    /// Byte range of the file's text (after its header line).
    start: usize,
    end: usize,
}

fn sections(text: &[u8]) -> (Vec<Section>, Vec<String>) {
    let mut secs: Vec<Section> = Vec::new();
    let mut messages = Vec::new();
    let (mut pos, mut line_no) = (0usize, 0u32);
    while pos < text.len() {
        line_no = line_no.saturating_add(1);
        let end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
        let line = super::trim_cr(&text[pos..end]);
        if let Some(path) = section_path(line) {
            if let Some(last) = secs.last_mut() {
                last.end = pos;
            }
            secs.push(Section {
                file: ConfigFile {
                    path: String::from_utf8_lossy(path).into_owned(),
                    offset: pos,
                    first_line: line_no.saturating_add(1),
                },
                start: (end + 1).min(text.len()),
                end: text.len(),
            });
        } else if is_message(line) {
            messages.push(String::from_utf8_lossy(line).into_owned());
        }
        pos = end + 1;
    }
    if secs.is_empty() {
        secs.push(Section {
            file: ConfigFile {
                path: String::new(),
                offset: 0,
                first_line: 1,
            },
            start: 0,
            end: text.len(),
        });
    }
    (secs, messages)
}

// ---------------------------------------------------------------------------------------
// Walking the tree

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Main,
    Http,
    Server(usize),
    Location(usize, usize),
    Upstream(usize),
}

struct Walker<'a> {
    files: &'a [ConfigFile],
    trees: &'a [Vec<Directive>],
    cfg: Config,
    /// Files being walked (include cycles are cut).
    stack: Vec<usize>,
    visited: Vec<bool>,
    /// Steps left: includes repeated in many places are bounded.
    budget: usize,
    /// `include` pattern -> matching files.
    includes: std::collections::HashMap<String, Vec<usize>>,
}

/// Most directives one `parse_config` visits (includes can repeat a file many times).
const BUDGET: usize = 2_000_000;

impl Walker<'_> {
    fn at(&self, file: usize, d: &Directive) -> At {
        let f = self.files.get(file);
        At {
            file: f.map(|f| f.path.clone()).unwrap_or_default(),
            line: d
                .line
                .saturating_sub(f.map_or(1, |f| f.first_line))
                .saturating_add(1),
            offset: d.offset,
        }
    }

    fn walk_file(&mut self, file: usize, level: Level, depth: usize) {
        if self.stack.contains(&file) || depth > MAX_DEPTH {
            return;
        }
        let trees = self.trees;
        let Some(tree) = trees.get(file) else { return };
        if let Some(v) = self.visited.get_mut(file) {
            *v = true;
        }
        self.stack.push(file);
        self.walk(tree, file, level, depth);
        self.stack.pop();
    }

    fn walk(&mut self, dirs: &[Directive], file: usize, level: Level, depth: usize) {
        if depth > MAX_DEPTH * 2 {
            return;
        }
        for d in dirs {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            self.directive(d, file, level, depth);
        }
    }

    fn directive(&mut self, d: &Directive, file: usize, level: Level, depth: usize) {
        let at = self.at(file, d);
        let arg0 = d.args.first().cloned().unwrap_or_default();
        let server_of = |l: Level| match l {
            Level::Server(s) | Level::Location(s, _) => Some(s),
            _ => None,
        };
        match (d.name.as_str(), &d.block) {
            ("include", None) => {
                let matches = self.matching_files(&arg0);
                self.budget = self.budget.saturating_sub(matches.len());
                for f in matches {
                    self.walk_file(f, level, depth + 1);
                }
            }
            ("user", None) if level == Level::Main => {
                self.cfg.user = Some(Located {
                    value: d.args.join(" "),
                    at,
                });
            }
            ("log_format", None) => {
                let mut parts = d.args.iter().skip(1).peekable();
                let escape = parts
                    .next_if(|p| p.starts_with("escape="))
                    .map(|p| p.trim_start_matches("escape=").to_string());
                self.cfg.log_formats.push(LogFormatDef {
                    name: arg0,
                    escape,
                    format: parts.map(String::as_str).collect(),
                    at,
                });
            }
            ("access_log", None) => self.cfg.access_logs.push(AccessLog {
                path: arg0,
                format: d.args.get(1).filter(|a| !a.contains('=')).cloned(),
                server: server_of(level),
                at,
            }),
            ("error_log", None) => self.cfg.error_logs.push(ErrorLog {
                path: arg0,
                level: d.args.get(1).cloned(),
                server: server_of(level),
                at,
            }),
            ("http", Some(b)) => self.walk(b, file, Level::Http, depth + 1),
            ("server", Some(b)) if matches!(level, Level::Main | Level::Http) => {
                self.cfg.servers.push(Server {
                    at,
                    listen: Vec::new(),
                    server_names: Vec::new(),
                    locations: Vec::new(),
                    settings: ProxySettings::default(),
                });
                let idx = self.cfg.servers.len() - 1;
                self.walk(b, file, Level::Server(idx), depth + 1);
            }
            ("upstream", Some(b)) => {
                self.cfg.upstreams.push(Upstream {
                    name: arg0,
                    at,
                    servers: Vec::new(),
                });
                let idx = self.cfg.upstreams.len() - 1;
                self.walk(b, file, Level::Upstream(idx), depth + 1);
            }
            ("server", None) => {
                if let Level::Upstream(u) = level
                    && let Some(up) = self.cfg.upstreams.get_mut(u)
                {
                    up.servers.push(UpstreamServer {
                        address: arg0,
                        params: d.args.iter().skip(1).cloned().collect(),
                        at,
                    });
                }
            }
            ("location", Some(b)) => {
                let (server, parent) = match level {
                    Level::Server(s) => (s, None),
                    Level::Location(s, l) => (s, Some(l)),
                    _ => return,
                };
                let Some(srv) = self.cfg.servers.get_mut(server) else {
                    return;
                };
                srv.locations.push(Location {
                    matcher: d.args.join(" "),
                    at,
                    parent,
                    pass: None,
                    settings: ProxySettings::default(),
                });
                let idx = srv.locations.len() - 1;
                self.walk(b, file, Level::Location(server, idx), depth + 1);
            }
            ("listen", None) => {
                if let Level::Server(s) = level
                    && let Some(srv) = self.cfg.servers.get_mut(s)
                {
                    srv.listen.push(Located {
                        value: d.args.join(" "),
                        at,
                    });
                }
            }
            ("server_name", None) => {
                if let Level::Server(s) = level
                    && let Some(srv) = self.cfg.servers.get_mut(s)
                {
                    srv.server_names.extend(d.args.iter().cloned());
                }
            }
            ("proxy_pass" | "uwsgi_pass" | "fastcgi_pass" | "grpc_pass", None) => {
                if let Some(loc) = self.location_mut(level) {
                    loc.pass = Some(Pass {
                        directive: d.name.clone(),
                        target: arg0,
                        at,
                    });
                }
            }
            (
                "proxy_read_timeout"
                | "proxy_connect_timeout"
                | "proxy_send_timeout"
                | "client_max_body_size",
                None,
            ) => {
                if let Some(s) = self.settings_mut(level) {
                    let t = Timeout {
                        seconds: parse_time(&arg0),
                        raw: arg0.clone(),
                        at: at.clone(),
                    };
                    match d.name.as_str() {
                        "proxy_read_timeout" => s.proxy_read_timeout = Some(t),
                        "proxy_connect_timeout" => s.proxy_connect_timeout = Some(t),
                        "proxy_send_timeout" => s.proxy_send_timeout = Some(t),
                        _ => s.client_max_body_size = Some(Located { value: arg0, at }),
                    }
                }
            }
            // Blocks whose directives apply to the block around them.
            ("if" | "limit_except", Some(b)) => self.walk(b, file, level, depth + 1),
            _ => {}
        }
    }

    fn location_mut(&mut self, level: Level) -> Option<&mut Location> {
        let Level::Location(s, l) = level else {
            return None;
        };
        self.cfg.servers.get_mut(s)?.locations.get_mut(l)
    }

    fn settings_mut(&mut self, level: Level) -> Option<&mut ProxySettings> {
        match level {
            Level::Http => Some(&mut self.cfg.http),
            Level::Server(s) => Some(&mut self.cfg.servers.get_mut(s)?.settings),
            Level::Location(..) => Some(&mut self.location_mut(level)?.settings),
            _ => None,
        }
    }

    /// Files of the dump an `include` pattern names; relative patterns are relative to the
    /// directory of the main file (nginx's conf prefix). Each pattern is matched once; the
    /// scan over the files is charged to the budget.
    fn matching_files(&mut self, pattern: &str) -> Vec<usize> {
        if let Some(m) = self.includes.get(pattern) {
            return m.clone();
        }
        let full = if pattern.starts_with('/') {
            pattern.to_string()
        } else {
            let main = self.files.first().map_or("", |f| f.path.as_str());
            let dir = main.rsplit_once('/').map_or("", |(d, _)| d);
            format!("{dir}/{pattern}")
        };
        self.budget = self.budget.saturating_sub(self.files.len());
        let m: Vec<usize> = self
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| glob_match(full.as_bytes(), f.path.as_bytes()))
            .map(|(i, _)| i)
            .collect();
        self.includes.insert(pattern.to_string(), m.clone());
        m
    }
}

/// Shell glob as `include` uses it: `*` (not across `/`) and `?`. Linear-time greedy match
/// with one backtrack point per `*`.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    if pat.len() > 4096 || s.len() > 4096 {
        return pat == s;
    }
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let one = p < pat.len()
            && ((pat[p] == b'?' && s[i] != b'/') || (pat[p] == s[i] && pat[p] != b'*'));
        if one {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            if s[si] == b'/' {
                return false;
            }
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|c| *c == b'*')
}

/// Typed reading of an `nginx -T` dump or a plain nginx.conf.
pub fn parse_config(text: &str) -> Config {
    let bytes = text.as_bytes();
    let (secs, messages) = sections(bytes);
    let trees: Vec<Vec<Directive>> = secs
        .iter()
        .map(|s| {
            let body = bytes.get(s.start..s.end.max(s.start)).unwrap_or(&[]);
            build_tree(tokenize(body, s.file.first_line, s.start))
        })
        .collect();
    let files: Vec<ConfigFile> = secs.into_iter().map(|s| s.file).collect();
    let mut w = Walker {
        files: &files,
        trees: &trees,
        cfg: Config {
            messages,
            ..Config::default()
        },
        stack: Vec::new(),
        visited: vec![false; files.len()],
        budget: BUDGET,
        includes: Default::default(),
    };
    w.walk_file(0, Level::Main, 0);
    // Files no include reached (a dump cut short, a lone site file) are read at top level.
    for f in 1..files.len() {
        if !w.visited.get(f).copied().unwrap_or(true) {
            w.walk_file(f, Level::Main, 0);
        }
    }
    let mut cfg = w.cfg;
    cfg.files = files;
    cfg
}

// ---------------------------------------------------------------------------------------
// The format

/// Directives that open most nginx.conf lines.
const DIRECTIVES: &[&[u8]] = &[
    b"user",
    b"worker_processes",
    b"worker_connections",
    b"pid",
    b"events",
    b"http",
    b"server",
    b"location",
    b"listen",
    b"server_name",
    b"root",
    b"index",
    b"include",
    b"upstream",
    b"proxy_pass",
    b"proxy_set_header",
    b"proxy_read_timeout",
    b"uwsgi_pass",
    b"fastcgi_pass",
    b"access_log",
    b"error_log",
    b"log_format",
    b"sendfile",
    b"keepalive_timeout",
    b"gzip",
    b"ssl_certificate",
    b"ssl_certificate_key",
    b"return",
    b"try_files",
    b"client_max_body_size",
    b"default_type",
    b"add_header",
    b"rewrite",
];

fn message_severity(line: &[u8]) -> Severity {
    if let Some(i) = memchr::memchr(b'[', line)
        && let Some(j) = memchr::memchr(b']', &line[i..])
        && let Some(s) = Severity::from_word(&line[i + 1..i + j])
    {
        return s;
    }
    if line.ends_with(b"test failed") {
        Severity::Error
    } else {
        Severity::Info
    }
}

/// A line of a plain config: comment, or ends like a directive or block does.
fn config_shaped(line: &[u8]) -> (bool, bool) {
    let t = line.trim_ascii();
    let first = t
        .split(|b| b.is_ascii_whitespace() || *b == b'{' || *b == b';')
        .next()
        .unwrap_or(t);
    let known = DIRECTIVES.contains(&first) && (t.ends_with(b";") || t.ends_with(b"{"));
    let shaped = t.starts_with(b"#")
        || t.ends_with(b";")
        || t.ends_with(b"{")
        || t.ends_with(b"}")
        || t.starts_with(b"'")
        || t.starts_with(b"\"");
    (shaped, known)
}

impl Format for NginxConfig {
    fn id(&self) -> FormatId {
        FormatId::NginxConfig
    }

    fn sniff(&self, head: &Head) -> u8 {
        let dump = head.lines.iter().any(|l| {
            section_path(l).is_some()
                || (l.starts_with(b"nginx: ")
                    && (l.ends_with(b"syntax is ok")
                        || l.ends_with(b"test is successful")
                        || l.ends_with(b"test failed")))
        });
        if dump {
            return 100;
        }
        let (mut shaped, mut known, mut total) = (0u32, 0u32, 0u32);
        for l in &head.lines {
            let (s, k) = config_shaped(l);
            total += 1;
            shaped += u32::from(s);
            known += u32::from(k);
        }
        if known < 2 || total == 0 {
            return 0;
        }
        let share = shaped * 100 / total;
        if share >= 80 { 90 } else { 0 }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut first = true;
        parse_lines(data, out, |line, _| {
            let was_first = std::mem::replace(&mut first, false);
            if section_path(line).is_some() {
                Line::start(UNTIMED, Severity::Info)
            } else if is_message(line) {
                Line::start(UNTIMED, message_severity(line))
            } else if was_first {
                Line::start(UNTIMED, Severity::Info)
            } else {
                Line::Continue
            }
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
             nginx: configuration file /etc/nginx/nginx.conf test is successful\n\
             # configuration file /etc/nginx/nginx.conf:\n\
             user www-data;\n\
             worker_processes auto;\n\
             events { worker_connections 768; }\n\
             http {\n\
             \x20   log_format timed '$remote_addr - $remote_user [$time_local] \"$request\" '\n\
             \x20                    '$status $body_bytes_sent $request_time';\n\
             \x20   access_log /var/log/nginx/access.log timed;\n\
             \x20   error_log /var/log/nginx/error.log warn;\n\
             \x20   include /etc/nginx/sites-enabled/*;\n\
             }\n\
             \n\
             # configuration file /etc/nginx/sites-enabled/shop:\n\
             upstream shop_app {\n\
             \x20   server unix:/run/gunicorn.sock fail_timeout=0;\n\
             }\n\
             server {\n\
             \x20   listen 80;\n\
             \x20   server_name shop.example.org;\n\
             \x20   client_max_body_size 20m;\n\
             \x20   location /static/ { root /srv/shop; }\n\
             \x20   location / {\n\
             \x20       proxy_read_timeout 30s;\n\
             \x20       proxy_pass http://shop_app;\n\
             \x20   }\n\
             }\n",
            "# a plain config\n\
             worker_processes 1;\n\
             events {\n\
             \x20   worker_connections 512;\n\
             }\n\
             http {\n\
             \x20   server {\n\
             \x20       listen 8080;\n\
             \x20       location / { proxy_pass http://127.0.0.1:8000/; }\n\
             \x20   }\n\
             }\n",
            "nginx: [emerg] unknown directive \"proxy_pas\" in /etc/nginx/sites-enabled/shop:12\n\
             nginx: configuration file /etc/nginx/nginx.conf test failed\n",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn dump_records_and_severities() {
        let b = parse_str(&NginxConfig, NginxConfig.samples()[0], &ParseCtx::default());
        assert_eq!(b.stats.records, 4);
        assert_eq!(b.lines, vec![1, 2, 3, 15]);
        let b = parse_str(&NginxConfig, NginxConfig.samples()[2], &ParseCtx::default());
        assert_eq!(b.sev, vec![Severity::Emerg, Severity::Error]);
    }

    #[test]
    fn directives_with_files_and_lines() {
        let c = parse_config(NginxConfig.samples()[0]);
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.messages.len(), 2);
        assert_eq!(c.user.as_ref().map(|u| u.value.as_str()), Some("www-data"));
        assert_eq!(c.user.as_ref().map(|u| u.at.line), Some(1));
        let lf = &c.log_formats[0];
        assert_eq!(lf.name, "timed");
        assert_eq!(
            lf.format,
            "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent $request_time"
        );
        assert_eq!(c.compiled_log_formats().len(), 1);
        assert_eq!(c.access_logs[0].format.as_deref(), Some("timed"));
        assert_eq!(c.error_logs[0].level.as_deref(), Some("warn"));
        assert_eq!(c.servers.len(), 1);
        let s = &c.servers[0];
        assert_eq!(s.at.file, "/etc/nginx/sites-enabled/shop");
        assert_eq!(s.at.line, 4);
        assert_eq!(s.listen[0].value, "80");
        assert_eq!(s.server_names, vec!["shop.example.org"]);
        assert_eq!(s.locations.len(), 2);
        let t = c.upstream_targets();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].address, "unix:/run/gunicorn.sock");
        assert_eq!(t[0].upstream.as_deref(), Some("shop_app"));
        assert_eq!(t[0].at.line, 11);
        assert_eq!(t[0].server_at.as_ref().map(|a| a.line), Some(2));
        assert_eq!(t[0].read_timeout_secs, 30.0);
        assert_eq!(t[0].client_max_body_size.as_deref(), Some("20m"));
        let text = NginxConfig.samples()[0];
        assert!(text[t[0].at.offset..].starts_with("proxy_pass"));
    }

    #[test]
    fn plain_config_and_direct_targets() {
        let c = parse_config(NginxConfig.samples()[1]);
        let t = c.upstream_targets();
        assert_eq!(t[0].address, "127.0.0.1:8000");
        assert_eq!(t[0].read_timeout_secs, DEFAULT_PROXY_TIMEOUT_SECS);
        assert_eq!(t[0].at.line, 9);
        assert_eq!(t[0].at.file, "");
        let b = parse_str(&NginxConfig, NginxConfig.samples()[1], &ParseCtx::default());
        assert_eq!(b.stats.records, 1);
    }

    #[test]
    fn pass_targets() {
        assert_eq!(
            pass_host("http://unix:/run/gunicorn.sock:/app/"),
            ("unix:/run/gunicorn.sock".into(), None)
        );
        assert_eq!(
            pass_host("http://unix:/run/gunicorn.sock"),
            ("unix:/run/gunicorn.sock".into(), None)
        );
        assert_eq!(
            pass_host("https://api.example.org/v1"),
            ("api.example.org".into(), Some(443))
        );
        assert_eq!(with_port("api.example.org", 443), "api.example.org:443");
        assert_eq!(with_port("127.0.0.1:8000", 80), "127.0.0.1:8000");
        assert_eq!(with_port("[::1]:8000", 80), "[::1]:8000");
        assert_eq!(with_port("[::1]", 80), "[::1]:80");
        let cfg = "http { upstream app { server 10.0.0.2:8000; server app2.internal; }\n\
                   proxy_read_timeout 2m;\n\
                   server { listen 80; location / { location /api/ { proxy_pass http://app; } }\n\
                   location /x { uwsgi_pass unix:/run/uwsgi.sock; }\n\
                   location /v { proxy_pass http://$backend; } } }\n";
        let t = parse_config(cfg).upstream_targets();
        let addrs: Vec<&str> = t.iter().map(|t| t.address.as_str()).collect();
        assert_eq!(
            addrs,
            vec![
                "10.0.0.2:8000",
                "app2.internal:80",
                "unix:/run/uwsgi.sock",
                "$backend"
            ]
        );
        assert_eq!(t[0].read_timeout_secs, 120.0);
        assert_eq!(t[0].location, "/api/");
        assert!(t[3].endpoint.is_none());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("75s"), Some(75.0));
        assert_eq!(parse_time("1h30m"), Some(5400.0));
        assert_eq!(parse_time("120"), Some(120.0));
        assert_eq!(parse_time("500ms"), Some(0.5));
        assert_eq!(parse_time("5x"), None);
    }

    #[test]
    fn tokenizer_handles_quotes_comments_and_vars() {
        let toks = tokenize(b"a \"b;c\" # x { y\n${d}e f#g 'h\\'i';", 1, 0);
        let words: Vec<String> = toks
            .into_iter()
            .filter_map(|t| match t.tok {
                Tok::Word(w) => Some(w),
                _ => None,
            })
            .collect();
        assert_eq!(words, vec!["a", "b;c", "${d}e", "f#g", "h'i"]);
    }

    #[test]
    fn globs_and_include_cycles() {
        assert!(glob_match(
            b"/etc/nginx/sites-enabled/*",
            b"/etc/nginx/sites-enabled/shop"
        ));
        assert!(!glob_match(
            b"/etc/nginx/sites-enabled/*",
            b"/etc/nginx/sites-enabled/a/b"
        ));
        assert!(glob_match(
            b"/etc/nginx/conf.d/*.conf",
            b"/etc/nginx/conf.d/x.conf"
        ));
        assert!(!glob_match(
            b"/etc/nginx/conf.d/*.conf",
            b"/etc/nginx/conf.d/x.confy"
        ));
        let dump = "# configuration file /etc/nginx/nginx.conf:\ninclude /etc/nginx/a;\n\n\
                    # configuration file /etc/nginx/a:\ninclude /etc/nginx/nginx.conf;\nserver { listen 1; }\n";
        assert_eq!(parse_config(dump).servers.len(), 1);
    }

    #[test]
    fn unbalanced_and_deep_input_does_not_panic() {
        let deep = "a {".repeat(10_000) + &"}".repeat(20_000);
        let _ = parse_config(&deep);
        let _ = parse_config("}}} server { location { proxy_pass");
        let _ = parse_config("\"unterminated");
    }

    #[test]
    fn logs_and_python_are_not_nginx_config() {
        let py = "bind = \"unix:/run/gunicorn.sock\"\nworkers = 3\n";
        assert_eq!(NginxConfig.sniff(&Head::new("x", py.as_bytes())), 0);
        let log = "2023/04/13 11:24:04 [error] 1#1: *1 connect() failed\n";
        assert_eq!(NginxConfig.sniff(&Head::new("x", log.as_bytes())), 0);
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("# configuration file /etc/nginx/a.conf:\n".to_string()), Just("server {".to_string()), Just("location / {".to_string()), Just("}".to_string()),
            Just("proxy_pass http://".to_string()), Just("upstream u { server ".to_string()), Just(";".to_string()), Just("'".to_string()), Just("\"".to_string()), Just("include /etc/nginx/*;".to_string()),
            Just("${".to_string()), Just("\\".to_string()), Just("#".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let c = parse_config(&text);
            let _ = c.upstream_targets();
            let _ = c.compiled_log_formats();
            let _ = parse_str(&NginxConfig, &text, &ParseCtx::default());
        }
    }
}
