//! Settings files checked by the real binary (`sitrep config`): each file of tests/configs/valid
//! is accepted, each of tests/configs/invalid is refused with a message naming what is wrong.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

fn check(config: &Path, home: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("config")
        .env("SITREP_CONFIG", config)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn valid_configs_are_accepted() {
    let home = tempfile::tempdir().unwrap();
    for f in files("valid") {
        let (code, out, err) = check(&f, home.path());
        assert_eq!(code, 0, "{}: {err}", f.display());
        assert!(out.contains(": ok"), "{out}");
    }
}

#[test]
fn invalid_configs_are_refused_with_the_reason() {
    let home = tempfile::tempdir().unwrap();
    let expect = [
        ("bad-key.toml", "unknown key \"hyper-q\""),
        ("unknown-action.toml", "explode: no such action"),
        ("unknown-key.toml", "colour"),
        ("unknown-theme.toml", "no theme \"neon\""),
        ("wrong-type.toml", "theme"),
    ];
    for f in files("invalid") {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let (code, _, err) = check(&f, home.path());
        assert_eq!(code, 2, "{name} was accepted");
        let (_, words) = expect
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no expectation for {name}"));
        assert!(err.contains(words), "{name}: {err}");
        assert!(
            err.contains(&name),
            "{name}: the message names the file: {err}"
        );
    }
}

#[test]
fn a_theme_file_in_the_config_dir_overrides_the_built_in_one() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/sitrep");
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    std::fs::write(dir.join("config.toml"), "theme = \"mine\"\n").unwrap();
    let missing = check(&dir.join("config.toml"), home.path());
    assert_eq!(missing.0, 2, "theme mine does not exist yet");
    std::fs::write(
        dir.join("themes/mine.toml"),
        sitrep::ui::theme::DEFAULT.replace("\"red\"", "\"lightred\""),
    )
    .unwrap();
    let (code, out, err) = check(&dir.join("config.toml"), home.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("theme mine"), "{out}");
    // No settings file at all: the defaults.
    let (code, out, _) = check(&home.path().join("nothing.toml"), home.path());
    assert_eq!(code, 0);
    assert!(out.contains("not there"), "{out}");
}
