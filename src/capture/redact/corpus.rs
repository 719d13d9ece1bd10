//! The corpus of shapes redaction promises to handle: each planted secret must be gone after
//! redaction, each look-alike must come out byte for byte. README's "What redaction
//! promises" is this table in prose; a new shape is a new row here.

use super::Redactor;

/// (what, line, planted secret that must be gone).
pub(super) const SECRETS: &[(&str, &str, &str)] = &[
    // Command lines.
    ("mysql -p'x'", "mysql -u root -p'S3cr3t pw' app", "S3cr3t"),
    ("mysql -pSecret", "mysql -uapp -pSecretPw app", "SecretPw"),
    (
        "--password=x",
        "app --password=Hunter2x --port 80",
        "Hunter2x",
    ),
    (
        "--password='x'",
        "app --password='Hunter 2x' -v",
        "Hunter 2x",
    ),
    (
        "redis-cli -a",
        "redis-cli -h cache -a R3disPw ping",
        "R3disPw",
    ),
    (
        "redis-cli -a quoted",
        "redis-cli -a 'R3dis Pw' ping",
        "R3dis Pw",
    ),
    ("curl -u", "curl -s -u admin:Cu4lPw https://api/", "Cu4lPw"),
    (
        "curl --user",
        "curl --user 'admin:Cu4l Pw' https://api/",
        "Cu4l Pw",
    ),
    // Connection strings whose password holds / or @.
    (
        "url with @ in password",
        "postgres://u:p@ss/w@db.internal/app",
        "p@ss/w",
    ),
    (
        "url with / in password",
        "DATABASE_URL=mysql://app:a/b:c@db:3306/x",
        "a/b:c",
    ),
    ("redis url", "redis://:hunter2@cache:6379/0", "hunter2"),
    // Keys in brackets, encoded, numbered, confirmed.
    (
        "user[password]",
        "POST /signup user[password]=Br4ck3t&user[name]=bob",
        "Br4ck3t",
    ),
    (
        "%5B %5D",
        "GET /s?user%5Bpassword%5D=P3rc3nt HTTP/1.1",
        "P3rc3nt",
    ),
    (
        "pass%77ord",
        "GET /s?pass%77ord=Enc0ded HTTP/1.1",
        "Enc0ded",
    ),
    (
        "%255B",
        "GET /s?user%255Bpassword%255D=Tw1ce HTTP/1.1",
        "Tw1ce",
    ),
    (
        "password1",
        "password1=F1rstPw&password2=F1rstPw",
        "F1rstPw",
    ),
    (
        "password_confirmation",
        "password_confirmation=C0nfirm",
        "C0nfirm",
    ),
    // Fragments and query keys.
    (
        "#access_token",
        "GET /cb#access_token=Fr4gment&expires_in=3600",
        "Fr4gment",
    ),
    ("?session=", "GET /a?session=Sess10n HTTP/1.1", "Sess10n"),
    ("?sid=", "GET /a?x=1&sid=S1dValue HTTP/1.1", "S1dValue"),
    (
        "?code=",
        "GET /oauth/cb?code=C0deValue&state=s HTTP/1.1",
        "C0deValue",
    ),
    (
        ";jsessionid=",
        "GET /app;jsessionid=JS3ss10n HTTP/1.1",
        "JS3ss10n",
    ),
    ("?key=", "GET /maps?key=K3yValue HTTP/1.1", "K3yValue"),
    (
        "sessionid cookie field",
        "sessionid=Sess1onCookie; csrftoken=abc",
        "Sess1onCookie",
    ),
    // Vendor keys.
    (
        "google api key",
        "maps key AIzaSyA1234567890abcdefghijklmnopqrstuv used",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    ),
    (
        "stripe live",
        "charge with sk_live_51Habcdefghijklmnop",
        "sk_live_51Habcdefghijklmnop",
    ),
    (
        "stripe restricted",
        "rk_live_51Habcdefghijklmnop",
        "rk_live_51Habcdefghijklmnop",
    ),
    // JSON inside JSON strings.
    (
        "escaped JSON",
        r#"{"MESSAGE":"body {\"password\":\"J50nPw\",\"user\":\"bob\"}"}"#,
        "J50nPw",
    ),
    (
        "JSON in JSON in JSON",
        r#"{"MESSAGE":"{\"data\":\"{\\\"password\\\":\\\"Deep3r\\\"}\"}"}"#,
        "Deep3r",
    ),
    // Django request dumps.
    (
        "HTTP_AUTHORIZATION",
        "{'HTTP_AUTHORIZATION': 'Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b', 'HTTP_HOST': 'app'}",
        "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
    ),
    (
        "HTTP_COOKIE",
        "{'HTTP_COOKIE': 'sessionid=Dj4ngoS; csrftoken=x'}",
        "Dj4ngoS",
    ),
    (
        "QueryDict",
        "QueryDict {'password1': ['QdPw1'], 'username': ['bob']}",
        "QdPw1",
    ),
    (
        "<QueryDict>",
        "POST: <QueryDict: {'password': ['QdPw2']}>",
        "QdPw2",
    ),
    // Private keys, whole.
    (
        "PGP private key block",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF1abcPGPsecret0123456789\n=ab12\n-----END PGP PRIVATE KEY BLOCK-----",
        "lQOYBF1abcPGPsecret0123456789",
    ),
    (
        "key lines with syslog prefixes",
        "Dec  7 23:15:01 web1 app[12]: -----BEGIN RSA PRIVATE KEY-----\nDec  7 23:15:01 web1 app[12]: MIIEpAIBAAKCAQEAsyslog0123\nDec  7 23:15:01 web1 app[12]: -----END RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEAsyslog0123",
    ),
    // Shapes caught before these: headers, tokens, keys, env and YAML.
    (
        "Authorization: Bearer",
        "Authorization: Bearer abcdef0123456789",
        "abcdef0123456789",
    ),
    (
        "Basic",
        "Authorization: Basic dXNlcjpodW50ZXIy",
        "dXNlcjpodW50ZXIy",
    ),
    ("Cookie", "Cookie: csrftoken=C00kie; theme=dark", "C00kie"),
    ("X-Api-Key", "X-Api-Key: Ap1KeyValue", "Ap1KeyValue"),
    (
        "custom header with a secret word",
        "X-Internal-Secret: Int3rnal",
        "Int3rnal",
    ),
    (
        "password in query",
        "GET /login?user=bob&password=hunter2 HTTP/1.1",
        "hunter2",
    ),
    (
        "env",
        "Environment=DB_PASSWORD=Env1ronment DEBUG=0",
        "Env1ronment",
    ),
    ("YAML", "secret_key: Yaml5ecret", "Yaml5ecret"),
    ("logfmt", "level=info api_key=L0gfmt msg=ok", "L0gfmt"),
    ("sshpass", "sshpass -p Sshp4ss ssh host", "Sshp4ss"),
    (
        "JWT",
        "id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
        "eyJzdWIiOiIxMjM0In0",
    ),
    ("AWS", "key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    (
        "GitHub",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
    ),
    (
        "Slack",
        "xoxb-1234567890-Sl4ckToken",
        "xoxb-1234567890-Sl4ckToken",
    ),
];

/// Shapes redaction does not catch (README, "not caught"): kept here so the README stays
/// true; a row that starts to be caught moves to [`SECRETS`] and the README changes with it.
pub(super) const NOT_CAUGHT: &[&str] = &[
    "the password is hunter2",
    "api_token hunter2",
    "X-Session: abc123def456",
    "blob dGhpcyBpcyBhIHNlY3JldCB2YWx1ZQ==",
];

/// Personal data, with `--redact-pii` (and in the report).
pub(super) const PII: &[(&str, &str, &str)] = &[
    (
        "e-mail",
        "login failed for jane.doe+x@example.co.uk from web",
        "jane.doe+x@example.co.uk",
    ),
    (
        "card",
        "charge 4111 1111 1111 1111 declined",
        "4111 1111 1111 1111",
    ),
    (
        "card with dashes",
        "card=5500-0000-0000-0004 ok",
        "5500-0000-0000-0004",
    ),
    ("card bare", "pan 378282246310005 amex", "378282246310005"),
];

/// Lines that must come out byte for byte.
pub(super) const KEEP: &[&str] = &[
    r#"10.0.0.1 - - [13/Apr/2023:11:24:06 +0000] "GET /cb?state=1&token_type=bearer HTTP/1.1" 302 0 "-" "Mozilla/5.0""#,
    "    token = tokenize(line)",
    "    password = form.cleaned_data['password']",
    "    secret = self.secret",
    "Authorization: required for /admin",
    "Main process exited, code=exited, status=1/FAILURE",
    "key = cache_key(request)",
    "the session ended; sid unknown",
    "order 4111111111111112 shipped",
    "__REALTIME_TIMESTAMP=1681385044000000",
    "took 1681385044.123456 s",
    "http://example.org:8080/users/@bob@example.org",
    "password_reset=1 token_type=bearer",
    "-----BEGIN PUBLIC KEY-----",
    "Author: Jane Doe <jane@example.org>",
    "max_tokens=100 token_type=bearer",
    "Started getty@tty1.service - Getty on tty1.",
    r#"{"SESSION_ID":"14","USER_ID":"netadmin","MESSAGE":"New session 14 of user netadmin."}"#,
    r#"          "password": "[REDACTED]","#,
    r#"{"__REALTIME_TIMESTAMP":"1681385044000000","__MONOTONIC_TIMESTAMP":"3791234567890","_SYSTEMD_UNIT":"app.service","MESSAGE":"ok"}"#,
];

#[test]
fn every_planted_secret_is_gone() {
    let mut wrong = Vec::new();
    for (what, line, secret) in SECRETS {
        let mut r = Redactor::new();
        let out = r.redact_text(line);
        if out.contains(secret) || r.total() == 0 {
            wrong.push(format!("{what}: {secret} left in {out}"));
        }
        assert_eq!(out.lines().count(), line.lines().count(), "{what}: {out}");
        if line.starts_with("{\"") {
            let v: Result<serde_json::Value, _> = serde_json::from_str(&out);
            assert!(v.is_ok(), "{what}: not JSON any more: {out}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn what_is_not_caught_is_not() {
    for line in NOT_CAUGHT {
        assert_eq!(&Redactor::new().redact_text(line), line);
    }
}

#[test]
fn personal_data_goes_only_when_asked() {
    for (what, line, secret) in PII {
        let out = Redactor::new().redact_text(line);
        assert_eq!(&out, line, "{what}: redacted without --redact-pii");
        let mut r = Redactor::new().with_pii(true);
        let out = r.redact_text(line);
        assert!(!out.contains(secret), "{what}: {secret} left in {out}");
    }
}

#[test]
fn look_alikes_come_out_byte_for_byte() {
    let mut wrong = Vec::new();
    for line in KEEP {
        let mut r = Redactor::new().with_pii(!line.contains('@'));
        let out = r.redact_text(line);
        if out != *line || r.total() > 0 {
            wrong.push(format!("{line}\n  became {out}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
