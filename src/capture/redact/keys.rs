//! Which key names hold a secret: `password`, `DB_PASSWORD`, `api_key`, also written as a
//! form field (`user[password]`), percent-encoded once or twice (`user%5Bpassword%5D`,
//! `pass%77ord`, `user%255Bpassword%255D`), numbered or confirmed (`password1`,
//! `password_confirmation`); and in a query string or fragment only, the short ones that
//! name a session or a one-time code (`sid`, `session`, `code`, `key`).

use std::borrow::Cow;

/// Where a key was found: after `?`, `&`, `;` or `#` (a query string, a fragment, a cookie)
/// or anywhere else.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    Query,
    Other,
}

/// The kind of secret a key names, if it names one (anywhere: not the query-only ones).
pub fn secret_key(key: &str) -> Option<&'static str> {
    secret_key_at(key, Place::Other)
}

/// [`secret_key`] for a key found at `place`.
pub fn secret_key_at(key: &str, place: Place) -> Option<&'static str> {
    let key = plain_key(key);
    let lower = key.to_ascii_lowercase();
    match lower.as_str() {
        // (Not `session_id`: logind's SESSION_ID is a session's number.)
        "sessionid" | "jsessionid" | "phpsessid" | "asp.net_sessionid" => {
            return Some("token");
        }
        "sid" | "session" | "code" | "key" | "auth_code" if place == Place::Query => {
            return Some("token");
        }
        _ => {}
    }
    named_secret(&key)
}

/// A key as the application meant it: percent-decoded (twice at most, for a key encoded
/// twice), and the last part of a bracketed form field (`user[password]` is `password`).
fn plain_key(key: &str) -> Cow<'_, str> {
    let mut k = Cow::Borrowed(key);
    for _ in 0..3 {
        if !k.contains('%') {
            break;
        }
        match percent_decode(&k) {
            Some(d) if d != *k => k = Cow::Owned(d),
            _ => break,
        }
    }
    let trimmed = k.trim_end_matches(']');
    if trimmed.len() < k.len()
        && let Some(open) = trimmed.rfind('[')
    {
        return Cow::Owned(trimmed[open + 1..].to_string());
    }
    k
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(h) = std::str::from_utf8(h)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The kind of secret a plain key names.
fn named_secret(key: &str) -> Option<&'static str> {
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
    // `password1`, `password_confirmation`: the word before a number or a confirmation.
    let mut words = words;
    while words.len() > 1
        && matches!(
            *words.last()?,
            "confirmation" | "confirm" | "again" | "repeat" | "new" | "old" | "current"
        )
    {
        words.pop();
    }
    let last = words.last()?.trim_end_matches(|c: char| c.is_ascii_digit());
    if last.is_empty() {
        return None;
    }
    if matches!(last, "authorization" | "cookie") {
        // HTTP_AUTHORIZATION, HTTP_COOKIE (Django's request.META).
        return Some(if last == "cookie" {
            "cookie"
        } else {
            "authorization"
        });
    }
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
