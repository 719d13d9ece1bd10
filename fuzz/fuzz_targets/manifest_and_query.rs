//! Small text parsers: the bundle manifest, the field query (`status >= 500 and path ~ /api`),
//! a time zone offset, instants and durations as given on the command line.
//!
//! Input: byte 0 picks the parser; the rest is the text (lossy UTF-8). A query that reads is
//! matched against every record of a small fixed incident.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::analysis::query::Query;
use sitrep::ingest::manifest::Manifest;
use sitrep::model::time::{Offset, parse_duration, parse_instant};

#[path = "common/mod.rs"]
mod common;
use common::incident;

fuzz_target!(|input: &[u8]| {
    let [sel, rest @ ..] = input else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match sel % 4 {
        0 => {
            if let Ok(m) = Manifest::parse(&text) {
                let _ = (m.captured_at(), m.offset());
                let w = &m.window;
                let _ = w.since.as_deref().map(parse_instant);
                let _ = w.until.as_deref().map(parse_instant);
            }
        }
        1 => {
            let _ = Query::looks_like_query(&text);
            if let Ok(q) = Query::parse(&text) {
                let inc = incident();
                for (si, s) in inc.sources.iter().enumerate() {
                    if q.source_may_match(s) {
                        for row in 0..s.len() {
                            let _ = q.matches(inc, si, row);
                        }
                    }
                }
            }
        }
        2 => {
            let _ = Offset::parse(&text);
            let _ = parse_instant(&text);
        }
        _ => {
            let _ = parse_duration(&text);
        }
    }
});
