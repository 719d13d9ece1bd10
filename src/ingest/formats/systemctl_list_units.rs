//! `systemctl list-units` and its sibling tables: `list-unit-files`, `list-sockets`,
//! `list-jobs`, `list-timers`. Reads the plain table (with or without `--no-legend`, `●`/`*`
//! bullets on failed and not-found units), `--output=json` / `json-pretty` arrays, and the
//! error lines systemctl prints instead (`Failed to list unit files: Connection timed out`).
//!
//! Records are state, untimed: one per unit row (header and error lines are records too, the
//! legend and footer continue the record before them); one per element of a JSON array.

use serde::Serialize;
use serde_json::Value;

use super::{Format, Head, Line, ParseCtx, parse_lines, trim_cr};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct SystemctlListUnits;

/// One row of `systemctl list-units` (table or JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRow {
    pub unit: String,
    pub load: String,
    pub active: String,
    pub sub: String,
    pub description: String,
}

impl UnitRow {
    pub fn is_failed(&self) -> bool {
        self.active == "failed" || self.sub == "failed"
    }
}

/// Unit name suffixes (`systemd.unit(5)`).
const UNIT_SUFFIXES: &[&[u8]] = &[
    b".service",
    b".socket",
    b".target",
    b".device",
    b".mount",
    b".automount",
    b".swap",
    b".timer",
    b".path",
    b".slice",
    b".scope",
];

/// LOAD column values.
const LOAD_STATES: &[&[u8]] = &[
    b"loaded",
    b"not-found",
    b"bad-setting",
    b"error",
    b"masked",
    b"stub",
    b"merged",
];

/// ACTIVE column values.
const ACTIVE_STATES: &[&[u8]] = &[
    b"active",
    b"reloading",
    b"inactive",
    b"failed",
    b"activating",
    b"deactivating",
    b"maintenance",
    b"refreshing",
];

/// STATE column of `list-unit-files`.
const FILE_STATES: &[&[u8]] = &[
    b"enabled",
    b"enabled-runtime",
    b"linked",
    b"linked-runtime",
    b"alias",
    b"masked",
    b"masked-runtime",
    b"static",
    b"disabled",
    b"indirect",
    b"generated",
    b"transient",
    b"bad",
];

/// Is `tok` a unit name (`nginx.service`, `getty@tty1.service`, `-.mount`)?
pub fn is_unit_name(tok: &[u8]) -> bool {
    UNIT_SUFFIXES
        .iter()
        .any(|s| tok.len() > s.len() && tok.ends_with(s))
}

fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
}

/// The line without leading blanks and without a leading `●` / `*` bullet.
fn strip_bullet(line: &[u8]) -> (&[u8], bool) {
    let l = line.trim_ascii_start();
    for bullet in ["●".as_bytes(), b"*"] {
        if let Some(rest) = l.strip_prefix(bullet)
            && rest.first().is_some_and(u8::is_ascii_whitespace)
        {
            return (rest.trim_ascii_start(), true);
        }
    }
    (l, false)
}

/// What a line of the plain table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    /// Column titles: `UNIT LOAD ACTIVE SUB DESCRIPTION`, `UNIT FILE STATE`, `LISTEN UNIT ...`.
    Header,
    /// Legend, footer and elisions: `LOAD   = ...`, `161 loaded units listed.`, `...`.
    Legend,
    /// A `list-units` / `list-unit-files` row whose columns hold their known words.
    Row {
        failed: bool,
    },
    /// A row of another table: holds a unit name somewhere (`list-sockets`, `list-jobs`).
    LooseRow,
    /// `Failed to list units: ...`; `listing` when it names a listing (a sure sign).
    Error {
        listing: bool,
    },
    Other,
}

fn classify(line: &[u8]) -> Kind {
    let (body, _) = strip_bullet(line);
    if body.is_empty() {
        return Kind::Blank;
    }
    if is_header(body) {
        return Kind::Header;
    }
    if is_legend(body) {
        return Kind::Legend;
    }
    if let Some(rest) = body.strip_prefix(b"Failed to ") {
        return Kind::Error {
            listing: rest.starts_with(b"list unit"),
        };
    }
    if body.starts_with(b"System has not been booted with systemd") {
        return Kind::Error { listing: true };
    }
    let t: Vec<&[u8]> = tokens(body).take(4).collect();
    if t.len() >= 4
        && is_unit_name(t[0])
        && LOAD_STATES.contains(&t[1])
        && ACTIVE_STATES.contains(&t[2])
    {
        return Kind::Row {
            failed: t[2] == b"failed" || t[3] == b"failed",
        };
    }
    if t.len() >= 2 && is_unit_name(t[0]) && FILE_STATES.contains(&t[1]) {
        return Kind::Row { failed: false };
    }
    if tokens(body).any(is_unit_name) {
        return Kind::LooseRow;
    }
    Kind::Other
}

fn is_header(l: &[u8]) -> bool {
    let has = |w: &[u8]| tokens(l).any(|t| t == w);
    (l.starts_with(b"UNIT ") && has(b"LOAD") && has(b"ACTIVE"))
        || (l.starts_with(b"UNIT FILE") && has(b"STATE"))
        || (l.starts_with(b"LISTEN ") && has(b"UNIT"))
        || (l.starts_with(b"JOB ") && has(b"UNIT"))
        || (l.starts_with(b"NEXT ") && has(b"UNIT") && has(b"ACTIVATES"))
}

fn is_legend(l: &[u8]) -> bool {
    if l == b"..." || l.starts_with(b"To show all installed unit files") {
        return true;
    }
    if l.starts_with(b"Pass --all") || l == b"No jobs running." {
        return true;
    }
    // `LOAD   = Reflects whether ...`
    let word = l.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if word > 0 && l[word..].trim_ascii_start().starts_with(b"=") {
        return true;
    }
    // `161 loaded units listed.`, `24 sockets listed.`, `4 jobs listed.`
    let digits = l.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && l.get(digits) == Some(&b' ') && memchr::memmem::find(l, b" listed").is_some()
}

/// A JSON array of objects (`--output=json`), not a table row starting with `[::]:22`.
fn is_json(data: &[u8]) -> bool {
    match data.trim_ascii_start().strip_prefix(b"[") {
        Some(rest) => matches!(rest.trim_ascii_start().first(), None | Some(b'{' | b']')),
        None => false,
    }
}

impl Format for SystemctlListUnits {
    fn id(&self) -> FormatId {
        FormatId::SystemctlListUnits
    }

    fn sniff(&self, head: &Head) -> u8 {
        if is_json(head.bytes) {
            return sniff_json(head.bytes);
        }
        let (mut good, mut bad, mut strict, mut sure) = (0u32, 0u32, 0u32, false);
        for line in &head.lines {
            match classify(line) {
                Kind::Blank => {}
                Kind::Header | Kind::Legend => {
                    good += 1;
                    sure = true;
                }
                Kind::Error { listing } => {
                    good += 1;
                    sure |= listing;
                }
                Kind::Row { .. } => {
                    good += 1;
                    strict += 1;
                }
                Kind::LooseRow => good += 1,
                Kind::Other => bad += 1,
            }
        }
        if good == 0 {
            return 0;
        }
        let share = (good * 100 / (good + bad)) as u8;
        // Without a header or legend, only rows whose columns hold systemd's words count.
        let confident = sure || strict >= 2 || (strict == 1 && good == 1);
        if confident && share >= 80 { share } else { 0 }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        if is_json(data) {
            parse_json_records(data, out);
            return;
        }
        parse_lines(data, out, |line, _| match classify(line) {
            Kind::Blank | Kind::Legend => Line::Continue,
            Kind::Header | Kind::LooseRow | Kind::Row { failed: false } => {
                Line::start(UNTIMED, Severity::Info)
            }
            Kind::Row { failed: true } | Kind::Error { .. } => {
                Line::start(UNTIMED, Severity::Error)
            }
            Kind::Other => Line::Unparsed,
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "  UNIT                      LOAD   ACTIVE SUB     DESCRIPTION\n\
             \x20 gunicorn.socket           loaded active running gunicorn socket\n\
             \x20 gunicorn.service          loaded active running gunicorn daemon for the shop app\n\
             ● nginx.service             loaded failed failed  A high performance web server and a reverse proxy server\n\
             \x20 ssh.service               loaded active running OpenBSD Secure Shell server\n\
             \n\
             LOAD   = Reflects whether the unit definition was properly loaded.\n\
             ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n\
             SUB    = The low-level unit activation state, values depend on unit type.\n\
             \n\
             4 loaded units listed.\n",
            "cron.service      loaded active running Regular background program processing daemon\n\
             * gunicorn.service loaded failed failed gunicorn daemon\n\
             nginx.service     loaded active running nginx web server\n",
            "[{\"unit\":\"gunicorn.service\",\"load\":\"loaded\",\"active\":\"failed\",\"sub\":\"failed\",\"description\":\"gunicorn daemon\"},\
             {\"unit\":\"nginx.service\",\"load\":\"loaded\",\"active\":\"active\",\"sub\":\"running\",\"description\":\"nginx\"}]\n",
            "LISTEN                UNIT            ACTIVATES\n\
             /run/gunicorn.sock    gunicorn.socket gunicorn.service\n\
             [::]:22               ssh.socket      ssh.service\n\
             \n\
             2 sockets listed.\n",
            "UNIT FILE         STATE   VENDOR PRESET\n\
             gunicorn.service  enabled enabled\n\
             nginx.service     enabled enabled\n\
             \n\
             2 unit files listed.\n",
            "Failed to list unit files: Connection timed out\n",
        ]
    }

    fn text_from(&self) -> super::TextFrom {
        super::TextFrom::Composed
    }

    fn render(&self, raw: &[u8]) -> Option<String> {
        let body = json_element_body(raw)?;
        let mut array = Vec::with_capacity(body.len() + 2);
        array.push(b'[');
        array.extend_from_slice(body);
        array.push(b']');
        let objs: Vec<serde_json::Map<String, Value>> = serde_json::from_slice(&array).ok()?;
        let rows: Vec<String> = objs.iter().map(json_row).collect();
        Some(rows.join("\n"))
    }
}

/// One JSON element as a table row: systemctl's column order first, then anything else.
fn json_row(obj: &serde_json::Map<String, Value>) -> String {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut cols: Vec<String> = JSON_COLUMNS
        .iter()
        .filter_map(|k| obj.get(*k).map(text))
        .collect();
    cols.extend(
        obj.iter()
            .filter(|(k, _)| !JSON_COLUMNS.contains(&k.as_str()))
            .map(|(_, v)| text(v)),
    );
    cols.join("  ")
}

/// Keys of systemctl's JSON listings in the order its tables print them.
const JSON_COLUMNS: &[&str] = &[
    "unit",
    "unit_file",
    "listen",
    "load",
    "active",
    "sub",
    "state",
    "preset",
    "activates",
    "description",
];

/// A JSON array of objects that name units: `list-units`, `list-unit-files`, `list-sockets`...
fn sniff_json(bytes: &[u8]) -> u8 {
    let Some((start, end)) = json_elements(bytes).into_iter().next() else {
        return 0;
    };
    match serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes[start..end]) {
        Ok(obj) => {
            let unit = obj.contains_key("unit");
            let named = (unit && (obj.contains_key("load") || obj.contains_key("activates")))
                || obj.contains_key("unit_file");
            if named { 100 } else { 0 }
        }
        Err(_) => 0,
    }
}

/// Byte spans of the top-level elements of the JSON array in `data` (a truncated last element
/// runs to the end). One pass; strings and escapes are skipped so braces in text do not count.
fn json_elements(data: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let Some(open) = data.iter().position(|b| *b == b'[') else {
        return spans;
    };
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let mut start = None;
    for (i, &b) in data.iter().enumerate().skip(open + 1) {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                start.get_or_insert(i);
            }
            b'{' | b'[' => {
                start.get_or_insert(i);
                depth += 1;
            }
            b'}' | b']' if depth > 0 => depth -= 1,
            b']' => {
                if let Some(s) = start.take() {
                    spans.push((s, i));
                }
                return spans;
            }
            b',' if depth == 0 => {
                if let Some(s) = start.take() {
                    spans.push((s, i));
                }
            }
            _ if b.is_ascii_whitespace() => {}
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        spans.push((s, data.len()));
    }
    spans
}

/// The objects of one record: without the `[`, `,` and `]` around them.
fn json_element_body(raw: &[u8]) -> Option<&[u8]> {
    let t = raw.trim_ascii();
    let t = t.strip_prefix(b"[").unwrap_or(t).trim_ascii_start();
    let t = t.strip_prefix(b",").unwrap_or(t).trim_ascii();
    let t = t.strip_suffix(b"]").unwrap_or(t).trim_ascii_end();
    let t = t.strip_suffix(b",").unwrap_or(t).trim_ascii_end();
    t.starts_with(b"{").then_some(t)
}

/// One record per line on which array elements start (the first also holds the `[`): one
/// per unit in `json-pretty`, one for the whole array in single-line `json`.
fn parse_json_records(data: &[u8], out: &mut SourceBuilder) {
    let spans = json_elements(data);
    let mut next = spans.iter().peekable();
    let (mut pos, mut line_no, mut before_first) = (0usize, 0usize, 0usize);
    while pos < data.len() {
        line_no += 1;
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let mut first_start = None;
        let mut sev = Severity::Info;
        while let Some(&(s, e)) = next.next_if(|(s, _)| *s < end) {
            first_start.get_or_insert(s);
            if element_failed(&data[s..e]) {
                sev = Severity::Error;
            }
        }
        match first_start {
            Some(_) if out.is_empty() => {
                out.push(0, 1, UNTIMED, sev, 0);
                for _ in 0..before_first {
                    out.continue_last(0, 1, false);
                }
            }
            Some(s) => out.push(s, line_no, UNTIMED, sev, 0),
            None if out.is_empty() => before_first += 1,
            None => out.continue_last(pos, line_no, false),
        }
        pos = end + 1;
    }
    if out.is_empty() && before_first > 0 {
        out.push(0, 1, UNTIMED, Severity::Info, 0);
        for _ in 1..before_first {
            out.continue_last(0, 1, false);
        }
    }
}

fn element_failed(elem: &[u8]) -> bool {
    serde_json::from_slice::<Value>(elem).is_ok_and(|v| {
        v.get("active").and_then(Value::as_str) == Some("failed")
            || v.get("sub").and_then(Value::as_str) == Some("failed")
    })
}

/// Rows of `systemctl list-units` (plain table, `--no-legend`, or `--output=json`). Rows of
/// the other listings, headers and legends are skipped.
pub fn parse_units(text: &str) -> Vec<UnitRow> {
    if is_json(text.as_bytes()) {
        return json_elements(text.as_bytes())
            .into_iter()
            .filter_map(|(s, e)| {
                let v: Value = serde_json::from_str(text.get(s..e)?).ok()?;
                let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
                Some(UnitRow {
                    unit: field("unit")?,
                    load: field("load")?,
                    active: field("active")?,
                    sub: field("sub").unwrap_or_default(),
                    description: field("description").unwrap_or_default(),
                })
            })
            .collect();
    }
    text.lines()
        .filter_map(|line| {
            let line = std::str::from_utf8(trim_cr(line.as_bytes())).ok()?;
            table_row(line)
        })
        .collect()
}

/// `[●] UNIT LOAD ACTIVE SUB DESCRIPTION...` as a row, if the columns hold their words.
fn table_row(line: &str) -> Option<UnitRow> {
    let Kind::Row { .. } = classify(line.as_bytes()) else {
        return None;
    };
    let (body, _) = strip_bullet(line.as_bytes());
    let body = std::str::from_utf8(body).ok()?;
    let mut rest = body;
    let mut cols = [""; 4];
    for c in &mut cols {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        *c = &rest[..end];
        rest = &rest[end..];
    }
    // `list-unit-files` rows also classify as rows; only list-units has all three states.
    if !LOAD_STATES.contains(&cols[1].as_bytes()) || !ACTIVE_STATES.contains(&cols[2].as_bytes()) {
        return None;
    }
    Some(UnitRow {
        unit: cols[0].to_string(),
        load: cols[1].to_string(),
        active: cols[2].to_string(),
        sub: cols[3].to_string(),
        description: rest.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn table_rows_with_bullets_and_legend() {
        let rows = parse_units(SystemctlListUnits.samples()[0]);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2].unit, "nginx.service");
        assert!(rows[2].is_failed());
        assert_eq!(
            rows[2].description,
            "A high performance web server and a reverse proxy server"
        );
        let b = parse_str(
            &SystemctlListUnits,
            SystemctlListUnits.samples()[0],
            &ParseCtx::default(),
        );
        assert_eq!(b.stats.records, 5);
        assert_eq!(b.sev[3], Severity::Error);
        assert_eq!(b.stats.unparsed, 0);
    }

    #[test]
    fn single_line_json_is_one_record_rendered_as_rows() {
        let text = SystemctlListUnits.samples()[2];
        let rows = parse_units(text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].sub, "failed");
        let b = parse_str(&SystemctlListUnits, text, &ParseCtx::default());
        assert_eq!(b.stats.records, 1);
        assert_eq!(b.sev, vec![Severity::Error]);
        assert_eq!(
            SystemctlListUnits.render(text.as_bytes()).as_deref(),
            Some(
                "gunicorn.service  loaded  failed  failed  gunicorn daemon\nnginx.service  loaded  active  running  nginx"
            )
        );
    }

    #[test]
    fn pretty_json_gives_one_record_per_unit() {
        let text = "[\n  {\n    \"unit\" : \"a.service\",\n    \"load\" : \"loaded\",\n    \"active\" : \"active\",\n    \"sub\" : \"running\",\n    \"description\" : \"A, [b]\"\n  },\n  {\n    \"unit\" : \"b.service\", \"load\" : \"loaded\", \"active\" : \"inactive\", \"sub\" : \"dead\"\n  }\n]\n";
        let b = parse_str(&SystemctlListUnits, text, &ParseCtx::default());
        assert_eq!(b.stats.records, 2);
        assert_eq!(b.lines, vec![1, 9]);
        assert_eq!(b.stats.continuations, 10);
        let second = &text.as_bytes()[b.starts[1] as usize..];
        assert_eq!(
            SystemctlListUnits.render(second).as_deref(),
            Some("b.service  loaded  inactive  dead")
        );
        assert_eq!(parse_units(text)[0].description, "A, [b]");
        assert_eq!(parse_units(text)[1].active, "inactive");
    }

    #[test]
    fn other_listings_and_errors_are_recognised() {
        for sample in &SystemctlListUnits.samples()[3..] {
            assert_eq!(
                SystemctlListUnits.sniff(&Head::new("x", sample.as_bytes())),
                100
            );
        }
        assert!(parse_units(SystemctlListUnits.samples()[3]).is_empty());
        assert!(parse_units("x.service masked\ny.service enabled enabled\n").is_empty());
    }

    #[test]
    fn log_lines_are_not_unit_tables() {
        let log = "Apr 13 11:24:04 web1 systemd[1]: Started nginx.service - nginx.\n\
                   Apr 13 11:24:05 web1 systemd[1]: gunicorn.service: Failed with result 'exit-code'.\n";
        assert_eq!(SystemctlListUnits.sniff(&Head::new("x", log.as_bytes())), 0);
        let json = "[{\"a\":1}]";
        assert_eq!(
            SystemctlListUnits.sniff(&Head::new("x", json.as_bytes())),
            0
        );
    }

    #[test]
    fn truncated_json_does_not_panic() {
        for text in ["[", "[{\"unit\":\"a", "[{]]]]", "[\"\\", "]["] {
            let _ = parse_units(text);
            let b = parse_str(&SystemctlListUnits, text, &ParseCtx::default());
            assert!(b.stats.records >= 1);
        }
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("  nginx.service loaded failed failed x\n".to_string()), Just("UNIT LOAD ACTIVE SUB DESCRIPTION\n".to_string()),
            Just("[{\"unit\":\"a.service\",\"load\":\"".to_string()), Just("},{".to_string()), Just("]".to_string()), Just("LOAD   = x\n".to_string()),
            Just("● ".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let _ = parse_units(&text);
            let b = parse_str(&SystemctlListUnits, &text, &ParseCtx::default());
            prop_assert!(b.starts.windows(2).all(|w| w[0] < w[1]));
            let _ = SystemctlListUnits.render(text.as_bytes());
        }
    }
}
