//! Reading what the user points at: a bundle directory, a `.tar.gz`/`.tgz` bundle, or single
//! files. Reading never writes; entries that would escape the bundle are refused; decompression
//! is bounded. Problems with single entries become notes, not failures.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::LoadError;
use crate::model::source::Bytes;

/// Bounds on what reading may decompress.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest decompressed size of one file.
    pub max_file: u64,
    /// Largest decompressed size of one bundle, all files together.
    pub max_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file: 2 << 30,
            max_total: 8 << 30,
        }
    }
}

/// One file of a bundle.
#[derive(Debug)]
pub struct Entry {
    /// Path inside the bundle with `/` separators (`nginx/access.log.1`), or the name given.
    pub path: String,
    pub data: Bytes,
    /// Modification time (seconds since the epoch), when known.
    pub mtime: Option<i64>,
    /// What went wrong while reading it (truncated, cut at the limit).
    pub notes: Vec<String>,
}

/// Everything read from one bundle (or the loose files given together).
#[derive(Debug, Default)]
pub struct BundleFiles {
    /// How to name the bundle to the user (the path given).
    pub name: String,
    pub manifest: Option<String>,
    pub entries: Vec<Entry>,
    /// Entries refused or skipped, and why.
    pub notes: Vec<String>,
    /// Files given one by one rather than a bundle: no host of their own.
    pub loose: bool,
}

/// What a path given on the command line is.
pub fn is_archive(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.ends_with(".tar.gz") || s.ends_with(".tgz") || s.ends_with(".tar")
}

/// Read a bundle directory or archive.
pub fn open(path: &Path, limits: &Limits) -> Result<BundleFiles, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    let mut files = if meta.is_dir() {
        read_dir(path, limits)?
    } else if is_archive(path) {
        read_archive(path, limits)?
    } else {
        let mut b = BundleFiles::default();
        let mut budget = limits.max_total;
        b.entries.push(read_file(
            path,
            &path.to_string_lossy(),
            limits,
            &mut budget,
        )?);
        b
    };
    files.name = path.to_string_lossy().into_owned();
    Ok(files)
}

/// A bundle of several hosts (`sitrep capture --ssh a,b -o FILE.tar.gz`): every file under
/// `hosts/NAME/`, each host a bundle of its own with its `manifest.toml`. Split into one
/// [`BundleFiles`] per host, named `BUNDLE/hosts/NAME`; any other bundle comes back as it is.
pub fn split_hosts(files: BundleFiles) -> Vec<BundleFiles> {
    let host_of = |path: &str| -> Option<String> {
        let rest = path.strip_prefix("hosts/")?;
        let (name, inner) = rest.split_once('/')?;
        (!name.is_empty() && !inner.is_empty()).then(|| name.to_string())
    };
    let multi = !files.entries.is_empty()
        && files.entries.iter().all(|e| host_of(&e.path).is_some())
        && files
            .entries
            .iter()
            .any(|e| e.path.starts_with("hosts/") && e.path.ends_with("/manifest.toml"));
    if !multi || files.loose {
        return vec![files];
    }
    let mut hosts: Vec<BundleFiles> = Vec::new();
    for e in files.entries {
        let Some(name) = host_of(&e.path) else {
            continue;
        };
        let prefix = format!("hosts/{name}/");
        let i = match hosts.iter().position(|h| h.name.ends_with(&prefix)) {
            Some(i) => i,
            None => {
                hosts.push(BundleFiles {
                    name: format!("{}/{prefix}", files.name),
                    ..BundleFiles::default()
                });
                hosts.len() - 1
            }
        };
        let inner = e.path[prefix.len()..].to_string();
        if inner == "manifest.toml" {
            hosts[i].manifest = Some(String::from_utf8_lossy(&e.data).into_owned());
        } else {
            hosts[i].entries.push(Entry { path: inner, ..e });
        }
    }
    for h in &mut hosts {
        h.name.pop();
    }
    let mut notes = files.notes;
    // The top manifest names the hosts the capture could not reach.
    if let Some(Ok(top)) = files.manifest.as_deref().map(toml::from_str::<toml::Table>)
        && let Some(toml::Value::Array(failed)) = top.get("failed")
    {
        for f in failed.iter().filter_map(|v| v.as_str()) {
            notes.push(format!("{}: not captured: {f}", files.name));
        }
    }
    if let Some(first) = hosts.first_mut() {
        first.notes = notes;
    }
    hosts
}

fn io_error(path: &Path, e: std::io::Error) -> LoadError {
    if e.kind() == std::io::ErrorKind::NotFound {
        LoadError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        LoadError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// Read at most `limit` bytes of a decompressing reader; notes say if it was cut or broken.
fn read_bounded(mut r: impl Read, limit: u64, what: &str, notes: &mut Vec<String>) -> Vec<u8> {
    let mut out = Vec::new();
    let res = (&mut r).take(limit).read_to_end(&mut out);
    match res {
        Err(e) => notes.push(format!(
            "{what}: data ends early ({e}); kept the {} bytes read before it",
            out.len()
        )),
        Ok(_) if out.len() as u64 == limit => {
            let mut probe = [0u8; 1];
            if matches!(r.read(&mut probe), Ok(n) if n > 0) {
                notes.push(format!(
                    "{what}: decompressed size passed the limit of {limit} bytes; kept the first {limit}"
                ));
            }
        }
        Ok(_) => {}
    }
    out
}

/// Read one file from disk: mapped if plain, decompressed (bounded) if `.gz`.
fn read_file(
    path: &Path,
    name: &str,
    limits: &Limits,
    budget: &mut u64,
) -> Result<Entry, LoadError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let mut notes = Vec::new();
    let data = if name.ends_with(".gz") {
        let limit = limits.max_file.min(*budget);
        let v = read_bounded(MultiGzDecoder::new(file), limit, name, &mut notes);
        *budget -= v.len() as u64;
        Bytes::Owned(v)
    } else if meta.len() == 0 {
        Bytes::Owned(Vec::new())
    } else {
        // SAFETY: the map is read-only; a file changed by another process while mapped can
        // only change what is read, and bundles are not written while read.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => Bytes::Mapped(m),
            Err(_) => {
                let v = read_bounded(file, limits.max_file, name, &mut notes);
                Bytes::Owned(v)
            }
        }
    };
    Ok(Entry {
        path: name.to_string(),
        data,
        mtime,
        notes,
    })
}

fn read_dir(root: &Path, limits: &Limits) -> Result<BundleFiles, LoadError> {
    let canon_root = root.canonicalize().map_err(|e| io_error(root, e))?;
    let mut out = BundleFiles::default();
    let mut budget = limits.max_total;
    let mut stack = vec![root.to_path_buf()];
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    while let Some(dir) = stack.pop() {
        // The bundle's own folder must be readable; a folder inside it that is not is said
        // and the rest is read.
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if dir != root => {
                out.notes
                    .push(format!("{}: cannot read this folder ({e})", dir.display()));
                continue;
            }
            Err(e) => return Err(io_error(&dir, e)),
        };
        for ent in rd {
            let ent = ent.map_err(|e| io_error(&dir, e))?;
            let p = ent.path();
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let ft = ent.file_type().map_err(|e| io_error(&p, e))?;
            if ft.is_symlink() {
                match p.canonicalize() {
                    Ok(target) if target.starts_with(&canon_root) => {}
                    _ => {
                        out.notes.push(format!(
                            "{rel}: a link that points outside the bundle; not followed"
                        ));
                        continue;
                    }
                }
            }
            let meta = std::fs::metadata(&p).map_err(|e| io_error(&p, e))?;
            if meta.is_dir() {
                if !ft.is_symlink() {
                    stack.push(p);
                }
            } else if meta.is_file() {
                found.push((rel, p));
            } else {
                // Opening a named pipe would wait forever; a device could be endless.
                out.notes.push(format!(
                    "{rel}: not a regular file (a pipe, socket or device); not read"
                ));
            }
        }
    }
    found.sort();
    for (rel, p) in found {
        if rel == "manifest.toml" {
            out.manifest =
                Some(std::fs::read_to_string(&p).unwrap_or_else(|e| format!("# unreadable: {e}")));
            continue;
        }
        match read_file(&p, &rel, limits, &mut budget) {
            Ok(e) => out.entries.push(e),
            Err(e) => out.notes.push(e.to_string()),
        }
    }
    Ok(out)
}

/// A tar entry's path as a safe relative path, or why it is refused.
fn safe_relative(path: &Path) -> Result<String, &'static str> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => return Err("a path with `..` that leaves the bundle"),
            Component::RootDir | Component::Prefix(_) => return Err("an absolute path"),
        }
    }
    if parts.is_empty() {
        return Err("an empty path");
    }
    Ok(parts.join("/"))
}

fn read_archive(path: &Path, limits: &Limits) -> Result<BundleFiles, LoadError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let reader: Box<dyn Read> = if path.to_string_lossy().ends_with(".tar") {
        Box::new(file)
    } else {
        Box::new(MultiGzDecoder::new(file))
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = BundleFiles::default();
    let mut budget = limits.max_total;
    let corrupt = |detail: String| LoadError::CorruptArchive {
        path: path.to_path_buf(),
        detail,
    };
    let entries = archive.entries().map_err(|e| corrupt(e.to_string()))?;
    let mut read_any = false;
    let mut top_folder: Option<String> = None;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) if read_any => {
                out.notes.push(format!(
                    "{}: archive ends early ({e}); kept the {} files read before it",
                    path.display(),
                    out.entries.len()
                ));
                break;
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        read_any = true;
        let raw_path = entry.path().map(|p| p.into_owned()).unwrap_or_default();
        let shown = raw_path.to_string_lossy().into_owned();
        let rel = match safe_relative(&raw_path) {
            Ok(r) => r,
            Err(why) => {
                out.notes.push(format!("{shown}: refused, {why}"));
                continue;
            }
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            out.notes
                .push(format!("{rel}: a link inside the archive; not followed"));
            continue;
        }
        if !kind.is_file() {
            out.notes
                .push(format!("{rel}: not a regular file; skipped"));
            continue;
        }
        let mtime = entry.header().mtime().ok().map(|t| t as i64);
        let mut notes = Vec::new();
        let limit = limits.max_file.min(budget);
        let mut data = read_bounded(&mut entry, limit, &rel, &mut notes);
        let truncated = notes.iter().any(|n| n.contains("ends early"));
        if rel.ends_with(".gz") && !truncated {
            let inner_limit = limits.max_file.min(budget);
            data = read_bounded(
                MultiGzDecoder::new(&data[..]),
                inner_limit,
                &rel,
                &mut notes,
            );
        }
        budget = budget.saturating_sub(data.len() as u64);
        if let Some(top) = rel.strip_suffix("manifest.toml")
            && (top.is_empty() || top.matches('/').count() == 1 && top.ends_with('/'))
        {
            // Archives packed as `bundle/manifest.toml`, `bundle/nginx/...`: the top folder
            // is not part of the bundle's paths.
            out.manifest = Some(String::from_utf8_lossy(&data).into_owned());
            top_folder = Some(top.to_string()).filter(|t| !t.is_empty());
            continue;
        }
        out.entries.push(Entry {
            path: rel,
            data: Bytes::Owned(data),
            mtime,
            notes,
        });
        if truncated {
            out.notes.push(format!(
                "{}: archive ends early; kept the files read before it",
                path.display()
            ));
            break;
        }
    }
    if let Some(prefix) = top_folder {
        for e in &mut out.entries {
            if let Some(p) = e.path.strip_prefix(&prefix) {
                e.path = p.to_string();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_bundle() {
        assert!(safe_relative(Path::new("../etc/passwd")).is_err());
        assert!(safe_relative(Path::new("/etc/passwd")).is_err());
        assert_eq!(
            safe_relative(Path::new("./nginx/access.log")),
            Ok("nginx/access.log".into())
        );
    }

    #[test]
    fn bounded_reads_say_when_they_cut() {
        let mut notes = Vec::new();
        let v = read_bounded(&b"0123456789"[..], 4, "x", &mut notes);
        assert_eq!(v, b"0123");
        assert!(notes[0].contains("limit"), "{notes:?}");
    }
}
