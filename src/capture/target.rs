//! Where a capture reads from: this host ([`Local`]) or another one over OpenSSH
//! ([`super::ssh::Ssh`]). The capture itself only asks a target to run a command, read a
//! file, list a log's rotations and find the running gunicorns.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::collect::{self, FileData, Gunicorn, Ran};
use crate::model::time::Micros;

/// A host evidence is read from.
pub trait Target: Sync {
    /// The host name written in the bundle's manifest.
    fn host(&self) -> &str;
    /// Its zone: seconds east of UTC.
    fn offset(&self) -> i32;
    fn cpus(&self) -> Option<u32>;
    /// Run `program args` there with stdin closed, at most `timeout`; see [`collect::run`].
    fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
        stop: &AtomicBool,
    ) -> Result<Ran, String>;
    /// A file's bytes (decompressed when `.gz`, bounded by [`collect::MAX_FILE`]).
    fn read_file(&self, path: &Path, stop: &AtomicBool) -> Result<FileData, String>;
    /// `path` and its rotations modified since `since`, newest first.
    fn rotations(&self, path: &Path, since: Micros, stop: &AtomicBool) -> Vec<PathBuf>;
    fn gunicorns(&self, stop: &AtomicBool) -> Vec<Gunicorn>;
    /// The path with links resolved, to read each file once; the path itself when unknown.
    fn canonical(&self, path: &Path) -> PathBuf;
    /// For a host reached over ssh: the destination and the name the host gives itself.
    fn ssh(&self) -> Option<(&str, &str)> {
        None
    }
}

/// This host, read directly.
pub struct Local {
    host: String,
}

impl Local {
    pub fn new() -> Local {
        Local { host: hostname() }
    }
}

impl Default for Local {
    fn default() -> Self {
        Local::new()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

impl Target for Local {
    fn host(&self) -> &str {
        &self.host
    }

    fn offset(&self) -> i32 {
        chrono::Local::now().offset().local_minus_utc()
    }

    fn cpus(&self) -> Option<u32> {
        std::thread::available_parallelism()
            .ok()
            .map(|n| n.get() as u32)
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
        stop: &AtomicBool,
    ) -> Result<Ran, String> {
        collect::run(program, args, timeout, stop)
    }

    fn read_file(&self, path: &Path, _stop: &AtomicBool) -> Result<FileData, String> {
        collect::read_file(path)
    }

    fn rotations(&self, path: &Path, since: Micros, _stop: &AtomicBool) -> Vec<PathBuf> {
        collect::with_rotations(path, since)
    }

    fn gunicorns(&self, _stop: &AtomicBool) -> Vec<Gunicorn> {
        collect::gunicorns()
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
    }
}
