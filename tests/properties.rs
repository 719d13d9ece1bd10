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
