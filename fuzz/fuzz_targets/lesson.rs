//! Lesson TOML through the lesson parser; a lesson that reads is linted against a small fixed
//! incident and played: every answer chosen, a record submitted, every hint taken, scored.
//!
//! Input: the text (lossy UTF-8).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::learn::Attempt;
use sitrep::learn::lesson::{lint, parse};

#[path = "common/mod.rs"]
mod common;
use common::incident;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let Ok(lesson) = parse(&text) else {
        return;
    };
    let inc = incident();
    let _ = lint(&lesson, inc);
    let n = lesson.objective.len();
    let choices: Vec<usize> = lesson.objective.iter().map(|o| o.choice.len()).collect();
    let mut a = Attempt::new(lesson);
    while a.hint().is_some() {}
    for (i, c) in choices.iter().enumerate() {
        for j in 0..=*c {
            let _ = a.answer(i, j);
        }
    }
    a.toggle_mark((0, 0));
    for i in 0..=n {
        let _ = a.submit(i, inc);
    }
    let _ = a.score();
});
