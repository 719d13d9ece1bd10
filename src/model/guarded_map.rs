//! A read-only map of a log file that survives the file shrinking under it.
//!
//! A mapped file that another process truncates (logrotate's `copytruncate`, `truncate -s 0`,
//! `cp small.log access.log`) makes any read of a page past its new end raise SIGBUS, which
//! kills the process and leaves the terminal raw. sitrep maps logs it does not own, so every
//! map is registered here, and a SIGBUS handler turns a fault inside a registered map into
//! zero-filled pages from the faulting page to the map's end (an anonymous map laid over
//! them), marks the map as cut, and lets the read go on. A fault anywhere else is handed to
//! the handler that was there before (or the default action), as if sitrep had none.
//!
//! What the reader sees after a cut is zeros where the text was: the loader checks
//! [`GuardedMap::shrank`] after parsing and reads the file again as it is then; the console
//! shows a marker for text that is gone.

#![allow(
    unsafe_code,
    reason = "maps files and turns SIGBUS on a shrunk file into zero pages: mmap, sigaction and the handler are unsafe by nature"
)]

use std::fs::File;
use std::ops::Deref;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How many maps may be registered at once; a file opened when all are taken is read into
/// memory instead.
const SLOTS: usize = 4096;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    cut: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    cut: AtomicBool::new(false),
};

static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
/// The SIGBUS disposition before sitrep's, restored for faults that are not sitrep's.
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The SIGBUS handler: only async-signal-safe work (atomics, `mmap`, `sigaction`).
extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for slot in &REGISTRY {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        if start == 0 || addr < start || addr >= start + len {
            continue;
        }
        let from = addr & !(page - 1);
        let end = (start + len).div_ceil(page) * page;
        // SAFETY: [from, end) lies inside a live read-only map of this process (registered
        // until its owner unregisters it, before unmapping); laying zero pages over it only
        // changes what later reads of that range return.
        let laid = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                end - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if laid != libc::MAP_FAILED {
            slot.cut.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // Not a map of sitrep's (or it could not be patched): give the fault back to whoever
    // handled it before; returning runs the faulting instruction again under that handler.
    // SAFETY: PREVIOUS was written once before this handler was installed.
    unsafe {
        libc::sigaction(
            libc::SIGBUS,
            (*std::ptr::addr_of!(PREVIOUS)).as_ptr(),
            std::ptr::null_mut(),
        );
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: plain libc calls with valid pointers; PREVIOUS is written before the
        // handler that reads it is installed.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return;
            }
            (*std::ptr::addr_of_mut!(PREVIOUS)).write(old);
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut act.sa_mask);
            if libc::sigaction(libc::SIGBUS, &act, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
}

/// A read-only map of a file, safe to read while another process shrinks the file.
pub struct GuardedMap {
    map: memmap2::Mmap,
    slot: usize,
    file: File,
}

impl GuardedMap {
    /// Maps `file` (not empty); `None` when it cannot be mapped or guarded (read it instead).
    pub fn new(file: File) -> Option<GuardedMap> {
        install();
        if !INSTALLED.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: the map is read-only and registered below before anyone reads it; a read
        // of a page the file no longer has faults into `on_sigbus`, which lays zero pages
        // there instead of letting SIGBUS kill the process. The bytes may change or turn to
        // zeros while mapped; nothing relies on them staying put beyond reading text.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let start = map.as_ptr() as usize;
        for (i, slot) in REGISTRY.iter().enumerate() {
            if slot
                .start
                .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                slot.cut.store(false, Ordering::Relaxed);
                slot.len.store(map.len(), Ordering::Release);
                slot.start.store(start, Ordering::Release);
                return Some(GuardedMap { map, slot: i, file });
            }
        }
        None
    }

    /// The file lost bytes that were mapped: some read found a page gone (now zeros), or
    /// the file is shorter than the map now.
    pub fn shrank(&self) -> bool {
        REGISTRY[self.slot].cut.load(Ordering::Acquire)
            || self
                .file
                .metadata()
                .is_ok_and(|m| m.len() < self.map.len() as u64)
    }

    /// The file as it is now, to read again.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The map, for page advice.
    pub fn map(&self) -> &memmap2::Mmap {
        &self.map
    }
}

impl Deref for GuardedMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for GuardedMap {
    fn drop(&mut self) {
        // Unregistered before `map` is unmapped (fields drop after this body).
        let slot = &REGISTRY[self.slot];
        slot.len.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_truncated_while_mapped_reads_as_zeros_not_a_signal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let line =
            b"127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n";
        let mut f = File::create(&path).unwrap();
        for _ in 0..20_000 {
            f.write_all(line).unwrap();
        }
        drop(f);
        let map = GuardedMap::new(File::open(&path).unwrap()).expect("mapped");
        assert!(!map.shrank());
        let len = map.len();
        // logrotate's copytruncate.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert!(map.shrank());
        // Every page past the new end: zeros, and the process lives.
        let sum: u64 = map.iter().step_by(1024).map(|b| u64::from(*b)).sum();
        assert_eq!(sum, 0);
        assert_eq!(map.len(), len);
        assert!(REGISTRY[map.slot].cut.load(Ordering::Acquire));
    }

    #[test]
    fn slots_are_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"a\n").unwrap();
        let taken = || {
            REGISTRY
                .iter()
                .filter(|s| s.start.load(Ordering::Acquire) != 0)
                .count()
        };
        let maps: Vec<GuardedMap> = (0..10)
            .map(|_| GuardedMap::new(File::open(&path).unwrap()).unwrap())
            .collect();
        assert!(taken() >= 10);
        let slots: Vec<usize> = maps.iter().map(|m| m.slot).collect();
        drop(maps);
        for s in slots {
            assert_eq!(REGISTRY[s].start.load(Ordering::Acquire), 0);
        }
    }
}
