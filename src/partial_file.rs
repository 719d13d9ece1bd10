//! Writing a file whole or not at all, safely beside other users: the text goes to a new
//! temporary file in the target's folder, created exclusively (`O_EXCL`: a symlink or file
//! planted at that name is never followed nor reused) under a name no one can predict
//! beforehand (`.NAME.partial-PID-N`), then renamed over the target. On any error the
//! temporary file is removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many names are tried before giving up (each taken name is tried once).
const TRIES: u32 = 64;

/// Write `bytes` to `target` through an exclusive temporary file and a rename.
pub fn write(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (tmp, mut file) = create(target)?;
    let result = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, target)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A new temporary file beside `target`, created exclusively, and its path.
fn create(target: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut last = None;
    for _ in 0..TRIES {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{base}.partial-{}-{n}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_links_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let target = dir.path().join("r.md");
        // Every name this process would try next, and the old fixed name, point at the victim.
        let next = COUNTER.load(Ordering::Relaxed);
        for n in next..next + 4 {
            let planted = dir
                .path()
                .join(format!(".r.md.partial-{}-{n}", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        std::os::unix::fs::symlink(&victim, dir.path().join("r.md.partial")).unwrap();
        write(&target, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "report");
        // Nothing of ours is left behind: only the planted links, the victim and the report.
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, 1 + 4 + 1 + 1);
    }

    #[test]
    fn an_error_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: the rename fails, the temporary file goes.
        let target = dir.path().join("r.md");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "x").unwrap();
        assert!(write(&target, b"report").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
