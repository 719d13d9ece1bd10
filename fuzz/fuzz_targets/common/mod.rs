//! What several targets share: a small fixed incident (a 502 and a 200 in nginx's access log,
//! the upstream error behind the 502, a gunicorn worker killed in the journal).

use std::sync::OnceLock;

use sitrep::ingest::bundle::{BundleFiles, Entry};
use sitrep::ingest::{LoadOptions, load_files};
use sitrep::model::Incident;
use sitrep::model::source::Bytes;

/// The files of the incident: bundle path and text.
pub const FILES: &[(&str, &str)] = &[
    (
        "nginx/access.log",
        "10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET /api/books?id=1 HTTP/1.1\" 502 157 \"-\" \"curl/8.0\"\n\
         10.0.0.2 - - [13/Apr/2023:11:24:05 +0000] \"POST /upload HTTP/1.1\" 200 12 \"-\" \"Mozilla/5.0\" 0.120\n",
    ),
    (
        "nginx/error.log",
        "2023/04/13 11:24:04 [crit] 812#812: *7 connect() to unix:/run/gunicorn.sock failed (2: No such file or directory) while connecting to upstream, client: 10.0.0.1, server: _, request: \"GET /api/books HTTP/1.1\", upstream: \"http://unix:/run/gunicorn.sock:/api/books\", host: \"example\"\n",
    ),
    (
        "journal/journal.json",
        "{\"__REALTIME_TIMESTAMP\":\"1681385044000000\",\"PRIORITY\":\"3\",\"_SYSTEMD_UNIT\":\"gunicorn.service\",\"SYSLOG_IDENTIFIER\":\"gunicorn\",\"MESSAGE\":\"[ERROR] Worker (pid:42) was sent SIGKILL!\",\"_PID\":\"42\"}\n",
    ),
];

/// The incident every TOML and query target is checked against, built once.
pub fn incident() -> &'static Incident {
    static INC: OnceLock<Incident> = OnceLock::new();
    INC.get_or_init(|| {
        load_files(
            BundleFiles {
                name: "fuzz".into(),
                manifest: Some("captured_at = \"2023-04-13T12:00:00Z\"\n".into()),
                entries: FILES
                    .iter()
                    .map(|(p, t)| Entry {
                        path: (*p).into(),
                        data: Bytes::Owned(t.as_bytes().to_vec()),
                        mtime: None,
                        notes: vec![],
                    })
                    .collect(),
                notes: vec![],
                loose: false,
            },
            &LoadOptions::default(),
        )
    })
}
