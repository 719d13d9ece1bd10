//! The incident as sitrep holds it: sources as columnar stores, per host.

pub mod format_id;
pub mod guarded_map;
pub mod severity;
pub mod source;
pub mod time;

use source::Source;

/// One host's facts from its bundle.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    /// The bundle or path it was read from.
    pub origin: String,
    pub captured_at: Option<time::Micros>,
    pub cpus: Option<u32>,
    /// What the host's files were parsed with (year, `log_format`s from its `nginx -T`).
    pub parse_ctx: crate::ingest::formats::ParseCtx,
    /// How far this host's clock was ahead (`--skew`), already taken off its records' times.
    pub skew: time::Micros,
}

impl Incident {
    /// Hand every mapped file's pages back to the page cache: a pass over many records calls
    /// this now and then so that what it has read does not stay resident (pages come back on
    /// the next read, from the page cache).
    pub fn release_pages(&self) {
        for s in &self.sources {
            s.release_pages();
        }
    }

    /// Take `skew` off the times of `host`'s records: its clock ran that far ahead. The order
    /// within each source is unchanged, so nothing else needs to be rebuilt.
    pub fn apply_skew(&mut self, host: &str, skew: time::Micros) -> bool {
        let Some(h) = self.hosts.iter_mut().find(|h| h.name == host) else {
            return false;
        };
        h.skew += skew;
        for s in self.sources.iter_mut().filter(|s| s.host == host) {
            for t in s.ts.iter_mut().filter(|t| **t != time::UNTIMED) {
                *t -= skew;
            }
        }
        true
    }
}

/// Everything loaded: hosts, their sources, and what went wrong on the way.
#[derive(Debug, Default)]
pub struct Incident {
    pub hosts: Vec<Host>,
    pub sources: Vec<Source>,
    /// Messages for the user: refused entries, truncated archives, a bad manifest.
    pub notes: Vec<String>,
    /// Runbooks shipped in a bundle's `runbooks/`: (path, text). Never run, only shown.
    pub runbooks: Vec<(String, String)>,
}

impl Incident {
    /// The parsed fields of record `row` of source `source`, read now.
    pub fn fields(&self, source: usize, row: usize) -> Vec<(String, String)> {
        let s = &self.sources[source];
        let Some(format) = crate::ingest::formats::lookup(s.format) else {
            return Vec::new();
        };
        let ctx = self
            .hosts
            .iter()
            .find(|h| h.name == s.host)
            .map(|h| &h.parse_ctx);
        // A record longer than the display limit (a 500 MB line) is read for fields over its
        // head only: fields are shown and compared, and a copy of the whole would cost more
        // than the rest of a frame.
        let raw = s.raw(row);
        let raw = &raw[..raw.len().min(source::MAX_DISPLAY_LINE)];
        match ctx {
            Some(ctx) => format.fields(raw, ctx),
            None => format.fields(raw, &Default::default()),
        }
    }
}
