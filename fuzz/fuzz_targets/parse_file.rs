//! One file (or two) through sniffing, every parser, the analysis and the report.
//!
//! Input: byte 0 picks the file's path (the name steers sniffing), byte 1 the mode:
//! bit 0 adds a manifest (fixed capture time and zone), bit 1 splits the rest at the first
//! `\n=====\n` into a second file whose path is picked by the bits above. The rest is content.

#![no_main]

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::MultiGzDecoder;
use libfuzzer_sys::fuzz_target;
use sitrep::analysis::checklist::Library;
use sitrep::ingest::bundle::{BundleFiles, Entry};
use sitrep::ingest::{LoadOptions, load_files};
use sitrep::model::source::Bytes;

const PATHS: &[&str] = &[
    "nginx/access.log",
    "nginx/error.log",
    "nginx/nginx-T.txt",
    "journal/journal.json",
    "journal/journal.export",
    "journal/journal.txt",
    "sockets/ss.txt",
    "systemd/units.json",
    "systemd/units.txt",
    "systemd/show/gunicorn.service.txt",
    "systemd/cat/gunicorn.service",
    "systemd/status/gunicorn.txt",
    "app/gunicorn.log",
    "app/django.log",
    "app/gunicorn.conf.py",
    "ci/pipeline.json",
    "platform/cf-revisions.txt",
    "platform/cf-env.txt",
    "platform/cf-logs.txt",
    "app/x.log.gz",
    "nginx/access.log.1",
    "nginx/access.log.2.gz",
    "notes.txt",
];

const SPLIT: &[u8] = b"\n=====\n";
const MANIFEST: &str =
    "host = \"web1\"\ncaptured_at = \"2023-04-13T12:00:00Z\"\ntz = \"+02:00\"\ncpus = 2\n";
/// As the disk loader bounds a `.gz` (here small, to keep runs fast).
const MAX_GZ: u64 = 1 << 20;

fn library() -> Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(Library::builtin).clone()
}

fn entry(path: &str, data: &[u8]) -> Entry {
    let mut notes = Vec::new();
    let data = if path.ends_with(".gz") {
        // The in-memory loader takes bytes as the disk reader leaves them: decompressed.
        let mut out = Vec::new();
        if let Err(e) = MultiGzDecoder::new(data).take(MAX_GZ).read_to_end(&mut out) {
            notes.push(format!("{path}: {e}"));
        }
        out
    } else {
        data.to_vec()
    };
    Entry {
        path: path.to_string(),
        data: Bytes::Owned(data),
        mtime: None,
        notes,
    }
}

fuzz_target!(|input: &[u8]| {
    let [sel, mode, rest @ ..] = input else {
        return;
    };
    let first = PATHS[*sel as usize % PATHS.len()];
    let mut entries = Vec::new();
    match (mode & 2 != 0)
        .then(|| rest.windows(SPLIT.len()).position(|w| w == SPLIT))
        .flatten()
    {
        Some(at) => {
            let second = PATHS[(*mode as usize >> 2) % PATHS.len()];
            entries.push(entry(first, &rest[..at]));
            if second != first {
                entries.push(entry(second, &rest[at + SPLIT.len()..]));
            }
        }
        None => entries.push(entry(first, rest)),
    }
    let files = BundleFiles {
        name: "fuzz".into(),
        manifest: (mode & 1 != 0).then(|| MANIFEST.to_string()),
        entries,
        notes: vec![],
        loose: false,
    };
    let incident = load_files(files, &LoadOptions::default());

    // Every record's text and fields, as the console shows them.
    for (si, s) in incident.sources.iter().enumerate() {
        for row in 0..s.len().min(500) {
            let text = s.text(row);
            let _ = incident.fields(si, row);
            if row < 20 {
                let _ = sitrep::analysis::knowledge::explain(&text);
            }
        }
        let _ = (s.first_time(), s.last_time());
    }

    let tl = sitrep::analysis::timeline::Timeline::all(&incident.sources);
    let _ = tl.first_error(&incident.sources);
    let _ = sitrep::analysis::state::Units::build(&incident).changes();
    let _ = sitrep::analysis::state::Sockets::build(&incident).snapshot_times();
    let _ = sitrep::analysis::skew::estimate(&incident);

    let analysis = sitrep::analysis::analyse(&incident, library());
    let _ = analysis.diagnosis.to_json(&incident);
    let _ = analysis.checklist.to_json(&incident);
    let report = sitrep::report::render(
        &incident,
        &analysis.diagnosis,
        &analysis.checklist,
        &Default::default(),
        &["fuzz".to_string()],
    );
    std::hint::black_box(report);
});
