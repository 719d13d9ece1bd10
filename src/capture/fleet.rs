//! `sitrep capture --ssh web1,web2`: capture several hosts over ssh at once.
//!
//! Each host gets its own thread (at most [`PARALLEL`] at a time), its own connection and
//! its own progress lines (`sitrep capture: web1: nginx -T: 4.1 KiB`). A host that cannot be
//! reached or captured is reported and the others go on. Redaction happens here, before
//! anything is written, exactly as for a local capture.
//!
//! Output: `-o DIR/` (an existing directory, or a name ending in `/`) writes one bundle per
//! host, `DIR/HOST.tar.gz`; `-o FILE.tar.gz` writes one bundle holding every host under
//! `hosts/HOST/` (each a whole bundle of its own, manifest included) with a top
//! `manifest.toml` listing the hosts and the ones that failed. `sitrep replay` reads both.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::ssh::{Ssh, SshOptions, check_dest, host_of};
use super::tar::BundleWriter;
use super::{Options, Summary, capture, print_summary};

/// Hosts captured at the same time.
pub const PARALLEL: usize = 8;

/// Where the bundles go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One bundle per host in this directory.
    PerHost(PathBuf),
    /// One bundle with every host.
    Merged(PathBuf),
}

impl Output {
    /// `-o DIR/` or an existing directory: per host; `-o FILE.tar.gz`: merged.
    pub fn of(o: &Path) -> Result<Output, String> {
        let name = o.to_string_lossy();
        if o.is_dir() || name.ends_with('/') {
            if !o.is_dir() {
                return Err(format!(
                    "-o {name}: no such directory; make it first, or give FILE.tar.gz for one bundle of every host"
                ));
            }
            return Ok(Output::PerHost(o.to_path_buf()));
        }
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            return Ok(Output::Merged(o.to_path_buf()));
        }
        Err(format!(
            "-o {name}: give a directory (one bundle per host) or a file name ending in .tar.gz (one bundle of every host)"
        ))
    }
}

/// How one host went.
#[derive(Debug)]
pub struct HostResult {
    pub host: String,
    pub outcome: Result<Summary, String>,
}

/// Progress lines from many threads, each written whole.
struct Lines<'a, 'b> {
    out: &'a Mutex<&'b mut (dyn Write + Send)>,
    buf: Vec<u8>,
}

impl Write for Lines<'_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        while let Some(i) = memchr::memchr(b'\n', &self.buf) {
            let line: Vec<u8> = self.buf.drain(..=i).collect();
            if let Ok(mut out) = self.out.lock() {
                out.write_all(&line)?;
                out.flush()?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A file name for a host: its name with anything odd replaced.
fn file_stem(host: &str) -> String {
    let s: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_start_matches('.') {
        "" => "host".into(),
        t => t.to_string(),
    }
}

/// Capture every destination; `progress` gets each host's lines as they come.
pub fn capture_all(
    opts: &Options,
    dests: &[String],
    ssh: &SshOptions,
    output: &Output,
    progress: &mut (dyn Write + Send),
    stop: &AtomicBool,
) -> Result<Vec<HostResult>, String> {
    for d in dests {
        check_dest(d)?;
    }
    let mut seen = std::collections::HashSet::new();
    for d in dests {
        if !seen.insert(host_of(d)) {
            return Err(format!("--ssh: {} is given twice", host_of(d)));
        }
    }
    let out_path = |host: &str| match output {
        Output::PerHost(dir) => dir.join(format!("{}.tar.gz", file_stem(host))),
        Output::Merged(file) => {
            let dir = match file.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let name = file
                .file_name()
                .map_or("bundle".into(), |n| n.to_string_lossy().into_owned());
            dir.join(format!(
                ".{name}.{}-{}.tar.gz",
                file_stem(host),
                std::process::id()
            ))
        }
    };
    let queue: Mutex<VecDeque<&String>> = Mutex::new(dests.iter().collect());
    let results: Mutex<Vec<HostResult>> = Mutex::new(Vec::new());
    let shared = Mutex::new(progress);
    std::thread::scope(|s| {
        for _ in 0..dests.len().clamp(1, PARALLEL) {
            s.spawn(|| {
                while let Some(dest) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    let host = host_of(dest).to_string();
                    let mut lines = Lines {
                        out: &shared,
                        buf: Vec::new(),
                    };
                    let _ = writeln!(lines, "sitrep capture: {host}: connecting over ssh");
                    let outcome = if stop.load(Ordering::Relaxed) {
                        Err("interrupted".to_string())
                    } else {
                        match Ssh::connect(dest, ssh, stop) {
                            Err(why) => Err(why),
                            Ok(target) => {
                                let _ = writeln!(
                                    lines,
                                    "sitrep capture: {host}: connected ({} says it is {})",
                                    crate::text::sanitize(dest),
                                    crate::text::sanitize(target.remote_hostname())
                                );
                                let mut o = opts.clone();
                                o.output = out_path(&host);
                                capture(&o, &target, &mut lines, stop)
                            }
                        }
                    };
                    if let Err(why) = &outcome {
                        let _ = writeln!(
                            lines,
                            "sitrep capture: {host}: FAILED: {}",
                            crate::text::sanitize(why)
                        );
                    }
                    if let Ok(mut r) = results.lock() {
                        r.push(HostResult { host, outcome });
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|r| dests.iter().position(|d| host_of(d) == r.host));
    if let Output::Merged(file) = output {
        let merged = merge(file, opts, &results);
        for r in &mut results {
            if let Ok(s) = &mut r.outcome {
                let _ = std::fs::remove_file(&s.output);
                // What the summary names: the host's part of the one bundle.
                s.output = PathBuf::from(format!(
                    "{} (hosts/{}/)",
                    file.display(),
                    file_stem(&r.host)
                ));
            }
        }
        merged?;
    }
    Ok(results)
}

#[derive(Serialize)]
struct FleetManifest {
    captured_at: String,
    sitrep_version: &'static str,
    hosts: Vec<String>,
    failed: Vec<String>,
}

/// One bundle of every captured host, under `hosts/HOST/`.
fn merge(file: &Path, opts: &Options, results: &[HostResult]) -> Result<(), String> {
    if results.iter().all(|r| r.outcome.is_err()) {
        return Ok(());
    }
    let mut out = BundleWriter::create(file)?;
    let now = (opts.until / 1_000_000).max(0) as u64;
    for r in results {
        let Ok(summary) = &r.outcome else { continue };
        let prefix = format!("hosts/{}/", file_stem(&r.host));
        let f = std::fs::File::open(&summary.output)
            .map_err(|e| format!("{}: cannot read it back ({e})", summary.output.display()))?;
        let mut archive = ::tar::Archive::new(flate2::read::GzDecoder::new(f));
        let entries = archive
            .entries()
            .map_err(|e| format!("{}: cannot read it back ({e})", summary.output.display()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("{}: {e}", summary.output.display()))?;
            let path = entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .map_err(|e| format!("{}: {e}", summary.output.display()))?;
            let mtime = entry.header().mtime().unwrap_or(now);
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data)
                .map_err(|e| format!("{}: {e}", summary.output.display()))?;
            out.add(&format!("{prefix}{path}"), &data, mtime)?;
        }
    }
    let m = FleetManifest {
        captured_at: super::rfc3339(opts.until),
        sitrep_version: env!("CARGO_PKG_VERSION"),
        hosts: results
            .iter()
            .filter(|r| r.outcome.is_ok())
            .map(|r| r.host.clone())
            .collect(),
        failed: results
            .iter()
            .filter_map(|r| r.outcome.as_ref().err().map(|e| format!("{}: {e}", r.host)))
            .collect(),
    };
    let text = toml::to_string(&m).map_err(|e| format!("manifest.toml: {e}"))?;
    out.add("manifest.toml", text.as_bytes(), now)?;
    out.finish()?;
    Ok(())
}

/// Each host's summary, then one line for the whole; `Err` (exit 2) when a host failed.
pub fn report(results: &[HostResult], output: &Output, out: &mut impl Write) -> Result<(), String> {
    for r in results {
        match &r.outcome {
            Ok(s) => {
                let _ = writeln!(out, "sitrep capture: {}:", r.host);
                print_summary(s, out);
            }
            Err(why) => {
                let _ = writeln!(
                    out,
                    "sitrep capture: {}: not captured: {}",
                    r.host,
                    crate::text::sanitize(why)
                );
            }
        }
    }
    let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.host.as_str())
        .collect();
    let wrote = match output {
        Output::Merged(f) if ok > 0 => format!("; wrote {}", f.display()),
        Output::PerHost(d) if ok > 0 => format!("; bundles in {}", d.display()),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "sitrep capture: {ok} of {} host(s) captured{wrote}",
        results.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} host(s) failed ({}); see above why",
            failed.len(),
            results.len(),
            failed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_file_names() {
        let dir = std::env::temp_dir();
        assert_eq!(Output::of(&dir), Ok(Output::PerHost(dir.clone())));
        assert_eq!(
            Output::of(Path::new("fleet.tar.gz")),
            Ok(Output::Merged("fleet.tar.gz".into()))
        );
        assert!(Output::of(Path::new("/nonexistent-sitrep/")).is_err());
        assert!(Output::of(Path::new("fleet.zip")).is_err());
        assert_eq!(file_stem("web1.example.com"), "web1.example.com");
        assert_eq!(file_stem("../x"), "_x");
        assert_eq!(file_stem("a/b"), "a_b");
    }
}
