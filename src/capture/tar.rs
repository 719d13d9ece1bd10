//! Writing the bundle: a `.tar.gz` built in a temporary file beside the target
//! (`.NAME.partial-PID`) and renamed over it only when complete. Dropped before
//! [`BundleWriter::finish`], the temporary file is removed: no half bundle is ever left
//! under the final name.

#![allow(
    unsafe_code,
    reason = "removes a partial archive from a signal handler through libc"
)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;

/// The partial file being written, as a C string, for a forced exit to remove from inside a
/// signal handler. Set once per capture and never freed (a handler may read it at any time).
static PARTIAL: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

fn set_partial(path: Option<&Path>) {
    use std::os::unix::ffi::OsStrExt;
    let p = path
        .and_then(|p| std::ffi::CString::new(p.as_os_str().as_bytes()).ok())
        .map_or(std::ptr::null_mut(), std::ffi::CString::into_raw);
    PARTIAL.store(p, Ordering::Release);
}

/// Removes the partial file of the capture in progress, if any. Async-signal-safe: an
/// atomic load and `unlink`.
pub fn remove_partial() {
    let p = PARTIAL.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: `p` is a NUL-terminated string leaked by `set_partial`, never freed.
        unsafe {
            libc::unlink(p);
        }
    }
}

pub struct BundleWriter {
    target: PathBuf,
    temp: PathBuf,
    builder: Option<tar::Builder<GzEncoder<BufWriter<File>>>>,
    /// Path in the bundle and size of each file written.
    pub files: Vec<(String, u64)>,
}

fn write_error(path: &Path, e: &std::io::Error) -> String {
    format!(
        "{}: cannot write the bundle ({e}); check that the directory exists and is writable, or give another -o",
        path.display()
    )
}

impl BundleWriter {
    /// Open the temporary file beside `target`.
    pub fn create(target: &Path) -> Result<BundleWriter, String> {
        let name = target
            .file_name()
            .ok_or_else(|| format!("{}: not a file name; give -o FILE.tar.gz", target.display()))?;
        if target.is_dir() {
            return Err(format!(
                "{}: a directory; give -o a file name such as {}/incident.tar.gz",
                target.display(),
                target.display()
            ));
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = dir.join(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| write_error(target, &e))?;
        set_partial(Some(&temp));
        let gz = GzEncoder::new(BufWriter::new(file), Compression::default());
        Ok(BundleWriter {
            target: target.to_path_buf(),
            temp,
            builder: Some(tar::Builder::new(gz)),
            files: Vec::new(),
        })
    }

    /// Add one file; `mtime` in seconds since the epoch.
    pub fn add(&mut self, path: &str, data: &[u8], mtime: u64) -> Result<(), String> {
        let Some(builder) = self.builder.as_mut() else {
            return Err(format!(
                "{}: the bundle is already closed",
                self.target.display()
            ));
        };
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, data)
            .map_err(|e| write_error(&self.target, &e))?;
        self.files.push((path.to_string(), data.len() as u64));
        Ok(())
    }

    /// Close the archive, flush it to disk and rename it to the target.
    pub fn finish(mut self) -> Result<PathBuf, String> {
        let target = self.target.clone();
        let err = |e: std::io::Error| write_error(&target, &e);
        let Some(builder) = self.builder.take() else {
            return Err(format!(
                "{}: the bundle is already closed",
                target.display()
            ));
        };
        let gz = builder.into_inner().map_err(err)?;
        let mut buf = gz.finish().map_err(err)?;
        buf.flush().map_err(err)?;
        let file = buf.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        drop(file);
        set_partial(None);
        std::fs::rename(&self.temp, &target).map_err(err)?;
        Ok(target)
    }
}

impl Drop for BundleWriter {
    fn drop(&mut self) {
        // Only reached with the builder still open when capture failed or was interrupted
        // (finish took it): remove the partial file.
        set_partial(None);
        if self.builder.take().is_some() || self.temp.exists() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Gzip `data` (a rotated `.gz` log, redacted, goes back in compressed).
pub fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_unfinished_leaves_nothing_and_finished_renames() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("b.tar.gz");
        {
            let mut w = BundleWriter::create(&target).unwrap();
            w.add("a.txt", b"x", 0).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut w = BundleWriter::create(&target).unwrap();
        w.add("nginx/error.log", b"line\n", 0).unwrap();
        w.finish().unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.tar.gz"]);
        assert!(
            BundleWriter::create(dir.path())
                .err()
                .unwrap()
                .contains("a directory")
        );
        assert!(BundleWriter::create(&dir.path().join("no/b.tar.gz")).is_err());
    }
}
