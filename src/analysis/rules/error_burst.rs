//! `error-burst`: where the incident starts. The first error after a quiet minute that is
//! followed by more errors (three or more within a minute) marks the start; the first error of
//! each source in the burst is the evidence.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros};

pub struct ErrorBurst;

const QUIET: Micros = 60 * MICROS_PER_SEC;
const WINDOW: Micros = 60 * MICROS_PER_SEC;
const MIN_ERRORS: usize = 3;

/// Positions in the timeline of records at error or worse.
fn errors(cx: &Context) -> Vec<usize> {
    let src = &cx.incident.sources;
    (0..cx.timeline.len())
        .filter(|i| {
            let e = cx.timeline.entries[*i];
            let s = &src[e.source as usize];
            s.sev[e.row as usize] <= Severity::Error
                && s.flags[e.row as usize] & crate::model::source::flag::DUPLICATE == 0
        })
        .collect()
}

/// Index (into `errs`) of the first burst's first error.
fn burst_start(cx: &Context, errs: &[usize]) -> Option<usize> {
    let t = |k: usize| cx.timeline.time(errs[k]);
    (0..errs.len()).find(|&k| {
        let quiet_before = k == 0 || t(k) - t(k - 1) >= QUIET;
        let count = errs[k..]
            .iter()
            .take_while(|i| cx.timeline.time(**i) < t(k) + WINDOW)
            .count();
        quiet_before && count >= MIN_ERRORS
    })
}

/// When the incident started, if it has a burst of errors.
pub fn incident_start(cx: &Context) -> Option<Micros> {
    let errs = errors(cx);
    burst_start(cx, &errs).map(|k| cx.timeline.time(errs[k]))
}

impl Rule for ErrorBurst {
    fn id(&self) -> &'static str {
        "error-burst"
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let errs = errors(cx);
        let Some(k) = burst_start(cx, &errs) else {
            return Vec::new();
        };
        let start = cx.timeline.time(errs[k]);
        let in_window: Vec<usize> = errs[k..]
            .iter()
            .copied()
            .take_while(|i| cx.timeline.time(*i) < start + WINDOW)
            .collect();
        // The first error of each file in the burst's first minute.
        let mut evidence = Vec::new();
        let mut files = Vec::new();
        for i in &in_window {
            let e = cx.timeline.entries[*i];
            if !files.contains(&e.source) {
                files.push(e.source);
                evidence.push(Evidence::Record {
                    source: e.source as usize,
                    row: e.row as usize,
                });
            }
        }
        let names: Vec<&str> = files
            .iter()
            .map(|s| cx.incident.sources[*s as usize].file.as_str())
            .collect();
        let clock = crate::model::time::format_utc(start);
        vec![Finding {
            id: self.id(),
            severity: Severity::Error,
            depth: Depth::Summary,
            title: format!(
                "errors start at {}: {} in the first minute, in {}",
                &clock[11..19],
                in_window.len(),
                names.join(", ")
            ),
            explanation: format!(
                "Before {clock} the logs were quiet for at least a minute; from then on errors \
                 come in a run. That moment is where to look first: what changed right before \
                 it (a deploy, a restart, a config reload) is the usual cause, and the first \
                 error of each log shows what broke first."
            ),
            evidence,
            next: vec![
                format!(
                    "sitrep timeline BUNDLE --since {} --until {clock}   # the five minutes before",
                    crate::model::time::format_utc(start - 5 * QUIET)
                ),
                "journalctl --since '-1h' -p warning".into(),
            ],
        }]
    }
}
