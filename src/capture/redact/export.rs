//! The journal export format (`journalctl -o export`): entries of `NAME=value` lines and
//! binary fields (`NAME`, a newline, the length as 8 bytes little-endian, the bytes, a
//! newline), an empty line after each entry. Each value is redacted on its own, and a binary
//! field is written again with the length of its redacted bytes, so the stream still reads
//! (with sitrep's reader, [`read_entry`], and journald's).

use crate::ingest::formats::journal_export::read_entry;

use super::Redactor;

/// Does `data` start like an export stream?
pub(super) fn looks_like(data: &[u8]) -> bool {
    data.starts_with(b"__CURSOR=") || data.starts_with(b"__REALTIME_TIMESTAMP=")
}

/// Where `part` (a slice of `data`) begins in `data`.
fn offset(data: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(data.as_ptr() as usize)
}

/// Fields journald fills in itself (times, ids, numbers): never a secret, and a timestamp
/// could pass for a card number.
fn journal_own(name: &[u8]) -> bool {
    name.starts_with(b"__")
        || name.ends_with(b"_TIMESTAMP")
        || name.ends_with(b"_ID")
        || matches!(
            name,
            b"_PID" | b"_UID" | b"_GID" | b"PRIORITY" | b"SYSLOG_FACILITY" | b"_TRANSPORT"
        )
}

const STREAM: [&[u8]; 3] = [b"_SYSTEMD_UNIT", b"SYSLOG_IDENTIFIER", b"_PID"];

pub(super) fn redact(red: &mut Redactor, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut pos = 0;
    while pos < data.len() {
        let (fields, next, _) = read_entry(data, pos);
        let next = next.clamp(pos + 1, data.len());
        let Some(last) = fields.last() else {
            out.extend_from_slice(&data[pos..next]);
            pos = next;
            continue;
        };
        let tail = (offset(data, last.1) + last.1.len() + 1).min(next);
        let mut stream = Vec::new();
        for (name, value) in &fields {
            if STREAM.contains(name) {
                stream.extend_from_slice(value);
                stream.push(0);
            }
        }
        let mut entry = Vec::with_capacity(next - pos);
        let mut changed = false;
        for (name, value) in &fields {
            let mut v = if journal_own(name) {
                value.to_vec()
            } else {
                red.redact_nested(value)
            };
            if *name == b"MESSAGE"
                && let Some(k) = red.key_lines(&stream, &v)
            {
                v = k;
            }
            changed |= v != *value;
            let text = data.get(offset(data, name) + name.len()) == Some(&b'=');
            entry.extend_from_slice(name);
            if text && !v.contains(&b'\n') {
                entry.push(b'=');
            } else {
                entry.push(b'\n');
                entry.extend_from_slice(&(v.len() as u64).to_le_bytes());
            }
            entry.extend_from_slice(&v);
            // The byte after the value as it was: a newline, or nothing at the end of a cut
            // stream.
            if let Some(b) = data.get(offset(data, value) + value.len()) {
                entry.push(*b);
            }
        }
        if changed {
            out.extend_from_slice(&entry);
            out.extend_from_slice(&data[tail.max(pos)..next]);
        } else {
            out.extend_from_slice(&data[pos..next]);
        }
        pos = next;
    }
    out
}
