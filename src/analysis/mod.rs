//! What sitrep works out from the model: the merged timeline, unit and socket state over time.

pub mod knowledge;
pub mod rules;
pub mod state;
pub mod timeline;
