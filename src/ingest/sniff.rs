//! Recognise a file's format from its content; the name is only a hint.

use crate::ingest::formats::{Head, REGISTRY};
use crate::model::format_id::FormatId;

/// Below this score no format is sure enough and the file is read as generic.
pub const MIN_SCORE: u8 = 50;

/// The format of `data` (named `name`): the best-scoring format of the registry, the earlier
/// one on a tie; generic when none is sure; unknown for binary data.
pub fn sniff(name: &str, data: &[u8]) -> FormatId {
    sniff_said(name, data).0
}

/// [`sniff`], and a note when over-long lines at the file's start were passed over.
pub fn sniff_said(name: &str, data: &[u8]) -> (FormatId, Option<String>) {
    let head = Head::new(name, data);
    let note = (head.long_lines > 0).then(|| {
        format!(
            "{} line(s) longer than {} KiB at its start were passed over to tell its format",
            head.long_lines,
            crate::ingest::formats::SNIFF_LINE / 1024
        )
    });
    (of_head(&head), note)
}

fn of_head(head: &Head) -> FormatId {
    let mut best = (0u8, FormatId::Generic);
    for f in REGISTRY {
        let s = f.sniff(head);
        if s > best.0 {
            best = (s, f.id());
        }
    }
    if best.0 >= MIN_SCORE {
        return best.1;
    }
    if looks_binary(head.bytes) {
        return FormatId::Unknown;
    }
    FormatId::Generic
}

/// Mostly control bytes (not text) in the first block.
fn looks_binary(b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    let ctrl = b
        .iter()
        .filter(|c| **c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x1b))
        .count();
    ctrl * 10 > b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_and_binary_is_unknown() {
        let line = "2023/04/13 11:24:04 [error] 1#1: *1 connect() failed\n";
        assert_eq!(sniff("access.log", line.as_bytes()), FormatId::NginxError);
        assert_eq!(sniff("x", &[0u8, 1, 2, 3, 4, 5, 200, 7]), FormatId::Unknown);
        assert_eq!(sniff("x", b""), FormatId::Generic);
        assert_eq!(sniff("x", b"hello\nworld\n"), FormatId::Generic);
    }
}
