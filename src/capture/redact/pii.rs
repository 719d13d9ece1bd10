//! Personal data, replaced only when asked (`capture --redact-pii`, and always in the
//! report): e-mail addresses and payment card numbers (13 to 19 digits, spaces or dashes
//! between them allowed, starting 2 to 6 as card numbers do, and passing the Luhn check, so
//! timestamps and ids mostly stay).

use std::sync::OnceLock;

use regex::bytes::Regex;

/// The suffixes of systemd unit names.
const UNIT_TYPES: [&[u8]; 11] = [
    b"service",
    b"socket",
    b"target",
    b"timer",
    b"mount",
    b"automount",
    b"path",
    b"slice",
    b"scope",
    b"device",
    b"swap",
];

fn email() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        )
        .ok()
    })
    .as_ref()
}

fn card() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b[2-6][0-9](?:[ -]?[0-9]){11,17}\b").ok())
        .as_ref()
}

/// Does the digit string pass the Luhn check?
pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if !i.is_multiple_of(2) {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The spans of personal data in `text`, with their kind, in order, not overlapping.
pub(super) fn spans(text: &[u8]) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    if let Some(re) = email() {
        for m in re.find_iter(text) {
            // A templated systemd unit (`getty@tty1.service`) is no address.
            let unit = m
                .as_bytes()
                .rsplit(|b| *b == b'.')
                .next()
                .is_some_and(|tld| UNIT_TYPES.contains(&tld));
            if !unit {
                out.push((m.start(), m.end(), "email"));
            }
        }
    }
    if let Some(re) = card() {
        for m in re.find_iter(text) {
            let digits: Vec<u8> = m
                .as_bytes()
                .iter()
                .copied()
                .filter(u8::is_ascii_digit)
                .collect();
            // Not part of a decimal, a version or an address (1.4111..., 10.0.4111...).
            let before = m.start().checked_sub(1).map(|i| text[i]);
            let after = text.get(m.end()).copied();
            let glued = matches!(before, Some(b'.' | b',' | b'-' | b'+' | b'/'))
                || matches!(after, Some(b'.' | b','))
                    && text.get(m.end() + 1).is_some_and(u8::is_ascii_digit);
            // Not a journal timestamp (`"__MONOTONIC_TIMESTAMP":"3791234567890"`).
            let head = &text[..m.start()];
            let stamp = [&b"TIMESTAMP\":\""[..], b"TIMESTAMP\": \"", b"TIMESTAMP="]
                .iter()
                .any(|t| head.ends_with(t));
            if (13..=19).contains(&digits.len()) && !glued && !stamp && luhn(&digits) {
                out.push((m.start(), m.end(), "card"));
            }
        }
    }
    out.sort_unstable();
    let mut kept: Vec<(usize, usize, &'static str)> = Vec::with_capacity(out.len());
    for s in out {
        if kept.last().is_none_or(|l| s.0 >= l.1) {
            kept.push(s);
        }
    }
    kept
}
