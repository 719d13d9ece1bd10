//! The flagship incident, embedded in the binary so `sitrep demo` shows something real on a
//! fresh clone: I-1 of the incident catalogue (nginx proxies to 127.0.0.1:8000 while gunicorn
//! listens on a unix socket), then, once nginx is fixed, the import-time crash of the next
//! release (I-2's failure). The same files are the test bundle `tests/bundles/i1-socket-mismatch`.

use crate::ingest::bundle::BundleFiles;

/// The demo bundle as if read from disk.
pub fn bundle() -> BundleFiles {
    let mut b = super::embedded::bundle("i1-socket-mismatch").unwrap_or_else(|| BundleFiles {
        name: String::new(),
        manifest: None,
        entries: Vec::new(),
        notes: vec!["the demo bundle is missing from this build".into()],
        loose: false,
    });
    b.name = "demo (I-1: the socket nobody listened to)".into();
    b
}
