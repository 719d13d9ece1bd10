//! Live mode: find this host's logs and services ([`discover`]), follow them ([`collect`]:
//! file followers that survive rotation, the journal, polled `systemctl` and `ss`), and feed
//! what arrives into the model as it comes ([`crate::ingest::append`]).

pub mod collect;
pub mod discover;
pub mod follow;
