//! One file per pane. Each draws itself from the app state into the area it is given.

pub mod detail;
pub mod explain;
pub mod findings;
pub mod help;
pub mod list;
pub mod sockets;
pub mod units;
