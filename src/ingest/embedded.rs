//! Bundles embedded in the binary (the demo, and the bundles lessons are played on): the test
//! bundles under `tests/bundles/NAME`, read as if from disk; a test checks every file on disk
//! is listed here.
//!
//! Generated from the directory listing of each bundle; regenerate it rather than edit the
//! lists by hand when a bundle gains or loses a file.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use crate::ingest::bundle::{BundleFiles, Entry};
use crate::model::source::Bytes;

/// The embedded bundles, by name (the directory under `tests/bundles`).
pub const NAMES: &[&str] = &[
    "i1-socket-mismatch",
    "i2-import-time-setting",
    "i3-daemon-reload",
    "i4-retry-storm",
    "i5-single-worker-upload",
    "i6-pipeline-platform",
    "healthy",
    "restart-loop",
];

/// One bundle: its manifest and its files as (path inside the bundle, bytes).
struct Embedded {
    manifest: &'static str,
    files: &'static [(&'static str, &'static [u8])],
}

const I1_SOCKET_MISMATCH: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/i1-socket-mismatch/manifest.toml"),
    files: &[
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
            include_bytes!(
                "../../tests/bundles/i1-socket-mismatch/systemd/cat/bookshelf-dev.service"
            ),
        ),
        (
            "systemd/cat/gunicorn.service",
            include_bytes!("../../tests/bundles/i1-socket-mismatch/systemd/cat/gunicorn.service"),
        ),
        (
            "systemd/show/gunicorn.service.txt",
            include_bytes!(
                "../../tests/bundles/i1-socket-mismatch/systemd/show/gunicorn.service.txt"
            ),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/i1-socket-mismatch/systemd/units.json"),
        ),
    ],
};

const I2_IMPORT_TIME_SETTING: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/i2-import-time-setting/manifest.toml"),
    files: &[
        (
            "journal/journal.json",
            include_bytes!("../../tests/bundles/i2-import-time-setting/journal/journal.json"),
        ),
        (
            "nginx/access.log",
            include_bytes!("../../tests/bundles/i2-import-time-setting/nginx/access.log"),
        ),
        (
            "nginx/error.log",
            include_bytes!("../../tests/bundles/i2-import-time-setting/nginx/error.log"),
        ),
        (
            "nginx/nginx-T.txt",
            include_bytes!("../../tests/bundles/i2-import-time-setting/nginx/nginx-T.txt"),
        ),
        (
            "sockets/ss.txt",
            include_bytes!("../../tests/bundles/i2-import-time-setting/sockets/ss.txt"),
        ),
        (
            "systemd/cat/gunicorn.service",
            include_bytes!(
                "../../tests/bundles/i2-import-time-setting/systemd/cat/gunicorn.service"
            ),
        ),
        (
            "systemd/show/gunicorn.service.txt",
            include_bytes!(
                "../../tests/bundles/i2-import-time-setting/systemd/show/gunicorn.service.txt"
            ),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/i2-import-time-setting/systemd/units.json"),
        ),
    ],
};

const I3_DAEMON_RELOAD: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/i3-daemon-reload/manifest.toml"),
    files: &[
        (
            "journal/journal.json",
            include_bytes!("../../tests/bundles/i3-daemon-reload/journal/journal.json"),
        ),
        (
            "nginx/access.log",
            include_bytes!("../../tests/bundles/i3-daemon-reload/nginx/access.log"),
        ),
        (
            "nginx/error.log",
            include_bytes!("../../tests/bundles/i3-daemon-reload/nginx/error.log"),
        ),
        (
            "nginx/nginx-T.txt",
            include_bytes!("../../tests/bundles/i3-daemon-reload/nginx/nginx-T.txt"),
        ),
        (
            "sockets/ss.txt",
            include_bytes!("../../tests/bundles/i3-daemon-reload/sockets/ss.txt"),
        ),
        (
            "systemd/cat/gunicorn.service",
            include_bytes!("../../tests/bundles/i3-daemon-reload/systemd/cat/gunicorn.service"),
        ),
        (
            "systemd/cat/gunicorn.socket",
            include_bytes!("../../tests/bundles/i3-daemon-reload/systemd/cat/gunicorn.socket"),
        ),
        (
            "systemd/show/gunicorn.service.txt",
            include_bytes!(
                "../../tests/bundles/i3-daemon-reload/systemd/show/gunicorn.service.txt"
            ),
        ),
        (
            "systemd/show/gunicorn.socket.txt",
            include_bytes!("../../tests/bundles/i3-daemon-reload/systemd/show/gunicorn.socket.txt"),
        ),
        (
            "systemd/status/gunicorn.socket.txt",
            include_bytes!(
                "../../tests/bundles/i3-daemon-reload/systemd/status/gunicorn.socket.txt"
            ),
        ),
        (
            "systemd/status/gunicorn.txt",
            include_bytes!("../../tests/bundles/i3-daemon-reload/systemd/status/gunicorn.txt"),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/i3-daemon-reload/systemd/units.json"),
        ),
    ],
};

const I4_RETRY_STORM: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/i4-retry-storm/manifest.toml"),
    files: &[
        (
            "app/gunicorn.conf.py",
            include_bytes!("../../tests/bundles/i4-retry-storm/app/gunicorn.conf.py"),
        ),
        (
            "app/worker.log",
            include_bytes!("../../tests/bundles/i4-retry-storm/app/worker.log"),
        ),
        (
            "journal/journal.json",
            include_bytes!("../../tests/bundles/i4-retry-storm/journal/journal.json"),
        ),
        (
            "nginx/access.log",
            include_bytes!("../../tests/bundles/i4-retry-storm/nginx/access.log"),
        ),
        (
            "nginx/error.log",
            include_bytes!("../../tests/bundles/i4-retry-storm/nginx/error.log"),
        ),
        (
            "nginx/nginx-T.txt",
            include_bytes!("../../tests/bundles/i4-retry-storm/nginx/nginx-T.txt"),
        ),
        (
            "sockets/ss.txt",
            include_bytes!("../../tests/bundles/i4-retry-storm/sockets/ss.txt"),
        ),
        (
            "systemd/cat/gunicorn.service",
            include_bytes!("../../tests/bundles/i4-retry-storm/systemd/cat/gunicorn.service"),
        ),
        (
            "systemd/show/gunicorn.service.txt",
            include_bytes!("../../tests/bundles/i4-retry-storm/systemd/show/gunicorn.service.txt"),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/i4-retry-storm/systemd/units.json"),
        ),
    ],
};

const I5_SINGLE_WORKER_UPLOAD: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/i5-single-worker-upload/manifest.toml"),
    files: &[
        (
            "app/gunicorn.log",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/app/gunicorn.log"),
        ),
        (
            "app/gunicorn.log.1",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/app/gunicorn.log.1"),
        ),
        (
            "journal/journal.json",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/journal/journal.json"),
        ),
        (
            "nginx/access.log",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/access.log"),
        ),
        (
            "nginx/access.log.1",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/access.log.1"),
        ),
        (
            "nginx/access.log.2.gz",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/access.log.2.gz"),
        ),
        (
            "nginx/error.log",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/error.log"),
        ),
        (
            "nginx/error.log.1",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/error.log.1"),
        ),
        (
            "nginx/error.log.2.gz",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/error.log.2.gz"),
        ),
        (
            "nginx/nginx-T.txt",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/nginx/nginx-T.txt"),
        ),
        (
            "platform/nproc.txt",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/platform/nproc.txt"),
        ),
        (
            "sockets/ss.txt",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/sockets/ss.txt"),
        ),
        (
            "systemd/cat/inventory.service",
            include_bytes!(
                "../../tests/bundles/i5-single-worker-upload/systemd/cat/inventory.service"
            ),
        ),
        (
            "systemd/show/inventory.service.txt",
            include_bytes!(
                "../../tests/bundles/i5-single-worker-upload/systemd/show/inventory.service.txt"
            ),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/i5-single-worker-upload/systemd/units.json"),
        ),
    ],
};

const I6_PIPELINE_PLATFORM: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/i6-pipeline-platform/manifest.toml"),
    files: &[
        (
            "app/cf-logs-ui.txt",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/app/cf-logs-ui.txt"),
        ),
        (
            "app/cf-logs.txt",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/app/cf-logs.txt"),
        ),
        (
            "ci/jobs.json",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/ci/jobs.json"),
        ),
        (
            "ci/pipeline.json",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/ci/pipeline.json"),
        ),
        (
            "ci/workflow.json",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/ci/workflow.json"),
        ),
        (
            "platform/cf-apps.txt",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/platform/cf-apps.txt"),
        ),
        (
            "platform/cf-env.txt",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/platform/cf-env.txt"),
        ),
        (
            "platform/cf-network-policies.txt",
            include_bytes!(
                "../../tests/bundles/i6-pipeline-platform/platform/cf-network-policies.txt"
            ),
        ),
        (
            "platform/cf-revisions.txt",
            include_bytes!("../../tests/bundles/i6-pipeline-platform/platform/cf-revisions.txt"),
        ),
    ],
};

const HEALTHY: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/healthy/manifest.toml"),
    files: &[
        (
            "journal/journal.json",
            include_bytes!("../../tests/bundles/healthy/journal/journal.json"),
        ),
        (
            "nginx/access.log",
            include_bytes!("../../tests/bundles/healthy/nginx/access.log"),
        ),
        (
            "nginx/error.log",
            include_bytes!("../../tests/bundles/healthy/nginx/error.log"),
        ),
        (
            "nginx/nginx-T.txt",
            include_bytes!("../../tests/bundles/healthy/nginx/nginx-T.txt"),
        ),
        (
            "platform/ufw-status.txt",
            include_bytes!("../../tests/bundles/healthy/platform/ufw-status.txt"),
        ),
        (
            "sockets/ss.txt",
            include_bytes!("../../tests/bundles/healthy/sockets/ss.txt"),
        ),
        (
            "systemd/cat/gunicorn.service",
            include_bytes!("../../tests/bundles/healthy/systemd/cat/gunicorn.service"),
        ),
        (
            "systemd/show/gunicorn.service.txt",
            include_bytes!("../../tests/bundles/healthy/systemd/show/gunicorn.service.txt"),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/healthy/systemd/units.json"),
        ),
    ],
};

const RESTART_LOOP: Embedded = Embedded {
    manifest: include_str!("../../tests/bundles/restart-loop/manifest.toml"),
    files: &[
        (
            "journal/journal.json",
            include_bytes!("../../tests/bundles/restart-loop/journal/journal.json"),
        ),
        (
            "nginx/access.log",
            include_bytes!("../../tests/bundles/restart-loop/nginx/access.log"),
        ),
        (
            "nginx/error.log",
            include_bytes!("../../tests/bundles/restart-loop/nginx/error.log"),
        ),
        (
            "nginx/nginx-T.txt",
            include_bytes!("../../tests/bundles/restart-loop/nginx/nginx-T.txt"),
        ),
        (
            "sockets/ss.txt",
            include_bytes!("../../tests/bundles/restart-loop/sockets/ss.txt"),
        ),
        (
            "systemd/cat/orders.service",
            include_bytes!("../../tests/bundles/restart-loop/systemd/cat/orders.service"),
        ),
        (
            "systemd/show/orders.service.txt",
            include_bytes!("../../tests/bundles/restart-loop/systemd/show/orders.service.txt"),
        ),
        (
            "systemd/units.json",
            include_bytes!("../../tests/bundles/restart-loop/systemd/units.json"),
        ),
    ],
};

fn embedded(name: &str) -> Option<&'static Embedded> {
    match name {
        "i1-socket-mismatch" => Some(&I1_SOCKET_MISMATCH),
        "i2-import-time-setting" => Some(&I2_IMPORT_TIME_SETTING),
        "i3-daemon-reload" => Some(&I3_DAEMON_RELOAD),
        "i4-retry-storm" => Some(&I4_RETRY_STORM),
        "i5-single-worker-upload" => Some(&I5_SINGLE_WORKER_UPLOAD),
        "i6-pipeline-platform" => Some(&I6_PIPELINE_PLATFORM),
        "healthy" => Some(&HEALTHY),
        "restart-loop" => Some(&RESTART_LOOP),
        _ => None,
    }
}

/// The embedded bundle called `name` (one of [`NAMES`]) as if read from disk, or `None`.
pub fn bundle(name: &str) -> Option<BundleFiles> {
    let e = embedded(name)?;
    Some(BundleFiles {
        name: format!("embedded bundle {name}"),
        manifest: Some(e.manifest.to_string()),
        entries: e
            .files
            .iter()
            .map(|(path, data)| {
                let (data, notes) = contents(path, data);
                Entry {
                    path: (*path).to_string(),
                    data: Bytes::Owned(data),
                    mtime: None,
                    notes,
                }
            })
            .collect(),
        notes: Vec::new(),
        loose: false,
    })
}

/// A file's bytes as the loader expects them: a `.gz` (a rotated log) decompressed, as reading
/// it from disk does.
fn contents(path: &str, data: &[u8]) -> (Vec<u8>, Vec<String>) {
    if !path.ends_with(".gz") {
        return (data.to_vec(), Vec::new());
    }
    let mut out = Vec::new();
    match MultiGzDecoder::new(data).read_to_end(&mut out) {
        Ok(_) => (out, Vec::new()),
        Err(e) => (out, vec![format!("{path}: cannot decompress: {e}")]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
    }

    /// Every file under `dir`, as paths relative to it with `/` separators.
    fn files_on_disk(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    let rel = p.strip_prefix(base).unwrap();
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(parts.join("/"));
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    #[test]
    fn every_file_on_disk_is_embedded_and_every_bundle_loads() {
        for name in NAMES {
            let files = bundle(name).unwrap();
            let mut embedded: Vec<String> = files.entries.iter().map(|e| e.path.clone()).collect();
            embedded.push("manifest.toml".into());
            embedded.sort();
            let dir = root().join("tests/bundles").join(name);
            assert_eq!(
                embedded,
                files_on_disk(&dir),
                "{name}: the embedded files differ from {}; regenerate src/learn/bundles.rs",
                dir.display()
            );
            let incident = crate::ingest::load_files(files, &Default::default());
            assert!(
                incident.sources.iter().any(|s| s.timed_len() > 0),
                "{name}: no timed record loaded"
            );
            // The same records as reading the directory (a rotated .gz is decompressed too).
            let from_disk =
                crate::ingest::load(std::slice::from_ref(&dir), &Default::default()).unwrap();
            let shape = |i: &crate::model::Incident| -> Vec<(String, usize)> {
                i.sources
                    .iter()
                    .map(|s| (s.file.clone(), s.timed_len()))
                    .collect()
            };
            assert_eq!(shape(&incident), shape(&from_disk), "{name}");
        }
        assert!(bundle("no-such-bundle").is_none());
    }
}
