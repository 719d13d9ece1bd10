//! Private keys logged a line at a time: `-----BEGIN ... PRIVATE KEY-----` in one record and
//! the base64 lines in the records after it (a program printing a key line by line to the
//! journal, one entry per line, or a syslog file where each line has its own prefix). The
//! rules see one text at a time; this keeps, per stream (a unit and process of the journal,
//! or a whole file), whether a key block is open, and replaces the base64 at the end of each
//! line until the END line, or until a line that is no key data.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::bytes::Regex;

use super::rules::BEGIN_KEY;

/// A key is not longer than this many lines (a 16384-bit RSA key is ~190).
const MAX_LINES: u32 = 1000;

fn begin() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(BEGIN_KEY).ok()).as_ref()
}

/// Open key blocks per stream.
#[derive(Debug, Default)]
pub(super) struct KeyBlocks {
    open: HashMap<Vec<u8>, u32>,
}

/// The last word of a line if it is key data: base64, long or clearly not a word.
fn key_data(line: &[u8]) -> Option<(usize, usize)> {
    let end = line.len()
        - line
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    let start = line[..end]
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || *b == b'"')
        .map_or(0, |i| i + 1);
    let w = &line[start..end];
    let b64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let mixed = w.iter().any(u8::is_ascii_digit)
        || w.iter().any(|b| matches!(b, b'+' | b'/' | b'='))
            && w.iter().any(u8::is_ascii_alphabetic);
    (!w.is_empty() && w.iter().all(b64) && (w.len() >= 16 || mixed)).then_some((start, end))
}

/// Line breaks, real or escaped in a JSON string.
const BREAKS: [&[u8]; 5] = [b"\r\n", b"\n", b"\\r\\n", b"\\n", b"\\r"];

/// A key block's body replaced line by line: each line (between real line breaks or `\n`
/// escapes) becomes `[REDACTED:private-key]`, blank lines stay, so the line count holds.
pub(super) fn body(span: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_line = false;
    while i < span.len() {
        let brk = BREAKS.iter().find(|b| span[i..].starts_with(b));
        match brk {
            Some(b) => {
                out.extend_from_slice(b);
                i += b.len();
                in_line = false;
            }
            None => {
                if !in_line {
                    out.extend_from_slice(b"[REDACTED:private-key]");
                    in_line = true;
                }
                i += 1;
            }
        }
    }
    out
}

impl KeyBlocks {
    pub(super) fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.open.clear();
    }

    /// One record's text (one line or several) of `stream`: the text with key data replaced
    /// when a block is open, and how many blocks it redacted into (for the counts).
    pub(super) fn feed(&mut self, stream: &[u8], text: &[u8]) -> Option<(Vec<u8>, u64)> {
        if self.open.is_empty() && memchr::memmem::find(text, b"-----BEGIN ").is_none() {
            return None;
        }
        let mut out = Vec::with_capacity(text.len());
        let mut blocks = 0;
        let mut changed = false;
        for line in text.split_inclusive(|b| *b == b'\n') {
            let lines = self.open.get(stream).copied();
            match lines {
                Some(n) => {
                    let end_at = memchr::memmem::find(line, b"-----END ");
                    let body = &line[..end_at.unwrap_or(line.len())];
                    let data = key_data(body).filter(|_| n < MAX_LINES);
                    match data {
                        Some((s, e)) if !body[s..e].starts_with(b"[REDACTED") => {
                            out.extend_from_slice(&line[..s]);
                            out.extend_from_slice(b"[REDACTED:private-key]");
                            out.extend_from_slice(&line[e..]);
                            changed = true;
                            if n == 0 {
                                blocks += 1;
                            }
                            self.open.insert(stream.to_vec(), n + 1);
                        }
                        _ => {
                            out.extend_from_slice(line);
                            let blank = body.iter().all(u8::is_ascii_whitespace);
                            let header = body.windows(2).any(|w| w == b": ");
                            let done =
                                memchr::memmem::find(body, b"[REDACTED:private-key]").is_some();
                            if !(blank || header || done) || n >= MAX_LINES {
                                self.open.remove(stream);
                            }
                        }
                    }
                    if end_at.is_some() {
                        self.open.remove(stream);
                    }
                }
                None => {
                    out.extend_from_slice(line);
                    let opened = begin().and_then(|re| re.find(line)).is_some_and(|m| {
                        memchr::memmem::find(&line[m.end()..], b"-----END ").is_none()
                    });
                    if opened {
                        self.open.insert(stream.to_vec(), 0);
                    }
                }
            }
        }
        changed.then_some((out, blocks))
    }
}
