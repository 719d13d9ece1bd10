//! Severity of a free-text message that carries no level field: a level word where loggers put
//! one, or a systemd phrase that always means trouble.

use memchr::memmem;

use crate::model::severity::Severity;

/// Phrases systemd and friends print for failures, with the severity they deserve.
const PHRASES: &[(&str, Severity)] = &[
    ("Failed with result", Severity::Error),
    (
        "Main process exited, code=exited, status=0/SUCCESS",
        Severity::Info,
    ),
    ("Main process exited, code=", Severity::Error),
    ("Failed to start", Severity::Error),
    ("Start request repeated too quickly", Severity::Error),
    ("Traceback (most recent call last)", Severity::Error),
    ("Segmentation fault", Severity::Crit),
    ("Out of memory", Severity::Crit),
    ("segfault at", Severity::Crit),
];

/// Guess the severity of `msg`; `Info` when nothing says otherwise.
pub fn guess(msg: &[u8]) -> Severity {
    if let Some(s) = bracketed_level(msg) {
        return s;
    }
    for (phrase, sev) in PHRASES {
        if memmem::find(msg, phrase.as_bytes()).is_some() {
            return *sev;
        }
    }
    for word in msg
        .split(|c| matches!(c, b' ' | b':' | b'=' | b'\t'))
        .take(8)
    {
        if word.len() >= 4
            && word.iter().all(|c| c.is_ascii_uppercase())
            && let Some(s) = Severity::from_word(word)
        {
            return s;
        }
    }
    Severity::Info
}

/// `[ERROR]`, `[warn]`, `<error>`, `level=error` near the start of the message.
fn bracketed_level(msg: &[u8]) -> Option<Severity> {
    let head = &msg[..msg.len().min(120)];
    for (open, close) in [(b'[', b']'), (b'<', b'>')] {
        let mut rest = head;
        while let Some(i) = memchr::memchr(open, rest) {
            let after = &rest[i + 1..];
            if let Some(j) = memchr::memchr(close, after)
                && let Some(s) = Severity::from_word(&after[..j])
            {
                return Some(s);
            }
            rest = after;
        }
    }
    let i = memmem::find(head, b"level=")?;
    let v = &head[i + 6..];
    let v = v.strip_prefix(b"\"").unwrap_or(v);
    let end = v
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(v.len());
    Severity::from_word(&v[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_levels_and_phrases() {
        assert_eq!(
            guess(b"[2023-04-13 11:19:27 +0000] [1] [CRITICAL] WORKER TIMEOUT"),
            Severity::Crit
        );
        assert_eq!(
            guess(b"gunicorn.service: Failed with result 'exit-code'."),
            Severity::Error
        );
        assert_eq!(
            guess(b"gunicorn.service: Main process exited, code=exited, status=1/FAILURE"),
            Severity::Error
        );
        assert_eq!(guess(b"ts=1 level=warn msg=slow"), Severity::Warn);
        assert_eq!(guess(b"ERROR: relation does not exist"), Severity::Error);
        assert_eq!(guess(b"Started Session 4 of user root."), Severity::Info);
    }
}
