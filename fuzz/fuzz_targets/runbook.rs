//! Runbook TOML (as a user or a bundle would ship it) through the runbook parser, and, when
//! it reads, walked against a small fixed incident.
//!
//! Input: byte 0 picks the origin (built-in, user, bundle) and bit 2 the walk; the rest is
//! the text (lossy UTF-8).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::analysis::checklist::runbook::{Origin, changes_the_system, parse, placeholders};
use sitrep::analysis::checklist::{Library, rule_ids};

#[path = "common/mod.rs"]
mod common;
use common::incident;
use sitrep::model::Incident;

fuzz_target!(|input: &[u8]| {
    let [sel, rest @ ..] = input else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let origin = match sel % 3 {
        0 => Origin::Builtin,
        1 => Origin::User("fuzz.toml".into()),
        _ => Origin::Bundle("fuzz/runbooks/x.toml".into()),
    };
    let _ = origin.label();
    let ids = rule_ids();
    match parse(&text, origin.clone(), &ids) {
        Ok(rb) => {
            for step in &rb.steps {
                for c in &step.commands {
                    let _ = changes_the_system(c);
                    let _ = placeholders(c);
                }
            }
            if sel & 4 != 0 {
                // As a bundle's runbook: beside the built-ins, walked against the incident.
                let mut inc = Incident::default();
                inc.runbooks
                    .push(("fuzz/runbooks/x.toml".into(), text.to_string()));
                let lib = Library::load(None, &inc);
                let a = sitrep::analysis::analyse(incident(), lib);
                let _ = a.checklist.to_json(incident());
            }
        }
        Err(problems) => {
            for p in &problems {
                assert!(
                    p.line <= text.lines().count() + 1,
                    "problem line past the end: {p:?}"
                );
            }
        }
    }
    for line in text.lines().take(50) {
        let _ = changes_the_system(line);
        let _ = placeholders(line);
    }
});
