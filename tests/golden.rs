//! Golden output per bundle of tests/bundles: `sources` (JSON) and the warn-and-worse part of
//! `timeline` (text), from the real binary; plus the facts each bundle's manifest `[expect]`
//! table states, checked against what was loaded.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sitrep::analysis::timeline::Timeline;
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::format_id::FormatId;
use sitrep::model::severity::Severity;
use sitrep::model::time::{format_utc, parse_instant};

fn bundles() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.toml").exists())
        .collect();
    v.sort();
    v
}

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn name(b: &Path) -> String {
    b.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn sources_and_timeline_match_the_golden_output() {
    for b in bundles() {
        let p = b.to_str().unwrap();
        let n = name(&b);
        insta::assert_snapshot!(
            format!("{n}-sources"),
            run(&["sources", p, "--format", "json"])
        );
        let warn = run(&["timeline", p, "--severity", "warn+"]);
        let count = run(&["timeline", p, "--count"]);
        insta::assert_snapshot!(format!("{n}-timeline"), format!("{count}\n{warn}"));
        let diagnosis = run(&["diagnose", p, "--format", "json"]);
        let pretty: serde_json::Value = serde_json::from_str(&diagnosis).unwrap();
        insta::assert_snapshot!(
            format!("{n}-diagnose"),
            serde_json::to_string_pretty(&pretty).unwrap()
        );
    }
}

#[test]
fn the_healthy_bundle_raises_no_alarm() {
    let b = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles/healthy");
    let inc = load(&[b], &LoadOptions::default()).unwrap();
    let d = sitrep::analysis::rules::diagnose(&inc);
    let ids: Vec<&str> = d.findings.iter().map(|f| f.id).collect();
    assert!(ids.is_empty(), "false alarms on a healthy system: {ids:?}");
    assert_eq!(d.incident_start, None);
}

#[test]
fn every_incident_ends_in_its_finding() {
    // The finding each incident of the catalogue must produce (I-1 .. I-6).
    let expected = [
        ("i1-socket-mismatch", "upstream-unreachable"),
        ("i1-socket-mismatch", "upstream-socket-mismatch"),
        ("i1-socket-mismatch", "dev-server-exposed"),
        ("i1-socket-mismatch", "app-boot-failure"),
        ("i2-import-time-setting", "app-boot-failure"),
        ("i2-import-time-setting", "unit-failed"),
        ("i2-import-time-setting", "upstream-unreachable"),
        ("i3-daemon-reload", "daemon-reload-needed"),
        ("i3-daemon-reload", "upstream-socket-mismatch"),
        ("i3-daemon-reload", "socket-missing"),
        ("i3-daemon-reload", "upstream-permission-denied"),
        ("i4-retry-storm", "proxy-timeout-not-above-app"),
        ("i4-retry-storm", "retry-storm"),
        ("i4-retry-storm", "worker-timeout"),
        ("i4-retry-storm", "upstream-timeout"),
        ("i5-single-worker-upload", "too-few-workers"),
        ("i5-single-worker-upload", "worker-timeout"),
        ("i5-single-worker-upload", "upstream-closed-early"),
        ("i5-single-worker-upload", "proxy-timeout-not-above-app"),
        ("i6-pipeline-platform", "dependency-refused"),
        // The lesson bundle of a unit restarting in a loop.
        ("restart-loop", "unit-failed"),
        ("restart-loop", "app-boot-failure"),
    ];
    for (bundle, id) in expected {
        let b = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bundles")
            .join(bundle);
        let inc = load(&[b], &LoadOptions::default()).unwrap();
        let d = sitrep::analysis::rules::diagnose(&inc);
        assert!(
            d.findings.iter().any(|f| f.id == id),
            "{bundle}: no {id} among {:?}",
            d.findings.iter().map(|f| f.id).collect::<Vec<_>>()
        );
    }
}

/// The manifest's `[expect]` table, when the bundle has one.
fn expect(b: &Path) -> toml::Table {
    let text = std::fs::read_to_string(b.join("manifest.toml")).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    t.get("expect")
        .and_then(|e| e.as_table())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn what_each_bundle_states_is_what_sitrep_reads() {
    for b in bundles() {
        let n = name(&b);
        let inc = load(std::slice::from_ref(&b), &LoadOptions::default()).unwrap();
        let exp = expect(&b);
        // Nothing a recognised format should read is left unparsed in our own bundles.
        for s in &inc.sources {
            if n != "awkward" {
                assert_eq!(s.stats.unparsed, 0, "{n}: {} has unparsed lines", s.file);
            }
        }
        let lines_of = |f: FormatId| -> usize {
            inc.sources
                .iter()
                .filter(|s| s.format == f)
                .map(|s| s.stats.records + s.stats.continuations)
                .sum()
        };
        if let Some(v) = exp.get("access_lines").and_then(|v| v.as_integer()) {
            assert_eq!(
                lines_of(FormatId::NginxAccess) as i64,
                v,
                "{n}: access lines"
            );
        }
        if let Some(v) = exp.get("error_lines").and_then(|v| v.as_integer()) {
            assert_eq!(lines_of(FormatId::NginxError) as i64, v, "{n}: error lines");
        }
        if let Some(v) = exp.get("journal_entries").and_then(|v| v.as_integer()) {
            assert_eq!(
                lines_of(FormatId::JournalJson) as i64,
                v,
                "{n}: journal entries"
            );
        }
        let tl = Timeline::all(&inc.sources);
        for key in ["first_error", "first_502", "first_traceback"] {
            let Some(t) = exp.get(key).and_then(|v| v.as_str()) else {
                continue;
            };
            let t = parse_instant(t).unwrap() / 1_000_000;
            let at = tl.seek(t * 1_000_000);
            let hit = (at..tl.len())
                .take_while(|i| tl.time(*i) / 1_000_000 == t)
                .any(|i| {
                    let e = tl.entries[i];
                    inc.sources[e.source as usize].sev[e.row as usize] <= Severity::Warn
                });
            assert!(
                hit,
                "{n}: no warn-or-worse record at {key} {}",
                format_utc(t * 1_000_000)
            );
        }
        if let Some(v) = exp.get("status_502").and_then(|v| v.as_integer()) {
            let count = inc
                .sources
                .iter()
                .filter(|s| s.format == FormatId::NginxAccess)
                .flat_map(|s| (0..s.len()).map(move |r| s.text(r).into_owned()))
                .filter(|t| t.contains("\" 502 ") || t.contains("\"status\":502"))
                .count();
            assert_eq!(count as i64, v, "{n}: 502s");
        }
    }
}

#[test]
fn a_traceback_in_the_journal_is_one_record() {
    let b = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles/i2-import-time-setting");
    let inc = load(&[b], &LoadOptions::default()).unwrap();
    let j = inc
        .sources
        .iter()
        .find(|s| s.format == FormatId::JournalJson)
        .unwrap();
    let row = (0..j.len())
        .find(|r| {
            j.text(*r)
                .contains("ImproperlyConfigured: Requested setting EMAIL_HOST_USER")
        })
        .expect("the ImproperlyConfigured traceback");
    let text = j.text(row);
    assert!(
        text.contains("Traceback (most recent call last):"),
        "{text}"
    );
    assert!(text.contains("app/__init__.py\", line 2"), "{text}");
    assert_eq!(j.sev[row], Severity::Error);
}
