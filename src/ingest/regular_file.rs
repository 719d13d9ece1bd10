//! Opening a path only when it is a regular file, without ever blocking.
//!
//! `open()` on a named pipe waits for a writer, and reading a device (`/dev/zero`) never ends.
//! A path sitrep reads as a log is opened non-blocking and checked with `fstat` on the open
//! descriptor (no window between a check and the open); anything but a regular file is
//! refused with what it is. Standard input and pipes the user hands over on purpose (`-`,
//! `/dev/stdin`, `<(...)`) are read by [`read_stream`], bounded.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a path was not opened.
#[derive(Debug)]
pub enum Refused {
    /// It is there but not a regular file: "a named pipe", "a character device"...
    NotAFile(&'static str),
    Io(std::io::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NotAFile(what) => write!(
                f,
                "{what}, not a regular file: not read (give a stream on standard input with `-` instead)"
            ),
            Refused::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What a file type is, in words.
pub fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

/// Opens `path` for reading if it is a regular file; never waits for a pipe's writer.
pub fn open_regular(path: &Path) -> Result<File, Refused> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(Refused::Io)?;
    let meta = file.metadata().map_err(Refused::Io)?;
    if !meta.is_file() {
        return Err(Refused::NotAFile(kind_of(meta.file_type())));
    }
    Ok(file)
}

/// The path names the standard input or a pipe the user passed on purpose: `-`,
/// `/dev/stdin`, or an open descriptor (`/dev/fd/N`, `/proc/self/fd/N`, as `<(cmd)` gives).
pub fn is_stream_arg(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s == "-"
        || s == "/dev/stdin"
        || s.strip_prefix("/dev/fd/")
            .or_else(|| s.strip_prefix("/proc/self/fd/"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads a stream argument (see [`is_stream_arg`]) to its end, at most `limit` bytes; says
/// when it was cut.
pub fn read_stream(path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, Option<String>)> {
    let mut out = Vec::new();
    let mut reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(path)?)
    };
    (&mut reader).take(limit).read_to_end(&mut out)?;
    let mut probe = [0u8; 1];
    let cut = out.len() as u64 == limit && matches!(reader.read(&mut probe), Ok(n) if n > 0);
    let note =
        cut.then(|| format!("the stream went on past {limit} bytes; kept the first {limit}"));
    Ok((out, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code, reason = "makes a FIFO to test with")]
    fn a_pipe_or_a_device_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let t = std::time::Instant::now();
        assert!(matches!(
            open_regular(&fifo),
            Err(Refused::NotAFile("a named pipe"))
        ));
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        assert!(matches!(
            open_regular(Path::new("/dev/zero")),
            Err(Refused::NotAFile("a character device"))
        ));
        let file = dir.path().join("a.log");
        std::fs::write(&file, "x\n").unwrap();
        let mut s = String::new();
        open_regular(&file).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "x\n");
    }

    #[test]
    fn stream_arguments() {
        for yes in ["-", "/dev/stdin", "/dev/fd/63", "/proc/self/fd/0"] {
            assert!(is_stream_arg(Path::new(yes)), "{yes}");
        }
        for no in ["/dev/zero", "/dev/fd/", "access.log", "/dev/fd/x"] {
            assert!(!is_stream_arg(Path::new(no)), "{no}");
        }
    }
}
