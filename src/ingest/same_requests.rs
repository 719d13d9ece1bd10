//! One host's requests logged more than once: nginx often writes the same requests to several
//! access logs (a combined log, a timing log, a JSON log: several `access_log` lines in one
//! `server`), and people copy a file twice under two names.
//!
//! - Files with the same bytes are read once ([`drop_copies`]); a note names the copy.
//! - Records of an access log that another access log of the host already holds (same second,
//!   request and status, counted as a multiset so two identical requests in one second stay
//!   two) are flagged [`flag::DUPLICATE`] ([`mark`]): every file stays in the panes, while
//!   counts, findings and the report read each request once.

use std::collections::HashMap;

use crate::ingest::bundle::Entry;
use crate::ingest::formats::{ParseCtx, lookup};
use crate::model::format_id::FormatId;
use crate::model::source::{Source, flag};
use crate::model::time::{MICROS_PER_SEC, UNTIMED};

/// Drop entries whose bytes equal an earlier entry's (reading order); say which in `notes`.
/// Only files of one length are hashed, and only same hashes compared, so a bundle of many
/// files costs one pass over the lengths.
pub fn drop_copies(bundle: &str, entries: &mut Vec<Entry>, notes: &mut Vec<String>) {
    use std::hash::{Hash, Hasher};
    let mut by_len: HashMap<usize, u32> = HashMap::new();
    for e in entries.iter().filter(|e| !e.data.is_empty()) {
        *by_len.entry(e.data.len()).or_insert(0) += 1;
    }
    if by_len.values().all(|n| *n < 2) {
        return;
    }
    // (length, hash) -> indices kept so far.
    let mut kept: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    let mut drop: Vec<(usize, usize)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.data.is_empty() || by_len.get(&e.data.len()).is_none_or(|n| *n < 2) {
            continue;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        e.data.hash(&mut h);
        let slot = kept.entry((e.data.len(), h.finish())).or_default();
        match slot.iter().find(|k| *entries[**k].data == *e.data) {
            Some(k) => drop.push((i, *k)),
            None => slot.push(i),
        }
    }
    const SAID: usize = 10;
    for (i, k) in drop.iter().take(SAID) {
        notes.push(format!(
            "{bundle}/{}: the same bytes as {}: read once",
            entries[*i].path, entries[*k].path
        ));
    }
    if drop.len() > SAID {
        notes.push(format!(
            "{bundle}: {} more files are byte-for-byte copies of others: each read once",
            drop.len() - SAID
        ));
    }
    let gone: std::collections::HashSet<usize> = drop.iter().map(|(i, _)| *i).collect();
    let mut i = 0;
    entries.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
}

/// What makes two access records the same request.
type Key = (i64, String, String);

fn key(source: &Source, row: usize, ctx: &ParseCtx) -> Option<Key> {
    let t = source.ts[row];
    if t == UNTIMED || source.flags[row] & flag::UNPARSED != 0 {
        return None;
    }
    let format = lookup(source.format)?;
    let fields = format.fields(source.raw(row), ctx);
    let get = |names: &[&str]| {
        names.iter().find_map(|n| {
            fields
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let request = get(&["request"])?;
    let status = get(&["status"])?;
    Some((t.div_euclid(MICROS_PER_SEC), request, status))
}

/// Flag the records of this host's access logs that another of its access logs holds; say how
/// many in `notes`. The log with the most records is read first and keeps all of its own.
pub fn mark(sources: &mut [Source], ctx: &ParseCtx, notes: &mut Vec<String>) {
    let mut access: Vec<usize> = (0..sources.len())
        .filter(|i| sources[*i].format == FormatId::NginxAccess)
        .collect();
    if access.len() < 2 {
        return;
    }
    access.sort_by_key(|i| std::cmp::Reverse(sources[*i].len()));
    let mut seen: HashMap<Key, (u32, usize)> = HashMap::new();
    for (n, &i) in access.iter().enumerate() {
        let mut mine: HashMap<Key, u32> = HashMap::new();
        let mut dups = 0usize;
        let mut from: Vec<usize> = Vec::new();
        for row in 0..sources[i].len() {
            let Some(k) = key(&sources[i], row, ctx) else {
                continue;
            };
            let used = mine.entry(k.clone()).or_insert(0);
            *used += 1;
            if n > 0
                && let Some((count, owner)) = seen.get(&k)
                && *used <= *count
            {
                sources[i].flags[row] |= flag::DUPLICATE;
                dups += 1;
                if !from.contains(owner) {
                    from.push(*owner);
                }
            }
        }
        if dups > 0 {
            let names: Vec<&str> = from.iter().map(|o| sources[*o].file.as_str()).collect();
            notes.push(format!(
                "{}: {dups} of {} requests are also in {}: counted once",
                sources[i].file,
                sources[i].len(),
                names.join(", ")
            ));
        }
        for (k, c) in mine {
            let e = seen.entry(k).or_insert((0, i));
            if c > e.0 {
                *e = (c, i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::rules::Context;
    use crate::ingest::{LoadOptions, load};
    use crate::model::format_id::FormatId;

    const LINE: &str = "127.0.0.1 - - [03/Dec/2026:13:30:05 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"curl/7.88\"\n";

    #[test]
    fn requests_two_access_logs_hold_are_counted_once_and_copies_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("nginx")).unwrap();
        // Three identical 502s in one second, in two logs; the second log has one more.
        let three = LINE.repeat(3);
        let four = format!(
            "{three}127.0.0.1 - - [03/Dec/2026:13:30:06 +0000] \"GET /x HTTP/1.1\" 502 157 \"-\" \"curl/7.88\"\n"
        );
        std::fs::write(root.join("nginx/access.log"), &three).unwrap();
        std::fs::write(root.join("nginx/other.log"), &four).unwrap();
        let dump = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n    server {\n        listen 80;\n        location / {\n            proxy_pass http://127.0.0.1:8000;\n        }\n    }\n}\n";
        std::fs::write(root.join("nginx/nginx-T.txt"), dump).unwrap();
        std::fs::write(root.join("nginx/nginx-T.stdout"), dump).unwrap();
        let inc = load(&[root.to_path_buf()], &LoadOptions::default()).unwrap();
        assert_eq!(
            inc.sources
                .iter()
                .filter(|s| s.format == FormatId::NginxConfig)
                .count(),
            1
        );
        assert!(
            inc.notes.iter().any(|n| n
                .ends_with("nginx/nginx-T.txt: the same bytes as nginx/nginx-T.stdout: read once")
                || n.ends_with(
                    "nginx/nginx-T.stdout: the same bytes as nginx/nginx-T.txt: read once"
                )),
            "{:?}",
            inc.notes
        );
        let cx = Context::new(&inc);
        // Every file stays, every request counts once.
        assert_eq!(
            inc.sources
                .iter()
                .filter(|s| s.format == FormatId::NginxAccess)
                .map(|s| s.len())
                .sum::<usize>(),
            7
        );
        assert_eq!(cx.records(&[FormatId::NginxAccess]).count(), 4);
        assert!(
            inc.notes.iter().any(
                |n| n.contains("nginx/access.log: 3 of 3 requests are also in nginx/other.log")
            ),
            "{:?}",
            inc.notes
        );
    }
}
