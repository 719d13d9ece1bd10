//! A fleet's journals gathered on one server (systemd-journal-remote writes one `.journal`
//! file or more per host into a directory): read with `journalctl --directory DIR -o json`,
//! split by `_HOSTNAME` into one host each, so the fleet is triaged from there.

use std::path::Path;
use std::time::Duration;

use super::bundle::{BundleFiles, Entry};
use crate::model::source::Bytes;

/// Whether `dir` holds journal files (and no bundle manifest).
pub fn is_store(dir: &Path) -> bool {
    if dir.join("manifest.toml").exists() {
        return false;
    }
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "journal" || x == "journal~")
        })
    })
}

/// The store's entries as one bundle per host (`journal/journal.json` each), or why not.
pub fn read(dir: &Path) -> Result<Vec<BundleFiles>, String> {
    let journalctl = std::env::var("SITREP_JOURNALCTL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "journalctl".into());
    let d = format!("--directory={}", dir.display());
    let never = std::sync::atomic::AtomicBool::new(false);
    let ran = crate::capture::collect::run(
        &journalctl,
        &[&d, "-o", "json", "--no-pager"],
        Duration::from_secs(120),
        &never,
    )?;
    if !ran.success {
        return Err(format!("{journalctl} {d}: {}", ran.reason()));
    }
    // Group the lines by host, keeping their order.
    let mut hosts: Vec<(String, Vec<u8>)> = Vec::new();
    for line in ran.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let host = hostname(line).unwrap_or_else(|| "unknown-host".into());
        let i = match hosts.iter().position(|(h, _)| *h == host) {
            Some(i) => i,
            None => {
                hosts.push((host, Vec::new()));
                hosts.len() - 1
            }
        };
        hosts[i].1.extend_from_slice(line);
        hosts[i].1.push(b'\n');
    }
    let mut notes = Vec::new();
    if ran.cut {
        notes.push(format!(
            "{}: journalctl's output was cut at the size limit",
            dir.display()
        ));
    }
    Ok(hosts
        .into_iter()
        .map(|(host, data)| BundleFiles {
            name: format!("{} ({host})", dir.display()),
            manifest: Some(format!("host = {:?}\n", host)),
            entries: vec![Entry {
                path: "journal/journal.json".into(),
                data: Bytes::Owned(data),
                mtime: None,
                notes: Vec::new(),
            }],
            notes: notes.clone(),
            loose: false,
        })
        .collect())
}

/// The `_HOSTNAME` of a journal JSON line.
fn hostname(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?;
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("_HOSTNAME")?.as_str().map(str::to_string)
}
