//! Keep memory flat while big mapped files are parsed: pages already parsed are handed back to
//! the page cache (`madvise(MADV_DONTNEED)`), so the process holds only its columns and the
//! window being read. Pages come back on demand when a record is shown.
//!
//! The parser loops call [`progress`] with the byte offset they have reached; it does work only
//! when a file is registered on this thread and a step has passed.

#![allow(
    unsafe_code,
    reason = "hands mapped pages back with madvise, an unchecked advice"
)]

use std::cell::Cell;

use memmap2::{Mmap, UncheckedAdvice};

use crate::model::guarded_map::GuardedMap;

/// Release every this many bytes.
const STEP: usize = 32 << 20;
/// Keep this much behind the parse position (continuation lines look back a little).
const KEEP: usize = 1 << 20;

thread_local! {
    static CURRENT: Cell<Option<(*const Mmap, usize)>> = const { Cell::new(None) };
}

/// Release the pages of `map` up to `upto`, page-aligned.
fn release(map: &Mmap, upto: usize) {
    let page = 4096;
    let len = (upto.min(map.len()) / page) * page;
    if len > 0 {
        // SAFETY: the mapping is a read-only view of a file; dropping its pages only makes
        // the next access read them from the file again (or fault into the guard, which lays
        // zeros there, when the file has shrunk meanwhile).
        let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, 0, len) };
    }
}

/// Run `parse` with `map` registered for release as parsing moves on; release all of it after.
pub fn with_mapped<R>(map: &GuardedMap, parse: impl FnOnce() -> R) -> R {
    let map = map.map();
    CURRENT.with(|c| c.set(Some((map as *const Mmap, STEP))));
    let r = parse();
    CURRENT.with(|c| c.set(None));
    release(map, map.len());
    r
}

/// Hand back every page of `map` (after a pass that read it all, such as counting lines).
pub fn release_all(map: &GuardedMap) {
    release(map.map(), map.len());
}

/// Run `read` over `map` a window at a time, in order, handing each window's pages back once
/// read (a pass that reads a whole file, such as counting its lines, holds one window).
pub fn scan_mapped<R>(map: &GuardedMap, mut read: impl FnMut(&[u8]) -> R) -> Vec<R> {
    let m = map.map();
    let mut out = Vec::new();
    let mut at = 0;
    while at < m.len() {
        let end = (at + STEP).min(m.len());
        out.push(read(&m[at..end]));
        release(m, end);
        at = end;
    }
    out
}

/// The parser has reached byte `pos` of the registered file.
#[inline]
pub fn progress(pos: usize) {
    CURRENT.with(|c| {
        if let Some((map, next)) = c.get()
            && pos >= next
        {
            // SAFETY: `with_mapped` keeps the pointer registered only while `map` is borrowed.
            let map = unsafe { &*map };
            release(map, pos.saturating_sub(KEEP));
            c.set(Some((map as *const Mmap, pos + STEP)));
        }
    });
}
