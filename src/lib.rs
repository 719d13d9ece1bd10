//! sitrep: a terminal incident console for nginx + gunicorn + systemd.
//!
//! Data flows one way: [`ingest`] (bundles, files, formats) -> [`model`] (sources as columnar
//! stores) -> [`analysis`] (the merged timeline) -> the console in [`ui`] and the headless
//! commands in [`cli`]. The modules do not yet depend one way: [`model`] still calls `ingest`'s
//! formats to decode a record's text and fields on demand, hands mapped pages back through
//! `ingest::reclaim`, and a host keeps its `ingest` parse context.

#![deny(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod config;
pub mod error;
pub mod ingest;
pub mod learn;
pub mod live;
pub mod model;
pub mod parallel;
pub mod partial_file;
pub mod progress;
pub mod report;
pub mod text;
pub mod ui;
