//! Continuation lines of multi-line messages that arrive one line per entry (the journal, syslog):
//! a Python traceback printed by a service becomes one record, not thirty.

/// Tracks whether the lines of one writer (same identifier and pid) are inside a traceback.
#[derive(Debug, Default, Clone)]
pub struct Traceback {
    inside: bool,
    /// The line before ended a traceback: a blank line now is the gap before a chained
    /// traceback ("During handling of the above exception...").
    just_ended: bool,
}

/// A Python exception line that ends a traceback: `pkg.mod.SomeError: message` or a bare
/// `KeyboardInterrupt`.
fn is_exception_line(msg: &[u8]) -> bool {
    let name_len = msg
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'.')
        .count();
    if name_len == 0 || !msg[0].is_ascii_alphabetic() {
        return false;
    }
    let rest = &msg[name_len..];
    rest.is_empty() || rest.starts_with(b": ") || rest == b":"
}

pub fn starts_traceback(msg: &[u8]) -> bool {
    msg.starts_with(b"Traceback (most recent call last)")
}

impl Traceback {
    /// Is `msg` (the message part of a line whose writer matches the previous line's) a
    /// continuation of the previous record? Updates the state either way.
    pub fn continues(&mut self, msg: &[u8]) -> bool {
        let just_ended = std::mem::take(&mut self.just_ended);
        if msg.trim_ascii().is_empty() && just_ended {
            self.just_ended = true;
            return true;
        }
        if starts_traceback(msg)
            || msg.starts_with(b"During handling of the above exception")
            || msg.starts_with(b"The above exception was the direct cause")
        {
            self.inside = true;
            return true;
        }
        if !self.inside {
            return false;
        }
        if msg.first().is_some_and(|c| *c == b' ' || *c == b'\t') || msg.is_empty() {
            return true;
        }
        if is_exception_line(msg) {
            self.inside = false;
            self.just_ended = true;
            return true;
        }
        self.inside = false;
        false
    }

    /// The writer changed: whatever traceback was open is over.
    pub fn reset(&mut self) {
        self.inside = false;
        self.just_ended = false;
    }

    pub fn inside(&self) -> bool {
        self.inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceback_is_one_record() {
        let lines: [&[u8]; 7] = [
            b"Traceback (most recent call last):",
            b"  File \"/srv/app/app/__init__.py\", line 2, in <module>",
            b"    from .utils import notify",
            b"django.core.exceptions.ImproperlyConfigured: Requested setting",
            b"[2023-04-13 11:19:28 +0000] [790] [INFO] Worker exiting (pid: 790)",
            b"  indented but after the traceback",
            b"KeyboardInterrupt",
        ];
        let mut t = Traceback::default();
        let got: Vec<bool> = lines.iter().map(|l| t.continues(l)).collect();
        assert_eq!(got, [true, true, true, true, false, false, false]);
        // A chained traceback stays one record across the blank line between its parts.
        let chained: [&[u8]; 5] = [
            b"Traceback (most recent call last):",
            b"ValueError: first",
            b"",
            b"During handling of the above exception, another exception occurred:",
            b"gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>",
        ];
        let mut t = Traceback::default();
        assert!(chained.iter().all(|l| t.continues(l)));
        // A blank line with no traceback before it is a line of its own.
        assert!(!Traceback::default().continues(b""));
    }
}
