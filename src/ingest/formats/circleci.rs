//! CircleCI API v2 JSON as saved from `curl`: a pipeline (`/pipeline/{id}`), a workflow
//! (`/workflow/{id}`), a page of a workflow's jobs (`/workflow/{id}/job`:
//! `{"items": [...], "next_page_token": ...}`) or of a pipeline's workflows, compact or
//! pretty-printed.
//!
//! Records: one per job, workflow or pipeline object, from the line the object starts on (a
//! page's opening lines go with its first element). A record's time is `stopped_at`, else
//! `started_at`, else `created_at` (UTC); a job that never started (`blocked`, `not_run`) has
//! none and takes the time of the record before it. An object that does not parse (a cut
//! file) is kept as an unparsed record.

use serde::Serialize;
use serde_json::Value;

use super::{Format, Head, ParseCtx, field};
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::{MAX_DISPLAY_LINE, SourceBuilder, flag};
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

pub struct CircleCi;

/// One job of a workflow's job list (or a single job object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub name: String,
    /// `job_number`: absent for jobs that never ran and for approval jobs.
    pub number: Option<u64>,
    pub status: String,
    pub started_at: Option<Micros>,
    pub stopped_at: Option<Micros>,
}

impl Job {
    /// The job ran and did not succeed (`failed`, `infrastructure_fail`, `timedout`...).
    pub fn failed(&self) -> bool {
        severity_of_status(&self.status) == Severity::Error
    }
}

/// One workflow object (or an element of a pipeline's workflow list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workflow {
    pub name: String,
    pub status: String,
    pub pipeline_number: Option<u64>,
    pub created_at: Option<Micros>,
    pub stopped_at: Option<Micros>,
}

impl Workflow {
    /// `failed`, `error`, `failing`.
    pub fn failed(&self) -> bool {
        severity_of_status(&self.status) == Severity::Error
    }
}

/// What a JSON object of the CircleCI API is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Job,
    Workflow,
    Pipeline,
    Other,
}

fn kind_of(o: &serde_json::Map<String, Value>) -> Kind {
    let has = |k: &str| o.contains_key(k);
    if has("job_number") {
        Kind::Job
    } else if has("pipeline_id") || has("pipeline_number") {
        Kind::Workflow
    } else if has("state") && has("number") {
        Kind::Pipeline
    } else if has("status") && has("name") && (has("started_at") || has("number")) {
        Kind::Job
    } else {
        Kind::Other
    }
}

/// Job and workflow `status`, pipeline `state`.
fn severity_of_status(status: &str) -> Severity {
    match status {
        "failed" | "error" | "errored" | "infrastructure_fail" | "timedout" | "failing" => {
            Severity::Error
        }
        "terminated-unknown" => Severity::Warn,
        "canceled" | "blocked" | "not_run" | "on_hold" | "unauthorized" | "retried"
        | "not_running" => Severity::Notice,
        _ => Severity::Info,
    }
}

/// An API time (`2022-07-18T13:29:55.712Z`): UTC micros, and whether it had no zone.
fn parse_time(s: &str) -> Option<(Micros, bool)> {
    let (t, off, used) = timestamp::iso(s.as_bytes())?;
    (used == s.len()).then_some((t, off.is_none()))
}

fn time_of(o: &serde_json::Map<String, Value>, key: &str) -> Option<Micros> {
    o.get(key)
        .and_then(Value::as_str)
        .and_then(parse_time)
        .map(|(t, _)| t)
}

fn str_of<'a>(o: &'a serde_json::Map<String, Value>, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

fn status_of(o: &serde_json::Map<String, Value>) -> &str {
    match o.get("status").and_then(Value::as_str) {
        Some(s) => s,
        None => str_of(o, "state"),
    }
}

fn number_of(o: &serde_json::Map<String, Value>) -> Option<u64> {
    ["job_number", "number", "pipeline_number"]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_u64))
}

/// Byte offsets where record objects start: every top-level object, except that a list page
/// (`{"items": [...]}`) with elements gives its elements instead; elements of a top-level
/// array likewise. One pass with a depth counter; strings and escapes are skipped so braces
/// in text do not count; stray closers are ignored.
fn record_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    // Start of the last string at depth 1 (a key, when followed by `:`).
    let mut key_start = None;
    let mut last_key_is_items = false;
    // Inside the array holding the records: a page's `items` or a top-level array.
    let mut in_records_array = false;
    let mut top_array = false;
    let mut page_start: Option<usize> = None;
    for (i, &b) in data.iter().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => {
                    in_str = false;
                    if let Some(s) = key_start.take() {
                        last_key_is_items = data.get(s + 1..i) == Some(b"items".as_slice());
                    }
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                if depth == 1 {
                    key_start = Some(i);
                }
            }
            b'{' => {
                if depth == 0 {
                    starts.push(i);
                    page_start = Some(i);
                } else if (depth == 1 && top_array) || (depth == 2 && in_records_array) {
                    // The page's own start goes: its opening lines join the first element.
                    if let Some(p) = page_start.take()
                        && starts.last() == Some(&p)
                    {
                        starts.pop();
                    }
                    starts.push(i);
                }
                depth += 1;
            }
            b'[' => {
                if depth == 0 {
                    top_array = true;
                } else if depth == 1 && !top_array {
                    in_records_array = last_key_is_items;
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth <= 1 {
                    in_records_array = false;
                }
                if depth == 0 {
                    top_array = false;
                    page_start = None;
                }
            }
            _ => {}
        }
    }
    starts
}

/// The first JSON value at `at`, parsed on its own (what follows it is not read).
fn object_at(data: &[u8], at: usize) -> Option<serde_json::Map<String, Value>> {
    let rest = data.get(at..)?;
    match serde_json::Deserializer::from_slice(rest)
        .into_iter::<Value>()
        .next()
    {
        Some(Ok(Value::Object(o))) => Some(o),
        _ => None,
    }
}

/// The record objects in `data`: pages expanded into their items.
fn objects(data: &[u8]) -> Vec<serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    for s in record_starts(data) {
        match object_at(data, s) {
            Some(mut o) => match o.remove("items") {
                Some(Value::Array(items)) if !items.is_empty() => {
                    out.extend(items.into_iter().filter_map(|v| match v {
                        Value::Object(o) => Some(o),
                        _ => None,
                    }))
                }
                Some(other) => {
                    o.insert("items".to_string(), other);
                    out.push(o);
                }
                None => out.push(o),
            },
            None => continue,
        }
    }
    out
}

/// What the objects starting on one line make of its record.
struct Found {
    /// Time, and whether it was read without a zone.
    ts: Option<(Micros, bool)>,
    sev: Severity,
    /// Every object parsed.
    ok: bool,
}

/// Time (and whether it had no zone) and severity of one record object.
fn record_info(o: &serde_json::Map<String, Value>) -> (Option<(Micros, bool)>, Severity) {
    let ts = ["stopped_at", "started_at", "created_at"]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str).and_then(parse_time));
    let sev = if o.get("items").is_some() {
        Severity::Info
    } else {
        severity_of_status(status_of(o))
    };
    (ts, sev)
}

/// `13:36:33`: the UTC time of day of an instant.
fn clock(t: Micros) -> String {
    format_utc(t).get(11..19).unwrap_or("").to_string()
}

/// `2m08s`, `45s`, `1h02m`.
fn duration(us: Micros) -> String {
    let s = us.max(0) / MICROS_PER_SEC;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// One line for people about one object.
fn describe(o: &serde_json::Map<String, Value>) -> Option<String> {
    match kind_of(o) {
        Kind::Job => {
            let mut s = format!("CircleCI job {}", str_of(o, "name"));
            if let Some(n) = number_of(o) {
                s.push_str(&format!(" #{n}"));
            }
            s.push(' ');
            s.push_str(status_of(o));
            match (time_of(o, "started_at"), time_of(o, "stopped_at")) {
                (Some(a), Some(b)) => {
                    s.push_str(&format!(" (started {}, {})", clock(a), duration(b - a)))
                }
                (Some(a), None) => s.push_str(&format!(" (started {})", clock(a))),
                (None, _) => s.push_str(" (not started)"),
            }
            Some(s)
        }
        Kind::Workflow => {
            let mut s = format!("CircleCI workflow {}", str_of(o, "name"));
            if let Some(n) = o.get("pipeline_number").and_then(Value::as_u64) {
                s.push_str(&format!(" of pipeline {n}"));
            }
            s.push(' ');
            s.push_str(status_of(o));
            Some(s)
        }
        Kind::Pipeline => {
            let mut s = String::from("CircleCI pipeline");
            if let Some(n) = number_of(o) {
                s.push_str(&format!(" {n}"));
            }
            s.push(' ');
            s.push_str(status_of(o));
            let vcs = o.get("vcs");
            let at = |k: &str| vcs.and_then(|v| v.get(k)).and_then(Value::as_str);
            if let Some(branch) = at("branch") {
                s.push_str(&format!(" on {branch}"));
            } else if let Some(tag) = at("tag") {
                s.push_str(&format!(" at tag {tag}"));
            }
            let subject = vcs
                .and_then(|v| v.get("commit"))
                .and_then(|c| c.get("subject"))
                .and_then(Value::as_str);
            if let Some(subject) = subject {
                s.push_str(": ");
                s.push_str(subject);
            }
            Some(s)
        }
        Kind::Other if o.contains_key("items") => Some(String::from("CircleCI: empty list")),
        Kind::Other => None,
    }
}

impl Format for CircleCi {
    fn id(&self) -> FormatId {
        FormatId::CircleCi
    }

    fn sniff(&self, head: &Head) -> u8 {
        let b = head.bytes.trim_ascii_start();
        if !matches!(b.first(), Some(b'{' | b'[')) {
            return 0;
        }
        let first = &b[..b.len().min(8192)];
        let has = |k: &[u8]| memchr::memmem::find(first, k).is_some();
        let status = has(b"\"status\"") || has(b"\"state\"");
        if has(b"\"project_slug\"") && status {
            95
        } else if status && (has(b"\"job_number\"") || has(b"\"pipeline_id\"")) {
            90
        } else if has(b"\"next_page_token\"") && has(b"\"items\"") && has(b"\"stopped_at\"") {
            80
        } else {
            0
        }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let starts = record_starts(data);
        let mut next = starts.iter().copied().peekable();
        let (mut pos, mut line_no, mut before_first) = (0usize, 0usize, 0usize);
        while pos < data.len() {
            line_no += 1;
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            crate::ingest::reclaim::progress(pos);
            let long = end - pos > MAX_DISPLAY_LINE;
            // Objects starting on this line: the line starts one record for all of them.
            let mut first: Option<Found> = None;
            while let Some(s) = next.next_if(|s| *s < end) {
                let found = match object_at(data, s) {
                    Some(o) => {
                        let (ts, sev) = record_info(&o);
                        Found { ts, sev, ok: true }
                    }
                    None => Found {
                        ts: None,
                        sev: Severity::Info,
                        ok: false,
                    },
                };
                first = Some(match first {
                    None => found,
                    Some(f) => Found {
                        ts: f.ts.or(found.ts),
                        sev: f.sev.min(found.sev),
                        ok: f.ok && found.ok,
                    },
                });
            }
            match first {
                Some(Found { ts, sev, ok }) => {
                    let (t, mut f) = match ts {
                        Some((t, true)) => (t, flag::ZONELESS),
                        Some((t, false)) => (t, 0),
                        None => match out.ts.last() {
                            Some(t) if *t != UNTIMED => (*t, flag::TIME_INHERITED),
                            _ => (UNTIMED, 0),
                        },
                    };
                    if !ok {
                        f |= flag::UNPARSED;
                    }
                    if long {
                        f |= flag::LONG_LINE;
                    }
                    // A page's opening lines start the first record.
                    let (at, at_line) = if out.is_empty() {
                        (0, line_no - before_first)
                    } else {
                        (pos, line_no)
                    };
                    out.push(at, at_line, t, sev, f);
                    out.stats.continuations += if at_line < line_no { before_first } else { 0 };
                }
                None if out.is_empty() => before_first += 1,
                None => out.continue_last(pos, line_no, long),
            }
            pos = end + 1;
        }
        if out.is_empty() && before_first > 0 {
            // No object at all: keep the text, flagged.
            out.push(0, 1, UNTIMED, Severity::Info, flag::UNPARSED);
            out.stats.continuations += before_first - 1;
        }
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            concat!(
                "{\n  \"next_page_token\": null,\n  \"items\": [\n",
                "    {\n      \"dependencies\": [],\n      \"job_number\": 5512,\n      \"id\": \"0af61f12-1ca6-4531-8a35-7e5dc4118315\",\n",
                "      \"started_at\": \"2022-07-18T13:30:02Z\",\n      \"name\": \"secrets-check\",\n",
                "      \"project_slug\": \"gh/acme/shop\",\n      \"status\": \"success\",\n      \"type\": \"build\",\n",
                "      \"stopped_at\": \"2022-07-18T13:30:41Z\"\n    },\n",
                "    {\n      \"dependencies\": [\"0af61f12-1ca6-4531-8a35-7e5dc4118315\"],\n      \"job_number\": 5516,\n",
                "      \"started_at\": \"2022-07-18T13:36:33Z\",\n      \"name\": \"deploy-dev\",\n      \"status\": \"failed\",\n",
                "      \"stopped_at\": \"2022-07-18T13:38:41Z\"\n    },\n",
                "    {\n      \"started_at\": null,\n      \"name\": \"deploy-staging\",\n      \"status\": \"blocked\",\n",
                "      \"type\": \"build\",\n      \"stopped_at\": null\n    }\n  ]\n}\n",
            ),
            r#"{"pipeline_id":"2174d3e5-8859-4f36-9d2d-6072607fcd6d","id":"de021f85-0d94-4afc-bd0e-885c2073f6c7","name":"build-test-deploy","project_slug":"gh/acme/shop","status":"failed","pipeline_number":1187,"created_at":"2022-07-18T13:29:56Z","stopped_at":"2022-07-18T13:38:41Z"}"#,
            concat!(
                "{\n  \"id\": \"2174d3e5-8859-4f36-9d2d-6072607fcd6d\",\n  \"errors\": [],\n",
                "  \"project_slug\": \"gh/acme/shop\",\n  \"number\": 1187,\n  \"state\": \"created\",\n",
                "  \"created_at\": \"2022-07-18T13:29:55.712Z\",\n",
                "  \"trigger\": {\"type\": \"webhook\", \"received_at\": \"2022-07-18T13:29:55.401Z\"},\n",
                "  \"vcs\": {\"branch\": \"main\", \"commit\": {\"subject\": \"Bump scanner to 1.4 {#412}\"}}\n}\n",
            ),
            concat!(
                r#"{"next_page_token":null,"items":[{"pipeline_id":"2174d3e5-8859-4f36-9d2d-6072607fcd6d","id":"de021f85-0d94-4afc-bd0e-885c2073f6c7","name":"build-test-deploy","project_slug":"gh/acme/shop","status":"success","pipeline_number":1186,"created_at":"2022-07-17T10:00:00Z","stopped_at":"2022-07-17T10:09:00Z"},"#,
                r#"{"pipeline_id":"2174d3e5-8859-4f36-9d2d-6072607fcd6d","id":"9a021f85-0d94-4afc-bd0e-885c2073f6c7","name":"nightly","project_slug":"gh/acme/shop","status":"on_hold","pipeline_number":1186,"created_at":"2022-07-17T10:00:01.5Z","stopped_at":null}]}"#,
                "\n",
            ),
        ]
    }

    /// One line per object of the record, e.g. `CircleCI job deploy-dev #5516 failed
    /// (started 13:36:33, 2m08s)`.
    fn text_from(&self) -> super::TextFrom {
        super::TextFrom::Composed
    }

    fn render(&self, raw: &[u8]) -> Option<String> {
        let lines: Vec<String> = objects(raw).iter().filter_map(describe).collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// kind, name, status, number, started, stopped (and branch, subject of a pipeline).
    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let Some(o) = objects(raw).into_iter().next() else {
            return Vec::new();
        };
        let kind = match kind_of(&o) {
            Kind::Job => "job",
            Kind::Workflow => "workflow",
            Kind::Pipeline => "pipeline",
            Kind::Other => "other",
        };
        let mut v = vec![field("kind", kind.as_bytes())];
        if let Some(name) = o.get("name").and_then(Value::as_str) {
            v.push(field("name", name.as_bytes()));
        }
        v.push(field("status", status_of(&o).as_bytes()));
        if let Some(n) = number_of(&o) {
            v.push(field("number", n.to_string().as_bytes()));
        }
        let started = time_of(&o, "started_at").or_else(|| time_of(&o, "created_at"));
        for (name, t) in [("started", started), ("stopped", time_of(&o, "stopped_at"))] {
            if let Some(t) = t {
                v.push(field(name, format_utc(t).as_bytes()));
            }
        }
        if let Some(vcs) = o.get("vcs") {
            if let Some(b) = vcs.get("branch").and_then(Value::as_str) {
                v.push(field("branch", b.as_bytes()));
            }
            let subject = vcs.get("commit").and_then(|c| c.get("subject"));
            if let Some(s) = subject.and_then(Value::as_str) {
                v.push(field("subject", s.as_bytes()));
            }
        }
        v
    }
}

/// The jobs of a job list page (`{"items": [...]}`) or a single job object; empty for
/// anything else. Elements of a cut page that did parse are kept.
pub fn parse_jobs(text: &str) -> Vec<Job> {
    objects(text.as_bytes())
        .iter()
        .filter(|o| kind_of(o) == Kind::Job)
        .map(|o| Job {
            name: str_of(o, "name").to_string(),
            number: number_of(o),
            status: status_of(o).to_string(),
            started_at: time_of(o, "started_at"),
            stopped_at: time_of(o, "stopped_at"),
        })
        .collect()
}

/// The workflows of a workflow list page or a single workflow object; empty for anything else.
pub fn parse_workflows(text: &str) -> Vec<Workflow> {
    objects(text.as_bytes())
        .iter()
        .filter(|o| kind_of(o) == Kind::Workflow)
        .map(|o| Workflow {
            name: str_of(o, "name").to_string(),
            status: status_of(o).to_string(),
            pipeline_number: o.get("pipeline_number").and_then(Value::as_u64),
            created_at: time_of(o, "created_at"),
            stopped_at: time_of(o, "stopped_at"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::ingest::sniff::sniff;
    use crate::model::time::parse_instant;
    use proptest::prelude::*;

    const JOBS: &str = include_str!("../../../tests/bundles/i6-pipeline-platform/ci/jobs.json");
    const PIPELINE: &str =
        include_str!("../../../tests/bundles/i6-pipeline-platform/ci/pipeline.json");
    const WORKFLOW: &str =
        include_str!("../../../tests/bundles/i6-pipeline-platform/ci/workflow.json");

    fn t(s: &str) -> Micros {
        parse_instant(s).unwrap()
    }

    fn record(text: &str, b: &SourceBuilder, row: usize) -> String {
        let start = b.starts[row] as usize;
        let end = b.starts.get(row + 1).map_or(text.len(), |e| *e as usize);
        CircleCi.render(&text.as_bytes()[start..end]).unwrap()
    }

    #[test]
    fn i6_files_are_sniffed_as_circleci() {
        for (name, text) in [
            ("jobs.json", JOBS),
            ("pipeline.json", PIPELINE),
            ("workflow.json", WORKFLOW),
        ] {
            assert_eq!(sniff(name, text.as_bytes()), FormatId::CircleCi, "{name}");
        }
    }

    #[test]
    fn i6_jobs_page_is_one_record_per_job() {
        let b = parse_str(&CircleCi, JOBS, &ParseCtx::default());
        assert_eq!(b.stats.records, 6);
        assert_eq!(b.stats.unparsed, 0);
        assert_eq!(
            b.stats.records + b.stats.continuations,
            JOBS.lines().count()
        );
        assert_eq!(b.starts[0], 0);
        assert_eq!(b.lines, vec![1, 15, 28, 41, 55, 68]);
        assert_eq!(b.ts[0], t("2022-07-18T13:30:41Z"));
        assert_eq!(b.ts[4], t("2022-07-18T13:38:41Z"));
        assert_eq!(b.sev[4], Severity::Error);
        // deploy-staging never started: kept, at the time before it, flagged as inherited.
        assert_eq!(b.sev[5], Severity::Notice);
        assert_eq!(b.ts[5], b.ts[4]);
        assert_eq!(b.flags[5], flag::TIME_INHERITED);
        assert_eq!(
            record(JOBS, &b, 0),
            "CircleCI job secrets-check #5512 success (started 13:30:02, 39s)"
        );
        assert_eq!(
            record(JOBS, &b, 4),
            "CircleCI job deploy-dev #5516 failed (started 13:36:33, 2m08s)"
        );
        assert_eq!(
            record(JOBS, &b, 5),
            "CircleCI job deploy-staging blocked (not started)"
        );
        let raw = &JOBS.as_bytes()[b.starts[4] as usize..b.starts[5] as usize];
        let f = CircleCi.fields(raw, &ParseCtx::default());
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("name"), Some("deploy-dev"));
        assert_eq!(get("status"), Some("failed"));
        assert_eq!(get("number"), Some("5516"));
        assert_eq!(get("started"), Some("2022-07-18T13:36:33.000000Z"));
        assert_eq!(get("stopped"), Some("2022-07-18T13:38:41.000000Z"));
    }

    #[test]
    fn i6_jobs_structure() {
        let jobs = parse_jobs(JOBS);
        let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "secrets-check",
                "test-backend",
                "test-frontend",
                "deploy-infrastructure-dev",
                "deploy-dev",
                "deploy-staging"
            ]
        );
        let failed: Vec<&str> = jobs
            .iter()
            .filter(|j| j.failed())
            .map(|j| j.name.as_str())
            .collect();
        assert_eq!(failed, ["deploy-dev"]);
        assert_eq!(jobs[4].number, Some(5516));
        assert_eq!(jobs[4].stopped_at, Some(t("2022-07-18T13:38:41Z")));
        assert_eq!(jobs[5].number, None);
        assert_eq!(jobs[5].status, "blocked");
        assert_eq!(jobs[5].started_at, None);
        assert!(!jobs[5].failed());
        // A single job object is a list of one; other shapes give nothing.
        let one = &JOBS[JOBS.find("    {").unwrap()..JOBS.find("    },").unwrap() + 5];
        assert_eq!(parse_jobs(one).len(), 1);
        assert!(parse_jobs(WORKFLOW).is_empty());
        assert!(parse_jobs(PIPELINE).is_empty());
        assert!(parse_jobs("[1, 2]").is_empty());
        assert!(parse_jobs("not json").is_empty());
    }

    #[test]
    fn i6_workflow_and_pipeline() {
        let b = parse_str(&CircleCi, WORKFLOW, &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (1, 10));
        assert_eq!(b.ts[0], t("2022-07-18T13:38:41Z"));
        assert_eq!(b.sev[0], Severity::Error);
        assert_eq!(
            CircleCi.render(WORKFLOW.as_bytes()).as_deref(),
            Some("CircleCI workflow build-test-deploy of pipeline 1187 failed")
        );
        let w = parse_workflows(WORKFLOW);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].name, "build-test-deploy");
        assert_eq!(w[0].pipeline_number, Some(1187));
        assert_eq!(w[0].created_at, Some(t("2022-07-18T13:29:56Z")));
        assert!(w[0].failed());
        assert!(parse_workflows(JOBS).is_empty());

        let b = parse_str(&CircleCi, PIPELINE, &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.unparsed), (1, 0));
        assert_eq!(b.stats.continuations, PIPELINE.lines().count() - 1);
        assert_eq!(b.ts[0], t("2022-07-18T13:29:55.712Z"));
        assert_eq!(b.sev[0], Severity::Info);
        assert_eq!(
            CircleCi.render(PIPELINE.as_bytes()).as_deref(),
            Some("CircleCI pipeline 1187 created on main: Bump clamav-rest scanner to 1.4 (#412)")
        );
    }

    #[test]
    fn a_workflow_list_page_gives_one_record_per_workflow() {
        let text = CircleCi.samples()[3];
        let b = parse_str(&CircleCi, text, &ParseCtx::default());
        // Both on one line: one record, rendered as two lines.
        assert_eq!(b.stats.records, 1);
        assert_eq!(b.sev[0], Severity::Notice);
        assert_eq!(
            CircleCi.render(text.as_bytes()).as_deref(),
            Some(
                "CircleCI workflow build-test-deploy of pipeline 1186 success\nCircleCI workflow nightly of pipeline 1186 on_hold"
            )
        );
        let w = parse_workflows(text);
        assert_eq!(w[1].created_at, Some(t("2022-07-17T10:00:01.5Z")));
        assert_eq!(w[1].stopped_at, None);
    }

    #[test]
    fn cut_and_garbled_input_keeps_every_line() {
        let cut = &JOBS[..JOBS.find("deploy-dev").unwrap()];
        let b = parse_str(&CircleCi, cut, &ParseCtx::default());
        assert_eq!(b.stats.records + b.stats.continuations, cut.lines().count());
        assert_eq!(b.stats.records, 5);
        assert_eq!(b.stats.unparsed, 1);
        assert_eq!(b.flags[4] & flag::UNPARSED, flag::UNPARSED);
        assert_eq!(parse_jobs(cut).len(), 4);
        for text in [
            "{",
            "{\"items\": [",
            "}}]]{[\"",
            "{\"a\": }\n{\"b\":\n",
            "\"\\",
            "[{\"status\":\"failed\",\"name\":\"x\",\"started_at\":\"bad\"}]",
        ] {
            let b = parse_str(&CircleCi, text, &ParseCtx::default());
            assert_eq!(
                b.stats.records + b.stats.continuations,
                text.lines().count(),
                "{text:?}"
            );
            let _ = CircleCi.render(text.as_bytes());
            let _ = parse_jobs(text);
        }
    }

    #[test]
    fn an_empty_file_has_no_record() {
        let b = parse_str(&CircleCi, "", &ParseCtx::default());
        assert_eq!(b.stats.records, 0);
        assert!(parse_jobs("").is_empty());
        assert!(parse_workflows("").is_empty());
        assert_eq!(CircleCi.sniff(&Head::new("x", b"")), 0);
    }

    #[test]
    fn other_json_is_not_circleci() {
        for text in [
            r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"status"}"#,
            r#"[{"unit":"a.service","load":"loaded","active":"active"}]"#,
            r#"{"items":[{"name":"x","status":"ok"}]}"#,
        ] {
            assert_eq!(
                CircleCi.sniff(&Head::new("x", text.as_bytes())),
                0,
                "{text}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("{".to_string()), Just("}".to_string()), Just("[".to_string()), Just("]".to_string()),
            Just("\"items\":".to_string()), Just("\"status\":\"failed\",".to_string()),
            Just("\"started_at\":\"2022-07-18T13:30:02Z\",".to_string()), Just("\n".to_string()),
            Just("\"".to_string()), Just("\\".to_string()), "\\PC{0,8}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let b = parse_str(&CircleCi, &text, &ParseCtx::default());
            prop_assert!(b.starts.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(b.stats.records + b.stats.continuations, text.lines().count());
            let _ = CircleCi.render(text.as_bytes());
            let _ = parse_jobs(&text);
            let _ = parse_workflows(&text);
        }
    }
}
