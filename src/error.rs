//! Errors a user sees: what failed, on which file, and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "{path}: no such file or directory; check the path (a bundle directory, a .tar.gz/.tgz/.tar.xz/.tar.bz2 bundle or sos report, or log files)"
    )]
    NotFound { path: PathBuf },
    #[error(
        "{path}: cannot read it ({source}); check its permissions, or run sitrep as a user who can read it"
    )]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a readable archive ({detail}); re-create it with `tar czf` or unpack it and pass the directory"
    )]
    CorruptArchive { path: PathBuf, detail: String },
    #[error(
        "{path}: {what}, not a file; sitrep reads log files, bundle folders and archives (a stream goes on standard input: `cat PIPE | sitrep timeline -`)"
    )]
    NotAFile { path: PathBuf, what: &'static str },
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("{what}: cannot read {value:?}; {hint}")]
    BadValue {
        what: &'static str,
        value: String,
        hint: &'static str,
    },
}
