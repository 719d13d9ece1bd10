//! Names from a bundle (file, host, unit) made safe to show and to put in a file name.
//!
//! Input: lossy UTF-8, given whole to `text::name`, `text::sanitize` and
//! `text::file_name_part`. What comes out holds no control, escape, bidi control or line
//! break (`name`), or no newline-free unsafe character (`sanitize`); the file name part is
//! only `[A-Za-z0-9._-]`, never empty, never starts with a dot, and is bounded.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::text::{
    FILE_NAME_PART_MAX, file_name_part, name, sanitize, unsafe_char, unsafe_in_name,
};

fuzz_target!(|input: &[u8]| {
    let s = String::from_utf8_lossy(input);
    let shown = name(&s);
    assert!(!shown.chars().any(unsafe_in_name), "{shown:?}");
    // Escaping is done once: a shown name shows as itself again.
    assert_eq!(name(&shown), shown);
    assert!(!sanitize(&s).chars().any(unsafe_char));
    let part = file_name_part(&s);
    assert!(!part.is_empty());
    assert!(part.len() <= FILE_NAME_PART_MAX, "{part:?}");
    assert!(!part.starts_with('.'), "{part:?}");
    assert!(
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
        "{part:?}"
    );
});
