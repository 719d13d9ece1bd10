//! The incident report in Markdown, for a postmortem: summary, impact window and 5xx by
//! minute, hosts, findings with their evidence, the checklist, the timeline around the start,
//! the notes, and how to see it again. `sitrep report` and the console's `R` write it.

use std::fmt::Write as _;

use crate::analysis::checklist::StepState;
use crate::analysis::rules::{Evidence, evidence_json};
use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::flag;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};
use crate::text::sanitize;

/// Text from logs in a Markdown code span or block: inert, one line, no backticks to break
/// out, and redacted (secrets, e-mail addresses, card numbers: a report is shared widely).
fn code(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    let line = crate::capture::redact::Redactor::new()
        .with_pii(true)
        .redact_text(line);
    sanitize(&line)
        .replace('`', "'")
        .chars()
        .take(200)
        .collect()
}

fn minute(t: Micros) -> String {
    let s = format_utc(t);
    format!("{} {}", &s[..10], &s[11..16])
}

/// What was written down in the console for this bundle: the checklist's ticks and notes,
/// and the records marked as evidence with their notes.
pub fn notes(incident: &Incident) -> crate::progress::Progress {
    let Some(dir) = crate::progress::dir() else {
        return Default::default();
    };
    crate::progress::Store::for_key(&dir, &crate::progress::content_key(incident))
        .load()
        .unwrap_or_default()
}

/// The report's text.
pub fn render(
    incident: &Incident,
    d: &crate::analysis::rules::Diagnosis,
    c: &crate::analysis::checklist::Checklist,
    notes: &crate::progress::Progress,
    paths: &[String],
) -> String {
    let mut md = String::new();
    let hosts: Vec<&str> = incident.hosts.iter().map(|h| h.name.as_str()).collect();
    let _ = writeln!(md, "# Incident report: {}\n", sanitize(&hosts.join(", ")));
    // Errors over the whole incident, for the impact window.
    let mut errors: Vec<Micros> = Vec::new();
    let mut by_minute: std::collections::BTreeMap<Micros, (usize, usize)> = Default::default();
    for s in &incident.sources {
        for r in 0..s.len() {
            if r % (1 << 16) == (1 << 16) - 1 {
                // A pass over every record holds a window of the file, not all of it.
                s.release_pages();
            }
            let t = s.ts[r];
            // A request another access log of the host also holds is counted once.
            if t == UNTIMED || s.flags[r] & flag::DUPLICATE != 0 {
                continue;
            }
            if s.sev[r] <= Severity::Error {
                errors.push(t);
            }
            if s.format == FormatId::NginxAccess {
                let m = t - t.rem_euclid(60 * MICROS_PER_SEC);
                let e = by_minute.entry(m).or_default();
                e.1 += 1;
                // A 5xx is an error (its severity was read from the status at load), so
                // only the text of errors needs reading.
                if s.sev[r] <= Severity::Error && is_5xx(&s.text(r)) {
                    e.0 += 1;
                }
            }
        }
    }
    errors.sort_unstable();
    let _ = writeln!(md, "## Summary\n");
    match d.incident_start {
        Some(t) => {
            let _ = writeln!(
                md,
                "- Incident start (first burst of errors): {}",
                format_utc(t)
            );
        }
        None => {
            let _ = writeln!(md, "- No burst of errors: no clear start of an incident");
        }
    }
    if let (Some(a), Some(b)) = (errors.first(), errors.last()) {
        let _ = writeln!(
            md,
            "- Errors from {} to {} ({} records at error or worse, {} min)",
            format_utc(*a),
            format_utc(*b),
            errors.len(),
            (b - a) / (60 * MICROS_PER_SEC)
        );
    }
    match d.findings.first() {
        Some(f) => {
            let _ = writeln!(
                md,
                "- Most likely cause: {} (`{}`)",
                sanitize(&f.title),
                f.id
            );
        }
        None => {
            let _ = writeln!(md, "- No rule found anything wrong");
        }
    }
    let total5: usize = by_minute.values().map(|v| v.0).sum();
    let total: usize = by_minute.values().map(|v| v.1).sum();
    if total > 0 {
        let _ = writeln!(md, "- {total5} of {total} requests answered 5xx");
    }
    let _ = writeln!(md, "\n## Hosts\n");
    let _ = writeln!(md, "| host | from | captured | files |\n|---|---|---|---|");
    for h in &incident.hosts {
        let files = incident.sources.iter().filter(|s| s.host == h.name).count();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {files} |",
            crate::text::name(&h.name),
            crate::text::name(&h.origin),
            h.captured_at.map_or("-".into(), format_utc)
        );
    }
    // How the files were read: zones borrowed and disagreements, copies read once, requests
    // counted once, what was left out. A reader of the report should know what sitrep chose.
    if !incident.notes.is_empty() {
        const SAID: usize = 30;
        let _ = writeln!(md, "\n## How the evidence was read\n");
        for n in incident.notes.iter().take(SAID) {
            let _ = writeln!(md, "- {}", sanitize(n));
        }
        if incident.notes.len() > SAID {
            let _ = writeln!(
                md,
                "- … and {} more (`sitrep sources` lists them all)",
                incident.notes.len() - SAID
            );
        }
    }
    if total5 > 0 {
        let _ = writeln!(md, "\n## 5xx by minute\n");
        let _ = writeln!(md, "| minute (UTC) | 5xx | requests |\n|---|---|---|");
        for (m, (five, all)) in by_minute.iter().filter(|(_, v)| v.0 > 0) {
            let _ = writeln!(md, "| {} | {five} | {all} |", minute(*m));
        }
    }
    let _ = writeln!(md, "\n## Findings\n");
    if d.findings.is_empty() {
        let _ = writeln!(md, "No rule found anything wrong.");
    }
    for (i, f) in d.findings.iter().enumerate() {
        let _ = writeln!(
            md,
            "### {}. {} (`{}`, {})\n\n{}\n",
            i + 1,
            sanitize(&f.title),
            f.id,
            f.severity,
            sanitize(&f.explanation)
        );
        if !f.evidence.is_empty() {
            let _ = writeln!(md, "Evidence:\n\n```");
            for e in f.evidence.iter().take(12) {
                let j = evidence_json(incident, e);
                let _ = match e {
                    Evidence::Fact(_) => writeln!(md, "- {}", code(&j.text)),
                    _ => writeln!(
                        md,
                        "{}:{} {}",
                        crate::text::name(&j.file),
                        j.line.unwrap_or(0),
                        code(&j.text)
                    ),
                };
            }
            let _ = writeln!(md, "```\n");
        }
        if !f.next.is_empty() {
            let _ = writeln!(md, "Next:\n\n```");
            for n in &f.next {
                let _ = writeln!(md, "$ {}", code(n));
            }
            let _ = writeln!(md, "```\n");
        }
    }
    if let Some(w) = c.chosen {
        let rb = c.runbook(w);
        let _ = writeln!(md, "## Checklist: {} ({})\n", sanitize(&rb.title), rb.id);
        for (step, r) in rb.steps.iter().zip(&c.walks[w].steps) {
            let mark = match r.state {
                StepState::Passed | StepState::Done => "[x]",
                _ => "[ ]",
            };
            let _ = writeln!(
                md,
                "- {mark} {} — {}{}",
                sanitize(&step.title),
                r.state.word(),
                if r.reason.is_empty() || r.state == StepState::Todo {
                    String::new()
                } else {
                    format!(": {}", sanitize(&r.reason))
                }
            );
        }
        let _ = writeln!(md);
    }
    // Around the start of the burst, else around the first error.
    let start = d.incident_start.or(errors.first().copied());
    if let Some(t) = start {
        let (from, to) = (t - 120 * MICROS_PER_SEC, t + 120 * MICROS_PER_SEC);
        let tl = crate::analysis::timeline::Timeline::all(&incident.sources);
        let first = tl.seek(from);
        let _ = writeln!(
            md,
            "## Timeline around the start\n\nFrom {} to {} (40 records at most):\n\n```",
            format_utc(from),
            format_utc(to)
        );
        for i in (first..tl.len()).take_while(|i| tl.time(*i) <= to).take(40) {
            let e = tl.entries[i];
            let s = &incident.sources[e.source as usize];
            let _ = writeln!(
                md,
                "{} {:<5} {} {}",
                &format_utc(tl.time(i))[11..23],
                s.sev[e.row as usize].as_str(),
                crate::text::name(&s.file),
                code(&s.text(e.row as usize))
            );
        }
        let _ = writeln!(md, "```\n");
    }
    if !notes.records.is_empty() {
        let _ = writeln!(
            md,
            "## Evidence noted
"
        );
        for n in &notes.records {
            let _ = writeln!(
                md,
                "- {} `{}:{}` {}\n  `{}`",
                n.time,
                crate::text::name(&n.file),
                n.line,
                sanitize(&n.note),
                code(&n.text)
            );
        }
        let _ = writeln!(md);
    }
    let written: Vec<_> = notes
        .marks
        .iter()
        .filter(|(_, m)| m.done || m.skipped || !m.note.is_empty())
        .collect();
    if !written.is_empty() {
        let _ = writeln!(md, "## Checklist notes\n");
        for (key, m) in written {
            let state = if m.done {
                "done"
            } else if m.skipped {
                "skipped"
            } else {
                "noted"
            };
            let _ = writeln!(md, "- {} ({state}): {}", sanitize(key), sanitize(&m.note));
        }
        let _ = writeln!(md);
    }
    let args: Vec<String> = paths
        .iter()
        .map(|p| crate::text::name(p).into_owned())
        .collect();
    let joined = args.join(" ");
    let _ = writeln!(md, "## See it again\n\n```");
    let _ = writeln!(md, "sitrep replay {joined}");
    let _ = writeln!(md, "sitrep diagnose {joined}");
    if let Some(t) = start {
        let _ = writeln!(
            md,
            "sitrep timeline {joined} --since {} --until {} --severity warn+",
            format_utc(t - 300 * MICROS_PER_SEC),
            format_utc(t + 300 * MICROS_PER_SEC)
        );
    }
    let _ = writeln!(md, "```");
    md
}

/// An access line's status is 5xx: the number after the quoted request.
fn is_5xx(text: &str) -> bool {
    text.split('"')
        .nth(2)
        .and_then(|after| after.split_whitespace().next())
        .is_some_and(|s| {
            s.len() == 3 && s.starts_with('5') && s.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_hundreds_are_told_from_the_access_line() {
        assert!(is_5xx(
            r#"1.2.3.4 - - [13/Apr/2023:11:24:04 +0000] "GET / HTTP/1.1" 502 166 "-" "x""#
        ));
        assert!(!is_5xx(
            r#"1.2.3.4 - - [13/Apr/2023:11:24:04 +0000] "GET /502 HTTP/1.1" 200 5 "-" "x""#
        ));
    }

    #[test]
    fn log_text_is_redacted_with_personal_data() {
        let line = "charge for jane@example.org card 4111-1111-1111-1111 token=abc123x";
        let out = code(line);
        for gone in ["jane@example.org", "4111-1111", "abc123x"] {
            assert!(!out.contains(gone), "{out}");
        }
        assert!(out.contains("[REDACTED:email]") && out.contains("[REDACTED:card]"));
    }

    #[test]
    fn log_text_cannot_break_out_of_a_code_span() {
        assert_eq!(
            code("a `rm -rf` \u{1b}]52;c;eA==\u{7} b\nsecond"),
            r"a 'rm -rf' \x1b]52;c;eA==\x07 b"
        );
    }
}
