//! IP addresses in text.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Every IPv4 and IPv6 address in `text` that stands alone (not inside a longer word or
/// number): its span and value.
pub(super) fn for_each_ip(text: &[u8], mut f: impl FnMut(usize, usize, IpAddr)) {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        let run_char = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
        if !run_char(c) || (i > 0 && (word(text[i - 1]) || text[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < text.len() && run_char(text[j]) {
            j += 1;
        }
        let run = &text[i..j];
        let after_ok = |end: usize| end >= text.len() || !word(text[end]);
        let mut found = None;
        if run.iter().filter(|b| **b == b':').count() >= 2 {
            // IPv6: the whole run, or without a trailing dot or colon.
            let mut end = j;
            while end > i && matches!(text[end - 1], b'.' | b':') && !text[i..end].ends_with(b"::")
            {
                end -= 1;
            }
            if let Some(ip) = std::str::from_utf8(&text[i..end])
                .ok()
                .and_then(|s| s.parse::<Ipv6Addr>().ok())
                && after_ok(j)
            {
                found = Some((end, IpAddr::V6(ip)));
            }
        }
        if found.is_none() {
            // IPv4: digits and dots from here.
            let mut end = i;
            while end < text.len() && (text[end].is_ascii_digit() || text[end] == b'.') {
                end += 1;
            }
            while end > i && text[end - 1] == b'.' {
                end -= 1;
            }
            if let Some(ip) = std::str::from_utf8(&text[i..end])
                .ok()
                .and_then(|s| s.parse::<Ipv4Addr>().ok())
                && (end >= text.len() || !(word(text[end])))
            {
                found = Some((end, IpAddr::V4(ip)));
            }
        }
        match found {
            Some((end, ip)) => {
                f(i, end, ip);
                i = end;
            }
            None => i = j.max(i + 1),
        }
    }
}
