//! Small text parsers: the bundle manifest, the field query (`status >= 500 and path ~ /api`),
//! a time zone offset, instants and durations as given on the command line.
//!
//! Input: byte 0 picks the parser; the rest is the text (lossy UTF-8). A query that reads is
//! matched against every record of a small fixed incident.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sitrep::analysis::query::Query;
use sitrep::ingest::bundle::{BundleFiles, Entry};
use sitrep::ingest::manifest::Manifest;
use sitrep::ingest::{LoadOptions, load_files};
use sitrep::model::Incident;
use sitrep::model::source::Bytes;
use sitrep::model::time::{Offset, parse_duration, parse_instant};

const FILES: &[(&str, &str)] = &[
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

fn incident() -> &'static Incident {
    static INC: OnceLock<Incident> = OnceLock::new();
    INC.get_or_init(|| {
        load_files(
            BundleFiles {
                name: "fuzz".into(),
                manifest: None,
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
