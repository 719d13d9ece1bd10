//! Properties over arbitrary input: no parser panics or loses lines, and the merged timeline
//! holds every timed record exactly once, in (time, source, row) order.

#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use sitrep::analysis::timeline::Timeline;
use sitrep::ingest::formats::{Format, ParseCtx, REGISTRY, generic::Generic};
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::source::SourceBuilder;

/// Bytes that look a little like logs: fragments of real shapes mixed with noise.
fn loggy() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"2023/04/13 11:24:04 [error] 1#1: *2 x, client: 1".to_vec()),
        Just(
            b"10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 502 1 \"-\" \"-\""
                .to_vec()
        ),
        Just(b"{\"__REALTIME_TIMESTAMP\":\"1681385044000000\",\"MESSAGE\":[27,91]}".to_vec()),
        Just(b"Apr 13 11:24:04 web1 gunicorn[1]: Traceback (most recent call last):".to_vec()),
        Just(b"[2023-04-13 11:19:27 +0000] [1] [CRITICAL] WORKER TIMEOUT".to_vec()),
        Just(b"__CURSOR=s=1;t=5f9\nMESSAGE\n\xff\xff".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"  File \"x.py\", line 1".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_and_cover_every_line(data in loggy()) {
        let lines = data.split(|b| *b == b'\n').count() - usize::from(data.ends_with(b"\n") || data.is_empty());
        for f in REGISTRY.iter().chain([&Generic as &dyn Format].iter()) {
            let mut b = SourceBuilder::default();
            f.parse(&data, &ParseCtx::default(), &mut b);
            // Records start in order, inside the data, and account for every line.
            prop_assert!(b.starts.windows(2).all(|w| w[0] < w[1]), "{}", f.id());
            prop_assert!(b.starts.iter().all(|s| (*s as usize) < data.len().max(1)));
            if !matches!(f.id().as_str(), "journal-export") {
                prop_assert_eq!(b.stats.records + b.stats.continuations, lines, "{}", f.id());
            }
            let _ = f.render(&data);
        }
    }

    #[test]
    fn merge_keeps_every_record_in_order(
        files in proptest::collection::vec(proptest::collection::vec((0u32..50, 0u8..3), 0..40), 1..5)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut expected = 0;
        for (i, recs) in files.iter().enumerate() {
            let mut text = String::new();
            for (sec, kind) in recs {
                let level = ["info", "error", "warn"][*kind as usize];
                text.push_str(&format!("[2023-04-13 11:20:{sec:02} +0000] [7] [{level}] record\n"));
                expected += 1;
            }
            std::fs::write(dir.path().join(format!("gunicorn{i}.log")), text).unwrap();
        }
        let inc = load(&[dir.path().to_path_buf()], &LoadOptions::default()).unwrap();
        let tl = Timeline::all(&inc.sources);
        prop_assert_eq!(tl.len(), expected);
        let keys: Vec<_> = tl.entries.iter().map(|e| {
            let s = &inc.sources[e.source as usize];
            (s.ts[e.row as usize], e.source, e.row)
        }).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}

/// Bundle file names that lead the sniffer to each family of formats.
const NAMES: &[&str] = &[
    "nginx/access.log",
    "nginx/error.log",
    "nginx/nginx-T.txt",
    "journal/journal.json",
    "sockets/ss.txt",
    "systemd/units.json",
    "systemd/show/gunicorn.service.txt",
    "systemd/cat/gunicorn.service",
    "app/gunicorn.log",
    "ci/pipeline.json",
    "platform/revisions.txt",
    "platform/env.txt",
];

/// A real archive (the I-1 bundle, packed once) to damage.
fn i1_archive() -> &'static [u8] {
    static ARCHIVE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bundles/i1-socket-mismatch");
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all(".", dir).unwrap();
        tar.into_inner().unwrap().finish().unwrap()
    })
}

/// TOML-like text: real keys and brackets mixed with noise.
fn tomlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("id = \"x\"\n".to_string()),
        Just("title = \"t\"\n".to_string()),
        Just("[[step]]\n".to_string()),
        Just("[[objective]]\n".to_string()),
        Just("check = { rule = \"upstream-unreachable\" }\n".to_string()),
        Just("commands = [\"ss -ltnp\", \"{{unit}}\"]\n".to_string()),
        Just("next = \"a\"\n".to_string()),
        Just("bundle = \"i1-socket-mismatch\"\n".to_string()),
        Just("[keys]\nquit = \"Q\"\n".to_string()),
        Just("theme = \"light\"\n".to_string()),
        Just("\"\"\"\n".to_string()),
        ".{0,30}".prop_map(|s| s),
    ];
    proptest::collection::vec(piece, 0..20).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any bytes under any bundle name: loaded, analysed, reported and drawn without a panic.
    #[test]
    fn the_whole_pipeline_takes_any_file(
        files in proptest::collection::vec((0..NAMES.len(), loggy()), 1..4)
    ) {
        use sitrep::ingest::bundle::{BundleFiles, Entry};
        let entries = files
            .into_iter()
            .map(|(i, data)| Entry {
                path: NAMES[i].to_string(),
                data: sitrep::model::source::Bytes::Owned(data),
                mtime: None,
                notes: Vec::new(),
            })
            .collect();
        let inc = sitrep::ingest::load_files(
            BundleFiles { name: "prop".into(), entries, ..BundleFiles::default() },
            &LoadOptions::default(),
        );
        let lib = sitrep::analysis::checklist::Library::load(None, &inc);
        let a = sitrep::analysis::analyse(&inc, lib);
        let report = sitrep::report::render(
            &inc, &a.diagnosis, &a.checklist, &Default::default(), &["prop".to_string()],
        );
        prop_assert!(!report.contains('\x1b'));
        let mut app = sitrep::ui::app::App::new(inc);
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        for action in [
            sitrep::ui::action::Action::Down,
            sitrep::ui::action::Action::Findings,
            sitrep::ui::action::Action::Down,
            sitrep::ui::action::Action::Explain,
        ] {
            app.update(action);
            t.draw(|f| sitrep::ui::draw(f, &mut app, &sitrep::ui::theme::Theme::plain())).unwrap();
        }
    }

    /// A real archive cut anywhere or with bytes changed: read without a panic, never changed.
    #[test]
    fn a_damaged_archive_is_read_or_refused(
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let mut data = i1_archive().to_vec();
        data.truncate(((data.len() as f64) * cut) as usize + 1);
        for (at, b) in flips {
            let i = ((data.len() as f64) * at) as usize;
            if let Some(x) = data.get_mut(i) {
                *x ^= b;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.tar.gz");
        std::fs::write(&path, &data).unwrap();
        let opts = LoadOptions {
            limits: sitrep::ingest::bundle::Limits { max_file: 1 << 20, max_total: 4 << 20 },
            ..LoadOptions::default()
        };
        let _ = load(std::slice::from_ref(&path), &opts);
        prop_assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    /// Runbooks, lessons and config files: an error message or a value, never a panic.
    #[test]
    fn toml_loaders_answer_anything(text in tomlish()) {
        use sitrep::analysis::checklist::runbook::{Origin, parse};
        let ids = sitrep::analysis::checklist::rule_ids();
        if let Err(problems) = parse(&text, Origin::User("prop.toml".into()), &ids) {
            prop_assert!(!problems.is_empty());
        }
        let _ = sitrep::learn::lesson::parse(&text);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).unwrap();
        let _ = sitrep::config::load_from(&path);
        let _ = sitrep::ingest::manifest::Manifest::parse(&text);
        let _ = sitrep::analysis::query::Query::parse(&text);
    }
}

/// Names as a hostile bundle may carry them: escapes, C1 controls, bidi controls, newlines,
/// path separators, dots, emoji, and any character at all.
fn hostile_name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{1b}]52;c;ZXZpbA==\u{7}".to_string()),
        Just("\u{9b}31m".to_string()),
        Just("\u{202e}\u{2066}\u{200f}".to_string()),
        Just("\n\t\r".to_string()),
        Just("../".to_string()),
        Just(".".to_string()),
        Just("\u{1f469}\u{200d}\u{1f4bb}".to_string()),
        "[a-z0-9_.-]{0,12}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The same property as `fuzz/fuzz_targets/names.rs`.
    #[test]
    fn names_come_out_inert_and_file_name_parts_path_safe(s in hostile_name()) {
        use sitrep::text::{FILE_NAME_PART_MAX, file_name_part, name, sanitize, unsafe_char, unsafe_in_name};
        let shown = name(&s);
        prop_assert!(!shown.chars().any(unsafe_in_name), "{:?}", shown);
        prop_assert_eq!(name(&shown), shown.clone());
        prop_assert!(!sanitize(&s).chars().any(unsafe_char));
        let part = file_name_part(&s);
        prop_assert!(!part.is_empty());
        prop_assert!(part.len() <= FILE_NAME_PART_MAX, "{:?}", part);
        prop_assert!(!part.starts_with('.'), "{:?}", part);
        prop_assert!(
            part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
            "{:?}",
            part
        );
    }
}

/// A secret to plant: unlikely anywhere else, with a digit (so it looks like a token).
fn secret() -> impl Strategy<Value = String> {
    "[a-z0-9]{6,14}".prop_map(|s| format!("Zq9{s}"))
}

/// Where a secret sits in a line of text (`{}` is the secret).
const SHAPES: &[&str] = &[
    "password={}",
    "user%5Bpassword%5D={}",
    "token={}&x=1",
    "Authorization: Bearer {}",
    "postgres://app:{}@db/app",
    "mysql -uapp -p{} app",
    "redis-cli -a {} ping",
    "curl -u admin:{} https://api/",
    "--db-password={}",
    "{\"password\": \"{}\"}",
    "QueryDict: {'password1': ['{}']}",
    "DB_PASSWORD={}",
];

/// Where a secret sits in a request line's query.
const QUERY_KEYS: &[&str] = &[
    "password",
    "token",
    "api_key",
    "access_token",
    "sessionid",
    "code",
    "user%5Bpassword%5D",
    "pass%77ord",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A journal JSON line with a secret in its MESSAGE: still JSON with the same keys, one
    /// line, and the secret gone, whatever text is around it.
    #[test]
    fn redaction_keeps_json_lines_json(
        s in secret(),
        shape in 0..SHAPES.len(),
        before in "[ -~]{0,24}",
        after in "[ -~]{0,24}",
        as_bytes in any::<bool>(),
    ) {
        use sitrep::capture::redact::Redactor;
        let msg = format!("{before} {} {after}", SHAPES[shape].replace("{}", &s));
        let message = if as_bytes {
            serde_json::Value::from(msg.bytes().map(u64::from).collect::<Vec<_>>())
        } else {
            serde_json::Value::from(msg.clone())
        };
        let line = serde_json::json!({
            "__REALTIME_TIMESTAMP": "1681385044000000",
            "_SYSTEMD_UNIT": "app.service",
            "PRIORITY": "3",
            "MESSAGE": message,
        })
        .to_string();
        let out = Redactor::new().redact_text(&format!("{line}\n"));
        prop_assert_eq!(out.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let before_v: serde_json::Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(keys(&v), keys(&before_v));
        prop_assert_eq!(&v["__REALTIME_TIMESTAMP"], "1681385044000000");
        let text = match &v["MESSAGE"] {
            serde_json::Value::Array(a) => {
                String::from_utf8_lossy(&a.iter().map(|n| n.as_u64().unwrap() as u8).collect::<Vec<_>>()).into_owned()
            }
            m => m.as_str().unwrap().to_string(),
        };
        prop_assert!(!text.contains(&s), "{} left in {}", s, text);
        prop_assert_eq!(v["MESSAGE"].is_array(), as_bytes);
    }

    /// An nginx access line with a secret in its query, referer or logged header: it still
    /// parses as nginx with the same time and status, and the secret is gone.
    #[test]
    fn redaction_keeps_access_lines_parsing(
        s in secret(),
        key in 0..QUERY_KEYS.len(),
        path in "[a-zA-Z0-9/._-]{0,12}",
        status in prop::sample::select(vec![200u16, 302, 404, 499, 502, 504]),
        place in 0..3usize,
    ) {
        use sitrep::capture::redact::Redactor;
        use sitrep::ingest::formats::{ParseCtx, nginx_access, parse_str};
        let (query, referer, auth) = match place {
            0 => (format!("?{}={s}&page=2", QUERY_KEYS[key]), "-".to_string(), "-".to_string()),
            1 => ("".to_string(), format!("https://bob:{s}@example.org/"), "-".to_string()),
            _ => ("".to_string(), "-".to_string(), format!("Bearer {s}")),
        };
        let line = format!(
            "10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] \"GET /{path}{query} HTTP/1.1\" {status} 12 \"{referer}\" \"curl/8.0\" \"{auth}\"\n"
        );
        let out = Redactor::new().redact_text(&line);
        prop_assert!(!out.contains(&s), "{} left in {}", s, out);
        prop_assert_eq!(out.lines().count(), 1);
        prop_assert!(out.contains(" HTTP/1.1\" "), "{}", out);
        let ctx = ParseCtx::captured_in(2023, 4);
        let a = parse_str(&nginx_access::NginxAccess, &line, &ctx);
        let b = parse_str(&nginx_access::NginxAccess, &out, &ctx);
        prop_assert_eq!(b.stats.records, 1);
        prop_assert_eq!(b.stats.unparsed, 0);
        prop_assert_eq!(&a.ts, &b.ts);
        prop_assert_eq!(&a.sev, &b.sev);
        let request = &out[out.find('"').unwrap()..];
        prop_assert_eq!(nginx_access::bare_request_status(request.as_bytes()), Some(status));
    }

    /// Any text: as many lines out as in, and no panic.
    #[test]
    fn redaction_keeps_the_line_count(data in loggy()) {
        use sitrep::capture::redact::Redactor;
        let out = Redactor::with_ips().with_pii(true).redact_bytes(&data);
        if data.starts_with(b"__CURSOR=") || data.starts_with(b"__REALTIME_TIMESTAMP=") {
            // A journal export stream: binary lengths hold any byte; count its entries.
            use sitrep::ingest::formats::journal_export::read_entry;
            let entries = |d: &[u8]| {
                let (mut pos, mut n) = (0, 0);
                while pos < d.len() {
                    let (f, next, _) = read_entry(d, pos);
                    n += usize::from(!f.is_empty());
                    pos = next.max(pos + 1);
                }
                n
            };
            prop_assert_eq!(entries(&out), entries(&data));
        } else {
            let count = |d: &[u8]| d.iter().filter(|b| **b == b'\n').count();
            prop_assert_eq!(count(&out), count(&data));
        }
    }
}
