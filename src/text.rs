//! Text from logs made safe for a terminal: control characters, escape sequences and bidi
//! controls are shown as inert visible text (`\x1b`, `\u{202e}`), never passed through.

use std::borrow::Cow;

/// Characters that would change what a terminal does or shows: C0 and C1 controls (ESC,
/// BEL, CSI `\u{9b}`...), bidi embeddings, overrides, isolates and marks, line separators.
pub fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// What a name may not hold: everything [`unsafe_char`] refuses, and newlines and tabs (a
/// file name with a newline would fake a row of its own).
pub fn unsafe_in_name(c: char) -> bool {
    unsafe_char(c) || c == '\n' || c == '\t'
}

fn escape_with(s: &str, bad: fn(char) -> bool) -> Cow<'_, str> {
    // Printable ASCII alone (most log text) holds nothing to escape: a byte test the compiler
    // runs many bytes at a time, before decoding characters.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
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

/// `s` with every unsafe character replaced by its escaped form; newlines and tabs kept.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    escape_with(s, unsafe_char)
}

/// A name from a bundle (file, host, unit, manifest value) made safe to show on one line:
/// like [`sanitize`], and newlines and tabs escaped too.
pub fn name(s: &str) -> Cow<'_, str> {
    escape_with(s, unsafe_in_name)
}

/// Longest [`file_name_part`] made.
pub const FILE_NAME_PART_MAX: usize = 64;

/// `s` as a piece of a file name sitrep creates: only `[A-Za-z0-9._-]` kept, anything else
/// one `-`; no leading dot (no hidden file, no `..`), never empty, at most
/// [`FILE_NAME_PART_MAX`] bytes.
pub fn file_name_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() >= FILE_NAME_PART_MAX {
            break;
        }
        let keep = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        match (keep, c) {
            (true, '.') if out.is_empty() => out.push('_'),
            (true, c) => out.push(c),
            (false, _) if out.ends_with('-') => {}
            (false, _) => out.push('-'),
        }
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

/// Terminal cells `s` takes, counted by grapheme cluster as ratatui lays it out: an emoji
/// joined by zero-width joiners, a flag or a skin tone is one glyph of two cells.
pub fn width(s: &str) -> usize {
    use unicode_segmentation::UnicodeSegmentation;
    s.graphemes(true).map(grapheme_width).sum()
}

fn grapheme_width(g: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(g)
}

/// `s` cut to at most `cells` terminal cells, whole grapheme clusters only.
pub fn fit(s: &str, cells: usize) -> &str {
    use unicode_segmentation::UnicodeSegmentation;
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        used += grapheme_width(g);
        if used > cells {
            return &s[..i];
        }
    }
    s
}

/// `s` cut to `cells` terminal cells and padded with spaces to exactly that many.
pub fn pad(s: &str, cells: usize) -> String {
    let cut = fit(s, cells);
    let mut out = cut.to_string();
    out.extend(std::iter::repeat_n(' ', cells.saturating_sub(width(cut))));
    out
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
    fn names_and_file_name_parts() {
        assert_eq!(name("a\nb\tc\u{1b}]52"), "a\\x0ab\\x09c\\x1b]52");
        assert_eq!(file_name_part("web1"), "web1");
        assert_eq!(file_name_part("../../etc/passwd"), "_.-..-etc-passwd");
        assert_eq!(file_name_part("\u{1b}]52;c;x\u{7}"), "-52-c-x-");
        assert_eq!(file_name_part(""), "x");
        assert_eq!(file_name_part(&"a".repeat(500)).len(), FILE_NAME_PART_MAX);
    }

    #[test]
    fn widths_by_grapheme() {
        for e in [
            "\u{1f469}\u{200d}\u{1f4bb}",
            "\u{1f1eb}\u{1f1f7}",
            "\u{1f44d}\u{1f3fd}",
            "\u{4e2d}",
        ] {
            assert_eq!(width(e), 2, "{e}");
        }
        assert_eq!(width("abc"), 3);
        assert_eq!(fit("ab\u{1f469}\u{200d}\u{1f4bb}c", 3), "ab");
        assert_eq!(
            fit("ab\u{1f469}\u{200d}\u{1f4bb}c", 4),
            "ab\u{1f469}\u{200d}\u{1f4bb}"
        );
        assert_eq!(pad("\u{1f1eb}\u{1f1f7}", 4), "\u{1f1eb}\u{1f1f7}  ");
    }

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
