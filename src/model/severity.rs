//! The one severity vocabulary every source is mapped onto.

use serde::Serialize;

/// Severity of a record, most severe first (syslog order), so `a < b` means `a` is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Severity {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Error = 3,
    Warn = 4,
    Notice = 5,
    #[default]
    Info = 6,
    Debug = 7,
}

impl Severity {
    pub const ALL: [Severity; 8] = [
        Severity::Emerg,
        Severity::Alert,
        Severity::Crit,
        Severity::Error,
        Severity::Warn,
        Severity::Notice,
        Severity::Info,
        Severity::Debug,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Emerg => "emerg",
            Severity::Alert => "alert",
            Severity::Crit => "crit",
            Severity::Error => "error",
            Severity::Warn => "warn",
            Severity::Notice => "notice",
            Severity::Info => "info",
            Severity::Debug => "debug",
        }
    }

    /// journald `PRIORITY` (syslog 0..7).
    pub fn from_priority(p: u8) -> Severity {
        Severity::ALL[usize::from(p.min(7))]
    }

    /// Severity of an HTTP status: 5xx error, 4xx warn, else info.
    pub fn from_http_status(status: u16) -> Severity {
        match status {
            500..=599 => Severity::Error,
            400..=499 => Severity::Warn,
            _ => Severity::Info,
        }
    }

    /// Level words as nginx, gunicorn, Python logging and syslog spell them (any case).
    pub fn from_word(word: &[u8]) -> Option<Severity> {
        let mut buf = [0u8; 12];
        if word.is_empty() || word.len() > buf.len() {
            return None;
        }
        for (b, w) in buf.iter_mut().zip(word) {
            *b = w.to_ascii_lowercase();
        }
        Some(match &buf[..word.len()] {
            b"emerg" | b"emergency" | b"panic" => Severity::Emerg,
            b"alert" => Severity::Alert,
            b"crit" | b"critical" | b"fatal" => Severity::Crit,
            b"error" | b"err" => Severity::Error,
            b"warn" | b"warning" => Severity::Warn,
            b"notice" => Severity::Notice,
            b"info" | b"information" => Severity::Info,
            b"debug" | b"trace" => Severity::Debug,
            _ => return None,
        })
    }

    /// Parse the CLI / JSON spelling (`error`, `warn`...).
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::from_word(s.as_bytes())
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_statuses_map_onto_the_vocabulary() {
        assert_eq!(Severity::from_word(b"CRITICAL"), Some(Severity::Crit));
        assert_eq!(Severity::from_word(b"warning"), Some(Severity::Warn));
        assert_eq!(Severity::from_word(b"bogus"), None);
        assert_eq!(Severity::from_http_status(502), Severity::Error);
        assert_eq!(Severity::from_http_status(404), Severity::Warn);
        assert_eq!(Severity::from_http_status(304), Severity::Info);
        assert_eq!(Severity::from_priority(3), Severity::Error);
        assert!(Severity::Error < Severity::Warn);
    }
}
