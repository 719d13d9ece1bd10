//! The redactor: finds secrets in text and replaces the secret part only with
//! `[REDACTED:kind]`, keeping the rest of the line so logs still parse (an access line keeps
//! its quotes, status and time; a journal JSON line stays valid JSON: replacements hold no
//! quote or backslash, and a secret never spans a closing quote).
//!
//! Kinds: `password`, `token`, `cookie`, `authorization`, `jwt`, `url-credentials`,
//! `aws-key`, `private-key`, `env` (a `KEY=value` / `KEY: value` whose upper-case key looks
//! secret), and `ip` with [`Redactor::with_ips`].
//!
//! IP addresses (only with `--redact-ips`): every IPv4 and IPv6 address is replaced except
//! loopback (127.0.0.0/8, ::1), the unspecified addresses (0.0.0.0, ::) and the addresses
//! given to [`Redactor::keep_ips_in`]: capture keeps those named in `nginx -T` (listen,
//! upstream, allow/deny) and the local addresses of listening sockets, so the host's own
//! side of the story still lines up; client and peer addresses go.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use regex::bytes::{Captures, Regex};

/// How a rule decides what to replace.
#[derive(Clone, Copy)]
enum How {
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

struct Rule {
    re: Regex,
    how: How,
}

/// Values end at white space, `&`, a quote or a backslash (so JSON strings stay closed).
const VALUE: &str = r#"(?:\\"(?P<s1>[^"\\\r\n]*)\\"|"(?P<s2>[^"\\\r\n]*)"|'(?P<s3>[^'\\\r\n]*)'|(?P<s4>[^\s&"'\\=\[][^\s&"'\\]*))"#;

fn rule_sources() -> Vec<(String, How)> {
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

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        rule_sources()
            .into_iter()
            .filter_map(|(src, how)| Regex::new(&src).ok().map(|re| Rule { re, how }))
            .collect()
    })
}

/// The kind of secret a key names, if it names one.
pub fn secret_key(key: &str) -> Option<&'static str> {
    if matches!(key, "PWD" | "OLDPWD") {
        return None;
    }
    let upper = key.bytes().any(|b| b.is_ascii_uppercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let lower = key.to_ascii_lowercase();
    match lower.as_str() {
        "authorization" | "proxy-authorization" | "x-api-key" | "x-auth-token" => {
            return Some("authorization");
        }
        "cookie" | "set-cookie" => return Some("cookie"),
        _ => {}
    }
    let words: Vec<&str> = lower
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let last = *words.last()?;
    let password_word = |w: &str| {
        w.ends_with("password")
            || w.ends_with("passwd")
            || w.ends_with("passphrase")
            || w == "pwd"
            || w == "pass"
    };
    let token_word = |w: &str| {
        w.ends_with("secret")
            || w.ends_with("token")
            || w.ends_with("apikey")
            || matches!(
                w,
                "credential" | "credentials" | "dsn" | "auth" | "sig" | "signature"
            )
    };
    let key_word = |w: &str| matches!(w, "key" | "base" | "value");
    let keyish_before = |w: &str| {
        matches!(
            w,
            "secret"
                | "api"
                | "private"
                | "access"
                | "signing"
                | "encryption"
                | "master"
                | "license"
                | "auth"
                | "session"
                | "client"
                | "app"
        ) || password_word(w)
            || token_word(w)
    };
    let kind = if password_word(last) {
        "password"
    } else if token_word(last)
        || key_word(last)
            && (upper && last == "key" || words[..words.len() - 1].iter().any(|w| keyish_before(w)))
    {
        "token"
    } else {
        return None;
    };
    Some(if upper { "env" } else { kind })
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

/// Replaces secrets, counting them per kind.
#[derive(Debug, Default)]
pub struct Redactor {
    counts: BTreeMap<&'static str, u64>,
    ips: bool,
    keep: HashSet<IpAddr>,
}

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

    /// Keep every IP address found in `text` (the host's own: nginx -T, listeners).
    pub fn keep_ips_in(&mut self, text: &str) {
        for_each_ip(text.as_bytes(), |_, _, ip| {
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

    /// Redact any bytes; bytes that are not UTF-8 pass through unchanged.
    pub fn redact_bytes(&mut self, data: &[u8]) -> Vec<u8> {
        let mut cur = data.to_vec();
        for rule in rules() {
            if let Some(next) = self.apply(rule, &cur) {
                cur = next;
            }
        }
        if self.ips {
            cur = self.redact_ips(&cur);
        }
        cur
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
                out.extend_from_slice(format!("[REDACTED:{kind}]").as_bytes());
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
        for_each_ip(text, |s, e, ip| {
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

/// The span to replace and its kind, or `None` when the match is no secret.
fn decide(how: How, c: &Captures, text: &[u8]) -> Option<(usize, usize, &'static str)> {
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

/// Every IPv4 and IPv6 address in `text` that stands alone (not inside a longer word or
/// number): its span and value.
fn for_each_ip(text: &[u8], mut f: impl FnMut(usize, usize, IpAddr)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::{
        Format, ParseCtx, journal_json, nginx_access, nginx_error, parse_str,
    };

    fn red(s: &str) -> (String, Redactor) {
        let mut r = Redactor::new();
        let out = r.redact_text(s);
        (out, r)
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(rules().len(), rule_sources().len());
    }

    fn fully_parsed(format: &dyn Format, line: &str) {
        let b = parse_str(format, line, &ParseCtx::captured_in(2023, 4));
        assert_eq!(b.stats.records, 1, "{line}");
        assert_eq!(b.stats.unparsed, 0, "{line}");
    }

    /// (line, secrets that must be gone, kinds that must be counted)
    const ACCESS: &[(&str, &[&str], &[&str])] = &[
        (
            r#"192.168.1.20 - - [13/Apr/2023:11:24:04 +0000] "GET /login?user=bob&password=hunter2&token=abc123 HTTP/1.1" 502 166 "-" "Mozilla/5.0""#,
            &["hunter2", "abc123"],
            &["password", "token"],
        ),
        (
            r#"10.0.0.1 - - [13/Apr/2023:11:24:05 +0000] "GET /api?api_key=K3y9&access_token=at.1&client_secret=cs-9 HTTP/1.1" 200 12 "https://bob:s3cret@example.org/" "curl/8.0" "Bearer abcdef0123456789""#,
            &["K3y9", "at.1", "cs-9", "s3cret", "abcdef0123456789"],
            &["token", "url-credentials"],
        ),
        (
            r#"10.0.0.1 - - [13/Apr/2023:11:24:06 +0000] "GET /cb?code=1&id_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl HTTP/1.1" 302 0 "-" "Mozilla/5.0""#,
            &["eyJhbGciOiJIUzI1NiJ9"],
            &["jwt"],
        ),
        (
            r#"10.0.0.1 - - [13/Apr/2023:11:24:07 +0000] "POST /hook?pwd=p4ss&passwd=x&secret=y&apikey=z HTTP/1.1" 200 2 "-" "Go-http-client/1.1" "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl""#,
            &["p4ss", "=x&", "=y&", "=z ", "eyJzdWIi"],
            &["password", "token", "jwt"],
        ),
    ];

    #[test]
    fn access_lines_lose_secrets_and_still_parse() {
        for (line, gone, kinds) in ACCESS {
            let (out, r) = red(line);
            for g in *gone {
                assert!(!out.contains(g), "{g} left in {out}");
            }
            for k in *kinds {
                assert!(r.counts().contains_key(k), "{k} not counted: {out}");
            }
            assert!(out.contains("HTTP/1.1\" "), "{out}");
            fully_parsed(&nginx_access::NginxAccess, &out);
        }
    }

    #[test]
    fn error_lines_lose_secrets_and_still_parse() {
        let line = r#"2023/04/13 11:24:04 [error] 789202#789202: *14 connect() failed (111: Connection refused) while connecting to upstream, client: 192.168.1.20, server: app.example.org, request: "GET /reset?token=abc123&password=hunter2 HTTP/1.1", upstream: "http://192.168.1.5:8000/reset?token=abc123&password=hunter2", host: "app.example.org", referrer: "https://u:pw@app.example.org/""#;
        let (out, r) = red(line);
        assert!(
            !out.contains("hunter2") && !out.contains("abc123") && !out.contains(":pw@"),
            "{out}"
        );
        assert_eq!(r.counts().get("password"), Some(&2));
        assert_eq!(r.counts().get("token"), Some(&2));
        assert!(
            out.contains("client: 192.168.1.20, server: app.example.org"),
            "{out}"
        );
        fully_parsed(&nginx_error::NginxError, &out);
        let e = nginx_error::parse_line(out.as_bytes()).unwrap();
        assert!(e.context.iter().any(|(k, _)| *k == b"upstream"));
    }

    #[test]
    fn journal_json_lines_stay_valid_json() {
        let lines = [
            r#"{"__REALTIME_TIMESTAMP":"1681385044000000","_SYSTEMD_UNIT":"gunicorn.service","PRIORITY":"6","MESSAGE":"login ok password=hunter2 token=\"abc123\" Authorization: Bearer abcdef0123456789"}"#,
            r#"{"__REALTIME_TIMESTAMP":"1681385044000001","_SYSTEMD_UNIT":"app.service","PRIORITY":"3","MESSAGE":"payload {\"password\": \"hunter2\", \"user\": \"bob\"} DATABASE_URL=postgres://app:hunter2@db/app"}"#,
            r#"{"__REALTIME_TIMESTAMP":"1681385044000002","_SYSTEMD_UNIT":"app.service","PRIORITY":"3","MESSAGE":"-----BEGIN RSA PRIVATE KEY-----\nMIIEhunter2AAAB\n-----END RSA PRIVATE KEY-----","_CMDLINE":"mysql -uapp -phunter2 app"}"#,
            r#"{"__REALTIME_TIMESTAMP":"1681385044000003","_SYSTEMD_UNIT":"app.service","PRIORITY":"3","MESSAGE":"env DJANGO_SECRET_KEY=hunter2 AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY gh ghp_hunter2hunter2hunter2hunter2hunter2 slack xoxb-1234567890-hunter2"}"#,
        ];
        for line in lines {
            let (out, r) = red(line);
            assert!(!out.contains("hunter2"), "{out}");
            assert!(
                !out.contains("abc123")
                    && !out.contains("wJalrXUtnFEMI")
                    && !out.contains("AKIAIOSFODNN7EXAMPLE"),
                "{out}"
            );
            assert!(r.total() > 0);
            let v: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            assert!(
                v["MESSAGE"].as_str().unwrap().contains("[REDACTED:"),
                "{out}"
            );
            fully_parsed(&journal_json::JournalJson, &out);
        }
    }

    #[test]
    fn headers_cookies_keys_and_command_lines() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "Authorization: Basic dXNlcjpodW50ZXIy",
                "Authorization: [REDACTED:authorization]",
                "authorization",
            ),
            (
                "Cookie: sessionid=abc; csrftoken=def",
                "Cookie: [REDACTED:cookie]",
                "cookie",
            ),
            (
                "Set-Cookie: sessionid=abc; Path=/; HttpOnly",
                "Set-Cookie: [REDACTED:cookie]",
                "cookie",
            ),
            (
                "X-Api-Key: k-123",
                "X-Api-Key: [REDACTED:authorization]",
                "authorization",
            ),
            (
                "headers={'Authorization': 'Bearer abc.def.ghi', 'Accept': '*/*'}",
                "headers={'Authorization': '[REDACTED:authorization]', 'Accept': '*/*'}",
                "authorization",
            ),
            (
                "proxy_set_header Authorization \"Basic dXNlcjpodW50ZXIy\";",
                "proxy_set_header Authorization \"Basic [REDACTED:authorization]\";",
                "authorization",
            ),
            (
                "ExecStart=/usr/bin/app --db-password=hunter2 --port 80",
                "ExecStart=/usr/bin/app --db-password=[REDACTED:password] --port 80",
                "password",
            ),
            (
                "ExecStart=/usr/bin/app --password hunter2 -v",
                "ExecStart=/usr/bin/app --password [REDACTED:password] -v",
                "password",
            ),
            (
                "mysqldump -u root -phunter2 db",
                "mysqldump -u root -p[REDACTED:password] db",
                "password",
            ),
            (
                "Environment=DB_PASSWORD=hunter2 DEBUG=0",
                "Environment=DB_PASSWORD=[REDACTED:env] DEBUG=0",
                "env",
            ),
            ("SECRET_KEY: hunter2", "SECRET_KEY: [REDACTED:env]", "env"),
            (
                "export GITHUB_TOKEN=\"hunter2\"",
                "export GITHUB_TOKEN=\"[REDACTED:env]\"",
                "env",
            ),
            (
                "secret_key = 'hunter2'",
                "secret_key = '[REDACTED:token]'",
                "token",
            ),
            (
                "redis://:hunter2@cache:6379/0",
                "redis://:[REDACTED:url-credentials]@cache:6379/0",
                "url-credentials",
            ),
            (
                "key AKIAIOSFODNN7EXAMPLE here",
                "key [REDACTED:aws-key] here",
                "aws-key",
            ),
            (
                "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nhunter2hunter2==\n-----END OPENSSH PRIVATE KEY-----\nz",
                "a\n-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED:private-key]\n-----END OPENSSH PRIVATE KEY-----\nz",
                "private-key",
            ),
        ];
        for (input, want, kind) in cases {
            let (out, r) = red(input);
            assert_eq!(&out, want);
            assert!(r.counts().contains_key(kind), "{kind}: {:?}", r.counts());
        }
    }

    #[test]
    fn look_alikes_survive() {
        let keep = [
            r#"10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] "GET /accounts/password_reset/ HTTP/1.1" 200 512 "-" "Mozilla/5.0""#,
            r#"10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] "GET /token-usage HTTP/1.1" 200 2 "-" "Mozilla/5.0""#,
            r#"10.0.0.1 - - [13/Apr/2023:11:24:04 +0000] "GET /gifts/secret_santa/ HTTP/1.1" 200 2 "-" "Mozilla/5.0""#,
            "CSRF token missing or incorrect.",
            "the token was refreshed; invalid token in request",
            "passwordless login enabled",
            "Author: Jane Doe <jane@example.org>",
            "request id 3f2b8c1e-9d4a-4e5b-8c7d-1a2b3c4d5e6f",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "Using basic authentication for the bearer of this card",
            "max_tokens=100 token_type=bearer password_reset=1 PWD=/srv/app",
            "mkdir -p /run/gunicorn && nginx -p /tmp/prefix -c nginx.conf",
            "2023/04/13 11:24:04 [error] 7#7: *1 open() \"/srv/static/token.js\" failed (2: No such file or directory)",
            "Apr 13 11:24:04 web1 systemd[1]: Started gunicorn.service - gunicorn daemon.",
            "ssl_certificate_key /etc/ssl/private/app.key;",
        ];
        for line in keep {
            let (out, r) = red(line);
            assert_eq!(out, line);
            assert_eq!(r.total(), 0, "{line}");
        }
    }

    #[test]
    fn ips_go_only_when_asked_and_the_hosts_own_stay() {
        let line = r#"2023/04/13 11:24:04 [error] 7#7: *14 connect() failed (111: Connection refused) while connecting to upstream, client: 192.168.1.20, server: app, request: "GET / HTTP/1.1", upstream: "http://192.168.1.5:8000/", host: "app" from [2001:db8::7]:5000 and 127.0.0.1 at 11:24:04"#;
        let (out, _) = red(line);
        assert_eq!(out, line);
        let mut r = Redactor::with_ips();
        r.keep_ips_in("proxy_pass http://192.168.1.5:8000/;");
        let out = r.redact_text(line);
        assert!(out.contains("client: [REDACTED:ip], server"), "{out}");
        assert!(out.contains("http://192.168.1.5:8000/"), "{out}");
        assert!(
            out.contains("[[REDACTED:ip]]:5000") && out.contains("127.0.0.1 at 11:24:04"),
            "{out}"
        );
        assert_eq!(r.counts().get("ip"), Some(&2));
        fully_parsed(&nginx_error::NginxError, &out);
    }

    #[test]
    fn secret_keys() {
        for k in [
            "DB_PASSWORD",
            "PGPASSWORD",
            "DJANGO_SECRET_KEY",
            "SENTRY_DSN",
            "api_key",
            "client_secret",
            "csrfmiddlewaretoken",
            "SECRET_KEY_BASE",
            "x-amz-signature",
        ] {
            assert!(secret_key(k).is_some(), "{k}");
        }
        for k in [
            "PWD",
            "secret_santa",
            "password_reset",
            "max_tokens",
            "token_type",
            "SECRET_KEY_FILE",
            "DATABASE_URL",
            "passwordless",
            "primary_key",
            "Author",
        ] {
            assert_eq!(secret_key(k), None, "{k}");
        }
    }
}
