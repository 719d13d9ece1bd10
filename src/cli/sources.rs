//! `sitrep sources`: what each file was recognised as, and how well it parsed.

use std::io::Write;

use serde::Serialize;

use super::OutFormat;
use crate::model::Incident;
use crate::model::time::format_utc;
use crate::text::sanitize;

#[derive(Serialize)]
struct Row<'a> {
    file: &'a str,
    host: &'a str,
    format: &'a str,
    records: usize,
    continuations: usize,
    unparsed: usize,
    untimed: usize,
    first: Option<String>,
    last: Option<String>,
    tz: Option<String>,
    tz_reason: &'a str,
}

pub fn print(incident: &Incident, format: OutFormat, out: &mut impl Write) -> std::io::Result<()> {
    let rows: Vec<Row> = incident
        .sources
        .iter()
        .map(|s| Row {
            file: &s.file,
            host: &s.host,
            format: s.format.as_str(),
            records: s.stats.records,
            continuations: s.stats.continuations,
            unparsed: s.stats.unparsed,
            untimed: s.stats.untimed,
            first: s.first_time().map(format_utc),
            last: s.last_time().map(format_utc),
            tz: s.zone.offset.map(|o| o.to_string()),
            tz_reason: s.zone.reason.as_str(),
        })
        .collect();
    if format == OutFormat::Json {
        for r in &rows {
            let line = crate::text::json_safe(serde_json::to_string(r)?);
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| crate::text::width(&sanitize(r.file)))
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:width$}  {:21}  {:>8}  {:>6}  {:>8}  {:27}  {:27}  zone",
        "file", "format", "records", "cont", "unparsed", "first", "last"
    )?;
    for r in &rows {
        let zone = match &r.tz {
            Some(tz) => format!("{tz} ({})", r.tz_reason),
            None => r.tz_reason.to_string(),
        };
        writeln!(
            out,
            "{}  {:21}  {:>8}  {:>6}  {:>8}  {:27}  {:27}  {zone}",
            crate::text::pad(&sanitize(r.file), width),
            r.format,
            r.records,
            r.continuations,
            r.unparsed,
            r.first.as_deref().unwrap_or("-"),
            r.last.as_deref().unwrap_or("-"),
        )?;
    }
    Ok(())
}
