//! The user's settings file: `$SITREP_CONFIG`, else `$XDG_CONFIG_HOME/sitrep/config.toml`,
//! else `~/.config/sitrep/config.toml`. Every key is optional; an unknown key is an error that
//! names it. Themes in the config directory's `themes/NAME.toml` override the built-in ones.
//!
//! ```toml
//! theme = "light"
//! [keys]
//! quit = ["q", "ctrl-q"]
//! next_problem = ["e", "ctrl-n"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name: a file `themes/NAME.toml` in the config directory, or a built-in one.
    pub theme: Option<String>,
    /// Action name -> keys, replacing the action's default keys.
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
}

/// The directory sitrep's settings live in.
pub fn dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("sitrep"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/sitrep"))
}

/// The settings file in force, whether or not it exists.
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SITREP_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    dir().map(|d| d.join("config.toml"))
}

/// Read the settings at `path`; a missing file is the defaults.
pub fn load_from(path: &Path) -> Result<Config, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(format!("{}: cannot read it ({e})", path.display())),
    };
    let config: Config = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            e.to_string().trim().replace('\n', " ")
        )
    })?;
    // Check the keys now, so a bad one is reported before the console starts.
    crate::ui::keymap::Keymap::default()
        .patch(&config.keys)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(config)
}

/// The settings in force.
pub fn load() -> Result<Config, String> {
    match path() {
        Some(p) => load_from(&p),
        None => Ok(Config::default()),
    }
}
