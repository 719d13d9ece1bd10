//! The redactor: finds secrets in text and replaces the secret part only with
//! `[REDACTED:kind]`, keeping the rest of the line so logs still parse (an access line keeps
//! its quotes, status and time; a JSON line stays valid JSON with the same keys: replacements
//! hold no quote or backslash, a secret never spans a closing quote, and values decoded to be
//! redacted are encoded again); no line is added or removed.
//!
//! One file or stream goes through [`Redactor::redact_bytes`]:
//! - `rules.rs`: a regular expression per shape (key=value, headers, URLs, command lines,
//!   vendor keys, key blocks), and what each replaces; `keys.rs` says which key names are
//!   secret (also bracketed, percent-encoded, numbered);
//! - `json.rs`: values of JSON lines the rules cannot see whole (escaped strings, JSON inside
//!   them, a journal `MESSAGE` stored as an array of bytes);
//! - `private_key.rs`: key blocks logged a line or a journal entry at a time, per stream;
//! - `export.rs`: the journal export format, field by field, lengths rewritten;
//! - `pii.rs`: e-mail addresses and card numbers, with [`Redactor::with_pii`];
//! - `ip.rs`: IP addresses, with [`Redactor::with_ips`].
//!
//! Kinds: `password`, `token`, `cookie`, `authorization`, `jwt`, `url-credentials`,
//! `aws-key`, `private-key`, `env` (a `KEY=value` / `KEY: value` whose upper-case key looks
//! secret), `email` and `card` with [`Redactor::with_pii`], and `ip` with
//! [`Redactor::with_ips`].
//!
//! IP addresses (only with `--redact-ips`): every IPv4 and IPv6 address is replaced except
//! loopback (127.0.0.0/8, ::1), the unspecified addresses (0.0.0.0, ::) and the addresses
//! given to [`Redactor::keep_ips_in`]: capture keeps those named in `nginx -T` (listen,
//! upstream, allow/deny) and the local addresses of listening sockets, so the host's own
//! side of the story still lines up; client and peer addresses go.
//!
//! `corpus` (tests) holds a line for every shape promised, and look-alikes that must stay.

#[cfg(test)]
mod corpus;
mod export;
mod ip;
mod json;
mod keys;
mod pii;
mod private_key;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

pub use keys::secret_key;
use rules::{Rule, decide, rules};

/// Replaces secrets, counting them per kind.
#[derive(Debug, Default)]
pub struct Redactor {
    counts: BTreeMap<&'static str, u64>,
    ips: bool,
    pii: bool,
    keep: HashSet<IpAddr>,
    /// Key blocks open per stream, within one [`Redactor::redact_bytes`].
    blocks: private_key::KeyBlocks,
    /// How deep in JSON inside JSON strings.
    depth: u8,
}

/// JSON in a JSON string in a JSON string...: decoded this many levels down.
const MAX_DEPTH: u8 = 4;

impl Redactor {
    /// Secrets only; IP addresses are kept.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Secrets and IP addresses (except loopback, unspecified and kept ones).
    pub fn with_ips() -> Redactor {
        Redactor {
            ips: true,
            ..Redactor::default()
        }
    }

    /// Also replace e-mail addresses and payment card numbers (`--redact-pii`, the report).
    pub fn with_pii(mut self, on: bool) -> Redactor {
        self.pii = on;
        self
    }

    /// Keep every IP address found in `text` (the host's own: nginx -T, listeners).
    pub fn keep_ips_in(&mut self, text: &str) {
        ip::for_each_ip(text.as_bytes(), |_, _, ip| {
            self.keep.insert(ip);
        });
    }

    pub fn keep_ip(&mut self, ip: IpAddr) {
        self.keep.insert(ip);
    }

    /// Replacements made so far, per kind.
    pub fn counts(&self) -> &BTreeMap<&'static str, u64> {
        &self.counts
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn redact_text(&mut self, text: &str) -> String {
        let out = self.redact_bytes(text.as_bytes());
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Redact one file or stream. Bytes that are not UTF-8 pass through unchanged; a journal
    /// export stream is redacted field by field; JSON lines stay JSON lines.
    pub fn redact_bytes(&mut self, data: &[u8]) -> Vec<u8> {
        self.blocks.clear();
        let out = if export::looks_like(data) {
            export::redact(self, data)
        } else {
            self.redact_lines(data)
        };
        self.blocks.clear();
        out
    }

    /// Text: the rules over the whole of it, then line by line JSON values and key blocks
    /// logged a line at a time (the whole text is one stream).
    fn redact_lines(&mut self, data: &[u8]) -> Vec<u8> {
        let cur = self.redact_value(data);
        let mut out = Vec::with_capacity(cur.len());
        for line in cur.split_inclusive(|b| *b == b'\n') {
            let redacted = if json::is_object(line) {
                json::redact_line(self, line)
            } else {
                self.key_lines(b"", line)
            };
            out.extend_from_slice(redacted.as_deref().unwrap_or(line));
        }
        out
    }

    /// A value decoded from inside a record (a JSON string, an export field): rules, and the
    /// JSON lines it holds, a few levels deep.
    fn redact_nested(&mut self, data: &[u8]) -> Vec<u8> {
        if self.depth >= MAX_DEPTH {
            return self.redact_value(data);
        }
        self.depth += 1;
        let cur = self.redact_value(data);
        let mut out = Vec::with_capacity(cur.len());
        for line in cur.split_inclusive(|b| *b == b'\n') {
            match json::redact_line(self, line) {
                Some(l) => out.extend_from_slice(&l),
                None => out.extend_from_slice(line),
            }
        }
        self.depth -= 1;
        out
    }

    /// Key data in one record of `stream` while a key block is open there.
    fn key_lines(&mut self, stream: &[u8], text: &[u8]) -> Option<Vec<u8>> {
        let (out, blocks) = self.blocks.feed(stream, text)?;
        if blocks > 0 {
            *self.counts.entry("private-key").or_insert(0) += blocks;
        }
        Some(out)
    }

    /// The rules, personal data (when asked) and IP addresses (when asked) over `data`.
    fn redact_value(&mut self, data: &[u8]) -> Vec<u8> {
        let mut cur = data.to_vec();
        let matched = rules::rule_set().map(|set| set.matches(data));
        for (i, rule) in rules().iter().enumerate() {
            if matched.as_ref().is_some_and(|m| !m.matched(i)) {
                continue;
            }
            if let Some(next) = self.apply(rule, &cur) {
                cur = next;
            }
        }
        if self.pii {
            cur = self.redact_pii(&cur);
        }
        if self.ips {
            cur = self.redact_ips(&cur);
        }
        cur
    }

    fn redact_pii(&mut self, text: &[u8]) -> Vec<u8> {
        let spans = pii::spans(text);
        if spans.is_empty() {
            return text.to_vec();
        }
        let mut out = Vec::with_capacity(text.len());
        let mut last = 0;
        for (s, e, kind) in spans {
            out.extend_from_slice(&text[last..s]);
            out.extend_from_slice(format!("[REDACTED:{kind}]").as_bytes());
            last = e;
            *self.counts.entry(kind).or_insert(0) += 1;
        }
        out.extend_from_slice(&text[last..]);
        out
    }

    /// One rule over `text`; `None` when it changed nothing.
    fn apply(&mut self, rule: &Rule, text: &[u8]) -> Option<Vec<u8>> {
        let mut out: Vec<u8> = Vec::new();
        let mut last = 0;
        let mut pos = 0;
        let mut changed = false;
        while pos <= text.len() {
            let Some(c) = rule.re.captures_at(text, pos) else {
                break;
            };
            let Some(whole) = c.get(0) else { break };
            let Some((start, end, kind)) = decide(rule.how, &c, text) else {
                // Not a secret: look again from just after the key (a key=value can hide
                // another one in its value, as in Environment=SECRET=x).
                let next = c.name("k").map_or(whole.end(), |k| k.end());
                pos = next.max(whole.start() + 1);
                continue;
            };
            if start >= last {
                out.extend_from_slice(&text[last..start]);
                if matches!(rule.how, rules::How::PrivateKey) {
                    out.extend_from_slice(&private_key::body(&text[start..end]));
                } else {
                    out.extend_from_slice(format!("[REDACTED:{kind}]").as_bytes());
                }
                last = end;
                changed = true;
                *self.counts.entry(kind).or_insert(0) += 1;
            }
            pos = whole.end().max(whole.start() + 1);
        }
        if !changed {
            return None;
        }
        out.extend_from_slice(&text[last..]);
        Some(out)
    }

    fn redact_ips(&mut self, text: &[u8]) -> Vec<u8> {
        let mut spans = Vec::new();
        ip::for_each_ip(text, |s, e, ip| {
            if !ip.is_loopback() && !ip.is_unspecified() && !self.keep.contains(&ip) {
                spans.push((s, e));
            }
        });
        if spans.is_empty() {
            return text.to_vec();
        }
        let mut out = Vec::with_capacity(text.len());
        let mut last = 0;
        for (s, e) in spans {
            out.extend_from_slice(&text[last..s]);
            out.extend_from_slice(b"[REDACTED:ip]");
            last = e;
            *self.counts.entry("ip").or_insert(0) += 1;
        }
        out.extend_from_slice(&text[last..]);
        out
    }
}
