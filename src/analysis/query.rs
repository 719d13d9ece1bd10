//! Field queries: `status>=500 and path~^/books`, checked against one record at a time.
//!
//! # Grammar
//!
//! ```text
//! query := cond ( "and" cond )*
//! cond  := NAME OP VALUE
//! NAME  := [A-Za-z_][A-Za-z0-9_.]*   an alias below, a raw field name, or raw.NAME
//! OP    := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "!~"
//! VALUE := "double quoted" (\" and \\ escaped) | the characters up to the next space
//! ```
//!
//! Spaces around the operator are allowed; `and` is the only connective (any case).
//!
//! # Comparing
//!
//! - `=` and `!=` compare numerically when both sides read as numbers (`status=502`,
//!   `request_time=0.5` matches `0.500`), else as strings.
//! - `>`, `>=`, `<`, `<=` with a number compare numerically, and are false when the record's
//!   value is not a number (`-`); with anything else they compare strings byte by byte.
//! - `~` and `!~` match a regex (Rust `regex` syntax, unanchored: `path~^/books`).
//! - A record that does not have the field fails the condition, whatever the operator
//!   (`status!=200` keeps only records that have a status and it is not 200).
//!
//! # Names
//!
//! | name              | what it reads                                                        |
//! |-------------------|----------------------------------------------------------------------|
//! | `level`, `severity` | the record's severity, by rank: `>=` means "at least as bad as", so `level>=warn` keeps warn, error, crit, alert, emerg; `level<info` keeps debug; words: emerg alert crit error warn notice info debug (and warning, err, critical...) |
//! | `source`          | the source's format id (`nginx-access`, `journal-json`...); `=` also takes a file path or rotation group, like `--source` |
//! | `file`            | the file path inside the bundle (`nginx/access.log.1`); `=` also takes the rotation group (`nginx/access.log`) |
//! | `host`            | the host the record came from (the bundle's host name)                 |
//! | `text`            | the record's text as the timeline shows it (for `~`)                  |
//! | `status`          | HTTP status (nginx access `status`)                                   |
//! | `client`          | nginx access `$remote_addr`, nginx error `client:`                     |
//! | `method`          | the method of the request line (`GET`)                                |
//! | `path`            | the path of the request line, without the query string               |
//! | `uri`             | the request target, with the query string                            |
//! | `upstream_time`   | `$upstream_response_time`; of several values (`0.5, 1.2`) the largest |
//! | `request_time`    | `$request_time`                                                       |
//! | `bytes`           | `$body_bytes_sent`                                                    |
//! | `upstream`        | nginx error `upstream:`, nginx access `$upstream_addr`               |
//! | `unit`            | the journal's unit, else its identifier with `.service`; `unit=gunicorn` also matches `gunicorn.service` |
//! | `pid`             | the writer's pid (journal, nginx error, gunicorn)                     |
//! | `message`         | the message (nginx error, gunicorn, journal `MESSAGE`)                |
//! | anything else     | the raw field of that name, as the record's format names it (`user_agent`, `referer`, `identifier`, `SYSLOG_IDENTIFIER`...) |
//! | `raw.NAME`        | the raw field `NAME` even where an alias has that name (`raw.host` is nginx error's `host:`) |
//!
//! `source`, `file`, `host` and `level` are read from the source's columns; the fields of a
//! record are parsed once, and only when those conditions pass.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::ingest::formats::nginx_log_format::{LogFormat, Var};
use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::Source;

/// A parsed query: conditions that must all hold.
#[derive(Debug, Clone)]
pub struct Query {
    /// Cheapest first: source columns, severity, text, then parsed fields.
    conds: Vec<Cond>,
    has_text: bool,
    has_fields: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Match,
    NoMatch,
}

impl Op {
    const ALL: [(&'static str, Op); 8] = [
        ("!=", Op::Ne),
        ("!~", Op::NoMatch),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("~", Op::Match),
    ];

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Gt => ord == Greater,
            Op::Ge => ord != Less,
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Match | Op::NoMatch => false,
        }
    }
}

/// How a field's value is read from the raw field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Derive {
    Plain,
    Method,
    Path,
    Uri,
    /// The largest of comma- or colon-separated numbers.
    Max,
    /// `unit`, else `identifier` + `.service`.
    Unit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Source,
    File,
    Host,
    Severity,
    Text,
    Field { names: Vec<String>, derive: Derive },
}

impl Target {
    /// Evaluation order: columns, then text, then parsed fields.
    fn cost(&self) -> u8 {
        match self {
            Target::Source | Target::File | Target::Host => 0,
            Target::Severity => 1,
            Target::Text => 2,
            Target::Field { .. } => 3,
        }
    }
}

#[derive(Debug, Clone)]
struct Cond {
    target: Target,
    op: Op,
    text: String,
    num: Option<f64>,
    /// `unit=gunicorn` also means `gunicorn.service`.
    alt: Option<String>,
    sev: Option<Severity>,
    regex: Option<Regex>,
    /// For `=` on a plain word: bytes every matching record's raw text contains, so formats
    /// whose field values are cut from the raw text can skip parsing the others.
    needle: Option<memchr::memmem::Finder<'static>>,
}

const ALIASES: &[(&str, &[&str], Derive)] = &[
    ("status", &["status"], Derive::Plain),
    ("client", &["client", "remote_addr"], Derive::Plain),
    ("method", &["request"], Derive::Method),
    ("path", &["request"], Derive::Path),
    ("uri", &["request"], Derive::Uri),
    (
        "upstream_time",
        &["upstream_time", "upstream_response_time"],
        Derive::Max,
    ),
    ("request_time", &["request_time"], Derive::Max),
    ("bytes", &["bytes", "body_bytes_sent"], Derive::Plain),
    ("upstream", &["upstream", "upstream_addr"], Derive::Plain),
    ("unit", &["unit", "identifier"], Derive::Unit),
    ("pid", &["pid", "_PID"], Derive::Plain),
    ("message", &["message", "MESSAGE"], Derive::Plain),
];

const LEVEL_WORDS: &str = "emerg, alert, crit, error, warn, notice, info, debug";

fn target_of(name: &str) -> Target {
    match name {
        "level" | "severity" => return Target::Severity,
        "source" => return Target::Source,
        "file" => return Target::File,
        "host" => return Target::Host,
        "text" => return Target::Text,
        _ => {}
    }
    if let Some(raw) = name.strip_prefix("raw.") {
        return Target::Field {
            names: vec![raw.to_string()],
            derive: Derive::Plain,
        };
    }
    match ALIASES.iter().find(|(a, _, _)| *a == name) {
        Some((_, names, derive)) => Target::Field {
            names: names.iter().map(|n| n.to_string()).collect(),
            derive: *derive,
        },
        None => Target::Field {
            names: vec![name.to_string()],
            derive: Derive::Plain,
        },
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Badness rank: higher is worse, so `>=` reads "at least as bad as".
fn rank(s: Severity) -> u8 {
    7 - s as u8
}

/// A regex error on one line: the `error: ...` line of the report, else its first line.
fn one_line(e: &regex::Error) -> String {
    let msg = e.to_string();
    msg.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .or_else(|| msg.lines().next())
        .unwrap_or_default()
        .to_string()
}

impl Cond {
    fn eval_str(&self, v: &str) -> bool {
        match self.op {
            Op::Match => self.regex.as_ref().is_some_and(|re| re.is_match(v)),
            Op::NoMatch => self.regex.as_ref().is_some_and(|re| !re.is_match(v)),
            Op::Eq | Op::Ne => {
                let eq = match (self.num, number(v)) {
                    (Some(q), Some(f)) => q == f,
                    _ => v == self.text || self.alt.as_deref() == Some(v),
                };
                eq == (self.op == Op::Eq)
            }
            op => match self.num {
                Some(q) => number(v)
                    .and_then(|f| f.partial_cmp(&q))
                    .is_some_and(|o| op.holds(o)),
                None => op.holds(v.cmp(self.text.as_str())),
            },
        }
    }

    fn eval_severity(&self, s: Severity) -> bool {
        match (self.op, self.sev) {
            (Op::Match | Op::NoMatch, _) => self.eval_str(s.as_str()),
            (op, Some(q)) => op.holds(rank(s).cmp(&rank(q))),
            (_, None) => false,
        }
    }

    /// `=`/`!=` on a name that also accepts other spellings (`file` takes its group).
    fn eval_any(&self, primary: &str, others: &[&str]) -> bool {
        match self.op {
            Op::Eq => primary == self.text || others.contains(&self.text.as_str()),
            Op::Ne => primary != self.text && !others.contains(&self.text.as_str()),
            _ => self.eval_str(primary),
        }
    }

    /// Conditions on the source's columns; true for the others.
    fn eval_source(&self, s: &Source) -> bool {
        match &self.target {
            Target::Source => self.eval_any(s.format.as_str(), &[&s.file, &s.group]),
            Target::File => self.eval_any(&s.file, &[&s.group]),
            Target::Host => self.eval_str(&s.host),
            Target::Field { names, .. } => names.iter().any(|n| may_have(s.format, n)),
            Target::Severity | Target::Text => true,
        }
    }

    fn eval_fields(&self, fields: &Fields<'_>) -> bool {
        let Target::Field { names, derive } = &self.target else {
            return true;
        };
        if *derive == Derive::Unit {
            return match fields.get("unit") {
                Some(u) => self.eval_str(&u),
                None => fields
                    .get("identifier")
                    .is_some_and(|i| self.eval_str(&format!("{i}.service"))),
            };
        }
        let Some(raw) = names.iter().find_map(|n| fields.get(n)) else {
            return false;
        };
        match derived(&raw, *derive) {
            Some(v) => self.eval_str(&v),
            None => false,
        }
    }
}

/// The value a derived name reads from its raw field; `None` when it has none.
fn derived(raw: &str, derive: Derive) -> Option<Cow<'_, str>> {
    let mut words = raw.split_ascii_whitespace();
    match derive {
        Derive::Plain | Derive::Unit => Some(Cow::Borrowed(raw)),
        Derive::Method => {
            let m = words.next()?;
            words.next().map(|_| Cow::Borrowed(m))
        }
        Derive::Uri => words.nth(1).map(Cow::Borrowed),
        Derive::Path => {
            let uri = words.nth(1)?;
            Some(Cow::Borrowed(uri.split('?').next().unwrap_or(uri)))
        }
        Derive::Max => {
            if !raw.contains([',', ':']) {
                return Some(Cow::Borrowed(raw.trim()));
            }
            raw.split([',', ':'])
                .filter_map(number)
                .reduce(f64::max)
                .map(|m| Cow::Owned(m.to_string()))
        }
    }
}

/// Whether records of `format` can have a field `name` (false only where that is certain).
fn may_have(format: FormatId, name: &str) -> bool {
    match format {
        // journald field names are upper case; sitrep adds these few.
        FormatId::JournalJson => {
            ["unit", "identifier", "pid", "priority", "host", "cursor"].contains(&name)
                || !name.bytes().any(|b| b.is_ascii_lowercase())
        }
        FormatId::Gunicorn => ["pid", "level", "message"].contains(&name),
        _ => true,
    }
}

/// A record's fields: borrowed from the line (nginx access) or as the format gave them.
enum Fields<'a> {
    Line(&'a [(&'a str, &'a [u8])]),
    Owned(Vec<(String, String)>),
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        match self {
            Fields::Line(v) => v
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, val)| String::from_utf8_lossy(val)),
            Fields::Owned(v) => v
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, val)| Cow::Borrowed(val.as_str())),
        }
    }
}

fn builtin_log_formats() -> &'static [LogFormat; 2] {
    static B: OnceLock<[LogFormat; 2]> = OnceLock::new();
    B.get_or_init(|| [LogFormat::combined(), LogFormat::common()])
}

/// The name `nginx_access` gives a variable's field ([`Var::field_name`]), without allocating.
fn var_name(v: &Var) -> &str {
    match v {
        Var::RemoteAddr => "client",
        Var::TimeLocal | Var::TimeIso8601 | Var::Msec => "time",
        Var::Request => "request",
        Var::Status => "status",
        Var::BodyBytesSent => "bytes",
        Var::RequestLength => "request_length",
        Var::RequestTime => "request_time",
        Var::UpstreamAddr => "upstream_addr",
        Var::UpstreamStatus => "upstream_status",
        Var::UpstreamResponseTime => "upstream_time",
        Var::Http(h) => h,
        Var::Other(o) => o,
    }
}

/// Most variables an access `log_format` may have for the borrowed fast path.
const MAX_VARS: usize = 64;

type Slots<'a> = [(&'a str, &'a [u8]); MAX_VARS];

/// The fields of an nginx access line, borrowed from it into `buf`, walked with the same
/// `log_format`s as `nginx_access` uses (the host's, then combined and common): the number
/// filled, or `None` when no format matches (or one has more than [`MAX_VARS`] variables).
fn access_fields<'a>(
    incident: &'a Incident,
    s: &'a Source,
    row: usize,
    buf: &mut Slots<'a>,
) -> Option<usize> {
    let line = crate::ingest::formats::trim_cr(s.raw(row));
    let host = incident.hosts.iter().find(|h| h.name == s.host);
    let host_formats = host
        .into_iter()
        .flat_map(|h| h.parse_ctx.log_formats.iter())
        .filter(|f| f.has_time());
    for f in host_formats.chain(builtin_log_formats().iter()) {
        buf[0] = ("log_format", f.name.as_bytes());
        let mut n = 1;
        let matched = f.walk(line, |v, val| {
            if let Some(slot) = buf.get_mut(n) {
                *slot = (var_name(v), val);
            }
            n += 1;
        });
        if matched {
            return (n <= MAX_VARS).then_some(n);
        }
    }
    None
}

impl Query {
    /// Read a query; the error names the position (in characters from 0) and what was expected.
    pub fn parse(s: &str) -> Result<Query, String> {
        let mut p = Parser { s, i: 0 };
        let mut conds = Vec::new();
        loop {
            conds.push(p.cond()?);
            p.skip_ws();
            if p.at_end() {
                break;
            }
            let at = p.pos();
            let word = p.word();
            if !word.eq_ignore_ascii_case("and") {
                let hint = if word.eq_ignore_ascii_case("or") {
                    " (only 'and' joins conditions)"
                } else {
                    ""
                };
                return Err(format!(
                    "expected 'and' or the end of the query at {at}, found '{word}'{hint}"
                ));
            }
        }
        conds.sort_by_key(|c| c.target.cost());
        Ok(Query {
            has_text: conds.iter().any(|c| c.target == Target::Text),
            has_fields: conds
                .iter()
                .any(|c| matches!(c.target, Target::Field { .. })),
            conds,
        })
    }

    /// Whether `s` starts like a query (`name op ...`) rather than a regex, for a prompt that
    /// takes both.
    pub fn looks_like_query(s: &str) -> bool {
        let mut p = Parser { s, i: 0 };
        p.skip_ws();
        !p.name().is_empty() && {
            p.skip_ws();
            p.op().is_some()
        }
    }

    /// Whether some record of `s` can match: the conditions on the source's format, file and
    /// host hold, and every field asked for can exist in its format.
    pub fn source_may_match(&self, s: &Source) -> bool {
        self.conds.iter().all(|c| c.eval_source(s))
    }

    /// Whether record `row` (file order) of source `source` satisfies every condition.
    pub fn matches(&self, incident: &Incident, source: usize, row: usize) -> bool {
        let Some(s) = incident.sources.get(source) else {
            return false;
        };
        if row >= s.len() || !self.source_may_match(s) {
            return false;
        }
        let sev = s.sev[row];
        if !self
            .conds
            .iter()
            .filter(|c| c.target == Target::Severity)
            .all(|c| c.eval_severity(sev))
        {
            return false;
        }
        if self.has_text {
            let text = s.text(row);
            if !self
                .conds
                .iter()
                .filter(|c| c.target == Target::Text)
                .all(|c| c.eval_str(&text))
            {
                return false;
            }
        }
        if !self.has_fields {
            return true;
        }
        let fields_hold = |fields: &Fields<'_>| {
            self.conds
                .iter()
                .filter(|c| matches!(c.target, Target::Field { .. }))
                .all(|c| c.eval_fields(fields))
        };
        if !self.raw_may_match(s, row) {
            return false;
        }
        if s.format == FormatId::NginxAccess {
            let mut buf: Slots<'_> = [("", &[]); MAX_VARS];
            if let Some(n) = access_fields(incident, s, row, &mut buf) {
                return fields_hold(&Fields::Line(&buf[..n]));
            }
        }
        fields_hold(&Fields::Owned(incident.fields(source, row)))
    }
}

impl Query {
    /// False when a `=` word is absent from the raw record of a format whose field values are
    /// cut from it unchanged (the journal's JSON without byte-array values, nginx error.log).
    fn raw_may_match(&self, s: &Source, row: usize) -> bool {
        let raw = match s.format {
            FormatId::NginxError => s.raw(row),
            FormatId::JournalJson => {
                let raw = s.raw(row);
                if memchr::memmem::find(raw, b"\":[").is_some() {
                    return true;
                }
                raw
            }
            _ => return true,
        };
        self.conds
            .iter()
            .filter_map(|c| c.needle.as_ref())
            .all(|n| n.find(raw).is_some())
    }
}

struct Parser<'a> {
    s: &'a str,
    /// Byte offset.
    i: usize,
}

impl<'a> Parser<'a> {
    /// Position in characters, as errors report it.
    fn pos(&self) -> usize {
        self.s[..self.i].chars().count()
    }

    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.i += rest.len() - rest.trim_start().len();
    }

    fn word(&mut self) -> String {
        let rest = self.rest();
        let n = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.i += n;
        rest[..n].to_string()
    }

    fn name(&mut self) -> String {
        let rest = self.rest();
        let ok = |(k, c): (usize, char)| {
            c.is_ascii_alphabetic() || c == '_' || (k > 0 && (c.is_ascii_digit() || c == '.'))
        };
        let n = rest
            .char_indices()
            .find(|&(k, c)| !ok((k, c)))
            .map_or(rest.len(), |(k, _)| k);
        self.i += n;
        rest[..n].to_string()
    }

    fn op(&mut self) -> Option<(Op, &'static str)> {
        let (text, op) = Op::ALL.iter().find(|(t, _)| self.rest().starts_with(t))?;
        self.i += text.len();
        Some((*op, *text))
    }

    fn value(&mut self) -> Result<Option<String>, String> {
        let rest = self.rest();
        if let Some(quoted) = rest.strip_prefix('"') {
            let open = self.pos();
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            while let Some((k, c)) = chars.next() {
                match c {
                    '"' => {
                        self.i += 1 + k + 1;
                        return Ok(Some(out));
                    }
                    '\\' => match chars.next() {
                        Some((_, e @ ('"' | '\\'))) => out.push(e),
                        Some((_, e)) => {
                            out.push('\\');
                            out.push(e);
                        }
                        None => out.push('\\'),
                    },
                    c => out.push(c),
                }
            }
            return Err(format!(
                "unterminated quote: the value opened with \" at {open} has no closing \""
            ));
        }
        let w = self.word();
        Ok((!w.is_empty()).then_some(w))
    }

    fn cond(&mut self) -> Result<Cond, String> {
        self.skip_ws();
        let at = self.pos();
        let name = self.name();
        if name.is_empty() || name == "raw." {
            return Err(match self.rest().chars().next() {
                None => format!("expected a field name at {at}"),
                Some(c) => format!("expected a field name at {at}, found '{c}'"),
            });
        }
        self.skip_ws();
        let at = self.pos();
        let Some((op, op_text)) = self.op() else {
            return Err(format!(
                "expected an operator after '{name}' at {at} (one of = != > >= < <= ~ !~)"
            ));
        };
        self.skip_ws();
        let at = self.pos();
        let Some(text) = self.value()? else {
            return Err(format!("expected a value after '{name}{op_text}' at {at}"));
        };
        let target = target_of(&name);
        let regex = match op {
            Op::Match | Op::NoMatch => Some(Regex::new(&text).map_err(|e| {
                format!(
                    "bad regex after '{name}{op_text}' at {at}: {}",
                    one_line(&e)
                )
            })?),
            _ => None,
        };
        let sev = match (&target, regex.is_some()) {
            (Target::Severity, false) => Some(Severity::from_word(text.as_bytes()).ok_or_else(
                || {
                    format!(
                        "expected a level after '{name}{op_text}' at {at} (one of {LEVEL_WORDS}), found '{text}'"
                    )
                },
            )?),
            _ => None,
        };
        let alt = match &target {
            Target::Field {
                derive: Derive::Unit,
                ..
            } if !text.contains('.') => Some(format!("{text}.service")),
            _ => None,
        };
        let plain = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-@:+".contains(&b))
        };
        let needle = match &target {
            Target::Field { derive, .. } if op == Op::Eq && number(&text).is_none() => {
                let word = match derive {
                    Derive::Unit => text.strip_suffix(".service").unwrap_or(&text),
                    _ => &text,
                };
                plain(word).then(|| memchr::memmem::Finder::new(word.as_bytes()).into_owned())
            }
            _ => None,
        };
        Ok(Cond {
            needle,
            num: number(&text),
            target,
            op,
            text,
            alt,
            sev,
            regex,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{LoadOptions, load};

    fn bundle(name: &str) -> Incident {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bundles")
            .join(name);
        load(&[p], &LoadOptions::default()).unwrap()
    }

    fn source(inc: &Incident, file: &str) -> usize {
        inc.sources.iter().position(|s| s.file == file).unwrap()
    }

    /// Rows of source `i` the query keeps.
    fn rows(inc: &Incident, i: usize, q: &str) -> Vec<usize> {
        let q = Query::parse(q).unwrap();
        (0..inc.sources[i].len())
            .filter(|&r| q.matches(inc, i, r))
            .collect()
    }

    fn count_all(inc: &Incident, q: &str) -> usize {
        let q = Query::parse(q).unwrap();
        (0..inc.sources.len())
            .map(|i| {
                (0..inc.sources[i].len())
                    .filter(|&r| q.matches(inc, i, r))
                    .count()
            })
            .sum()
    }

    /// The access line's status the slow way: the format's own fields.
    fn field(inc: &Incident, i: usize, r: usize, name: &str) -> Option<String> {
        inc.fields(i, r)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    #[test]
    fn status_at_least_500_keeps_exactly_the_5xx_lines() {
        let inc = bundle("i1-socket-mismatch");
        let i = source(&inc, "nginx/access.log");
        let got = rows(&inc, i, "status>=500");
        let want: Vec<usize> = (0..inc.sources[i].len())
            .filter(|&r| field(&inc, i, r, "status").is_some_and(|s| s.starts_with('5')))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want);
        // The manifest counts 99 502s; only the access log has a status.
        assert_eq!(rows(&inc, i, "status=502").len(), 99);
        assert_eq!(count_all(&inc, "status=502"), 99);
        assert_eq!(count_all(&inc, "status >= 500"), want.len());
    }

    #[test]
    fn access_fields_read_from_the_line_agree_with_the_format() {
        for b in [
            "i1-socket-mismatch",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "awkward",
        ] {
            let inc = bundle(b);
            for (i, s) in inc.sources.iter().enumerate() {
                if s.format != FormatId::NginxAccess {
                    continue;
                }
                for r in 0..s.len() {
                    let mut buf: Slots<'_> = [("", &[]); MAX_VARS];
                    let slow = inc.fields(i, r);
                    if let Some(n) = access_fields(&inc, s, r, &mut buf) {
                        let fast: Vec<(String, String)> = buf[..n]
                            .iter()
                            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v).into_owned()))
                            .collect();
                        assert_eq!(fast, slow, "{b} {} row {r}", s.file);
                    }
                }
            }
        }
    }

    #[test]
    fn upstream_time_takes_the_largest_value() {
        let inc = bundle("i4-retry-storm");
        let i = source(&inc, "nginx/access.log");
        let got = rows(&inc, i, "upstream_time>2.5");
        assert!(!got.is_empty());
        for r in 0..inc.sources[i].len() {
            let slow = field(&inc, i, r, "upstream_time")
                .map(|v| {
                    v.split([',', ':'])
                        .filter_map(|x| x.trim().parse::<f64>().ok())
                        .fold(f64::MIN, f64::max)
                })
                .is_some_and(|m| m > 2.5);
            assert_eq!(got.contains(&r), slow, "row {r}");
        }
        assert_eq!(
            derived("0.5, 1.2 : 0.3", Derive::Max).as_deref(),
            Some("1.2")
        );
        assert_eq!(derived("-", Derive::Max).as_deref(), Some("-"));
        assert_eq!(derived("-, -", Derive::Max), None);
        let q = Query::parse("upstream_time>2.5").unwrap();
        let max = |v: &str| derived(v, Derive::Max).is_some_and(|m| q.conds[0].eval_str(&m));
        assert!(max("0.5, 3.1"));
        assert!(!max("2.5"));
        assert!(!max("-"));
    }

    #[test]
    fn unit_matches_the_journal_unit() {
        let inc = bundle("i2-import-time-setting");
        let i = source(&inc, "journal/journal.json");
        let got = rows(&inc, i, "unit=gunicorn.service");
        assert!(!got.is_empty());
        for &r in &got {
            assert_eq!(
                field(&inc, i, r, "unit").as_deref(),
                Some("gunicorn.service")
            );
        }
        assert_eq!(rows(&inc, i, "unit=gunicorn"), got);
        let cron = rows(&inc, i, "unit=cron.service");
        assert!(!cron.is_empty());
        assert!(cron.iter().all(|r| !got.contains(r)));
        // Access lines have no unit: false, not an error.
        let access = source(&inc, "nginx/access.log");
        assert!(rows(&inc, access, "unit=gunicorn.service").is_empty());
        assert!(rows(&inc, access, "unit!=gunicorn.service").is_empty());
    }

    #[test]
    fn client_and_and() {
        let inc = bundle("i1-socket-mismatch");
        let access = source(&inc, "nginx/access.log");
        let error = source(&inc, "nginx/error.log");
        let client = field(&inc, access, 297, "client").unwrap();
        let by_client = rows(&inc, access, &format!("client={client}"));
        assert!(by_client.contains(&297));
        assert!(
            by_client
                .iter()
                .all(|&r| field(&inc, access, r, "client").as_deref() == Some(client.as_str()))
        );
        // nginx error's `client:` answers to the same name.
        assert!(!rows(&inc, error, &format!("client=\"{client}\"")).is_empty());
        let both = rows(&inc, access, &format!("client={client} and status=502"));
        assert!(!both.is_empty());
        assert!(both.iter().all(|r| by_client.contains(r)));
        assert!(both.len() <= by_client.len());
        let books = rows(&inc, access, "status>=500 AND path~^/books and method=GET");
        assert!(!books.is_empty());
        for r in books {
            let req = field(&inc, access, r, "request").unwrap();
            assert!(req.starts_with("GET /books"), "{req}");
        }
        assert!(rows(&inc, access, "path~^/books and status<100").is_empty());
    }

    #[test]
    fn source_file_host_and_level() {
        let inc = bundle("i1-socket-mismatch");
        let total: usize = inc.sources.iter().map(Source::len).sum();
        let errors = count_all(&inc, "source=nginx-error");
        assert_eq!(errors, inc.sources[source(&inc, "nginx/error.log")].len());
        assert_eq!(count_all(&inc, "file=nginx/error.log"), errors);
        assert_eq!(count_all(&inc, "host=web1"), total);
        assert_eq!(count_all(&inc, "host!=web1"), 0);
        let warn_plus = count_all(&inc, "level>=warn");
        let by_hand = inc
            .sources
            .iter()
            .flat_map(|s| s.sev.iter())
            .filter(|s| **s <= Severity::Warn)
            .count();
        assert_eq!(warn_plus, by_hand);
        assert_eq!(
            count_all(&inc, "severity<warn") + warn_plus,
            total,
            "< and >= split the records"
        );
        assert_eq!(count_all(&inc, "level=error"), count_all(&inc, "level=err"));
        assert!(count_all(&inc, "text~\"Connection refused\" and source=nginx-error") > 0);
    }

    #[test]
    fn missing_fields_make_the_condition_false() {
        let inc = bundle("i1-socket-mismatch");
        assert_eq!(count_all(&inc, "no_such_field=1"), 0);
        assert_eq!(count_all(&inc, "no_such_field!=1"), 0);
        assert_eq!(count_all(&inc, "no_such_field!~x"), 0);
        let journal = source(&inc, "journal/journal.json");
        assert!(rows(&inc, journal, "status>=0").is_empty());
        assert!(
            !Query::parse("status>=0")
                .unwrap()
                .source_may_match(&inc.sources[journal])
        );
        // A raw journal field, and one shadowed by an alias.
        assert!(!rows(&inc, journal, "SYSLOG_IDENTIFIER=CRON").is_empty());
        let error = source(&inc, "nginx/error.log");
        assert!(!rows(&inc, error, "raw.host=bookshelf.example.org").is_empty());
    }

    #[test]
    fn the_raw_prefilter_changes_no_answer() {
        for b in [
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i5-single-worker-upload",
            "awkward",
        ] {
            let inc = bundle(b);
            for q in [
                "unit=gunicorn",
                "unit=gunicorn.service",
                "identifier=CRON",
                "pid=1",
                "method=POST",
                "raw.level=error",
                "server=dcim.example.net",
                "client=10.40.2.58",
                "MESSAGE=hi",
            ] {
                let fast = Query::parse(q).unwrap();
                let mut slow = fast.clone();
                slow.conds.iter_mut().for_each(|c| c.needle = None);
                for (i, s) in inc.sources.iter().enumerate() {
                    for r in 0..s.len() {
                        assert_eq!(
                            fast.matches(&inc, i, r),
                            slow.matches(&inc, i, r),
                            "{b} {q} {} row {r}",
                            s.file
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bad_queries_say_where_and_what() {
        let err = |q: &str| Query::parse(q).unwrap_err();
        assert!(
            err("status").starts_with("expected an operator after 'status' at 6"),
            "{}",
            err("status")
        );
        assert_eq!(err(""), "expected a field name at 0");
        assert_eq!(err("status>="), "expected a value after 'status>=' at 8");
        assert_eq!(err("status>=500 and"), "expected a field name at 15");
        assert!(err("status>=500 or status=404").contains("found 'or' (only 'and'"));
        assert!(err("level>=loud").contains("expected a level after 'level>=' at 7"));
        assert!(err("path~(").starts_with("bad regex after 'path~' at 5: "));
        assert!(!err("path~(").contains('\n'));
        assert!(err("client=\"10.0").starts_with("unterminated quote"));
        assert_eq!(err(">=5"), "expected a field name at 0, found '>'");
    }

    #[test]
    fn quoted_values_and_spacing() {
        let q = Query::parse(r#"text~"a \"b\" \d" and status = 502"#).unwrap();
        let text = q.conds.iter().find(|c| c.target == Target::Text).unwrap();
        assert_eq!(text.text, r#"a "b" \d"#);
        assert!(text.eval_str(r#"x a "b" 7"#));
        assert_eq!(q.conds.len(), 2);
    }

    #[test]
    fn queries_are_told_from_regexes() {
        for q in [
            "status>=500",
            "level >= warn",
            "unit=x",
            "path~^/a",
            "raw.host!=x",
            "a!~b",
        ] {
            assert!(Query::looks_like_query(q), "{q}");
        }
        for r in [
            "connect\\(\\) failed",
            "^upstream",
            "upstream timed out",
            "502",
            "",
            "(status)=5",
        ] {
            assert!(!Query::looks_like_query(r), "{r}");
        }
    }
}
