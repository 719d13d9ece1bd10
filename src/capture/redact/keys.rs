//! Which key names hold a secret.

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
