//! The rules: a regular expression per shape of secret, and how each decides what to replace.

use std::sync::OnceLock;

use regex::bytes::{Captures, Regex};

use super::keys::secret_key;

/// How a rule decides what to replace.
#[derive(Clone, Copy)]
pub(super) enum How {
    /// Replace the first group named `s`, `s1`..`s4` that took part, as this kind.
    Fixed(&'static str),
    /// Group `k` is a key: replace the value only when the key looks secret.
    Keyed,
    /// `Basic xxx`: only when `xxx` decodes to `user:password`.
    Basic,
    /// `Bearer xxx`: only when `xxx` looks like a token, not a word.
    Bearer,
    /// A private key block: the body between BEGIN and END (line breaks kept).
    PrivateKey,
}

pub(super) struct Rule {
    pub(super) re: Regex,
    pub(super) how: How,
}

/// Values end at white space, `&`, a quote or a backslash (so JSON strings stay closed).
const VALUE: &str = r#"(?:\\"(?P<s1>[^"\\\r\n]*)\\"|"(?P<s2>[^"\\\r\n]*)"|'(?P<s3>[^'\\\r\n]*)'|(?P<s4>[^\s&"'\\=\[][^\s&"'\\]*))"#;

pub(super) fn rule_sources() -> Vec<(String, How)> {
    vec![
        // Private key blocks, BEGIN to END, over lines or `\n` escapes (journal JSON).
        (
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?P<s>(?:[A-Za-z0-9+/=:,. \t\r\n-]|\\n|\\r)*?)-----END [A-Z0-9 ]*PRIVATE KEY-----".into(),
            How::PrivateKey,
        ),
        // ... and a block cut before its END: the base64 lines after BEGIN.
        (
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?P<s>(?:[A-Za-z0-9+/=\r\n]|\\n|\\r)+)".into(),
            How::PrivateKey,
        ),
        // Header values, as in header dumps, Python dicts, curl -H.
        (
            r#"(?i)\b(?P<k>proxy-authorization|authorization|set-cookie|cookie|x-api-key|x-auth-token)\\?["']?[ \t]*:[ \t]*\\?["']?(?P<s>[^\r\n"'\\]*[^\s"'\\])"#.into(),
            How::Keyed,
        ),
        // user:password@ in URLs.
        (
            r#"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@"'\\]*:(?P<s>[^/\s@"'\\]+)@"#.into(),
            How::Fixed("url-credentials"),
        ),
        (
            r"\b(?P<s>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)".into(),
            How::Fixed("jwt"),
        ),
        (
            r"(?i)\bbearer[ \t]+(?P<s>[A-Za-z0-9._~+/-]+=*)".into(),
            How::Bearer,
        ),
        (
            r"(?i)\bbasic[ \t]+(?P<s>[A-Za-z0-9+/]{6,}={0,2})".into(),
            How::Basic,
        ),
        (
            r"\b(?P<s>(?:AKIA|ASIA)[0-9A-Z]{16})\b".into(),
            How::Fixed("aws-key"),
        ),
        (
            r#"(?i)aws_secret_access_key\\?["']?[ \t]*[=:][ \t]*\\?["']?(?P<s>[A-Za-z0-9/+=]{40})"#
                .into(),
            How::Fixed("aws-key"),
        ),
        (
            r"\b(?P<s>gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})".into(),
            How::Fixed("token"),
        ),
        (
            r"\b(?P<s>xox[baprs]-[A-Za-z0-9-]{10,})".into(),
            How::Fixed("token"),
        ),
        // Command lines: --password=x, --db-password x, mysql -px, sshpass -p x.
        (
            r#"(?:^|[\s"'])--(?:[A-Za-z0-9]+-)*(?:password|passwd|pass|token|secret|api-key)(?:=|[ \t]+)(?P<s>[^\s"'\\]+)"#.into(),
            How::Fixed("password"),
        ),
        (
            r#"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\r\n"]*?[ \t]-p(?P<s>[^\s"'\\]+)"#.into(),
            How::Fixed("password"),
        ),
        (
            r#"\bsshpass[ \t]+-p[ \t]*(?P<s>[^\s"'\\]+)"#.into(),
            How::Fixed("password"),
        ),
        // "key": "value" (JSON, Python dicts, JSON inside a journal MESSAGE).
        (
            r#"\\?["'](?P<k>[A-Za-z_][A-Za-z0-9_.-]*)\\?["'][ \t]*:[ \t]*(?:\\"(?P<s1>[^"\\\r\n]*)\\"|"(?P<s2>(?:[^"\\\r\n]|\\[^\r\n])*)"|'(?P<s3>[^'\\\r\n]*)')"#.into(),
            How::Keyed,
        ),
        // key=value: query strings, forms, environment, logfmt, Python settings.
        (
            format!(
                r#"(?m)(?:^|[\s?&;"'(,{{\[=])(?:export[ \t]+)?(?P<k>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*{VALUE}"#
            ),
            How::Keyed,
        ),
        // KEY: value at the start of a line (YAML, env dumps).
        (
            r"(?m)^[ \t]*(?P<k>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:[ \t]+(?P<s>[^\s#][^\r\n]*[^\s]|[^\s#])".into(),
            How::Keyed,
        ),
    ]
}

pub(super) fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        rule_sources()
            .into_iter()
            .filter_map(|(src, how)| Regex::new(&src).ok().map(|re| Rule { re, how }))
            .collect()
    })
}

/// Does `s` decode as base64 to `user:password`?
fn basic_credentials(s: &[u8]) -> bool {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return false,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out.contains(&b':') && out.iter().all(|b| (0x20..0x7f).contains(b))
}

/// A bearer value that is a token, not an English word after "bearer".
fn token_like(s: &[u8]) -> bool {
    s.len() >= 20 || (s.len() >= 8 && s.iter().any(u8::is_ascii_digit))
}

/// The span to replace and its kind, or `None` when the match is no secret.
pub(super) fn decide(how: How, c: &Captures, text: &[u8]) -> Option<(usize, usize, &'static str)> {
    let value = ["s", "s1", "s2", "s3", "s4"]
        .iter()
        .find_map(|n| c.name(n))?;
    let v = value.as_bytes();
    if v.is_empty() || v.starts_with(b"[REDACTED:") {
        return None;
    }
    let kind = match how {
        How::Fixed(kind) => kind,
        How::Keyed => {
            let key = std::str::from_utf8(c.name("k")?.as_bytes()).ok()?;
            secret_key(key)?
        }
        How::Basic => {
            if !basic_credentials(v) {
                return None;
            }
            "authorization"
        }
        How::Bearer => {
            let glued = text
                .get(value.end())
                .is_some_and(|b| b.is_ascii_alphanumeric());
            if glued || !token_like(v) {
                return None;
            }
            "token"
        }
        How::PrivateKey => {
            // Keep the line breaks (or `\n` escapes) around the body.
            let (mut s, mut e) = (value.start(), value.end());
            let breaks = |b: &[u8]| -> usize {
                if b.starts_with(b"\r\n") || b.starts_with(b"\\n") || b.starts_with(b"\\r") {
                    2
                } else {
                    usize::from(b.starts_with(b"\n"))
                }
            };
            let lead = breaks(&text[s..e]);
            s += lead;
            for tail in [&b"\r\n"[..], b"\\n", b"\n"] {
                if text[s..e].ends_with(tail) {
                    e -= tail.len();
                    break;
                }
            }
            if s >= e {
                return None;
            }
            return Some((s, e, "private-key"));
        }
    };
    Some((value.start(), value.end(), kind))
}
