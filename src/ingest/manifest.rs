//! `manifest.toml` of a bundle: who, when, which zone.

use serde::Deserialize;

use crate::model::time::{Micros, Offset, parse_instant};

/// The manifest as written by `sitrep capture` (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manifest {
    pub host: Option<String>,
    pub captured_at: Option<String>,
    pub tz: Option<String>,
    pub sitrep_version: Option<String>,
    pub cpus: Option<u32>,
    pub description: Option<String>,
    #[serde(default)]
    pub window: Window,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Manifest {
    /// Parse the text of a manifest; the error says which key is wrong and how.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))
    }

    pub fn captured_at(&self) -> Option<Micros> {
        self.captured_at.as_deref().and_then(parse_instant)
    }

    pub fn offset(&self) -> Option<Offset> {
        self.tz.as_deref().and_then(Offset::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_reports_wrong_types() {
        let m = Manifest::parse(
            "host = \"web1\"\ncaptured_at = \"2023-04-13T11:40:00Z\"\ntz = \"-04:00\"\n[window]\nsince = \"2023-04-13T10:40:00Z\"\n[redaction]\nsecrets = 2\n",
        )
        .unwrap();
        assert_eq!(m.host.as_deref(), Some("web1"));
        assert_eq!(m.offset(), Some(Offset(-4 * 3600)));
        assert!(m.captured_at().is_some());
        let err = Manifest::parse("host = 3\n").unwrap_err();
        assert!(err.contains("host"), "{err}");
    }
}
