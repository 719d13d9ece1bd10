//! Text from logs made safe for a terminal: control characters, escape sequences and bidi
//! controls are shown as inert visible text (`\x1b`, `\u{202e}`), never passed through.

use std::borrow::Cow;

/// Characters that would change what a terminal does or shows.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// `s` with every unsafe character replaced by its escaped form; newlines and tabs kept.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON document with the characters [`sanitize`] escapes written as `\uXXXX` escapes, so
/// JSON printed to a terminal is inert too. JSON's own encoder already escapes C0 controls.
pub fn json_safe(json: String) -> String {
    if !json.chars().any(unsafe_char) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_inert() {
        let hostile = "a\u{1b}]52;c;ZXZpbA==\u{7}b\u{9b}31m\u{202e}c\r";
        let s = sanitize(hostile);
        assert_eq!(s, "a\\x1b]52;c;ZXZpbA==\\x07b\\x9b31m\\u{202e}c\\x0d");
        assert!(!s.chars().any(unsafe_char));
        assert!(matches!(sanitize("plain\ttext\n"), Cow::Borrowed(_)));
        let json = serde_json::to_string("x\u{202e}\u{9b}y").unwrap();
        let safe = json_safe(json);
        assert_eq!(safe, "\"x\\u202e\\u009by\"");
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "x\u{202e}\u{9b}y"
        );
    }
}
