//! The redactor's behaviour on whole lines of each kind of log.

use super::keys::secret_key;
use super::rules::{rule_sources, rules};
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
            "a\n-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED:private-key]\n[REDACTED:private-key]\n-----END OPENSSH PRIVATE KEY-----\nz",
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

fn bytes_json(s: &str) -> String {
    let n: Vec<String> = s.bytes().map(|b| b.to_string()).collect();
    format!("[{}]", n.join(","))
}

#[test]
fn a_message_stored_as_bytes_is_redacted_and_stays_bytes() {
    let msg = "\x1b[31mlogin failed password=hunter2 for bob\x1b[0m";
    let line = format!(
        r#"{{"__REALTIME_TIMESTAMP":"1681385044000000","_SYSTEMD_UNIT":"app.service","MESSAGE":{}}}"#,
        bytes_json(msg)
    );
    let (out, r) = red(&line);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let bytes: Vec<u8> = v["MESSAGE"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap() as u8)
        .collect();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("password=[REDACTED:password] for bob\x1b[0m"),
        "{text}"
    );
    assert_eq!(r.counts().get("password"), Some(&1));
    assert_eq!(v["__REALTIME_TIMESTAMP"], "1681385044000000");
    fully_parsed(&journal_json::JournalJson, &out);
}

#[test]
fn a_key_logged_one_entry_per_line_is_redacted_in_every_entry() {
    let entry = |unit: &str, msg: &str| {
        format!(
            r#"{{"__REALTIME_TIMESTAMP":"1681385044000000","_SYSTEMD_UNIT":"{unit}","_PID":"7","MESSAGE":"{msg}"}}"#
        )
    };
    let body = [
        "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        "Lx0c9RH6QQH5Bdw8Bb8Oe0fQw7y0=",
    ];
    let mut lines = vec![entry("app.service", "-----BEGIN RSA PRIVATE KEY-----")];
    lines.push(entry("app.service", body[0]));
    // Another unit's line between two of the key's: it is no key data and stays.
    lines.push(entry("nginx.service", "GET /static/app.js 200"));
    lines.push(entry("app.service", body[1]));
    lines.push(entry("app.service", body[2]));
    lines.push(entry("app.service", "-----END RSA PRIVATE KEY-----"));
    lines.push(entry(
        "app.service",
        "Started worker 0123456789abcdefABCDEF",
    ));
    let text = lines.join("\n") + "\n";
    let (out, r) = red(&text);
    for b in body {
        assert!(!out.contains(b), "{b} left in {out}");
    }
    assert!(out.contains("GET /static/app.js 200"), "{out}");
    assert!(
        out.contains("Started worker 0123456789abcdefABCDEF"),
        "{out}"
    );
    assert_eq!(out.lines().count(), lines.len());
    assert_eq!(r.counts().get("private-key"), Some(&1));
    for l in out.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    // The same key in a syslog file, a prefix on every line.
    let syslog = "Dec  7 23:15:01 web1 app[12]: -----BEGIN OPENSSH PRIVATE KEY-----\n\
                  Dec  7 23:15:01 web1 app[12]: b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n\
                  Dec  7 23:15:01 web1 app[12]: AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAI\n\
                  Dec  7 23:15:02 web1 app[12]: Listening at: unix:/run/app.sock\n";
    let (out, _) = red(syslog);
    assert!(
        !out.contains("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"),
        "{out}"
    );
    assert!(
        !out.contains("AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAI"),
        "{out}"
    );
    assert!(
        out.contains("app[12]: Listening at: unix:/run/app.sock"),
        "{out}"
    );
    assert!(
        out.contains("Dec  7 23:15:01 web1 app[12]: [REDACTED:private-key]\n"),
        "{out}"
    );
}

#[test]
fn journal_export_keeps_its_lengths_and_every_entry() {
    use crate::ingest::formats::journal_export::read_entry;
    let mut data = Vec::new();
    data.extend_from_slice(
        b"__CURSOR=s=a;t=5f93634c2be6f\n__REALTIME_TIMESTAMP=1681386092000000\n_SYSTEMD_UNIT=app.service\nMESSAGE=boot token=abc123def\n\n",
    );
    let binary = b"\x1b[1mlogin\nDATABASE_URL=postgres://app:hunter2@db/app\x1b[0m";
    data.extend_from_slice(
        b"__CURSOR=s=a;t=5f93634c2be70\n__REALTIME_TIMESTAMP=1681386093000000\n_SYSTEMD_UNIT=app.service\nMESSAGE\n",
    );
    data.extend_from_slice(&(binary.len() as u64).to_le_bytes());
    data.extend_from_slice(binary);
    data.extend_from_slice(b"\nPRIORITY=3\n\n");
    data.extend_from_slice(
        b"__CURSOR=s=a;t=5f93634c2be71\n__REALTIME_TIMESTAMP=1681386094000000\nMESSAGE=done\n\n",
    );
    let mut r = Redactor::new();
    let out = r.redact_bytes(&data);
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < out.len() {
        let (fields, next, cut) = read_entry(&out, pos);
        assert!(!cut, "a length no longer matches");
        if !fields.is_empty() {
            entries.push(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect::<Vec<_>>(),
            );
        }
        pos = next;
    }
    assert_eq!(entries.len(), 3);
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains("hunter2") && !text.contains("abc123def"),
        "{text}"
    );
    let msg = &entries[1].iter().find(|(k, _)| k == b"MESSAGE").unwrap().1;
    assert!(msg.starts_with(b"\x1b[1mlogin\nDATABASE_URL=postgres://app:[REDACTED"));
    assert_eq!(entries[1].last().unwrap().0, b"PRIORITY");
    assert_eq!(entries[2][2].1, b"done");
    assert_eq!(r.counts().get("url-credentials"), Some(&1));
    // Untouched entries keep their bytes.
    assert!(out.ends_with(b"MESSAGE=done\n\n"));
    let sources = parse_str(
        &crate::ingest::formats::journal_export::JournalExport,
        &String::from_utf8_lossy(&out),
        &ParseCtx::captured_in(2023, 4),
    );
    assert_eq!(sources.stats.records, 3);
}

#[test]
fn code_and_english_are_not_secrets() {
    let line = r#"10.0.0.1 - - [13/Apr/2023:11:24:06 +0000] "GET /cb?code=1&token_type=bearer HTTP/1.1" 302 0 "-" "Mozilla/5.0""#;
    let (out, _) = red(line);
    assert!(out.contains("token_type=bearer HTTP/1.1\" 302"), "{out}");
    fully_parsed(&nginx_access::NginxAccess, &out);
    let tb = "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 12, in login\n    token = tokenize(line)\n    password = form.cleaned_data['password']\nAuthorization: required for /admin\n";
    let (out, r) = red(tb);
    assert_eq!(out, tb);
    assert_eq!(r.total(), 0);
}

#[test]
fn journal_export_keeps_the_journals_own_fields_with_pii() {
    // A Luhn-valid monotonic time: no card number.
    let data = b"__CURSOR=s=a;t=5f93634c2be6f\n__REALTIME_TIMESTAMP=1681386092000000\n__MONOTONIC_TIMESTAMP=3791234567890\nMESSAGE=paid by jane@example.org\n\n";
    let mut r = Redactor::new().with_pii(true);
    let out = r.redact_bytes(data);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("__MONOTONIC_TIMESTAMP=3791234567890\n"),
        "{text}"
    );
    assert!(
        text.contains("MESSAGE=paid by [REDACTED:email]\n\n"),
        "{text}"
    );
}
