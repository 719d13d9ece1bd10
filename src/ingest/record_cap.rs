//! How many records a source and a bundle may hold.
//!
//! Bytes are bounded where files are read (`Limits`), but a small file of very short lines is
//! many records: 2 GiB of `a\n` is a billion, and each record costs its columns (about 22
//! bytes: start, line, time, severity, flags) plus its place in the timeline. So each file
//! keeps at most [`PER_SOURCE`] lines and each bundle [`PER_BUNDLE`], the newest: a log's last
//! lines are the ones nearest the incident. What is left out is said in a note.

use super::bundle::Entry;

/// Most records one file keeps.
pub const PER_SOURCE: usize = 10_000_000;
/// Most records one bundle (one host) keeps, all files together.
pub const PER_BUNDLE: usize = 30_000_000;

/// Where reading starts in one file: its last lines only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Byte offset of the first line kept.
    pub from: usize,
    /// Lines left out before it.
    pub skipped: usize,
}

/// Lines of `data` (a last line without its newline counts).
fn lines(data: &[u8]) -> usize {
    let n = memchr::memchr_iter(b'\n', data).count();
    n + usize::from(!data.is_empty() && !data.ends_with(b"\n"))
}

/// Byte offset where the last `keep` lines of `data` begin (`keep` > 0).
fn tail_start(data: &[u8], keep: usize) -> usize {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    memchr::memrchr_iter(b'\n', body)
        .nth(keep - 1)
        .map_or(0, |i| i + 1)
}

/// The cut of each entry (in reading order, the newest last) under `per_source` and
/// `per_bundle`; notes for what is left out. A file is counted only when it could pass a
/// bound (it has more bytes than the bound has lines).
pub fn plan(
    entries: &[Entry],
    per_source: usize,
    per_bundle: usize,
    notes: &mut Vec<String>,
) -> Vec<Option<Cut>> {
    let total_bytes: usize = entries.iter().map(|e| e.data.len()).sum();
    let must_count = |e: &Entry| e.data.len() > per_source || total_bytes > per_bundle;
    let counts: Vec<usize> = entries
        .iter()
        .map(|e| {
            if must_count(e) {
                match &e.data {
                    // Counted a window at a time, each handed back once counted, so a big
                    // file's pages never all sit in memory at once.
                    crate::model::source::Bytes::Mapped(m) => {
                        super::reclaim::scan_mapped(m, |chunk| {
                            memchr::memchr_iter(b'\n', chunk).count()
                        })
                        .into_iter()
                        .sum::<usize>()
                            + usize::from(!e.data.is_empty() && !e.data.ends_with(b"\n"))
                    }
                    _ => lines(&e.data),
                }
            } else {
                e.data.len()
            }
        })
        .collect();
    let mut left = per_bundle;
    let mut cuts = vec![None; entries.len()];
    let mut bundle_cut = 0usize;
    // The newest files first: they hold the incident.
    for i in (0..entries.len()).rev() {
        let e = &entries[i];
        let n = if must_count(e) {
            counts[i]
        } else {
            // Fewer lines than the bounds: only the bundle's budget needs the real count.
            counts[i].min(per_source)
        };
        let keep = n.min(per_source).min(left);
        left -= keep.min(left);
        if keep == n || !must_count(e) {
            continue;
        }
        let skipped = n - keep;
        let by_bundle = keep < n.min(per_source);
        if by_bundle {
            bundle_cut += skipped;
        }
        let from = if keep == 0 {
            e.data.len()
        } else {
            tail_start(&e.data, keep)
        };
        cuts[i] = Some(Cut { from, skipped });
        notes.push(format!(
            "{}: {n} lines; kept the last {keep} (at most {} per {}); the first {skipped} are not read",
            e.path,
            if by_bundle { per_bundle } else { per_source },
            if by_bundle { "bundle" } else { "file" },
        ));
    }
    if bundle_cut > 0 {
        notes.push(format!(
            "more than {per_bundle} lines in this bundle: the older files keep fewer ({bundle_cut} lines not read)"
        ));
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::source::Bytes;

    fn entry(path: &str, text: &str) -> Entry {
        Entry {
            path: path.into(),
            data: Bytes::Owned(text.as_bytes().to_vec()),
            mtime: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_last_lines_are_kept_and_the_cut_said() {
        let a = entry("old.log", "1\n2\n3\n4\n5\n");
        let b = entry("new.log", "6\n7\n8");
        let mut notes = Vec::new();
        // Within the bounds: nothing cut, no note.
        assert_eq!(plan(&[entry("x", "1\n2\n")], 10, 10, &mut notes), [None]);
        assert!(notes.is_empty());
        // Per file: old.log keeps its last 2 lines.
        let cuts = plan(&[a, b], 2, 100, &mut notes);
        assert_eq!(
            cuts[0],
            Some(Cut {
                from: 6,
                skipped: 3
            })
        );
        assert_eq!(
            cuts[1],
            Some(Cut {
                from: 2,
                skipped: 1
            })
        );
        assert!(notes[0].starts_with("new.log: 3 lines; kept the last 2 (at most 2 per file)"));
        // Per bundle: the newest file first, the older one keeps what is left.
        let mut notes = Vec::new();
        let a = entry("old.log", "1\n2\n3\n4\n5\n");
        let b = entry("new.log", "6\n7\n8");
        let cuts = plan(&[a, b], 100, 4, &mut notes);
        assert_eq!(cuts[1], None);
        assert_eq!(
            cuts[0],
            Some(Cut {
                from: 8,
                skipped: 4
            })
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("more than 4 lines in this bundle"))
        );
    }
}
