//! The flagship incident, embedded in the binary so `sitrep demo` shows something real on a
//! fresh clone: I-1 of the incident catalogue (nginx proxies to 127.0.0.1:8000 while gunicorn
//! listens on a unix socket), then, once nginx is fixed, the import-time crash of the next
//! release (I-2's failure). The same files are the test bundle `tests/bundles/i1-socket-mismatch`.

use crate::ingest::bundle::{BundleFiles, Entry};
use crate::model::source::Bytes;

const MANIFEST: &str = include_str!("../../tests/bundles/i1-socket-mismatch/manifest.toml");

const FILES: &[(&str, &[u8])] = &[
    (
        "app/postgresql-14-main.log",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/app/postgresql-14-main.log"),
    ),
    (
        "journal/journal.json",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/journal/journal.json"),
    ),
    (
        "nginx/access.log",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/nginx/access.log"),
    ),
    (
        "nginx/error.log",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/nginx/error.log"),
    ),
    (
        "nginx/nginx-T.txt",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/nginx/nginx-T.txt"),
    ),
    (
        "platform/ufw-status.txt",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/platform/ufw-status.txt"),
    ),
    (
        "sockets/ss-2023-04-13T11:33:40Z.txt",
        include_bytes!(
            "../../tests/bundles/i1-socket-mismatch/sockets/ss-2023-04-13T11:33:40Z.txt"
        ),
    ),
    (
        "sockets/ss-2023-04-13T11:55:00Z.txt",
        include_bytes!(
            "../../tests/bundles/i1-socket-mismatch/sockets/ss-2023-04-13T11:55:00Z.txt"
        ),
    ),
    (
        "systemd/cat/bookshelf-dev.service",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/systemd/cat/bookshelf-dev.service"),
    ),
    (
        "systemd/cat/gunicorn.service",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/systemd/cat/gunicorn.service"),
    ),
    (
        "systemd/show/gunicorn.service.txt",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/systemd/show/gunicorn.service.txt"),
    ),
    (
        "systemd/units.json",
        include_bytes!("../../tests/bundles/i1-socket-mismatch/systemd/units.json"),
    ),
];

/// The demo bundle as if read from disk.
pub fn bundle() -> BundleFiles {
    BundleFiles {
        name: "demo (I-1: the socket nobody listened to)".into(),
        manifest: Some(MANIFEST.to_string()),
        entries: FILES
            .iter()
            .map(|(path, data)| Entry {
                path: (*path).to_string(),
                data: Bytes::Owned(data.to_vec()),
                mtime: None,
                notes: Vec::new(),
            })
            .collect(),
        notes: Vec::new(),
        loose: false,
    }
}
