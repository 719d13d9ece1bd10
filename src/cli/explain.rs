//! `sitrep explain "LINE"`: what a log line means, its usual causes and the next checks.

use std::io::Write;

use crate::analysis::knowledge::{define, explain};
use crate::text::sanitize;

pub fn print(line: &str, out: &mut impl Write) -> std::io::Result<()> {
    let found = explain(line);
    if found.is_empty() {
        return writeln!(out, "nothing known about this line");
    }
    for (i, e) in found.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
            write!(out, "also: ")?;
        }
        writeln!(out, "{} ({})", e.id, e.family)?;
        writeln!(out, "  {}", e.meaning)?;
        for (k, v) in &e.parts {
            writeln!(out, "  {k}: {}", sanitize(v))?;
        }
        if !e.causes.is_empty() {
            writeln!(out, "  usual causes:")?;
            for c in e.causes {
                writeln!(out, "   - {c}")?;
            }
        }
        for n in e.next {
            writeln!(out, "  $ {n}")?;
        }
        for term in e.glossary {
            if let Some(d) = define(term) {
                writeln!(out, "  {term}: {d}")?;
            }
        }
    }
    Ok(())
}
