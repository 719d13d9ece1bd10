//! `sitrep timeline`: the merged timeline, filtered, as text or JSON lines.

use std::io::Write;

use regex::Regex;
use serde::Serialize;

use super::{Failure, Input, OutFormat, load_input, print_notes};
use crate::analysis::query::Query;
use crate::analysis::timeline::Timeline;
use crate::model::Incident;
use crate::model::severity::Severity;
use crate::model::source::Source;
use crate::model::time::{Micros, format_utc, parse_duration, parse_instant};
use crate::text::sanitize;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Start: RFC 3339 (2023-04-13T11:20:00Z) or relative to the last record (-10m).
    #[arg(long, allow_hyphen_values = true)]
    since: Option<String>,
    /// End (exclusive), in the same forms as --since.
    #[arg(long, allow_hyphen_values = true)]
    until: Option<String>,
    /// Keep records whose text matches this regex.
    #[arg(long)]
    grep: Option<String>,
    /// Keep these sources: a format id (nginx-error) or a file path (nginx/access.log); repeatable.
    #[arg(long)]
    source: Vec<String>,
    /// Keep records at this severity or worse: emerg, alert, crit, error, warn, notice, info, debug
    /// (a trailing + is accepted: error+).
    #[arg(long)]
    severity: Option<String>,
    /// Keep records whose parsed fields match a query: `status>=500 and path~^/books`,
    /// `upstream_time>2.5`, `unit=gunicorn.service`, `level>=warn and client=10.0.0.7`
    /// (conditions NAME OP VALUE joined by `and`; OP is = != > >= < <= ~ !~).
    #[arg(long = "where", value_name = "QUERY")]
    query: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    /// Load and merge everything, print only the records per source.
    #[arg(long)]
    count: bool,
}

#[derive(Serialize)]
struct JsonRecord<'a> {
    ts: String,
    host: &'a str,
    source: &'a str,
    file: &'a str,
    line: u32,
    severity: &'a str,
    text: &'a str,
}

/// A time bound: absolute, or relative to the last record's time.
fn bound(what: &'static str, value: &str, last: Micros) -> Result<Micros, Failure> {
    if let Some(rel) = value.strip_prefix('-')
        && let Some(d) = parse_duration(rel)
    {
        return Ok(last - d);
    }
    parse_instant(value).ok_or_else(|| {
        Failure(format!(
            "{what}: cannot read {value:?}; give RFC 3339 (2023-04-13T11:20:00Z) or a span back from the last record (-10m, -1h30m)"
        ))
    })
}

fn source_selected(s: &Source, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == s.format.as_str() || *w == s.file || *w == s.group)
}

pub fn run(args: &Args, out: &mut impl Write) -> Result<(), Failure> {
    let severity = match &args.severity {
        Some(s) => Some(Severity::parse(s.trim_end_matches('+')).ok_or_else(|| {
            Failure(format!(
                "--severity: cannot read {s:?}; use one of emerg, alert, crit, error, warn, notice, info, debug"
            ))
        })?),
        None => None,
    };
    let grep = match &args.grep {
        Some(g) => Some(Regex::new(g).map_err(|e| Failure(format!("--grep: {e}")))?),
        None => None,
    };
    let query = match &args.query {
        Some(q) => Some(Query::parse(q).map_err(|e| Failure(format!("--where: {e}")))?),
        None => None,
    };
    let incident = load_input(&args.input)?;
    print_notes(&incident);
    for w in &args.source {
        if !incident
            .sources
            .iter()
            .any(|s| source_selected(s, std::slice::from_ref(w)))
        {
            return Err(Failure(format!(
                "--source: no source is {w:?}; `sitrep sources` lists the files and their formats"
            )));
        }
    }
    let last = incident
        .sources
        .iter()
        .filter_map(Source::last_time)
        .max()
        .unwrap_or(0);
    let since = args
        .since
        .as_deref()
        .map(|v| bound("--since", v, last))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|v| bound("--until", v, last))
        .transpose()?;
    let tl = build(
        &incident,
        &args.source,
        since,
        until,
        severity,
        grep.as_ref(),
        query.as_ref(),
    );
    if args.count {
        return print_counts(&incident, &tl, out);
    }
    write_records(&incident, &tl.entries, args.format, out)
}

/// Records formatted per chunk, this many to a chunk.
const CHUNK: usize = 8192;

/// Write `entries` in order, formatted in chunks on every core: each round formats as many
/// chunks as there are cores side by side, then writes them in order, so memory holds a few
/// chunks of output (and of the files' pages, handed back after each round), never the whole.
fn write_records(
    incident: &Incident,
    entries: &[crate::analysis::timeline::Entry],
    format: OutFormat,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Each source's host and file as shown, made once.
    let names: Vec<(String, String)> = incident
        .sources
        .iter()
        .map(|s| {
            (
                crate::text::name(&s.host).into_owned(),
                crate::text::name(&s.file).into_owned(),
            )
        })
        .collect();
    let names = &names;
    for round in entries.chunks(CHUNK * threads) {
        let bufs: Vec<Result<Vec<u8>, Failure>> = if threads == 1 {
            vec![format_chunk(incident, names, round, format)]
        } else {
            std::thread::scope(|scope| {
                let mut parts = round.chunks(CHUNK);
                let first = parts.next().unwrap_or_default();
                let handles: Vec<_> = parts
                    .map(|c| scope.spawn(move || format_chunk(incident, names, c, format)))
                    .collect();
                let mut bufs = vec![format_chunk(incident, names, first, format)];
                bufs.extend(
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
                );
                bufs
            })
        };
        for b in bufs {
            out.write_all(&b?)?;
        }
        incident.release_pages();
    }
    Ok(())
}

/// The output lines of `entries`.
fn format_chunk(
    incident: &Incident,
    names: &[(String, String)],
    entries: &[crate::analysis::timeline::Entry],
    format: OutFormat,
) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::with_capacity(entries.len() * 160);
    let mut clock = crate::model::time::UtcWriter::default();
    for e in entries {
        let s = &incident.sources[e.source as usize];
        let row = e.row as usize;
        let text = s.text(row);
        match format {
            OutFormat::Json => {
                let rec = JsonRecord {
                    ts: format_utc(s.ts[row]),
                    host: &s.host,
                    source: s.format.as_str(),
                    file: &s.file,
                    line: s.lines[row],
                    severity: s.sev[row].as_str(),
                    text: &text,
                };
                let line = crate::text::json_safe(serde_json::to_string(&rec)?);
                writeln!(out, "{line}")?;
            }
            OutFormat::Text => {
                let text = sanitize(&text);
                let mut lines = text.split('\n');
                let (host, file) = &names[e.source as usize];
                clock.write(&mut out, s.ts[row]);
                writeln!(
                    out,
                    " {host} {:6} {file}:{} {}",
                    s.sev[row].as_str(),
                    s.lines[row],
                    lines.next().unwrap_or_default()
                )?;
                for l in lines {
                    writeln!(out, "    | {l}")?;
                }
            }
        }
    }
    Ok(out)
}

/// Merge the selected records: time bounds by binary search per source, the rest per record
/// (a query first rules out whole sources it cannot match).
pub fn build(
    incident: &Incident,
    wanted: &[String],
    since: Option<Micros>,
    until: Option<Micros>,
    severity: Option<Severity>,
    grep: Option<&Regex>,
    query: Option<&Query>,
) -> Timeline {
    let sources = &incident.sources;
    let ranges: Vec<_> = sources
        .iter()
        .map(|s| {
            if !source_selected(s, wanted) || query.is_some_and(|q| !q.source_may_match(s)) {
                return 0..0;
            }
            let lo = since.map_or(0, |t| s.seek(t));
            let hi = until.map_or(s.timed_len(), |t| s.seek(t));
            lo..hi.max(lo)
        })
        .collect();
    Timeline::build(sources, &ranges, |i, row| {
        let s = &sources[i];
        severity.is_none_or(|floor| s.sev[row] <= floor)
            && query.is_none_or(|q| q.matches(incident, i, row))
            && grep.is_none_or(|re| re.is_match(&s.text(row)))
    })
}

fn print_counts(incident: &Incident, tl: &Timeline, out: &mut impl Write) -> Result<(), Failure> {
    let counts = tl.counts(incident.sources.len());
    for (s, c) in incident.sources.iter().zip(&counts) {
        writeln!(out, "{c:>10}  {}  {}", s.format, sanitize(&s.file))?;
    }
    writeln!(out, "{:>10}  total", tl.len())?;
    Ok(())
}
