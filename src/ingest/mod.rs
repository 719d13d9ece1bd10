//! From paths to an [`Incident`]: read bundles, sniff each file, parse, settle zones.

pub mod append;
pub mod bundle;
pub mod demo;
pub mod embedded;
pub mod formats;
pub mod journal_store;
pub mod level_guess;
pub mod manifest;
pub mod multiline;
pub mod outliers;
pub mod reclaim;
pub mod record_cap;
pub mod regular_file;
pub mod rotation;
pub mod same_requests;
pub mod sniff;
pub mod sos;
pub mod timestamp;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::LoadError;
use crate::model::format_id::FormatId;
use crate::model::source::{Bytes, Source, SourceBuilder, ZoneUsed, flag};
use crate::model::time::{MICROS_PER_SEC, Micros, Offset, TzReason, UNTIMED, civil_from_days};
use crate::model::{Host, Incident};
use bundle::{BundleFiles, Entry, Limits};
use formats::ParseCtx;
use formats::nginx_log_format::LogFormat;
use manifest::Manifest;

/// Choices that change how files are read.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--tz`: the zone of zone-less logs, over the manifest's.
    pub tz: Option<Offset>,
    pub limits: Limits,
    /// Most records (per file, per bundle): see [`record_cap`].
    pub max_records: (usize, usize),
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            tz: None,
            limits: Limits::default(),
            max_records: (record_cap::PER_SOURCE, record_cap::PER_BUNDLE),
        }
    }
}

/// Load bundles, directories and files. Each directory or archive is one host; loose files
/// given together form one more.
pub fn load(paths: &[PathBuf], opts: &LoadOptions) -> Result<Incident, LoadError> {
    let mut incident = Incident::default();
    let mut loose = BundleFiles::default();
    let mut bundles = Vec::new();
    // Paths that are not files (a named pipe, a device): an error when nothing else is read.
    let mut refused: Vec<LoadError> = Vec::new();
    for p in paths {
        if regular_file::is_stream_arg(p) {
            let (data, note) = regular_file::read_stream(p, opts.limits.max_file).map_err(|e| {
                LoadError::Unreadable {
                    path: p.clone(),
                    source: e,
                }
            })?;
            let name = if p.as_os_str() == "-" {
                "stdin".to_string()
            } else {
                p.to_string_lossy().into_owned()
            };
            loose.entries.push(Entry {
                path: name.clone(),
                data: Bytes::Owned(data),
                mtime: None,
                notes: note.into_iter().collect(),
            });
            if loose.name.is_empty() {
                loose.name = name;
            }
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound { path: p.clone() },
            _ => LoadError::Unreadable {
                path: p.clone(),
                source: e,
            },
        })?;
        if !meta.is_dir() && !meta.is_file() {
            refused.push(LoadError::NotAFile {
                path: p.clone(),
                what: regular_file::kind_of(meta.file_type()),
            });
            continue;
        }
        if meta.is_dir() && journal_store::is_store(p) {
            match journal_store::read(p) {
                Ok(mut hosts) => bundles.append(&mut hosts),
                Err(e) => incident
                    .notes
                    .push(format!("{}: a journal store, but {e}", p.display())),
            }
        } else if meta.is_dir() || bundle::is_archive(p) {
            bundles.extend(bundle::split_hosts(bundle::open(p, &opts.limits)?));
        } else {
            let mut one = bundle::open(p, &opts.limits)?;
            loose.entries.append(&mut one.entries);
            loose.notes.append(&mut one.notes);
            if loose.name.is_empty() {
                loose.name = p.to_string_lossy().into_owned();
            }
        }
    }
    if !loose.entries.is_empty() {
        loose.loose = true;
        bundles.push(loose);
    }
    for b in bundles {
        load_bundle(b, opts, &mut incident);
    }
    if incident.sources.is_empty() && !refused.is_empty() {
        return Err(refused.remove(0));
    }
    incident
        .notes
        .extend(refused.iter().map(|e| format!("{e}")));
    Ok(incident)
}

/// Host name for a bundle without a manifest host: the bundle's own name.
fn host_name(manifest: &Manifest, files: &BundleFiles) -> String {
    if let Some(h) = &manifest.host {
        return h.clone();
    }
    if files.loose {
        return "local".into();
    }
    let origin = files.name.as_str();
    let base = Path::new(origin)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| origin.to_string());
    let base = bundle::archive_stem(&base);
    if base.is_empty() {
        "localhost".into()
    } else {
        base.to_string()
    }
}

pub fn parse_ctx(captured: Option<Micros>) -> ParseCtx {
    let t = captured.unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
    let days = t.div_euclid(86_400 * MICROS_PER_SEC);
    let (year, month, _) = civil_from_days(days);
    ParseCtx {
        year,
        month,
        day_start: days * 86_400 * MICROS_PER_SEC,
        log_formats: Vec::new(),
    }
}

/// Load one bundle already in memory (the embedded demo, lessons).
pub fn load_files(files: BundleFiles, opts: &LoadOptions) -> Incident {
    let mut incident = Incident::default();
    load_bundle(files, opts, &mut incident);
    incident
}

/// Every name a bundle brings (its own, its files', its notes') made safe to show, once,
/// here: no control, escape, bidi control or newline from a file name reaches an output.
fn sanitize_names(files: &mut BundleFiles) {
    let fix = |s: &mut String| {
        if let std::borrow::Cow::Owned(safe) = crate::text::name(s) {
            *s = safe;
        }
    };
    fix(&mut files.name);
    for e in &mut files.entries {
        fix(&mut e.path);
        e.notes.iter_mut().for_each(fix);
    }
    files.notes.iter_mut().for_each(fix);
}

fn load_bundle(mut files: BundleFiles, opts: &LoadOptions, incident: &mut Incident) {
    sanitize_names(&mut files);
    sos::adapt(&mut files);
    let host = host_name(&Manifest::default(), &files);
    let mut notes = std::mem::take(&mut files.notes);
    let manifest = match files.manifest.as_deref().map(Manifest::parse) {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            notes.push(format!(
                "{}/manifest.toml: ignored, {e}; times of zone-less logs fall back to --tz or the local zone",
                files.name
            ));
            Manifest::default()
        }
        None => Manifest::default(),
    };
    let host = manifest
        .host
        .as_deref()
        .map_or(host, |h| crate::text::name(h).into_owned());
    let captured = manifest.captured_at().or_else(|| {
        files
            .entries
            .iter()
            .filter_map(|e| e.mtime)
            .max()
            .map(|s| s * MICROS_PER_SEC)
    });
    let mut ctx = parse_ctx(captured);
    // A bundle's own runbooks are not logs: kept aside for the checklist, shown, never trusted.
    let (runbooks, mut entries): (Vec<_>, Vec<_>) = files
        .entries
        .into_iter()
        .partition(|e| e.path.starts_with("runbooks/") && e.path.ends_with(".toml"));
    for r in runbooks {
        incident.runbooks.push((
            format!("{}/{}", files.name, r.path),
            String::from_utf8_lossy(&r.data).into_owned(),
        ));
    }
    same_requests::drop_copies(&files.name, &mut entries, &mut notes);
    if entries.is_empty() && notes.is_empty() {
        notes.push(format!(
            "{}: no file in it to read (an empty bundle)",
            files.name
        ));
    }
    let mut order: Vec<String> = entries.iter().map(|e| e.path.clone()).collect();
    rotation::sort_for_reading(&mut order);
    let rank: std::collections::HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    entries.sort_by_key(|e| rank.get(e.path.as_str()).copied());

    let sniffed: Vec<FormatId> = entries
        .iter_mut()
        .map(|e| {
            let (format, note) = sniff::sniff_said(&e.path, &e.data);
            e.notes.extend(note);
            format
        })
        .collect();
    for (e, f) in entries.iter().zip(&sniffed) {
        if *f == FormatId::NginxConfig {
            ctx.log_formats
                .extend(log_formats_of(&String::from_utf8_lossy(&e.data)));
        }
    }
    let cuts = record_cap::plan(&entries, opts.max_records.0, opts.max_records.1, &mut notes);
    let mut sources = parse_all(entries, &sniffed, &cuts, &ctx, &host);
    settle_zones(&mut sources, opts.tz, manifest.offset());
    for s in &mut sources {
        finish(s);
    }
    same_requests::mark(&mut sources, &ctx, &mut notes);
    for s in &sources {
        for n in &s.notes {
            notes.push(format!("{}: {n}", s.file));
        }
        if let Some(n) = outliers::note(s) {
            notes.push(format!("{}: {n}", s.file));
        }
    }
    incident.hosts.push(Host {
        name: host,
        origin: files.name,
        captured_at: manifest.captured_at(),
        cpus: manifest.cpus,
        parse_ctx: ctx,
        skew: 0,
    });
    incident.sources.extend(sources);
    incident.notes.extend(notes);
}

/// The `log_format`s of an `nginx -T` dump, compiled.
pub fn log_formats_of(text: &str) -> Vec<LogFormat> {
    formats::nginx_config::parse_config(text)
        .log_formats
        .iter()
        .map(|f| LogFormat::compile(&f.name, &f.format, f.escape.as_deref() == Some("json")))
        .collect()
}

/// Parse every entry, on as many threads as there are cores.
fn parse_all(
    entries: Vec<Entry>,
    sniffed: &[FormatId],
    cuts: &[Option<record_cap::Cut>],
    ctx: &ParseCtx,
    host: &str,
) -> Vec<Source> {
    let n = entries.len();
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Entry>>> =
        entries.into_iter().map(|e| Mutex::new(Some(e))).collect();
    let done: Mutex<Vec<(usize, Source)>> = Mutex::new(Vec::with_capacity(n));
    let workers = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .min(n.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let Some(entry) = slots[i].lock().ok().and_then(|mut s| s.take()) else {
                        continue;
                    };
                    let src = parse_entry(entry, sniffed[i], cuts[i], ctx, host);
                    if let Ok(mut d) = done.lock() {
                        d.push((i, src));
                    }
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, s)| s).collect()
}

fn parse_entry(
    mut entry: Entry,
    format: FormatId,
    cut: Option<record_cap::Cut>,
    ctx: &ParseCtx,
    host: &str,
) -> Source {
    let parser = formats::lookup(format).unwrap_or(&formats::generic::Generic);
    // Only the last lines of a file with too many (record_cap): bytes held in memory before
    // them are let go; a map keeps them, unread.
    let from = match (cut, &mut entry.data) {
        (Some(c), Bytes::Owned(v)) => {
            *v = v[c.from.min(v.len())..].to_vec();
            0
        }
        (Some(c), Bytes::Mapped(_)) => c.from,
        (None, _) => 0,
    };
    let mut b = SourceBuilder::with_capacity((entry.data.len() - from) / 200);
    match &entry.data {
        Bytes::Mapped(m) => reclaim::with_mapped(m, || parser.parse(&m[from..], ctx, &mut b)),
        Bytes::Owned(v) => parser.parse(v, ctx, &mut b),
    }
    if let Some(c) = cut {
        for s in &mut b.starts {
            *s += from as u64;
        }
        let skipped = u32::try_from(c.skipped).unwrap_or(u32::MAX);
        for l in &mut b.lines {
            *l = l.saturating_add(skipped);
        }
    }
    // A file that shrank while it was read (rotated with copytruncate, emptied) gave zeros
    // where its text was: read it again as it is now, and say so.
    if let Bytes::Mapped(m) = &entry.data
        && m.shrank()
    {
        let was = m.len();
        let now = reread(m.file(), was);
        entry.notes.push(format!(
            "the file changed size while sitrep read it ({was} bytes when opened, {} now: \
             rotated with copytruncate?); read again as it is now",
            now.len()
        ));
        b = SourceBuilder::with_capacity(now.len() / 200);
        parser.parse(&now, ctx, &mut b);
        entry.data = Bytes::Owned(now);
    }
    let mut notes = entry.notes;
    notes.append(&mut b.notes);
    Source {
        group: rotation::rotation_of(&entry.path).0,
        file: entry.path,
        host: host.to_string(),
        format,
        data: entry.data,
        starts: b.starts,
        lines: b.lines,
        ts: b.ts,
        sev: b.sev,
        flags: b.flags,
        order: None,
        stats: b.stats,
        zone: ZoneUsed {
            offset: None,
            reason: TzReason::Untimed,
        },
        notes,
    }
}

/// The whole of `file` from its start, at most `limit` bytes (what could be read).
fn reread(file: &std::fs::File, limit: usize) -> Vec<u8> {
    use std::io::{Read, Seek};
    let mut f = file;
    let mut out = Vec::new();
    if f.seek(std::io::SeekFrom::Start(0)).is_ok() {
        let _ = f.take(limit as u64).read_to_end(&mut out);
    }
    out
}

/// Offset printed in the first timed line of a source whose lines carry one: a CLF time
/// (`[13/Apr/2023:11:24:04 +0000]`) or an ISO 8601 time with a zone, wherever it stands.
fn offset_in(s: &Source) -> Option<Offset> {
    let row = (0..s.len()).find(|r| s.ts[*r] != UNTIMED && s.flags[*r] & flag::ZONELESS == 0)?;
    let raw = s.raw(row);
    let raw = &raw[..raw.len().min(512)];
    for i in 0..raw.len() {
        if i > 0 && raw[i - 1].is_ascii_digit() || !raw[i].is_ascii_digit() {
            continue;
        }
        if let Some((_, used)) = timestamp::clf(&raw[i..]) {
            return timestamp::zone(&raw[i + used - 5..i + used]).map(|(o, _)| Offset(o));
        }
        if let Some((_, Some(o), _)) = timestamp::iso(&raw[i..]) {
            return Some(Offset(o));
        }
    }
    None
}

/// The program whose logs a format holds, for borrowing a zone: nginx's error log takes the
/// offset its access logs print.
fn program_of(f: FormatId) -> Option<&'static str> {
    match f {
        FormatId::NginxAccess | FormatId::NginxError => Some("nginx"),
        FormatId::Gunicorn => Some("gunicorn"),
        FormatId::PythonLogging => Some("app"),
        _ => None,
    }
}

/// The offset most of `printed` say (by records, the first on a tie).
fn consensus(printed: &[(&str, Offset, usize)]) -> Option<Offset> {
    let mut tally: Vec<(Offset, usize)> = Vec::new();
    for (_, o, n) in printed {
        match tally.iter_mut().find(|(t, _)| t == o) {
            Some(t) => t.1 += n,
            None => tally.push((*o, *n)),
        }
    }
    tally
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i)))
        .map(|(_, (o, _))| *o)
}

/// Give zone-less times their zone: `--tz`, else the manifest's, else the offset printed by
/// the same program's other logs, else by the host's other sources, else the local zone. Every
/// source says which it got; when the logs it borrows from disagree, a note on it says which
/// offset was taken and who said otherwise.
fn settle_zones(sources: &mut [Source], flag_tz: Option<Offset>, manifest_tz: Option<Offset>) {
    // (file, offset, records, program, host) of every source that prints its offset.
    type Printed = (String, Offset, usize, Option<&'static str>, String);
    let printed: Vec<Printed> = sources
        .iter()
        .filter(|s| !matches!(s.format, FormatId::JournalJson | FormatId::JournalExport))
        .filter_map(|s| {
            Some((
                s.file.clone(),
                offset_in(s)?,
                s.len(),
                program_of(s.format),
                s.host.clone(),
            ))
        })
        .collect();
    // The logs of `host` that print an offset, of `program` (any when `None`).
    let of = |host: &str, program: Option<&'static str>| -> Vec<(&str, Offset, usize)> {
        printed
            .iter()
            .filter(|p| p.4 == host && (program.is_none() || p.3 == program))
            .map(|p| (p.0.as_str(), p.1, p.2))
            .collect()
    };
    // The host's zone is read from the programs that run in it: not from a Python app's logs,
    // whose process zone is the app's own (Django sets `TZ` from its TIME_ZONE setting when
    // the settings load), so a gunicorn log at +05:30 says nothing of the host's.
    let host_zone = |host: &str| -> Option<Offset> {
        let witnesses: Vec<(&str, Offset, usize)> = printed
            .iter()
            .filter(|p| p.4 == host && !matches!(p.3, Some("gunicorn" | "app")))
            .map(|p| (p.0.as_str(), p.1, p.2))
            .collect();
        consensus(&witnesses)
    };
    for s in sources.iter_mut() {
        let zoneless = s.flags.iter().any(|f| f & flag::ZONELESS != 0);
        let timed = s.ts.iter().any(|t| *t != UNTIMED);
        s.zone = if !timed {
            ZoneUsed {
                offset: None,
                reason: TzReason::Untimed,
            }
        } else if !zoneless {
            match s.format {
                FormatId::JournalJson | FormatId::JournalExport => ZoneUsed {
                    offset: Some(Offset::UTC),
                    reason: TzReason::Utc,
                },
                _ => ZoneUsed {
                    offset: offset_in(s),
                    reason: TzReason::InLog,
                },
            }
        } else {
            let same_program = program_of(s.format).and_then(|p| consensus(&of(&s.host, Some(p))));
            let borrowed = same_program
                .map(|c| (c, TzReason::SameProgram, "its program's other logs"))
                .or_else(|| {
                    host_zone(&s.host).map(|c| (c, TzReason::SameHost, "the host's other logs"))
                });
            let (offset, reason) = if let Some(o) = flag_tz {
                (o, TzReason::Flag)
            } else if let Some(o) = manifest_tz {
                (o, TzReason::Manifest)
            } else if let Some((o, reason, whose)) = borrowed {
                // Say the choice when the host's logs disagree.
                let disagree: Vec<String> = of(&s.host, None)
                    .iter()
                    .filter(|(_, other, _)| *other != o)
                    .map(|(f, other, _)| format!("{f} ({other})"))
                    .collect();
                if !disagree.is_empty() {
                    s.notes.push(format!(
                        "no offset in its lines: took {o} from {whose} ({}); other logs of \
                         the host print another offset: {}; give --tz if that is wrong",
                        reason.as_str(),
                        disagree.join(", ")
                    ));
                }
                (o, reason)
            } else {
                let first = s.ts.iter().find(|t| **t != UNTIMED).copied().unwrap_or(0);
                (local_offset(first), TzReason::Local)
            };
            let shift = i64::from(offset.seconds()) * MICROS_PER_SEC;
            for (t, f) in s.ts.iter_mut().zip(&s.flags) {
                if f & flag::ZONELESS != 0 && *t != UNTIMED {
                    *t -= shift;
                }
            }
            ZoneUsed {
                offset: Some(offset),
                reason,
            }
        };
    }
}

/// The local zone's offset at (naive) time `t`.
fn local_offset(t: Micros) -> Offset {
    use chrono::{Local, Offset as _, TimeZone};
    let secs = t.div_euclid(MICROS_PER_SEC);
    match Local.timestamp_opt(secs, 0) {
        chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
            Offset(d.offset().fix().local_minus_utc())
        }
        chrono::LocalResult::None => Offset::UTC,
    }
}

/// Leading untimed records take the first time after them; count what stays untimed; keep a
/// time-order permutation when the file is not in order.
fn finish(s: &mut Source) {
    if let Some(first) = s.ts.iter().position(|t| *t != UNTIMED) {
        let t0 = s.ts[first];
        for r in 0..first {
            s.ts[r] = t0;
            s.flags[r] |= flag::TIME_INHERITED;
        }
    }
    s.stats.untimed = s.ts.iter().filter(|t| **t == UNTIMED).count();
    let key = |t: Micros| if t == UNTIMED { Micros::MAX } else { t };
    let sorted = s.ts.windows(2).all(|w| key(w[0]) <= key(w[1]));
    if !sorted {
        let mut perm: Vec<u32> = (0..s.ts.len() as u32).collect();
        perm.sort_by_key(|r| key(s.ts[*r as usize]));
        s.order = Some(perm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zoneless_log_takes_its_own_programs_zone_and_says_when_the_host_disagrees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // gunicorn in UTC, nginx at +05:30, and nginx's error log with no offset at all; the
        // gunicorn log comes first in reading order.
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::create_dir_all(root.join("nginx")).unwrap();
        std::fs::write(
            root.join("app/gunicorn.log"),
            "[2026-12-03 08:00:00 +0000] [7] [INFO] Starting gunicorn 20.1.0\n\
             [2026-12-03 08:00:01 +0000] [7] [INFO] Booting worker with pid: 8\n",
        )
        .unwrap();
        std::fs::write(
            root.join("nginx/access.log"),
            "127.0.0.1 - - [03/Dec/2026:13:30:05 +0530] \"GET /slow HTTP/1.1\" 504 167 \"-\" \"curl/7.88\"\n",
        )
        .unwrap();
        std::fs::write(
            root.join("nginx/error.log"),
            "2026/12/03 13:30:05 [error] 9#9: *1 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: _, request: \"GET /slow HTTP/1.1\", upstream: \"http://127.0.0.1:8000/slow\", host: \"x\"\n",
        )
        .unwrap();
        let inc = load(&[root.to_path_buf()], &LoadOptions::default()).unwrap();
        let error = inc
            .sources
            .iter()
            .find(|s| s.format == FormatId::NginxError)
            .unwrap();
        let access = inc
            .sources
            .iter()
            .find(|s| s.format == FormatId::NginxAccess)
            .unwrap();
        assert_eq!(error.zone.reason, TzReason::SameProgram);
        assert_eq!(error.zone.offset, Some(Offset(5 * 3600 + 1800)));
        // The 504 and its error line are one moment.
        assert_eq!(error.ts[0], access.ts[0]);
        let note = inc
            .notes
            .iter()
            .find(|n| n.starts_with("nginx/error.log:"))
            .unwrap_or_else(|| panic!("{:?}", inc.notes));
        assert!(
            note.contains("took +05:30 from its program's other logs (same-program)")
                && note.contains("app/gunicorn.log (+00:00)"),
            "{note}"
        );
    }

    #[test]
    fn a_python_apps_zone_is_not_the_hosts() {
        // gunicorn's workers log in Django's TIME_ZONE (+05:30); nginx's error log beside it
        // prints no offset, and no access log of nginx is there to say nginx's.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("gunicorn.log"),
            "[2026-12-03 13:30:00 +0530] [7] [INFO] Starting gunicorn 20.1.0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("error.log"),
            "2026/12/03 03:00:05 [error] 9#9: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\", host: \"x\"\n",
        )
        .unwrap();
        let inc = load(&[root.to_path_buf()], &LoadOptions::default()).unwrap();
        let error = inc
            .sources
            .iter()
            .find(|s| s.format == FormatId::NginxError)
            .unwrap();
        assert_eq!(error.zone.reason, TzReason::Local, "{:?}", error.zone);
    }

    #[test]
    fn another_hosts_offset_is_not_borrowed() {
        // web1's nginx prints +05:30; web2's error log prints none and has nothing beside it.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for h in ["web1", "web2"] {
            std::fs::create_dir_all(root.join(h)).unwrap();
        }
        std::fs::write(
            root.join("web1/access.log"),
            "127.0.0.1 - - [03/Dec/2026:13:30:05 +0530] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/7.88\"\n",
        )
        .unwrap();
        std::fs::write(
            root.join("web2/error.log"),
            "2026/12/03 08:00:05 [error] 9#9: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:8000/\", host: \"x\"\n",
        )
        .unwrap();
        let inc = load(
            &[root.join("web1"), root.join("web2")],
            &LoadOptions::default(),
        )
        .unwrap();
        let error = inc
            .sources
            .iter()
            .find(|s| s.format == FormatId::NginxError)
            .unwrap();
        assert_eq!(error.host, "web2");
        assert_eq!(error.zone.reason, TzReason::Local, "{:?}", error.zone);
    }
}
