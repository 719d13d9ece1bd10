//! JSON lines (`journalctl -o json`, app logs): the values the rules cannot see whole. A
//! string with escapes is decoded, redacted (JSON inside it included, to a few levels) and
//! encoded again; a value journald wrote as an array of bytes (`"MESSAGE":[104,105]`, for
//! text with colour codes or invalid UTF-8) is decoded, redacted and written back as bytes.
//! The line keeps its keys and their order, and stays valid JSON; a value that did not change
//! keeps its bytes.

use super::Redactor;

/// What a top-level value is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Str,
    Bytes,
    Other,
}

/// A top-level field: the key's text (without quotes) and the value's span.
struct Field {
    key: (usize, usize),
    value: (usize, usize),
    kind: Kind,
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end (after the closing quote) of the string starting at `i` (a quote).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// The end of the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The top-level fields of a JSON object line, or `None` when it is not one.
fn fields(b: &[u8]) -> Option<Vec<Field>> {
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b'}') {
        return Some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let ke = string_end(b, i)?;
        let key = (i + 1, ke - 1);
        i = ws(b, ke);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(b, i + 1);
        let ve = value_end(b, i)?;
        let v = &b[i..ve];
        let kind = match v[0] {
            b'"' => Kind::Str,
            b'[' if v.len() > 2
                && v[1..v.len() - 1]
                    .iter()
                    .all(|c| c.is_ascii_digit() || matches!(c, b',' | b' ')) =>
            {
                Kind::Bytes
            }
            _ => Kind::Other,
        };
        out.push(Field {
            key,
            value: (i, ve),
            kind,
        });
        i = ws(b, ve);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b'}') => return Some(out),
            _ => return None,
        }
    }
}

fn bytes_of(v: &[u8]) -> Option<Vec<u8>> {
    std::str::from_utf8(&v[1..v.len() - 1])
        .ok()?
        .split(',')
        .map(|n| n.trim().parse::<u8>().ok())
        .collect()
}

fn bytes_json(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() * 4 + 2);
    out.push(b'[');
    for (i, v) in b.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(v.to_string().as_bytes());
    }
    out.push(b']');
    out
}

/// Does the line look like a JSON object (its first byte that is not blank is `{`)?
pub(super) fn is_object(line: &[u8]) -> bool {
    line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Fields that name a journal stream (which program wrote the record).
const STREAM: [&[u8]; 3] = [b"_SYSTEMD_UNIT", b"SYSLOG_IDENTIFIER", b"_PID"];

/// Redact one JSON object line (after the rules ran over it); `None` when it is not a JSON
/// object or nothing changed.
pub(super) fn redact_line(red: &mut Redactor, line: &[u8]) -> Option<Vec<u8>> {
    if !is_object(line) {
        return None;
    }
    // Most lines hold no escape, no byte array and no key: the rules saw them whole.
    let find = |n: &[u8]| memchr::memmem::find(line, n).is_some();
    if !(line.contains(&b'\\')
        || find(b"\":[")
        || find(b"\": [")
        || find(b"-----BEGIN ")
        || red.blocks.any_open())
    {
        return None;
    }
    let fields = fields(line)?;
    let mut stream = Vec::new();
    for f in &fields {
        if STREAM.contains(&&line[f.key.0..f.key.1]) {
            stream.extend_from_slice(&line[f.value.0..f.value.1]);
            stream.push(0);
        }
    }
    let mut out = Vec::with_capacity(line.len());
    let mut last = 0;
    let mut changed = false;
    for f in &fields {
        let raw = &line[f.value.0..f.value.1];
        let message = &line[f.key.0..f.key.1] == b"MESSAGE";
        let escaped = raw.contains(&b'\\');
        let new = match f.kind {
            Kind::Str if escaped || message => {
                let Ok(text) = serde_json::from_slice::<String>(raw) else {
                    continue;
                };
                let mut t = if escaped {
                    red.redact_nested(text.as_bytes())
                } else {
                    text.clone().into_bytes()
                };
                if message && let Some(k) = red.key_lines(&stream, &t) {
                    t = k;
                }
                if t == text.as_bytes() {
                    continue;
                }
                let s = String::from_utf8_lossy(&t);
                let Ok(json) = serde_json::to_string(&s) else {
                    continue;
                };
                json.into_bytes()
            }
            Kind::Bytes => {
                let Some(b) = bytes_of(raw) else { continue };
                let mut t = red.redact_nested(&b);
                if message && let Some(k) = red.key_lines(&stream, &t) {
                    t = k;
                }
                if t == b {
                    continue;
                }
                bytes_json(&t)
            }
            _ => continue,
        };
        out.extend_from_slice(&line[last..f.value.0]);
        out.extend_from_slice(&new);
        last = f.value.1;
        changed = true;
    }
    if !changed {
        return None;
    }
    out.extend_from_slice(&line[last..]);
    Some(out)
}
