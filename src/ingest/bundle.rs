//! Reading what the user points at: a bundle directory, a tar archive (gzip, xz or bzip2
//! compressed, or plain), or single files. Reading never writes; entries that would escape the
//! bundle are refused; decompression is bounded. Problems with single entries become notes, not
//! failures; an archive that cannot be read at all is an error.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::LoadError;
use crate::model::guarded_map::GuardedMap;
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

/// The names of the archives read as bundles.
const ARCHIVE_ENDINGS: [&str; 8] = [
    ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tbz", ".tar",
];

/// Endings of archives and compressed files sitrep cannot read: given one, it says so rather
/// than reading it as one binary file.
const UNREADABLE_ENDINGS: [(&str, &str); 7] = [
    (".zst", "zstd"),
    (".tzst", "zstd"),
    (".lz4", "lz4"),
    (".lz", "lzip"),
    (".lzma", "lzma"),
    (".zip", "zip"),
    (".7z", "7z"),
];

/// What a path given on the command line is.
pub fn is_archive(path: &Path) -> bool {
    let s = path.to_string_lossy();
    ARCHIVE_ENDINGS.iter().any(|e| s.ends_with(e))
}

/// A file name without its archive ending (`web1.tar.xz` -> `web1`).
pub fn archive_stem(name: &str) -> &str {
    ARCHIVE_ENDINGS
        .iter()
        .find_map(|e| name.strip_suffix(e))
        .unwrap_or(name)
}

/// How a stream of bytes is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Xz,
    Bzip2,
    /// A compression (or archive) sitrep has no reader for, by name.
    Unreadable(&'static str),
}

impl Compression {
    /// From the first bytes of the stream.
    fn of_magic(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Compression::Bzip2,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Unreadable("zstd"),
            [0x04, 0x22, 0x4d, 0x18, ..] => Compression::Unreadable("lz4"),
            [b'L', b'Z', b'I', b'P', ..] => Compression::Unreadable("lzip"),
            [b'P', b'K', 3, 4, ..] => Compression::Unreadable("zip"),
            [b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c, ..] => Compression::Unreadable("7z"),
            [b'R', b'a', b'r', b'!', ..] => Compression::Unreadable("rar"),
            _ => Compression::None,
        }
    }

    /// From a file name's ending (`.gz`, `.xz`, `.bz2`): how files inside bundles are told.
    fn of_name(name: &str) -> Compression {
        if name.ends_with(".gz") {
            Compression::Gzip
        } else if name.ends_with(".xz") {
            Compression::Xz
        } else if name.ends_with(".bz2") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    /// A reader that decompresses `r`; `None` for no compression or one sitrep cannot read.
    fn decoder<'a>(self, r: impl Read + 'a) -> Option<Box<dyn Read + 'a>> {
        match self {
            Compression::Gzip => Some(Box::new(MultiGzDecoder::new(r))),
            Compression::Xz => Some(Box::new(liblzma::read::XzDecoder::new_multi_decoder(r))),
            Compression::Bzip2 => Some(Box::new(bzip2::read::MultiBzDecoder::new(r))),
            Compression::None | Compression::Unreadable(_) => None,
        }
    }
}

/// The first bytes of a file (fewer if it is shorter), the file left at its start.
fn magic_of(file: &mut File) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(8);
    (&mut *file).take(8).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(head)
}

/// A tar archive starts its first header with `ustar` at byte 257.
fn looks_like_tar(data: &[u8]) -> bool {
    data.get(257..262) == Some(b"ustar")
}

/// Read a bundle directory or archive.
pub fn open(path: &Path, limits: &Limits) -> Result<BundleFiles, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    let mut files = if meta.is_dir() {
        read_dir(path, limits)?
    } else if is_archive(path) {
        read_archive(path, limits)?
    } else {
        let name = path.to_string_lossy();
        if let Some((_, kind)) = UNREADABLE_ENDINGS.iter().find(|(e, _)| name.ends_with(e)) {
            return Err(unreadable_compression(path, kind));
        }
        let mut b = BundleFiles::default();
        let mut budget = limits.max_total;
        let entry = read_file(path, &name, limits, &mut budget)?;
        if looks_like_tar(&entry.data) {
            return Err(LoadError::CorruptArchive {
                path: path.to_path_buf(),
                detail: "a tar archive under a name sitrep does not read as one".into(),
            });
        }
        b.entries.push(entry);
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

fn unreadable_compression(path: &Path, kind: &str) -> LoadError {
    LoadError::CorruptArchive {
        path: path.to_path_buf(),
        detail: format!(
            "compressed as {kind}, which sitrep cannot read; sitrep reads .tar.gz, .tar.xz and .tar.bz2"
        ),
    }
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

/// Read one file from disk: mapped if plain, decompressed (bounded) if gzip, xz or bzip2
/// (told by its first bytes). A file compressed in a way sitrep cannot read is an error.
fn read_file(
    path: &Path,
    name: &str,
    limits: &Limits,
    budget: &mut u64,
) -> Result<Entry, LoadError> {
    let mut file = super::regular_file::open_regular(path).map_err(|e| match e {
        super::regular_file::Refused::NotAFile(what) => LoadError::NotAFile {
            path: path.to_path_buf(),
            what,
        },
        super::regular_file::Refused::Io(e) => io_error(path, e),
    })?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let mut notes = Vec::new();
    let compression = if meta.is_file() && meta.len() > 0 {
        Compression::of_magic(&magic_of(&mut file).map_err(|e| io_error(path, e))?)
    } else {
        Compression::None
    };
    if let Compression::Unreadable(kind) = compression {
        return Err(unreadable_compression(path, kind));
    }
    let data = if let Some(decoder) = compression.decoder(&file) {
        let limit = limits.max_file.min(*budget);
        let v = read_bounded(decoder, limit, name, &mut notes);
        *budget = budget.saturating_sub(v.len() as u64);
        Bytes::Owned(v)
    } else if meta.len() == 0 {
        Bytes::Owned(Vec::new())
    } else {
        // A log may shrink while it is read (rotation): the map is guarded (see
        // model/guarded_map.rs); one that cannot be guarded is read into memory.
        match file.try_clone().ok().and_then(GuardedMap::new) {
            Some(m) => Bytes::Mapped(m),
            None => {
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
                            "{rel}: a link that points outside the bundle{LINK_NOT_FOLLOWED}"
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

const EMPTY_PATH: &str = "an empty path";

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
        return Err(EMPTY_PATH);
    }
    Ok(parts.join("/"))
}

/// Entries (files, folders, links) read from one archive at most: headers cost reading even
/// when their files are empty.
const MAX_ENTRIES: usize = 1_000_000;

/// The note said of a link inside a bundle that is not followed.
const LINK_NOT_FOLLOWED: &str = "; not followed";

/// Whether a bundle note says a link was not followed (readers of particular bundles, such as
/// sos reports, count those rather than list them).
pub fn is_link_note(note: &str) -> bool {
    note.ends_with(LINK_NOT_FOLLOWED) && note.contains(": a link ")
}

fn read_archive(path: &Path, limits: &Limits) -> Result<BundleFiles, LoadError> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let corrupt = |detail: String| LoadError::CorruptArchive {
        path: path.to_path_buf(),
        detail,
    };
    // The first bytes decide how the archive is compressed; the name only names it.
    let magic = magic_of(&mut file).map_err(|e| io_error(path, e))?;
    let reader: Box<dyn Read> = match Compression::of_magic(&magic) {
        Compression::Unreadable(kind) => return Err(unreadable_compression(path, kind)),
        Compression::None => {
            let mut head = Vec::with_capacity(512);
            (&mut file)
                .take(512)
                .read_to_end(&mut head)
                .map_err(|e| io_error(path, e))?;
            // No bytes at all under a compressed name is no archive; a plain `.tar` of
            // nothing is an empty bundle.
            if head.is_empty() && !path.to_string_lossy().ends_with(".tar") {
                return Err(corrupt("an empty file".into()));
            }
            if !head.is_empty() && !looks_like_tar(&head) {
                return Err(corrupt(
                    "neither gzip, xz nor bzip2 compressed, nor a plain tar".into(),
                ));
            }
            file.seek(SeekFrom::Start(0))
                .map_err(|e| io_error(path, e))?;
            Box::new(file)
        }
        c => c
            .decoder(file)
            .unwrap_or_else(|| Box::new(std::io::empty())),
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = BundleFiles::default();
    let mut budget = limits.max_total;
    let entries = archive.entries().map_err(|e| corrupt(e.to_string()))?;
    let mut read_any = false;
    let mut top_folder: Option<String> = None;
    let mut seen = 0usize;
    for entry in entries {
        seen += 1;
        if seen > MAX_ENTRIES {
            out.notes.push(format!(
                "{}: more than {MAX_ENTRIES} entries; kept the {} files read before",
                path.display(),
                out.entries.len()
            ));
            break;
        }
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
        // `tar -C DIR .` starts with the folder itself (`./`): nothing to read, nothing to say.
        if entry.header().entry_type().is_dir()
            && safe_relative(&raw_path).is_err_and(|w| w == EMPTY_PATH)
        {
            continue;
        }
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
            out.notes.push(format!(
                "{rel}: a link inside the archive{LINK_NOT_FOLLOWED}"
            ));
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
        let inner = Compression::of_name(&rel);
        if !truncated && inner != Compression::None {
            let inner_limit = limits.max_file.min(budget);
            let plain = inner
                .decoder(&data[..])
                .map(|r| read_bounded(r, inner_limit, &rel, &mut notes));
            if let Some(plain) = plain {
                data = plain;
            }
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
    fn an_archive_of_dot_has_no_note_for_its_own_folder() {
        // What `tar -C DIR -czf b.tar.gz .` writes: `./`, `./nginx/`, `./nginx/access.log`.
        let mut tar = tar::Builder::new(Vec::new());
        for dir in ["./", "./nginx/"] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            h.set_path(dir).unwrap();
            h.set_cksum();
            tar.append(&h, &[][..]).unwrap();
        }
        let body = b"x\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "./nginx/access.log", &body[..])
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.tar");
        std::fs::write(&p, tar.into_inner().unwrap()).unwrap();
        let files = open(&p, &Limits::default()).unwrap();
        assert_eq!(files.entries.len(), 1);
        assert!(files.notes.is_empty(), "{:?}", files.notes);
    }

    #[test]
    fn compression_is_told_by_its_first_bytes() {
        assert_eq!(Compression::of_magic(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::of_magic(b"\xfd7zXZ\x00\x00"), Compression::Xz);
        assert_eq!(Compression::of_magic(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(
            Compression::of_magic(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Unreadable("zstd")
        );
        assert_eq!(Compression::of_magic(b"log line"), Compression::None);
        assert_eq!(archive_stem("web1.tar.xz"), "web1");
        assert_eq!(archive_stem("web1.tbz2"), "web1");
        assert_eq!(archive_stem("web1.log"), "web1.log");
        assert!(is_archive(Path::new("sosreport-a-2026-01-01-x.tar.xz")));
    }

    #[test]
    fn xz_and_bzip2_archives_read_like_gzip() {
        let mut tar = tar::Builder::new(Vec::new());
        let body = b"2023/04/13 11:24:04 [error] 1#1: *1 connect() failed\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "b/nginx/error.log", &body[..])
            .unwrap();
        let plain = tar.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let xz = dir.path().join("b.tar.xz");
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 1);
        std::io::Write::write_all(&mut enc, &plain).unwrap();
        std::fs::write(&xz, enc.finish().unwrap()).unwrap();
        let bz = dir.path().join("b.tbz2");
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        std::io::Write::write_all(&mut enc, &plain).unwrap();
        std::fs::write(&bz, enc.finish().unwrap()).unwrap();
        for p in [&xz, &bz] {
            let files = open(p, &Limits::default()).unwrap();
            assert_eq!(files.entries.len(), 1, "{}", p.display());
            assert_eq!(&files.entries[0].data[..], &body[..]);
        }
        // Cut to a small limit, it says so.
        let small = Limits {
            max_file: 8,
            max_total: 8,
        };
        let files = open(&xz, &small).unwrap();
        assert_eq!(files.entries[0].data.len(), 8);
        assert!(files.entries[0].notes[0].contains("limit"));
        let bad = dir.path().join("bad.tar.xz");
        std::fs::write(&bad, b"\xfd7zXZ\x00 not xz").unwrap();
        assert!(matches!(
            open(&bad, &Limits::default()),
            Err(LoadError::CorruptArchive { .. })
        ));
    }

    #[test]
    fn bounded_reads_say_when_they_cut() {
        let mut notes = Vec::new();
        let v = read_bounded(&b"0123456789"[..], 4, "x", &mut notes);
        assert_eq!(v, b"0123");
        assert!(notes[0].contains("limit"), "{notes:?}");
    }
}
