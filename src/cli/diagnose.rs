//! `sitrep diagnose`: every rule's findings, root cause first, as text or JSON.

use std::io::Write;

use super::OutFormat;
use crate::analysis::checklist::{Checklist, Library, StepResult, StepState};
use crate::analysis::rules::{Evidence, evidence_json};
use crate::analysis::{Analysis, analyse};
use crate::model::Incident;
use crate::model::time::format_utc;
use crate::text::sanitize;

pub fn print(incident: &Incident, format: OutFormat, out: &mut impl Write) -> std::io::Result<()> {
    let library = Library::load(
        crate::config::dir().map(|d| d.join("runbooks")).as_deref(),
        incident,
    );
    for p in &library.problems {
        eprintln!("sitrep: {}", sanitize(p));
    }
    let Analysis {
        diagnosis: d,
        checklist,
    } = analyse(incident, library);
    if format == OutFormat::Json {
        #[derive(serde::Serialize)]
        struct JsonHost<'a> {
            name: &'a str,
            /// Seconds taken off its clock (`--skew`).
            skew: f64,
        }
        #[derive(serde::Serialize)]
        struct Out<'a> {
            hosts: Vec<JsonHost<'a>>,
            #[serde(flatten)]
            diagnosis: crate::analysis::rules::JsonDiagnosis,
            checklist: Vec<crate::analysis::checklist::JsonWalk>,
        }
        let json = serde_json::to_string(&Out {
            hosts: incident
                .hosts
                .iter()
                .map(|h| JsonHost {
                    name: &h.name,
                    skew: h.skew as f64 / 1e6,
                })
                .collect(),
            diagnosis: d.to_json(incident),
            checklist: checklist.to_json(incident),
        })?;
        return writeln!(out, "{}", crate::text::json_safe(json));
    }
    print_findings(incident, &d, out)?;
    print_checklist(&checklist, out)
}

/// The chosen runbook's walk in a few lines, and the other runbooks that apply.
fn print_checklist(c: &Checklist, out: &mut impl Write) -> std::io::Result<()> {
    let Some(chosen) = c.chosen else {
        return Ok(());
    };
    let rb = c.runbook(chosen);
    let walk = &c.walks[chosen];
    writeln!(out)?;
    writeln!(out, "checklist: {} — {}", rb.id, sanitize(&rb.title))?;
    for (i, (step, r)) in rb.steps.iter().zip(&walk.steps).enumerate() {
        writeln!(out, "  {}", step_line(i, &step.title, r))?;
    }
    let others: Vec<&str> = c
        .walks
        .iter()
        .enumerate()
        .filter(|(i, w)| w.applies && *i != chosen)
        .map(|(_, w)| c.library.runbooks[w.runbook].id.as_str())
        .collect();
    if !others.is_empty() {
        writeln!(
            out,
            "  also applies: {} (sitrep runbook show ID BUNDLE)",
            others.join(", ")
        )?;
    }
    Ok(())
}

fn print_findings(
    incident: &Incident,
    d: &crate::analysis::rules::Diagnosis,
    out: &mut impl Write,
) -> std::io::Result<()> {
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
            writeln!(out, "   - {}", evidence_row(incident, e))?;
        }
        for n in &f.next {
            writeln!(out, "   $ {}", sanitize(n))?;
        }
    }
    Ok(())
}

/// A piece of evidence on one line: a fact as it is, a record or a config line after its file
/// and line, cut to its first line and 160 characters.
pub(super) fn evidence_row(incident: &Incident, e: &Evidence) -> String {
    let j = evidence_json(incident, e);
    let text = sanitize(j.text.lines().next().unwrap_or_default()).into_owned();
    match e {
        Evidence::Fact(_) => text,
        _ => format!(
            "{}:{} {}",
            sanitize(&j.file),
            j.line.unwrap_or(0),
            text.chars().take(160).collect::<String>()
        ),
    }
}

/// A walked step on one line: mark, number, title, state and why.
pub(super) fn step_line(i: usize, title: &str, r: &StepResult) -> String {
    let reason = if r.reason.is_empty() || r.state == StepState::Todo {
        String::new()
    } else {
        format!(": {}", sanitize(&r.reason))
    };
    format!(
        "{} {}. {} [{}]{reason}",
        r.state.mark(),
        i + 1,
        sanitize(title),
        r.state.word()
    )
}
