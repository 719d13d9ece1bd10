//! The checklist's ticks and notes, kept per bundle in the state directory
//! (`$XDG_STATE_HOME/sitrep/checklists/`, else `~/.local/state/sitrep/checklists/`), in a file
//! named by a hash of the bundle's content, so reopening the same incident finds them again.
//! Nothing is ever written into the bundle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::Incident;

/// What a person marked on one step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Mark {
    fn is_empty(&self) -> bool {
        !self.done && !self.skipped && self.note.is_empty()
    }
}

/// A record marked as evidence (`m`), with the note written on it (`a`), if any. Named by file,
/// line and time, so it is found again whatever order the sources load in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordNote {
    pub file: String,
    pub line: u32,
    /// RFC 3339, UTC.
    pub time: String,
    /// The record's first line, as it was.
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One incident's progress: the runbook last open, the checklist's marks keyed
/// `runbook/step`, and the records marked as evidence with their notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    #[serde(default)]
    pub marks: BTreeMap<String, Mark>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordNote>,
}

impl Progress {
    pub fn mark(&self, runbook: &str, step: &str) -> Mark {
        self.marks
            .get(&format!("{runbook}/{step}"))
            .cloned()
            .unwrap_or_default()
    }

    pub fn set(&mut self, runbook: &str, step: &str, mark: Mark) {
        let key = format!("{runbook}/{step}");
        if mark.is_empty() {
            self.marks.remove(&key);
        } else {
            self.marks.insert(key, mark);
        }
    }
}

/// The state directory sitrep keeps progress in.
pub fn dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("sitrep/checklists"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/sitrep/checklists"))
}

/// A 64-bit hash of every source's name and bytes, as 16 hex digits: the same files give the
/// same key wherever the bundle is unpacked.
pub fn content_key(incident: &Incident) -> String {
    let mut h = Hasher::default();
    for s in &incident.sources {
        h.write(s.file.as_bytes());
        h.write(&(s.data.len() as u64).to_le_bytes());
        // A window at a time, each handed back once hashed: the key costs no memory.
        h.write_in_pieces(&s.data, 16 << 20, || s.release_pages());
    }
    format!("{:016x}", h.finish())
}

/// A fast non-cryptographic hash (a word at a time, multiply and rotate): it only tells
/// bundles apart, it guards nothing.
struct Hasher {
    state: u64,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher {
            state: 0x243f_6a88_85a3_08d3,
        }
    }
}

impl Hasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn word(&mut self, w: u64) {
        self.state = (self.state ^ w).wrapping_mul(Self::K).rotate_left(29);
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
    }

    /// The same as [`Hasher::write`], `piece` bytes (a multiple of 8) at a time, calling
    /// `done` after each.
    fn write_in_pieces(&mut self, bytes: &[u8], piece: usize, mut done: impl FnMut()) {
        let piece = (piece / 8).max(1) * 8;
        let mut at = 0;
        while bytes.len() - at > piece {
            for c in bytes[at..at + piece].chunks_exact(8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                self.word(u64::from_le_bytes(w));
            }
            at += piece;
            done();
        }
        self.write(&bytes[at..]);
        done();
    }

    fn finish(&self) -> u64 {
        let mut x = self.state;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

/// Where one incident's progress is kept.
#[derive(Debug, Clone)]
pub struct Store {
    pub path: PathBuf,
}

impl Store {
    pub fn for_key(dir: &Path, key: &str) -> Store {
        Store {
            path: dir.join(format!("{key}.json")),
        }
    }

    /// The saved progress; none saved yet is empty. A damaged file is an error for the caller
    /// to show; it stays as it is until the next save.
    pub fn load(&self) -> Result<Progress, String> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| format!("{}: unreadable progress ({e})", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Save, replacing the file in one step ([`crate::partial_file`]).
    pub fn save(&self, progress: &Progress) -> Result<(), String> {
        let fail =
            |e: std::io::Error| format!("{}: cannot save progress ({e})", self.path.display());
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let text = serde_json::to_string_pretty(progress)
            .map_err(|e| format!("cannot encode progress: {e}"))?;
        crate::partial_file::write(&self.path, text.as_bytes()).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_survives_a_save_and_a_load() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::for_key(dir.path(), "abc");
        assert_eq!(store.load().unwrap(), Progress::default());
        let mut p = Progress {
            runbook: Some("bad-gateway-502".into()),
            ..Progress::default()
        };
        p.set(
            "bad-gateway-502",
            "app-listening",
            Mark {
                done: true,
                skipped: false,
                note: "checked by hand".into(),
            },
        );
        store.save(&p).unwrap();
        assert_eq!(store.load().unwrap(), p);
        // Clearing a mark removes it.
        p.set("bad-gateway-502", "app-listening", Mark::default());
        assert!(p.marks.is_empty());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::for_key(dir.path(), "abc");
        std::fs::write(&store.path, "{not json").unwrap();
        assert!(store.load().unwrap_err().contains("unreadable"));
    }

    #[test]
    fn hashing_in_pieces_gives_the_key_hashing_at_once_gives() {
        // Keys of progress saved before hashing went by pieces still find it.
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 7, 8, 9, 64, 999, 1000] {
            let mut whole = Hasher::default();
            whole.write(&data[..len]);
            for piece in [8, 16, 24, 1000] {
                let mut pieces = Hasher::default();
                let mut calls = 0;
                pieces.write_in_pieces(&data[..len], piece, || calls += 1);
                assert_eq!(pieces.finish(), whole.finish(), "len {len} piece {piece}");
                assert_eq!(
                    calls,
                    len.saturating_sub(1) / piece + 1,
                    "len {len} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn the_key_depends_on_content_not_location() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles");
        let load = |p: PathBuf| crate::ingest::load(&[p], &Default::default()).unwrap();
        let a = load(root.join("i1-socket-mismatch"));
        let b = load(root.join("i2-import-time-setting"));
        let copy = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(root.join("i1-socket-mismatch"))
            .arg(copy.path().join("moved"))
            .status()
            .unwrap();
        assert!(status.success());
        let c = load(copy.path().join("moved"));
        assert_eq!(content_key(&a), content_key(&c));
        assert_ne!(content_key(&a), content_key(&b));
    }
}
