//! Follow one log file the way `tail -F` does, across logrotate's rotations.
//!
//! A [`Follower`] keeps the file open and remembers its identity (`dev`, `ino`) and how far it
//! has read. Each [`Follower::poll`] is one `stat` of the path plus reads from the open file, so
//! it is cheap when nothing changed; the live collector calls it on a timer. What poll sees:
//!
//! - the same file, grown: the new whole lines;
//! - the same file, smaller than what was read (`copytruncate`): read again from its start;
//! - another file under the name (`create`: rename then create; delete then recreate): the open
//!   file is read to its end first, then the new one from its start. The old one stays open for
//!   a while and is still read, so a writer that reopens late loses nothing;
//! - no file (not created yet, or renamed away): keep reading the open one, wait for the name.
//!
//! Only whole lines come out. A partial line is held until its `'\n'` arrives; it is let out
//! with a `'\n'` added when its file is rotated away or truncated, or when it has not grown for
//! [`IDLE`], so nothing is ever lost.

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where to begin in the file that exists when the follower is created. A file that appears
/// later (created after the follower, or a rotation's new file) is always read from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Every line already in the file.
    FromStart,
    /// Only lines appended from now on.
    FromEnd,
    /// The whole lines within the last `n` bytes, then what is appended.
    Tail(u64),
}

/// What happened to the followed path that the user should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The path does not exist (yet); it will be read from its start when it appears.
    Waiting { path: PathBuf },
    /// The path can be read again (it appeared, or became readable).
    Opened { path: PathBuf },
    /// Another file took the name (logrotate `create`, or delete and recreate); the old one was
    /// read to its end and the new one is read from its start.
    Rotated { path: PathBuf },
    /// The file shrank below what was already read (logrotate `copytruncate`); it is read again
    /// from its start.
    Truncated { path: PathBuf, from: u64, to: u64 },
    /// The name was removed or renamed away and nothing replaced it yet.
    Vanished { path: PathBuf },
    /// The file cannot be opened for lack of permission; `hint` says how to fix it.
    PermissionDenied { path: PathBuf, hint: String },
    /// Any other error opening or reading the file; retried on every poll.
    Unreadable { path: PathBuf, error: String },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Waiting { path } => write!(
                f,
                "{}: does not exist yet; it will be read from its start when it appears",
                path.display()
            ),
            Event::Opened { path } => write!(f, "{}: reading it now", path.display()),
            Event::Rotated { path } => write!(
                f,
                "{}: rotated; the old file was read to its end, reading the new one from its start",
                path.display()
            ),
            Event::Truncated { path, from, to } => write!(
                f,
                "{}: truncated from {from} to {to} bytes (copytruncate?); reading it again from its start",
                path.display()
            ),
            Event::Vanished { path } => write!(
                f,
                "{}: removed or renamed away; still reading the old file, and the name again when it reappears",
                path.display()
            ),
            Event::PermissionDenied { path, hint } => {
                write!(f, "{}: permission denied; {hint}", path.display())
            }
            Event::Unreadable { path, error } => write!(
                f,
                "{}: cannot read it ({error}); trying again",
                path.display()
            ),
        }
    }
}

/// How long a partial line waits for its end, and a rotated-away file for late writes.
pub const IDLE: Duration = Duration::from_secs(5);
/// The most bytes one poll reads, so a big backlog is taken over several polls.
pub const POLL_BUDGET: usize = 8 << 20;
/// A "line" this long without a `'\n'` is let out as it is.
const MAX_LINE: usize = 1 << 20;
const CHUNK: usize = 64 << 10;
/// Rotated-away files still read for late writes; beyond this the oldest is finished.
const MAX_ROTATED: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
}

impl Identity {
    fn of(meta: &fs::Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// One open file and how far it has been read.
#[derive(Debug)]
struct Open {
    file: File,
    id: Identity,
    offset: u64,
    /// Bytes after the last `'\n'` read, waiting for their line's end.
    partial: Vec<u8>,
    /// When `partial` last grew.
    partial_since: Instant,
    /// When a read last returned bytes.
    grew: Instant,
    /// Started in the middle of a line: drop bytes up to the next `'\n'`.
    skip_to_newline: bool,
}

impl Open {
    /// Take `bytes` just read: whole lines go to `out`, the rest waits in `partial`.
    fn take(&mut self, mut bytes: &[u8], now: Instant, out: &mut Vec<u8>) {
        if self.skip_to_newline {
            match memchr::memchr(b'\n', bytes) {
                Some(i) => {
                    bytes = &bytes[i + 1..];
                    self.skip_to_newline = false;
                }
                None => return,
            }
        }
        if let Some(i) = memchr::memrchr(b'\n', bytes) {
            out.append(&mut self.partial);
            out.extend_from_slice(&bytes[..=i]);
            bytes = &bytes[i + 1..];
        }
        if !bytes.is_empty() {
            self.partial.extend_from_slice(bytes);
            self.partial_since = now;
            if self.partial.len() >= MAX_LINE {
                self.flush(out);
            }
        }
    }

    /// Let a held partial line out, ended with a `'\n'`.
    fn flush(&mut self, out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            out.append(&mut self.partial);
            out.push(b'\n');
        }
    }

    /// Read up to `budget` bytes from the offset on. `Ok(true)` when the end was reached.
    fn drain(
        &mut self,
        now: Instant,
        budget: &mut usize,
        buf: &mut [u8],
        out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        loop {
            let want = buf.len().min(*budget);
            if want == 0 {
                return Ok(false);
            }
            let n = match self.file.read_at(&mut buf[..want], self.offset) {
                Ok(0) => return Ok(true),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.offset += n as u64;
            *budget -= n;
            self.grew = now;
            self.take(&buf[..n], now, out);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Missing,
    Denied,
    Other,
}

/// Follows one path across rotations; see the module documentation.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    /// Where to begin in the next file opened: the caller's choice until a file was opened (if
    /// it existed at creation), from the start after.
    start: Start,
    /// The file under the name (or the last one, if the name is gone).
    current: Option<Open>,
    /// Files rotated away, oldest first, still read for late writes until idle.
    rotated: Vec<Open>,
    /// The last problem reported, so each is reported once.
    problem: Option<Problem>,
    events: Vec<Event>,
    budget: usize,
    idle: Duration,
    buf: Vec<u8>,
}

impl Follower {
    /// Follow `path`, beginning at `start` if it exists now; never fails: a missing or unreadable
    /// file is reported as an [`Event`] and picked up when it appears or becomes readable.
    pub fn new(path: impl Into<PathBuf>, start: Start) -> Follower {
        let mut f = Follower {
            path: path.into(),
            start,
            current: None,
            rotated: Vec::new(),
            problem: None,
            events: Vec::new(),
            budget: POLL_BUDGET,
            idle: IDLE,
            buf: vec![0; CHUNK],
        };
        let now = Instant::now();
        f.current = f.open(now);
        if f.current.is_none() && f.problem == Some(Problem::Missing) {
            f.start = Start::FromStart;
        }
        f
    }

    /// The followed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What happened since the last call (rotations, truncations, errors), oldest first.
    pub fn events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Bytes of whole lines (each ending in `'\n'`) appended since the last call, in order,
    /// across rotations; at most about [`POLL_BUDGET`] bytes, the rest on the next calls.
    pub fn poll(&mut self) -> Vec<u8> {
        self.poll_at(Instant::now())
    }

    /// [`Follower::poll`] with the time given, for tests and callers with their own clock.
    pub fn poll_at(&mut self, now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        let mut budget = self.budget;
        if self.read_rotated(now, &mut budget, &mut out) {
            match fs::metadata(&self.path) {
                Ok(meta) => self.read_present(&meta, now, &mut budget, &mut out),
                Err(e) => {
                    self.read_current(now, &mut budget, &mut out);
                    self.report(&e);
                }
            }
        }
        for open in self.rotated.iter_mut().chain(self.current.as_mut()) {
            if !open.partial.is_empty()
                && now.saturating_duration_since(open.partial_since) >= self.idle
            {
                open.flush(&mut out);
            }
        }
        out
    }

    /// Read the rotated-away files for late writes, dropping those idle for long enough. False
    /// when the budget ran out (the current file must wait, to keep the order).
    fn read_rotated(&mut self, now: Instant, budget: &mut usize, out: &mut Vec<u8>) -> bool {
        let mut i = 0;
        while i < self.rotated.len() {
            let open = &mut self.rotated[i];
            match open.drain(now, budget, &mut self.buf, out) {
                Ok(false) => return false,
                Ok(true) if now.saturating_duration_since(open.grew) < self.idle => i += 1,
                // Idle at its end, or unreadable: done with it.
                Ok(true) | Err(_) => {
                    open.flush(out);
                    self.rotated.remove(i);
                }
            }
        }
        true
    }

    /// Read the current file: `Some(true)` at its end, `Some(false)` when the budget ran out,
    /// `None` when there is no file or reading failed (reported).
    fn read_current(
        &mut self,
        now: Instant,
        budget: &mut usize,
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        let open = self.current.as_mut()?;
        match open.drain(now, budget, &mut self.buf, out) {
            Ok(at_end) => Some(at_end),
            Err(e) => {
                self.report(&e);
                None
            }
        }
    }

    /// The path exists with `meta`: same file (maybe truncated), another file, or a first one.
    fn read_present(
        &mut self,
        meta: &fs::Metadata,
        now: Instant,
        budget: &mut usize,
        out: &mut Vec<u8>,
    ) {
        let id = Identity::of(meta);
        if let Some(open) = self.current.as_mut() {
            if open.id == id {
                if meta.len() < open.offset {
                    open.flush(out);
                    self.events.push(Event::Truncated {
                        path: self.path.clone(),
                        from: open.offset,
                        to: meta.len(),
                    });
                    open.offset = 0;
                    open.skip_to_newline = false;
                }
                if self.read_current(now, budget, out).is_some() {
                    self.problem = None;
                }
                return;
            }
            // Another file has the name: finish this one first (if it cannot be read, it
            // cannot be finished: move on).
            if self.read_current(now, budget, out) == Some(false) {
                return;
            }
            if let Some(mut old) = self.current.take() {
                old.flush(out);
                if self.rotated.len() >= MAX_ROTATED {
                    let mut oldest = self.rotated.remove(0);
                    let mut unbounded = usize::MAX;
                    // Best effort: it was read on every poll, little can be left.
                    let _ = oldest.drain(now, &mut unbounded, &mut self.buf, out);
                    oldest.flush(out);
                }
                self.rotated.push(old);
            }
            self.events.push(Event::Rotated {
                path: self.path.clone(),
            });
            self.problem = None;
            self.start = Start::FromStart;
        }
        if let Some(open) = self.open(now) {
            self.current = Some(open);
            self.read_current(now, budget, out);
        }
    }

    /// Open the path, placing the offset as `start` says; report a failure.
    fn open(&mut self, now: Instant) -> Option<Open> {
        let opened = crate::ingest::regular_file::open_regular(&self.path)
            .map_err(|e| match e {
                crate::ingest::regular_file::Refused::Io(e) => e,
                not_a_file => {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, not_a_file.to_string())
                }
            })
            .and_then(|file| {
                let meta = file.metadata()?;
                Ok((file, meta))
            });
        let (file, meta) = match opened {
            Ok(x) => x,
            Err(e) => {
                self.report(&e);
                return None;
            }
        };
        let len = meta.len();
        let offset = match self.start {
            Start::FromStart => 0,
            Start::FromEnd => len,
            Start::Tail(n) => len.saturating_sub(n),
        };
        // Begin at a line boundary: unless the byte before is a '\n', skip to the next one.
        let mut before = [0u8; 1];
        let skip_to_newline = offset > 0
            && !matches!(file.read_at(&mut before, offset - 1), Ok(1) if before[0] == b'\n');
        self.start = Start::FromStart;
        if self.problem.take().is_some() {
            self.events.push(Event::Opened {
                path: self.path.clone(),
            });
        }
        Some(Open {
            file,
            id: Identity::of(&meta),
            offset,
            partial: Vec::new(),
            partial_since: now,
            grew: now,
            skip_to_newline,
        })
    }

    /// Turn an error into an event, once per kind of problem.
    fn report(&mut self, e: &io::Error) {
        let problem = match e.kind() {
            io::ErrorKind::NotFound => Problem::Missing,
            io::ErrorKind::PermissionDenied => Problem::Denied,
            _ => Problem::Other,
        };
        if self.problem == Some(problem) {
            return;
        }
        self.problem = Some(problem);
        let path = self.path.clone();
        self.events.push(match problem {
            Problem::Missing if self.current.is_some() => Event::Vanished { path },
            Problem::Missing => Event::Waiting { path },
            Problem::Denied => Event::PermissionDenied {
                hint: permission_hint(&path),
                path,
            },
            Problem::Other => Event::Unreadable {
                path,
                error: e.to_string(),
            },
        });
    }
}

/// How to get read access to `path`: join its group when the group may read it.
fn permission_hint(path: &Path) -> String {
    let group = fs::metadata(path)
        .ok()
        .filter(|m| m.mode() & 0o040 != 0)
        .and_then(|m| group_name(m.gid()));
    match group {
        Some(g) => format!(
            "add yourself to group {g} (`sudo usermod -aG {g} $USER`, then log in again), or run sitrep with sudo"
        ),
        None => format!(
            "make it readable to you (its group is often adm: `sudo usermod -aG adm $USER`, then log in again; or `sudo chmod a+r {}`), or run sitrep with sudo",
            path.display()
        ),
    }
}

fn group_name(gid: u32) -> Option<String> {
    let groups = fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == gid).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::{self, JoinHandle};

    /// Lines the writer thread writes, one every `PACE`, and how often the test rotates.
    const TOTAL: u64 = 2400;
    const EVERY: u64 = 600;
    const PACE: Duration = Duration::from_micros(200);

    fn append(path: &Path, bytes: &[u8]) {
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    /// A thread appending `line 000001\n`... to a path, reopening it for every line (so it
    /// follows the name, as an application told to reopen does). The test's own rotations
    /// hold `lock`, so the writer is never caught between the old file and the new one.
    struct Writer {
        path: PathBuf,
        lock: Mutex<()>,
        written: AtomicU64,
        /// Rotations the test has done: the writer never runs more than half a batch past
        /// the next one, so a busy machine cannot let it finish before the test rotates.
        rotated: AtomicU64,
    }

    impl Writer {
        fn spawn(path: &Path) -> (Arc<Writer>, JoinHandle<()>) {
            let w = Arc::new(Writer {
                path: path.to_path_buf(),
                lock: Mutex::new(()),
                written: AtomicU64::new(0),
                rotated: AtomicU64::new(0),
            });
            let w2 = Arc::clone(&w);
            let handle = thread::spawn(move || {
                for i in 1..=TOTAL {
                    // Lines keep coming while the test rotates, but no further than half a
                    // batch past a rotation it has not done yet (60 s at most).
                    let deadline = std::time::Instant::now() + Duration::from_secs(60);
                    loop {
                        let done = w2.rotated.load(Ordering::SeqCst);
                        let limit = (done + 1) * EVERY + EVERY / 2;
                        if done >= TOTAL / EVERY - 1
                            || i <= limit
                            || std::time::Instant::now() > deadline
                        {
                            break;
                        }
                        thread::sleep(Duration::from_millis(1));
                    }
                    let guard = w2.lock.lock().unwrap();
                    // Never create it: that is the rotator's job (logrotate's `create` refuses
                    // a name that exists). Between a rename and the create, wait.
                    let mut f = loop {
                        match OpenOptions::new().append(true).open(&w2.path) {
                            Ok(f) => break f,
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                                thread::sleep(Duration::from_micros(50))
                            }
                            Err(e) => panic!("writer: {e}"),
                        }
                    };
                    f.write_all(format!("line {i:06}\n").as_bytes()).unwrap();
                    drop(f);
                    w2.written.store(i, Ordering::SeqCst);
                    drop(guard);
                    thread::sleep(PACE);
                }
            });
            (w, handle)
        }

        fn written(&self) -> u64 {
            self.written.load(Ordering::SeqCst)
        }
    }

    /// Poll while the writer writes, calling `rotate` each time `EVERY` more lines were written;
    /// returns the output and the events.
    fn follow_while_writing(
        path: &Path,
        mut rotate: impl FnMut(&Writer, &mut Follower, &mut Vec<u8>),
    ) -> (Vec<u8>, Vec<Event>) {
        fs::write(path, b"").unwrap();
        let mut f = Follower::new(path, Start::FromStart);
        let (w, handle) = Writer::spawn(path);
        let mut out = Vec::new();
        let mut next = EVERY;
        let mut rotations = 0;
        while !handle.is_finished() {
            if w.written() >= next && next < TOTAL {
                rotate(&w, &mut f, &mut out);
                rotations += 1;
                w.rotated.store(rotations, Ordering::SeqCst);
                next += EVERY;
            }
            out.extend(f.poll());
            thread::sleep(Duration::from_millis(1));
        }
        handle.join().unwrap();
        out.extend(f.poll());
        assert_eq!(
            rotations,
            TOTAL / EVERY - 1,
            "the test rotated too few times"
        );
        (out, f.events())
    }

    /// The numbers of the `line NNNNNN` lines in `out`, which must be whole lines.
    fn numbers(out: &[u8]) -> Vec<u64> {
        let text = std::str::from_utf8(out).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "not whole lines");
        text.lines()
            .map(|l| match l.strip_prefix("line ").map(str::parse::<u64>) {
                Some(Ok(n)) if l.len() == 11 => n,
                _ => panic!("not a whole line: {l:?}"),
            })
            .collect()
    }

    fn assert_every_line_once(out: &[u8]) {
        let seen = numbers(out);
        let want: Vec<u64> = (1..=TOTAL).collect();
        if seen != want {
            let missing: Vec<u64> = want.iter().copied().filter(|n| !seen.contains(n)).collect();
            panic!(
                "{} lines seen, {} expected; missing {:?}; out of order or twice: {:?}",
                seen.len(),
                TOTAL,
                &missing[..missing.len().min(20)],
                seen.windows(2)
                    .filter(|w| w[1] != w[0] + 1)
                    .take(20)
                    .collect::<Vec<_>>()
            );
        }
    }

    fn count(events: &[Event], what: fn(&Event) -> bool) -> usize {
        events.iter().filter(|e| what(e)).count()
    }

    #[test]
    fn rename_and_create_keeps_every_line_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let (out, events) = follow_while_writing(&path, |w, _, _| {
            let _g = w.lock.lock().unwrap();
            fs::rename(&w.path, dir.path().join("app.log.1")).unwrap();
            File::create(&w.path).unwrap();
        });
        assert_every_line_once(&out);
        let rotated = count(&events, |e| matches!(e, Event::Rotated { .. }));
        assert_eq!(rotated as u64, TOTAL / EVERY - 1, "{events:?}");
    }

    #[test]
    fn delete_and_recreate_keeps_every_line_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let (out, events) = follow_while_writing(&path, |w, _, _| {
            let _g = w.lock.lock().unwrap();
            fs::remove_file(&w.path).unwrap();
            File::create(&w.path).unwrap();
        });
        assert_every_line_once(&out);
        let rotated = count(&events, |e| matches!(e, Event::Rotated { .. }));
        assert_eq!(rotated as u64, TOTAL / EVERY - 1, "{events:?}");
    }

    #[test]
    fn copytruncate_keeps_every_line_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let (out, events) = follow_while_writing(&path, |w, f, out| {
            // The writer pauses around the copy and the truncation, and the follower has read
            // all before the copy: what copytruncate itself loses (lines written between its
            // copy and its truncation, or before a poll and the copy) is not this test's.
            let _g = w.lock.lock().unwrap();
            out.extend(f.poll());
            fs::copy(&w.path, dir.path().join("app.log.1")).unwrap();
            OpenOptions::new()
                .write(true)
                .open(&w.path)
                .unwrap()
                .set_len(0)
                .unwrap();
        });
        assert_every_line_once(&out);
        let truncated = count(&events, |e| matches!(e, Event::Truncated { .. }));
        assert_eq!(truncated as u64, TOTAL / EVERY - 1, "{events:?}");
    }

    #[test]
    fn a_file_created_later_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        // Even FromEnd: the file did not exist, so all of it is new.
        let mut f = Follower::new(&path, Start::FromEnd);
        assert_eq!(f.poll(), b"");
        assert_eq!(f.poll(), b"");
        assert!(matches!(&f.events()[..], [Event::Waiting { .. }]));
        fs::write(&path, b"one\ntwo\n").unwrap();
        assert_eq!(f.poll(), b"one\ntwo\n");
        assert!(matches!(&f.events()[..], [Event::Opened { .. }]));
        append(&path, b"three\n");
        assert_eq!(f.poll(), b"three\n");
        assert_eq!(f.path(), path.as_path());
    }

    #[test]
    fn a_vanished_file_is_read_to_its_end_and_followed_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"a\n").unwrap();
        let mut f = Follower::new(&path, Start::FromStart);
        assert_eq!(f.poll(), b"a\n");
        let mut old = OpenOptions::new().append(true).open(&path).unwrap();
        fs::remove_file(&path).unwrap();
        old.write_all(b"b\n").unwrap();
        assert_eq!(f.poll(), b"b\n");
        assert_eq!(f.poll(), b"");
        assert!(matches!(&f.events()[..], [Event::Vanished { .. }]));
        fs::write(&path, b"c\n").unwrap();
        assert_eq!(f.poll(), b"c\n");
        assert!(matches!(&f.events()[..], [Event::Rotated { .. }]));
    }

    #[test]
    fn partial_lines_wait_for_their_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"").unwrap();
        let mut f = Follower::new(&path, Start::FromStart);
        append(&path, b"line 000001\nline 00");
        assert_eq!(f.poll(), b"line 000001\n");
        append(&path, b"0002");
        assert_eq!(f.poll(), b"");
        append(&path, b"\nline 000003\nli");
        assert_eq!(f.poll(), b"line 000002\nline 000003\n");
        append(&path, b"ne 000004\n");
        assert_eq!(f.poll(), b"line 000004\n");
    }

    #[test]
    fn a_partial_last_line_is_let_out_after_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"whole\nno end").unwrap();
        let mut f = Follower::new(&path, Start::FromStart);
        let t0 = Instant::now();
        assert_eq!(f.poll_at(t0), b"whole\n");
        assert_eq!(f.poll_at(t0 + IDLE / 2), b"");
        // Growing restarts the wait.
        append(&path, b" yet");
        assert_eq!(f.poll_at(t0 + IDLE - Duration::from_secs(1)), b"");
        assert_eq!(f.poll_at(t0 + IDLE + Duration::from_secs(1)), b"");
        assert_eq!(f.poll_at(t0 + 2 * IDLE), b"no end yet\n");
        assert_eq!(f.poll_at(t0 + 3 * IDLE), b"");
        append(&path, b"next\n");
        assert_eq!(f.poll_at(t0 + 3 * IDLE), b"next\n");
    }

    #[test]
    fn a_partial_line_is_let_out_when_its_file_is_rotated_or_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"a\nhalf").unwrap();
        let mut f = Follower::new(&path, Start::FromStart);
        assert_eq!(f.poll(), b"a\n");
        fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        fs::write(&path, b"new\nhalf again").unwrap();
        assert_eq!(f.poll(), b"half\nnew\n");
        fs::write(&path, b"x\n").unwrap(); // truncates: same file, shorter
        assert_eq!(f.poll(), b"half again\nx\n");
        let events = f.events();
        assert!(
            matches!(
                &events[..],
                [
                    Event::Rotated { .. },
                    Event::Truncated {
                        from: 14,
                        to: 2,
                        ..
                    }
                ]
            ),
            "{events:?}"
        );
    }

    #[test]
    fn late_writes_to_a_rotated_file_are_read_until_it_is_idle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"1\n").unwrap();
        let mut f = Follower::new(&path, Start::FromStart);
        let t0 = Instant::now();
        assert_eq!(f.poll_at(t0), b"1\n");
        // An application that has not reopened yet keeps writing to the renamed file.
        let mut old = OpenOptions::new().append(true).open(&path).unwrap();
        fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        fs::write(&path, b"").unwrap();
        assert_eq!(f.poll_at(t0), b"");
        old.write_all(b"2\n").unwrap();
        append(&path, b"3\n");
        assert_eq!(f.poll_at(t0), b"2\n3\n");
        // Once idle for long enough it is let go.
        assert_eq!(f.poll_at(t0 + IDLE), b"");
        assert!(f.rotated.is_empty());
        old.write_all(b"lost\n").unwrap();
        assert_eq!(f.poll_at(t0 + IDLE), b"");
    }

    #[test]
    fn tail_starts_at_a_line_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let lines: Vec<u8> = (1..=5)
            .flat_map(|i| format!("line {i:06}\n").into_bytes())
            .collect();
        fs::write(&path, &lines).unwrap();
        // 12-byte lines: 30 bytes hold two whole lines, 36 exactly three.
        let cases: [(u64, &[u64]); 6] = [
            (30, &[4, 5]),
            (36, &[3, 4, 5]),
            (37, &[3, 4, 5]),
            (1000, &[1, 2, 3, 4, 5]),
            (11, &[]),
            (0, &[]),
        ];
        for (n, want) in cases {
            let mut f = Follower::new(&path, Start::Tail(n));
            assert_eq!(numbers(&f.poll()), want, "Tail({n})");
        }
        let mut f = Follower::new(&path, Start::FromEnd);
        assert_eq!(f.poll(), b"");
        append(&path, b"line 000006\n");
        assert_eq!(numbers(&f.poll()), [6]);
        // Started in the middle of a line being written: the rest of it is skipped.
        append(&path, b"line 0000");
        let mut f = Follower::new(&path, Start::Tail(5));
        assert_eq!(f.poll(), b"");
        append(&path, b"07\nline 000008\n");
        assert_eq!(numbers(&f.poll()), [8]);
    }

    #[test]
    fn one_poll_returns_a_bounded_amount() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let lines: Vec<u8> = (1..=10)
            .flat_map(|i| format!("line {i:06}\n").into_bytes())
            .collect();
        fs::write(&path, &lines).unwrap();
        let mut f = Follower::new(&path, Start::FromStart);
        f.budget = 30;
        assert_eq!(numbers(&f.poll()), [1, 2]);
        assert_eq!(numbers(&f.poll()), [3, 4, 5]);
        assert_eq!(numbers(&f.poll()), [6, 7]);
        // A rotation waits until the old file is read to its end.
        fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        fs::write(&path, b"line 000011\n").unwrap();
        assert_eq!(numbers(&f.poll()), [8, 9, 10]);
        assert_eq!(numbers(&f.poll()), [11]);
        assert_eq!(f.poll(), b"");
    }

    #[test]
    fn an_unreadable_file_is_reported_once_and_read_once_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"a\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        // As root, permissions do not stop reads: only check the event where they do.
        let unreadable = File::open(&path).is_err();
        let mut f = Follower::new(&path, Start::FromStart);
        let first = f.poll();
        f.poll();
        let events = f.events();
        if unreadable {
            assert_eq!(first, b"");
            assert_eq!(events.len(), 1, "{events:?}");
            assert!(matches!(&events[0], Event::PermissionDenied { .. }));
            let message = events[0].to_string();
            assert!(message.contains("permission denied"), "{message}");
            assert!(message.contains("sudo"), "{message}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(f.poll(), b"a\n");
            assert!(matches!(&f.events()[..], [Event::Opened { .. }]));
        } else {
            assert_eq!(first, b"a\n");
            assert!(events.is_empty(), "{events:?}");
        }
    }

    #[test]
    fn permission_hints_name_the_group_that_may_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, b"").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let gid = fs::metadata(&path).unwrap().gid();
        let hint = permission_hint(&path);
        match group_name(gid) {
            Some(g) => assert!(hint.contains(&format!("group {g} ")), "{hint}"),
            None => assert!(hint.contains("adm"), "{hint}"),
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(permission_hint(&path).contains("chmod"));
        let e = Event::PermissionDenied {
            path: path.clone(),
            hint,
        };
        assert!(
            e.to_string()
                .starts_with(&format!("{}: permission denied; ", path.display()))
        );
    }

    fn logrotate() -> &'static str {
        [
            "/usr/sbin/logrotate",
            "/usr/bin/logrotate",
            "/sbin/logrotate",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!("logrotate is not installed; these tests run it: apt-get install logrotate")
        })
    }

    /// Run the real logrotate on `path` with `how` (`create` or `copytruncate`).
    fn run_logrotate(dir: &Path, path: &Path, how: &str) {
        let conf = dir.join("logrotate.conf");
        fs::write(
            &conf,
            format!(
                "{} {{\n    {how}\n    rotate 10\n    missingok\n    nocompress\n}}\n",
                path.display()
            ),
        )
        .unwrap();
        let out = Command::new(logrotate())
            .arg("-f")
            .arg("-s")
            .arg(dir.join("logrotate.state"))
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "logrotate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn real_logrotate_create_keeps_every_line_once_in_order() {
        logrotate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let (out, events) = follow_while_writing(&path, |_, _, _| {
            run_logrotate(dir.path(), &path, "create");
        });
        assert_every_line_once(&out);
        assert!(dir.path().join("app.log.3").exists());
        let rotated = count(&events, |e| matches!(e, Event::Rotated { .. }));
        assert_eq!(rotated as u64, TOTAL / EVERY - 1, "{events:?}");
    }

    #[test]
    fn real_logrotate_copytruncate_loses_only_its_own_window() {
        logrotate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut windows = Vec::new();
        let (out, events) = follow_while_writing(&path, |w, f, out| {
            // Every line written before this poll is read by it; what is written from then
            // until logrotate has truncated may be lost, as with any follower of copytruncate.
            let before = w.written();
            out.extend(f.poll());
            run_logrotate(dir.path(), &path, "copytruncate");
            windows.push(before + 1..=w.written());
        });
        assert!(dir.path().join("app.log.3").exists());
        let seen = numbers(&out);
        assert!(
            seen.windows(2).all(|p| p[0] < p[1]),
            "out of order or twice"
        );
        let lost: Vec<u64> = (1..=TOTAL)
            .filter(|n| seen.binary_search(n).is_err())
            .collect();
        let outside: Vec<u64> = lost
            .iter()
            .copied()
            .filter(|n| !windows.iter().any(|w| w.contains(n)))
            .collect();
        assert!(
            outside.is_empty(),
            "lost outside logrotate's window: {outside:?}, windows {windows:?}"
        );
        let truncated = count(&events, |e| matches!(e, Event::Truncated { .. }));
        assert_eq!(truncated as u64, TOTAL / EVERY - 1, "{events:?}");
    }
}
