//! Runbook TOML (as a user or a bundle would ship it) through the runbook parser, and, when
//! it reads, walked against a small fixed incident.
//!
//! Input: byte 0 picks the origin (built-in, user, bundle) and bit 2 the walk; the rest is
//! the text (lossy UTF-8).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sitrep::analysis::checklist::runbook::{Origin, changes_the_system, parse, placeholders};
use sitrep::analysis::checklist::{Library, rule_ids};
use sitrep::ingest::bundle::{BundleFiles, Entry};
use sitrep::ingest::{LoadOptions, load_files};
use sitrep::model::Incident;
use sitrep::model::source::Bytes;

const ACCESS: &str = "10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET /books HTTP/1.1\" 502 157 \"-\" \"curl/8.0\"\n";
const ERROR: &str = "2023/04/13 11:24:04 [crit] 812#812: *7 connect() to unix:/run/gunicorn.sock failed (2: No such file or directory) while connecting to upstream, client: 10.0.0.1, server: _, request: \"GET /books HTTP/1.1\", upstream: \"http://unix:/run/gunicorn.sock:/books\", host: \"example\"\n";

/// A small incident (one 502 and its error line) to walk runbooks against.
fn incident() -> &'static Incident {
    static INC: OnceLock<Incident> = OnceLock::new();
    INC.get_or_init(|| {
        let entry = |path: &str, text: &str| Entry {
            path: path.into(),
            data: Bytes::Owned(text.as_bytes().to_vec()),
            mtime: None,
            notes: vec![],
        };
        load_files(
            BundleFiles {
                name: "fuzz".into(),
                manifest: Some("captured_at = \"2023-04-13T12:00:00Z\"\n".into()),
                entries: vec![
                    entry("nginx/access.log", ACCESS),
                    entry("nginx/error.log", ERROR),
                ],
                notes: vec![],
                loose: false,
            },
            &LoadOptions::default(),
        )
    })
}

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
