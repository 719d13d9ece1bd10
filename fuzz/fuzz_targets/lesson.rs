//! Lesson TOML through the lesson parser; a lesson that reads is linted against a small fixed
//! incident and played: every answer chosen, a record submitted, every hint taken, scored.
//!
//! Input: the text (lossy UTF-8).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sitrep::ingest::bundle::{BundleFiles, Entry};
use sitrep::ingest::{LoadOptions, load_files};
use sitrep::learn::Attempt;
use sitrep::learn::lesson::{lint, parse};
use sitrep::model::Incident;
use sitrep::model::source::Bytes;

const ERROR: &str = "2023/04/13 11:24:04 [crit] 812#812: *7 connect() to unix:/run/gunicorn.sock failed (2: No such file or directory) while connecting to upstream, client: 10.0.0.1\n";
const ACCESS: &str = "10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET /books HTTP/1.1\" 502 157 \"-\" \"curl/8.0\"\n";

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
                manifest: None,
                entries: vec![
                    entry("nginx/error.log", ERROR),
                    entry("nginx/access.log", ACCESS),
                ],
                notes: vec![],
                loose: false,
            },
            &LoadOptions::default(),
        )
    })
}

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let Ok(lesson) = parse(&text) else {
        return;
    };
    let inc = incident();
    let _ = lint(&lesson, inc);
    let n = lesson.objective.len();
    let choices: Vec<usize> = lesson.objective.iter().map(|o| o.choice.len()).collect();
    let mut a = Attempt::new(lesson);
    while a.hint().is_some() {}
    for (i, c) in choices.iter().enumerate() {
        for j in 0..=*c {
            let _ = a.answer(i, j);
        }
    }
    a.toggle_mark((0, 0));
    for i in 0..=n {
        let _ = a.submit(i, inc);
    }
    let _ = a.score();
});
