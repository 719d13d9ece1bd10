//! Records dated far from the rest of their file (a clock reset to 1970, a year typed as
//! 2100): kept where their time puts them, and named in a note so nobody reads a lone 1970
//! line as the start of the incident.

use crate::model::source::Source;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED, format_utc};

/// How far from the file's middle time a record may be before it is named.
pub const FAR: Micros = 366 * 86_400 * MICROS_PER_SEC;

/// Examples named in the note.
const SHOWN: usize = 3;

/// The note for `s`, when some of its records lie more than [`FAR`] from its median time
/// (estimated on at most 1001 evenly spaced records, so a file of millions costs nothing).
pub fn note(s: &Source) -> Option<String> {
    let timed = s.ts.iter().filter(|t| **t != UNTIMED).count();
    if timed < 2 {
        return None;
    }
    let step = (timed / 1001).max(1);
    let mut sample: Vec<Micros> =
        s.ts.iter()
            .copied()
            .filter(|t| *t != UNTIMED)
            .step_by(step)
            .collect();
    sample.sort_unstable();
    let median = sample[sample.len() / 2];
    let far: Vec<usize> = (0..s.ts.len())
        .filter(|r| s.ts[*r] != UNTIMED && s.ts[*r].abs_diff(median) > FAR.unsigned_abs())
        .collect();
    if far.is_empty() {
        return None;
    }
    let examples: Vec<String> = far
        .iter()
        .take(SHOWN)
        .map(|r| {
            let day = format_utc(s.ts[*r]);
            let day = day.get(..10).unwrap_or(&day).to_string();
            format!("line {} at {day}", s.lines.get(*r).copied().unwrap_or(0))
        })
        .collect();
    let more = if far.len() > SHOWN { ", ..." } else { "" };
    Some(format!(
        "{} record(s) dated more than a year from the rest ({}{more}); a clock reset or a wrong year? They are shown at those times",
        far.len(),
        examples.join(", ")
    ))
}
