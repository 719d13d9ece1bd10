//! Cloud Foundry `cf env APP`: `Getting env variables for app APP in org ...`, then sections
//! headed `System-Provided:` (`VCAP_SERVICES: {` JSON over many lines, `VCAP_APPLICATION:
//! {...}`; cf CLI v6 prints each as a bare `{ "VCAP_SERVICES": {...} }` block instead),
//! `User-Provided:`, `Running Environment Variable Groups:` and `Staging Environment Variable
//! Groups:` with `KEY: value` lines, or the CLI's `No user-provided env variables have been
//! set` (v6: `No user-defined ...`) and the like in place of a section.
//!
//! Records are state, untimed: one per variable (a JSON value continues over its lines, a
//! line that is not `KEY: value` continues the value before it), one per heading and per CLI
//! line.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{Format, Head, Line, ParseCtx, field, parse_lines, trim_cr};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct CfEnv;

/// The section of `cf env` a variable is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    /// `System-Provided:`: `VCAP_SERVICES`, `VCAP_APPLICATION`.
    SystemProvided,
    /// `User-Provided:`: `cf set-env` and manifest `env:`.
    UserProvided,
    /// `Running Environment Variable Groups:`.
    Running,
    /// `Staging Environment Variable Groups:`.
    Staging,
}

/// One variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    pub name: String,
    /// As printed; a JSON value keeps its lines (`\n`-joined).
    pub value: String,
    pub section: Section,
    /// 1-based line of the variable's first line.
    pub line: u32,
}

/// What `cf env` printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnvDump {
    pub app: Option<String>,
    /// `VCAP_APPLICATION.application_id`.
    pub app_guid: Option<String>,
    pub vars: Vec<EnvVar>,
}

/// How one variable differs between two dumps. Carries no value: values are secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvDiff {
    pub name: String,
    pub kind: EnvDiffKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvDiffKind {
    /// Not in `a`, present in `b`.
    Missing,
    /// In both, with different values.
    Differing,
    /// In `a` only.
    Extra,
}

const HEADINGS: &[(&str, Section)] = &[
    ("System-Provided:", Section::SystemProvided),
    ("User-Provided:", Section::UserProvided),
    ("Running Environment Variable Groups:", Section::Running),
    ("Staging Environment Variable Groups:", Section::Staging),
];

/// The CLI's lines that stand for an empty section, v7/v8 and v6 wording.
const EMPTY: &[(&str, Section)] = &[
    (
        "No system-provided env variables have been set",
        Section::SystemProvided,
    ),
    (
        "No user-provided env variables have been set",
        Section::UserProvided,
    ),
    (
        "No user-defined env variables have been set",
        Section::UserProvided,
    ),
    ("No running env variables have been set", Section::Running),
    ("No staging env variables have been set", Section::Staging),
];

/// `Getting env variables for app NAME in org ...`: the app's name.
fn app_of(l: &str) -> Option<&str> {
    let rest = l.strip_prefix("Getting env variables for app ")?;
    rest.split(' ').next().filter(|n| !n.is_empty())
}

/// `NAME: value` (or `NAME:` with nothing after it): the name and the value.
fn var(l: &str) -> Option<(&str, &str)> {
    let (name, value) = l.split_once(':')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return None;
    }
    match value.strip_prefix(' ') {
        Some(v) => Some((name, v)),
        None if value.is_empty() => Some((name, value)),
        None => None,
    }
}

/// Bracket depth of JSON text fed line by line; strings and escapes skipped.
#[derive(Debug, Default, Clone, Copy)]
struct Depth {
    depth: usize,
    in_str: bool,
    esc: bool,
}

impl Depth {
    fn feed(&mut self, b: &[u8]) {
        for &c in b {
            if self.in_str {
                match (self.esc, c) {
                    (true, _) => self.esc = false,
                    (false, b'\\') => self.esc = true,
                    (false, b'"') => self.in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        // A string does not run over a line break in JSON: a cut value ends here.
        self.in_str = false;
        self.esc = false;
    }

    fn open(&self) -> bool {
        self.depth > 0
    }
}

/// What a line is, given what came before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    Cli {
        error: bool,
    },
    Heading(Section),
    Empty,
    /// A variable (or a v6 `{` block of them) starts.
    Var,
    /// Inside a JSON value, or a further line of a value.
    More,
    Other,
}

/// Walks the lines keeping the section and whether a JSON value is open.
#[derive(Debug, Default)]
struct Scanner {
    section: Option<Section>,
    json: Depth,
    /// A variable of the current section has started (so odd lines continue it).
    in_var: bool,
}

impl Scanner {
    fn line(&mut self, line: &[u8]) -> Kind {
        if self.json.open() {
            self.json.feed(line);
            return Kind::More;
        }
        let Ok(l) = std::str::from_utf8(trim_cr(line)) else {
            return if self.in_var { Kind::More } else { Kind::Other };
        };
        let t = l.trim_end();
        if t.trim_start().is_empty() {
            return Kind::Blank;
        }
        if let Some((_, s)) = HEADINGS.iter().find(|(h, _)| t == *h) {
            self.section = Some(*s);
            self.in_var = false;
            return Kind::Heading(*s);
        }
        if EMPTY.iter().any(|(m, _)| t == *m) {
            self.in_var = false;
            return Kind::Empty;
        }
        if app_of(t).is_some() || t == "OK" || t.starts_with("$ cf ") {
            return Kind::Cli { error: false };
        }
        if t == "FAILED" || t.starts_with("App '") || t.starts_with("Error ") {
            return Kind::Cli { error: true };
        }
        if self.section.is_none() {
            return Kind::Other;
        }
        if t == "{" && self.section == Some(Section::SystemProvided) {
            self.json.feed(t.as_bytes());
            self.in_var = true;
            return Kind::Var;
        }
        if let Some((_, value)) = var(t) {
            let v = value.trim_start();
            if v.starts_with('{') || v.starts_with('[') {
                self.json.feed(v.as_bytes());
            }
            self.in_var = true;
            return Kind::Var;
        }
        if self.in_var { Kind::More } else { Kind::Other }
    }
}

impl Format for CfEnv {
    fn id(&self) -> FormatId {
        FormatId::CfEnv
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut getting, mut headings) = (false, 0u32);
        for line in &head.lines {
            let l = String::from_utf8_lossy(trim_cr(line));
            let t = l.trim_end();
            getting |= app_of(t).is_some();
            if HEADINGS.iter().any(|(h, _)| t == *h) || EMPTY.iter().any(|(m, _)| t == *m) {
                headings += 1;
            }
        }
        match (getting, headings) {
            (true, _) => 100,
            (false, 2..) => 90,
            _ => 0,
        }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut sc = Scanner::default();
        parse_lines(data, out, |line, _| match sc.line(line) {
            Kind::Blank | Kind::More => Line::Continue,
            Kind::Cli { error: true } => Line::start(UNTIMED, Severity::Error),
            Kind::Cli { error: false } | Kind::Heading(_) | Kind::Empty | Kind::Var => {
                Line::start(UNTIMED, Severity::Info)
            }
            Kind::Other => Line::Unparsed,
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "Getting env variables for app shop-api in org acme / space prod as ops@example.org...\n\
             System-Provided:\n\
             VCAP_SERVICES: {\n  \"postgres\": [\n    {\n      \"name\": \"shop-db\",\n      \"credentials\": {\"password\": \"[REDACTED]\", \"note\": \"a } in text\"}\n    }\n  ]\n}\n\
             \n\
             VCAP_APPLICATION: {\n  \"application_id\": \"231a5932-11a7-487e-bb2f-ebd3fdb40e4c\",\n  \"application_name\": \"shop-api\"\n}\n\
             \n\
             User-Provided:\n\
             SCANNER_URL: http://scanner.apps.internal:9000/scan\n\
             SECRET_KEY: [REDACTED]\n\
             \n\
             No running env variables have been set\n\
             \n\
             Staging Environment Variable Groups:\n\
             CREDHUB_API: https://credhub.service.cf.internal:8844\n",
            "Getting env variables for app shop-api in org acme / space prod as ops@example.org...\n\
             OK\n\
             \n\
             System-Provided:\n\
             {\n \"VCAP_APPLICATION\": {\n  \"application_id\": \"34e55eb9-423a-40ed-9a49-98fc463b8a26\"\n }\n}\n\
             \n\
             No user-defined env variables have been set\n\
             \n\
             No running env variables have been set\n\
             \n\
             No staging env variables have been set\n",
        ]
    }

    /// name, section of a variable's record.
    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let first = raw.split(|b| *b == b'\n').next().unwrap_or_default();
        let first = String::from_utf8_lossy(trim_cr(first));
        match var(first.trim_end()) {
            Some((name, _)) => vec![field("name", name.as_bytes())],
            None => Vec::new(),
        }
    }
}

/// The variables of `cf env` output, with the app's name and guid.
pub fn parse_env(text: &str) -> EnvDump {
    let mut dump = EnvDump::default();
    let mut sc = Scanner::default();
    // The variable being read: (first line, its lines).
    let mut open: Option<(u32, Vec<&str>, Section)> = None;
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if dump.app.is_none()
            && let Some(app) = app_of(line.trim_end())
        {
            dump.app = Some(app.to_string());
        }
        match sc.line(line.as_bytes()) {
            Kind::Var => {
                finish(&mut dump, open.take());
                if let Some(s) = sc.section {
                    open = Some((line_no, vec![line.trim_end()], s));
                }
            }
            Kind::More => {
                if let Some((_, l, _)) = &mut open {
                    l.push(line.trim_end());
                }
            }
            // A blank line ends a JSON value that is closed; other values may hold them.
            Kind::Blank if !sc.json.open() => {
                if let Some((_, l, _)) = &mut open {
                    l.push("");
                }
            }
            Kind::Blank => {}
            _ => finish(&mut dump, open.take()),
        }
    }
    finish(&mut dump, open.take());
    dump.app_guid = dump
        .vars
        .iter()
        .find(|v| v.name == "VCAP_APPLICATION")
        .and_then(|v| serde_json::from_str::<Value>(&v.value).ok())
        .and_then(|v| v.get("application_id")?.as_str().map(str::to_string));
    dump
}

/// Add the variable(s) of one record: `NAME: value` lines, or a v6 `{...}` block of them.
fn finish(dump: &mut EnvDump, open: Option<(u32, Vec<&str>, Section)>) {
    let Some((line, mut lines, section)) = open else {
        return;
    };
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let text = lines.join("\n");
    if text.trim_start().starts_with('{') {
        if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&text) {
            for (name, v) in o {
                let value = serde_json::to_string_pretty(&v).unwrap_or_default();
                dump.vars.push(EnvVar {
                    name,
                    value,
                    section,
                    line,
                });
            }
        }
        return;
    }
    if let Some((name, value)) = var(&text) {
        dump.vars.push(EnvVar {
            name: name.to_string(),
            value: value.to_string(),
            section,
            line,
        });
    }
}

/// What the app sees at run time: running-group variables overridden by user-provided ones.
fn effective(d: &EnvDump) -> BTreeMap<&str, &str> {
    let mut m = BTreeMap::new();
    for section in [Section::Running, Section::UserProvided] {
        for v in d.vars.iter().filter(|v| v.section == section) {
            m.insert(v.name.as_str(), v.value.as_str());
        }
    }
    m
}

/// The value cf prints for a secret it hides (and sitrep's redaction writes).
const REDACTED: &str = "[REDACTED]";

/// Variables of `a` and `b` that differ, over the User-Provided and Running sections (as the
/// app sees them: a user-provided variable overrides a running-group one of the same name),
/// sorted by name. System-Provided and staging variables are not compared.
///
/// A value `[REDACTED]` is unknown, so it counts as equal to any value: a redacted variable
/// is never reported as differing, only as missing or extra. The diff carries names only,
/// never values.
pub fn compare(a: &EnvDump, b: &EnvDump) -> Vec<EnvDiff> {
    let (ea, eb) = (effective(a), effective(b));
    let mut out = Vec::new();
    for (name, va) in &ea {
        let kind = match eb.get(name) {
            None => EnvDiffKind::Extra,
            Some(vb) if va.trim() != vb.trim() && *va != REDACTED && *vb != REDACTED => {
                EnvDiffKind::Differing
            }
            Some(_) => continue,
        };
        out.push(EnvDiff {
            name: name.to_string(),
            kind,
        });
    }
    for name in eb.keys().filter(|n| !ea.contains_key(*n)) {
        out.push(EnvDiff {
            name: name.to_string(),
            kind: EnvDiffKind::Missing,
        });
    }
    out.sort_by(|x, y| x.name.cmp(&y.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::ingest::sniff::sniff;
    use proptest::prelude::*;

    const I6: &str =
        include_str!("../../../tests/bundles/i6-pipeline-platform/platform/cf-env.txt");

    #[test]
    fn i6_env() {
        assert_eq!(sniff("cf-env.txt", I6.as_bytes()), FormatId::CfEnv);
        let d = parse_env(I6);
        assert_eq!(d.app.as_deref(), Some("grants-portal"));
        assert_eq!(
            d.app_guid.as_deref(),
            Some("231a5932-11a7-487e-bb2f-ebd3fdb40e4c")
        );
        let names: Vec<(&str, Section, u32)> = d
            .vars
            .iter()
            .map(|v| (v.name.as_str(), v.section, v.line))
            .collect();
        use Section::*;
        assert_eq!(
            names,
            [
                ("VCAP_SERVICES", SystemProvided, 3),
                ("VCAP_APPLICATION", SystemProvided, 33),
                ("CLAMAV_SCAN_URL", UserProvided, 55),
                ("DJANGO_ALLOWED_HOSTS", UserProvided, 56),
                ("DJANGO_SECRET_KEY", UserProvided, 57),
                ("DJANGO_SETTINGS_MODULE", UserProvided, 58),
                ("SCAN_MAX_RETRIES", UserProvided, 59),
                ("WEB_CONCURRENCY", UserProvided, 60),
                ("CREDHUB_API", Running, 63),
                ("CREDHUB_API", Staging, 66),
            ]
        );
        assert_eq!(
            d.vars[2].value,
            "http://clamav-rest.apps.internal:9000/scan"
        );
        assert_eq!(d.vars[4].value, "[REDACTED]");
        assert!(d.vars[0].value.starts_with("{\n  \"aws-rds\": ["));
        assert!(d.vars[0].value.ends_with("\n}"));
    }

    #[test]
    fn i6_records() {
        let b = parse_str(&CfEnv, I6, &ParseCtx::default());
        // Getting, 4 headings, 10 variables.
        assert_eq!(b.stats.records, 15);
        assert_eq!(b.stats.unparsed, 0);
        assert_eq!(b.stats.records + b.stats.continuations, I6.lines().count());
        assert!(b.ts.iter().all(|t| *t == UNTIMED));
        assert_eq!(&b.lines[..4], &[1, 2, 3, 33]);
        let raw = &I6.as_bytes()[b.starts[3] as usize..b.starts[4] as usize];
        assert_eq!(
            CfEnv.fields(raw, &ParseCtx::default()),
            vec![("name".to_string(), "VCAP_APPLICATION".to_string())]
        );
    }

    #[test]
    fn v6_blocks_and_empty_sections() {
        let text = CfEnv.samples()[1];
        let d = parse_env(text);
        assert_eq!(d.vars.len(), 1);
        assert_eq!(d.vars[0].name, "VCAP_APPLICATION");
        assert_eq!(d.vars[0].line, 5);
        assert_eq!(
            d.app_guid.as_deref(),
            Some("34e55eb9-423a-40ed-9a49-98fc463b8a26")
        );
        let b = parse_str(&CfEnv, text, &ParseCtx::default());
        // Getting, OK, heading, block, three empty-section lines.
        assert_eq!(b.stats.records, 7);
    }

    fn dump(vars: &[(&str, &str, Section)]) -> EnvDump {
        EnvDump {
            vars: vars
                .iter()
                .map(|(n, v, s)| EnvVar {
                    name: n.to_string(),
                    value: v.to_string(),
                    section: *s,
                    line: 1,
                })
                .collect(),
            ..EnvDump::default()
        }
    }

    #[test]
    fn compare_names_differences_without_values() {
        use Section::*;
        let a = dump(&[
            ("A", "1", UserProvided),
            ("B", "[REDACTED]", UserProvided),
            ("C", "x", UserProvided),
            ("D", "y", Running),
            ("E", "same", UserProvided),
            ("F", "shadowed", Running),
            ("F", "user", UserProvided),
            ("VCAP_SERVICES", "{}", SystemProvided),
        ]);
        let b = dump(&[
            ("A", "2", UserProvided),
            ("B", "secret", UserProvided),
            ("E", "same", Running),
            ("F", "user", UserProvided),
            ("G", "z", Running),
            ("VCAP_SERVICES", "{\"a\":1}", SystemProvided),
        ]);
        let got: Vec<(String, EnvDiffKind)> = compare(&a, &b)
            .into_iter()
            .map(|d| (d.name, d.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A".to_string(), EnvDiffKind::Differing),
                ("C".to_string(), EnvDiffKind::Extra),
                ("D".to_string(), EnvDiffKind::Extra),
                ("G".to_string(), EnvDiffKind::Missing),
            ]
        );
        assert!(compare(&parse_env(I6), &parse_env(I6)).is_empty());
    }

    #[test]
    fn cut_and_garbled_input_keeps_every_line() {
        let cut = &I6[..I6.find("\"uris\"").unwrap()];
        let b = parse_str(&CfEnv, cut, &ParseCtx::default());
        assert_eq!(b.stats.records + b.stats.continuations, cut.lines().count());
        let d = parse_env(cut);
        // The cut VCAP_APPLICATION is kept as printed, but yields no guid.
        assert_eq!(d.app_guid, None);
        assert_eq!(d.vars.len(), 2);
        for text in [
            "System-Provided:\nVCAP_SERVICES: {\"a\": \"}\\\"\n",
            "User-Provided:\n\u{0}\u{ff}\nA: b\n  more\n",
            "x: y\n",
            "{",
        ] {
            let b = parse_str(&CfEnv, text, &ParseCtx::default());
            assert_eq!(
                b.stats.records + b.stats.continuations,
                text.lines().count()
            );
            let _ = parse_env(text);
        }
        let b = parse_str(&CfEnv, "x: y\n", &ParseCtx::default());
        assert_eq!(b.stats.unparsed, 1);
    }

    #[test]
    fn an_empty_file_has_no_record() {
        let b = parse_str(&CfEnv, "", &ParseCtx::default());
        assert_eq!(b.stats.records, 0);
        assert_eq!(parse_env(""), EnvDump::default());
        assert_eq!(CfEnv.sniff(&Head::new("x", b"")), 0);
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("System-Provided:\n".to_string()), Just("User-Provided:\n".to_string()),
            Just("VCAP_SERVICES: {".to_string()), Just("}".to_string()), Just("\"".to_string()),
            Just("A: b\n".to_string()), Just("\n".to_string()), Just("{\n".to_string()), "\\PC{0,8}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let b = parse_str(&CfEnv, &text, &ParseCtx::default());
            prop_assert_eq!(b.stats.records + b.stats.continuations, text.lines().count());
            let _ = parse_env(&text);
        }
    }
}
