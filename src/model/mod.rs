//! The incident as sitrep holds it: sources as columnar stores, per host.

pub mod format_id;
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
}

/// Everything loaded: hosts, their sources, and what went wrong on the way.
#[derive(Debug, Default)]
pub struct Incident {
    pub hosts: Vec<Host>,
    pub sources: Vec<Source>,
    /// Messages for the user: refused entries, truncated archives, a bad manifest.
    pub notes: Vec<String>,
}
