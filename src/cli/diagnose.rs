//! `sitrep diagnose`: every rule's findings, root cause first, as text or JSON.

use std::io::Write;

use super::OutFormat;
use crate::analysis::rules::{Evidence, diagnose, evidence_json};
use crate::model::Incident;
use crate::model::time::format_utc;
use crate::text::sanitize;

pub fn print(incident: &Incident, format: OutFormat, out: &mut impl Write) -> std::io::Result<()> {
    let d = diagnose(incident);
    if format == OutFormat::Json {
        let json = serde_json::to_string(&d.to_json(incident))?;
        return writeln!(out, "{}", crate::text::json_safe(json));
    }
    match d.incident_start {
        Some(t) => writeln!(out, "incident starts at {}", format_utc(t))?,
        None => writeln!(out, "no burst of errors: no clear start of an incident")?,
    }
    if d.findings.is_empty() {
        writeln!(out, "no findings: no rule found anything wrong")?;
        return Ok(());
    }
    for (i, f) in d.findings.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{}. [{}] {} ({})",
            i + 1,
            f.severity,
            sanitize(&f.title),
            f.id
        )?;
        writeln!(out, "   {}", sanitize(&f.explanation))?;
        for e in &f.evidence {
            let j = evidence_json(incident, e);
            let text = sanitize(j.text.lines().next().unwrap_or_default()).into_owned();
            match e {
                Evidence::Fact(_) => writeln!(out, "   - {text}")?,
                _ => writeln!(
                    out,
                    "   - {}:{} {}",
                    sanitize(&j.file),
                    j.line.unwrap_or(0),
                    text.chars().take(160).collect::<String>()
                )?,
            }
        }
        for n in &f.next {
            writeln!(out, "   $ {}", sanitize(n))?;
        }
    }
    Ok(())
}
