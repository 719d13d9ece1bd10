//! The rules: a regular expression per shape of secret, and how each decides what to replace.

use std::sync::OnceLock;

use regex::bytes::{Captures, Regex, RegexSet};

use super::keys::{Place, secret_key_at};

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
    /// `scheme://user:password@host`: not when the "password" is a port and a path.
    UrlCredentials,
}

pub(super) struct Rule {
    pub(super) re: Regex,
    pub(super) how: How,
}

/// Values end at white space, `&`, a quote or a backslash (so JSON strings stay closed).
const VALUE: &str = r#"(?:\\"(?P<s1>[^"\\\r\n]*)\\"|"(?P<s2>[^"\\\r\n]*)"|'(?P<s3>[^'\\\r\n]*)'|(?P<s4>[^\s&"'\\=\[][^\s&"'\\]*))"#;

/// A quoted or bare value on a command line.
const ARG: &str = r#"(?:'(?P<s1>[^'\r\n]*)'|"(?P<s2>[^"\\\r\n]*)"|(?P<s3>[^\s"'\\]+))"#;

/// A key name: also bracketed (`user[password]`) or percent-encoded (`pass%77ord`).
const KEY: &str = r"(?P<k>[A-Za-z_%][A-Za-z0-9_.%\[\]-]*)";

/// The markers around a private key block (PEM, OpenSSH, PGP).
pub(super) const BEGIN_KEY: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
const END_KEY: &str = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";

pub(super) fn rule_sources() -> Vec<(String, How)> {
    vec![
        // Private key blocks, BEGIN to END, over lines or `\n` escapes (journal JSON); PGP
        // armour adds `Version: ...` headers and a blank line.
        (
            format!(
                r"{BEGIN_KEY}(?P<s>(?:[A-Za-z0-9+/=:,.()_ \t\r\n-]|\\n|\\r)*?){END_KEY}"
            ),
            How::PrivateKey,
        ),
        // ... and a block cut before its END in one escaped string: the base64 after BEGIN.
        // (Cut blocks over lines and records are the line pass's, in private_key.rs.)
        (
            format!(r"{BEGIN_KEY}(?P<s>(?:\\r)?\\n(?:[A-Za-z0-9+/=]|\\n|\\r)+)"),
            How::PrivateKey,
        ),
        // Header values, as in header dumps, Python dicts, curl -H.
        (
            r#"(?i)\b(?P<k>proxy-authorization|authorization|set-cookie|cookie|x-api-key|x-auth-token)\\?["']?[ \t]*:[ \t]*\\?["']?(?P<s>[^\r\n"'\\]*[^\s"'\\])"#.into(),
            How::Keyed,
        ),
        // user:password@host in URLs; the password may hold `/`, `:` and `@`: it ends at the
        // last `@` that a host name follows.
        (
            r#"(?im)\b[a-z][a-z0-9+.-]*://[^/\s:@"'\\]*:(?P<s>[^\s"'\\?#]+)@(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?(?:[/?#\s"',;)]|$)"#.into(),
            How::UrlCredentials,
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
        // Google API keys, Stripe secret and restricted keys.
        (
            r"\b(?P<s>AIza[0-9A-Za-z_-]{35})".into(),
            How::Fixed("token"),
        ),
        (
            r"\b(?P<s>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,})".into(),
            How::Fixed("token"),
        ),
        // Command lines: --password=x, --db-password 'x', mysql -px / -p'x', sshpass -p x,
        // redis-cli -a x, curl -u user:x.
        (
            format!(
                r#"(?:^|[\s"'])--(?:[A-Za-z0-9]+-)*(?:password|passwd|pass|token|secret|api-key)(?:=|[ \t]+){ARG}"#
            ),
            How::Fixed("password"),
        ),
        (
            format!(
                r#"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\r\n"]*?[ \t]-p{ARG}"#
            ),
            How::Fixed("password"),
        ),
        (
            r#"\bsshpass[ \t]+-p[ \t]*(?P<s>[^\s"'\\]+)"#.into(),
            How::Fixed("password"),
        ),
        (
            format!(r#"\bredis-cli\b[^\r\n"]*?[ \t]-a[ \t]+{ARG}"#),
            How::Fixed("password"),
        ),
        (
            r#"\bcurl\b[^\r\n"]*?[ \t](?:-u[ \t]*|--user(?:=|[ \t]+))(?:'[^':\r\n]*:(?P<s1>[^'\r\n]*)'|"[^":\\\r\n]*:(?P<s2>[^"\\\r\n]*)"|[^\s:"'\\]*:(?P<s3>[^\s"'\\]+))"#.into(),
            How::Fixed("password"),
        ),
        // "key": "value" (JSON, Python dicts, JSON inside a journal MESSAGE).
        (
            format!(
                r#"\\?["']{KEY}\\?["'][ \t]*:[ \t]*(?:\\"(?P<s1>[^"\\\r\n]*)\\"|"(?P<s2>(?:[^"\\\r\n]|\\[^\r\n])*)"|'(?P<s3>[^'\\\r\n]*)')"#
            ),
            How::Keyed,
        ),
        // "key": ["value", ...]: the first value (Django's QueryDict).
        (
            format!(
                r#"\\?["']{KEY}\\?["'][ \t]*:[ \t]*\[[ \t]*(?:\\"(?P<s1>[^"\\\r\n]*)\\"|"(?P<s2>(?:[^"\\\r\n]|\\[^\r\n])*)"|'(?P<s3>[^'\\\r\n]*)')"#
            ),
            How::Keyed,
        ),
        // key=value: query strings, fragments, forms, environment, logfmt, Python settings.
        (
            format!(
                r#"(?m)(?:^|[\s?&;#"'(,{{\[=])(?:export[ \t]+)?{KEY}[ \t]*=[ \t]*{VALUE}"#
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

/// All the rules at once: which of them match a text, found in one pass, so the others are
/// not run (`None` if it cannot be built: then every rule runs).
pub(super) fn rule_set() -> Option<&'static RegexSet> {
    static SET: OnceLock<Option<RegexSet>> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(rules().iter().map(|r| r.re.as_str())).ok())
        .as_ref()
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

/// An unquoted value that is code, not a secret: a call or an index (`tokenize(line)`,
/// `form.cleaned_data[`), or, after a spaced `=`, an attribute (`self.token`) or a constant.
fn code_like(v: &[u8], spaced: bool) -> bool {
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let path_end = v
        .iter()
        .position(|b| !(ident(b) || *b == b'.'))
        .unwrap_or(v.len());
    let path = &v[..path_end];
    let starts_ident = path
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    if !starts_ident || path.ends_with(b".") || path.windows(2).any(|w| w == b"..") {
        return false;
    }
    match v.get(path_end) {
        Some(b'(' | b'[') => true,
        None => {
            spaced
                && (path.contains(&b'.')
                    || matches!(path, b"None" | b"True" | b"False" | b"null" | b"nil"))
        }
        Some(_) => false,
    }
}

/// An `Authorization:` value that is English, not a credential ("required for /admin"):
/// two words or more, the first lower-case and no auth scheme.
fn phrase(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let mut words = s.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let scheme = [
        "basic",
        "bearer",
        "token",
        "digest",
        "negotiate",
        "ntlm",
        "apikey",
        "key",
        "jwt",
        "oauth",
        "hoba",
        "mutual",
        "dpop",
        "gnap",
        "hmac",
        "signature",
    ]
    .contains(&first.to_ascii_lowercase().as_str());
    words.next().is_some() && !scheme && first.bytes().all(|b| b.is_ascii_lowercase())
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
    // Already hidden, by us or by the tool that wrote it (cf env's `[REDACTED]`).
    if v.is_empty() || v.starts_with(b"[REDACTED") {
        return None;
    }
    let kind = match how {
        How::Fixed(kind) => kind,
        How::Keyed => {
            let k = c.name("k")?;
            let key = std::str::from_utf8(k.as_bytes()).ok()?;
            let place = match k.start().checked_sub(1).map(|i| text[i]) {
                Some(b'?' | b'&' | b';' | b'#') => Place::Query,
                _ => Place::Other,
            };
            let kind = secret_key_at(key, place)?;
            let spaced = text[k.end()..value.start()].contains(&b' ');
            if c.name("s4").is_some() && code_like(v, spaced) {
                return None;
            }
            if kind == "authorization" && phrase(v) {
                return None;
            }
            kind
        }
        How::UrlCredentials => {
            let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
            if (1..=5).contains(&digits) && v.get(digits) == Some(&b'/') {
                return None;
            }
            "url-credentials"
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
            // `token_type=bearer HTTP/1.1`: "bearer" is a value there, not a scheme (but in
            // `authorization=Bearer x` it is one).
            let start = c.get(0).map_or(0, |m| m.start());
            let as_value = start.checked_sub(1).is_some_and(|i| text[i] == b'=')
                && !text[start.saturating_sub(24)..start]
                    .to_ascii_lowercase()
                    .windows(4)
                    .any(|w| w == b"auth");
            if glued || as_value || v.starts_with(b"HTTP/") || !token_like(v) {
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
