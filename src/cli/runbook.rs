//! `sitrep runbook`: list the runbooks in force, show one (walked against bundles when given),
//! lint runbook files.

use std::io::Write;
use std::path::PathBuf;

use super::{Failure, Input, load_input};
use crate::analysis::checklist::runbook::{Origin, Target};
use crate::analysis::checklist::{Library, StepState};
use crate::model::Incident;
use crate::text::sanitize;

#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Every runbook in force: built-in, yours (config directory's runbooks/), with its origin.
    List,
    /// One runbook's steps: why, commands, checks. With bundles: walked against them.
    Show {
        id: String,
        /// Bundles to walk it against (optional).
        paths: Vec<PathBuf>,
        /// Zone of logs that print none, e.g. +02:00.
        #[arg(long)]
        tz: Option<String>,
    },
    /// Check runbook files: syntax, rule ids, regexes, placeholders, links between steps and
    /// runbooks, unreachable steps. Problems are printed FILE:LINE: message; exit 2 if any.
    Lint {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn user_dir() -> Option<PathBuf> {
    crate::config::dir().map(|d| d.join("runbooks"))
}

pub fn run(args: Args, out: &mut impl Write) -> Result<(), Failure> {
    match args {
        Args::List => list(out),
        Args::Show { id, paths, tz } => show(&id, paths, tz, out),
        Args::Lint { files } => lint(&files, out),
    }
}

fn list(out: &mut impl Write) -> Result<(), Failure> {
    let lib = Library::load(user_dir().as_deref(), &Incident::default());
    for p in &lib.problems {
        eprintln!("sitrep: {}", sanitize(p));
    }
    writeln!(out, "{:<22} {:>5}  {:<9} title", "id", "steps", "origin")?;
    for rb in &lib.runbooks {
        let origin = match &rb.origin {
            Origin::Builtin => "built-in",
            Origin::User(_) => "yours",
            Origin::Bundle(_) => "bundle",
        };
        writeln!(
            out,
            "{:<22} {:>5}  {:<9} {}",
            rb.id,
            rb.steps.len(),
            origin,
            sanitize(&rb.title)
        )?;
    }
    Ok(())
}

fn lint(files: &[PathBuf], out: &mut impl Write) -> Result<(), Failure> {
    let ids = crate::analysis::checklist::rule_ids();
    let known = Library::load(user_dir().as_deref(), &Incident::default());
    // The ids of the files being linted, so they may lead to each other.
    let linted: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| t.parse::<toml::Table>().ok())
        .filter_map(|t| t.get("id").and_then(|v| v.as_str()).map(String::from))
        .collect();
    let mut bad = 0;
    for f in files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f)
            .map_err(|e| Failure(format!("{name}: cannot read it ({e})")))?;
        let rb = match crate::analysis::checklist::runbook::parse(
            &text,
            Origin::User(name.clone()),
            &ids,
        ) {
            Ok(rb) => rb,
            Err(problems) => {
                bad += 1;
                for p in problems {
                    writeln!(out, "{name}:{}: {}", p.line, sanitize(&p.message))?;
                }
                continue;
            }
        };
        // A `next` to another runbook must name one in force or one being linted.
        let mut missing = Vec::new();
        for t in rb.steps.iter().flat_map(|s| [&s.next.pass, &s.next.fail]) {
            if let Some(Target::Runbook(r)) = t
                && known.find(r).is_none()
                && !linted.contains(r)
                && !missing.contains(r)
            {
                missing.push(r.clone());
            }
        }
        for r in &missing {
            let needle = format!("runbook:{r}");
            let line = text
                .lines()
                .position(|l| l.contains(&needle))
                .map_or(0, |i| i + 1);
            writeln!(
                out,
                "{name}:{line}: next goes to runbook {:?}, which is not in force (sitrep runbook list)",
                sanitize(r)
            )?;
        }
        if missing.is_empty() {
            writeln!(out, "{name}: ok ({}, {} steps)", rb.id, rb.steps.len())?;
        } else {
            bad += 1;
        }
    }
    if bad > 0 {
        out.flush()?;
        return Err(Failure(format!(
            "{bad} of {} runbook file(s) have problems (listed above)",
            files.len()
        )));
    }
    Ok(())
}

fn show(
    id: &str,
    paths: Vec<PathBuf>,
    tz: Option<String>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let incident = if paths.is_empty() {
        None
    } else {
        Some(load_input(&Input {
            paths,
            tz,
            skew: Vec::new(),
        })?)
    };
    let empty = Incident::default();
    let lib = Library::load(user_dir().as_deref(), incident.as_ref().unwrap_or(&empty));
    let Some(index) = lib.find(id) else {
        return Err(Failure(format!(
            "no runbook is called {:?}; `sitrep runbook list` shows them",
            sanitize(id)
        )));
    };
    let walked = incident
        .as_ref()
        .map(|inc| crate::analysis::analyse(inc, lib.clone()).checklist);
    let rb = &lib.runbooks[index];
    writeln!(
        out,
        "{} — {} ({})",
        rb.id,
        sanitize(&rb.title),
        sanitize(&rb.origin.label())
    )?;
    if !rb.summary.is_empty() {
        writeln!(out, "{}", sanitize(&rb.summary))?;
    }
    for (i, step) in rb.steps.iter().enumerate() {
        let result = walked.as_ref().map(|c| &c.walks[index].steps[i]);
        writeln!(out)?;
        match result {
            Some(r) => writeln!(out, "{}", super::diagnose::step_line(i, &step.title, r))?,
            None => writeln!(out, "{}. {} ({})", i + 1, sanitize(&step.title), step.id)?,
        }
        for line in step.why.lines() {
            writeln!(out, "   {}", sanitize(line))?;
        }
        for c in result.map_or(&step.commands, |r| &r.commands) {
            writeln!(out, "   $ {}", sanitize(c))?;
        }
        let Some(r) = result else { continue };
        if let Some(next) = &r.leads_to {
            writeln!(out, "   → continue with runbook {}", sanitize(next))?;
        }
        if r.state == StepState::Failed
            && let Some(inc) = &incident
        {
            for e in &r.evidence {
                writeln!(out, "   - {}", super::diagnose::evidence_row(inc, e))?;
            }
        }
    }
    Ok(())
}
