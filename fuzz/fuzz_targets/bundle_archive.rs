//! An archive on disk through the bundle reader and the loader.
//!
//! Input: byte 0 picks the file name (even: `x.tar.gz`, odd: `x.tar`); the rest is written
//! to that file in a fresh temporary directory and loaded with small limits. An error is a
//! fine answer; a panic is not; and reading must leave the archive as it was.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::ingest::bundle::Limits;
use sitrep::ingest::{LoadOptions, load};

fuzz_target!(|input: &[u8]| {
    let [sel, data @ ..] = input else {
        return;
    };
    let name = if sel & 1 == 0 { "x.tar.gz" } else { "x.tar" };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, data).expect("write archive");
    let opts = LoadOptions {
        limits: Limits {
            max_file: 1 << 20,
            max_total: 4 << 20,
        },
        ..Default::default()
    };
    if let Ok(incident) = load(std::slice::from_ref(&path), &opts) {
        for (si, s) in incident.sources.iter().enumerate() {
            for row in 0..s.len().min(100) {
                let _ = s.text(row);
                let _ = incident.fields(si, row);
            }
        }
    }
    let after = std::fs::read(&path).expect("read archive back");
    assert!(after == data, "the archive changed while it was read");
    // Nothing was written beside it (an entry escaping the bundle would land here).
    let count = std::fs::read_dir(dir.path()).expect("read tempdir").count();
    assert_eq!(count, 1, "reading the archive created files");
});
