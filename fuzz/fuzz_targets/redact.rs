//! Redaction of any text: it never panics, keeps the line count (a journal export stream
//! keeps its entries instead), and a line that is a JSON object stays one, with the same keys.
//!
//! Input: byte 0 picks the options: bit 0 `--redact-ips`, bit 1 `--redact-pii`, bit 2 wraps
//! each line of the rest as the MESSAGE of a journal JSON line (bit 3: as an array of bytes,
//! as journald writes text with colour codes). The rest is the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::capture::redact::Redactor;
use sitrep::ingest::formats::journal_export::read_entry;

fn entries(d: &[u8]) -> usize {
    let (mut pos, mut n) = (0, 0);
    while pos < d.len() {
        let (f, next, _) = read_entry(d, pos);
        n += usize::from(!f.is_empty());
        pos = next.max(pos + 1);
    }
    n
}

fn keys(line: &[u8]) -> Option<Vec<String>> {
    match serde_json::from_slice::<serde_json::Value>(line).ok()? {
        serde_json::Value::Object(m) => Some(m.keys().cloned().collect()),
        _ => None,
    }
}

fuzz_target!(|input: &[u8]| {
    let [sel, rest @ ..] = input else {
        return;
    };
    let data: Vec<u8> = if sel & 4 == 0 {
        rest.to_vec()
    } else {
        let mut d = Vec::new();
        for line in rest.split(|b| *b == b'\n') {
            let message = if sel & 8 == 0 {
                serde_json::Value::from(String::from_utf8_lossy(line).into_owned())
            } else {
                serde_json::Value::from(line.iter().map(|b| u64::from(*b)).collect::<Vec<_>>())
            };
            let v = serde_json::json!({
                "__REALTIME_TIMESTAMP": "1681385044000000",
                "_SYSTEMD_UNIT": "app.service",
                "MESSAGE": message,
            });
            d.extend_from_slice(v.to_string().as_bytes());
            d.push(b'\n');
        }
        d
    };
    let mut r = if sel & 1 == 0 {
        Redactor::new()
    } else {
        Redactor::with_ips()
    }
    .with_pii(sel & 2 != 0);
    let out = r.redact_bytes(&data);
    if data.starts_with(b"__CURSOR=") || data.starts_with(b"__REALTIME_TIMESTAMP=") {
        assert_eq!(entries(&out), entries(&data), "export entries lost");
        return;
    }
    let lines = |d: &[u8]| d.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines(&out), lines(&data), "line count changed");
    let before: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let after: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
    for (a, b) in before.iter().zip(&after) {
        if let Some(k) = keys(a) {
            assert_eq!(keys(b), Some(k), "a JSON line is no longer the same JSON object");
        }
    }
});
