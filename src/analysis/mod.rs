//! What sitrep works out from the model: for now the merged timeline.

pub mod timeline;
