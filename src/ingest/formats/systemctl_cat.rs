//! `systemctl cat UNIT...`: each unit file and drop-in under a `# /path/to/file` header line,
//! or a plain unit file (`[Unit]`, `[Service]`... sections of `Key=Value`), and systemctl's
//! errors (`No files found for docker.service.`, `Unit docker.service is not loaded: ...`).
//!
//! Records: one untimed record per file header (a plain file is one record); the warning
//! systemctl prints when the file changed on disk since the last `daemon-reload` is a record.

use serde::Serialize;

use super::{Format, Head, Line, ParseCtx, parse_lines, trim_cr};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct SystemctlCat;

/// One unit file or drop-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitFile {
    /// `/etc/systemd/system/gunicorn.service` from the `# /path` header, if there was one.
    pub path: Option<String>,
    /// The unit this file configures: `gunicorn.service` (also for its drop-ins).
    pub name: Option<String>,
    /// A drop-in (`NAME.d/*.conf`) rather than the unit's main file.
    pub drop_in: bool,
    pub sections: Vec<Section>,
}

/// `[Service]` and its entries in order (repeated keys kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Section {
    pub name: String,
    pub entries: Vec<(String, String)>,
}

impl UnitFile {
    /// Every value of `key` in `section`, in order (an empty value, which resets a list in
    /// systemd, is kept: see [`effective`]).
    pub fn get(&self, section: &str, key: &str) -> Vec<&str> {
        self.sections
            .iter()
            .filter(|s| s.name == section)
            .flat_map(|s| s.entries.iter())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The values of `key` for `unit` across its file and drop-ins in the order given, with
/// systemd's rule applied: an empty assignment (`ExecStart=`) clears what came before.
pub fn effective<'a>(files: &'a [UnitFile], unit: &str, section: &str, key: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.name.as_deref() == Some(unit)) {
        for v in f.get(section, key) {
            if v.is_empty() {
                out.clear();
            } else {
                out.push(v);
            }
        }
    }
    out
}

/// Section names of unit files (`systemd.unit(5)` and the type-specific pages).
const SECTIONS: &[&[u8]] = &[
    b"[Unit]",
    b"[Service]",
    b"[Socket]",
    b"[Install]",
    b"[Timer]",
    b"[Mount]",
    b"[Automount]",
    b"[Swap]",
    b"[Path]",
    b"[Slice]",
    b"[Scope]",
];

/// `# /etc/systemd/system/nginx.service.d/override.conf`: the path.
fn file_header(line: &[u8]) -> Option<&[u8]> {
    let path = line.strip_prefix(b"# /")?;
    let last = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
    // Unit files and drop-ins (`*.d/*.conf`), not any commented path (`# /etc/app/x.conf.py`).
    let suffix = last.rsplit(|b| *b == b'.').next().unwrap_or_default();
    let unit_like = matches!(
        suffix,
        b"service"
            | b"socket"
            | b"timer"
            | b"target"
            | b"mount"
            | b"automount"
            | b"path"
            | b"slice"
            | b"scope"
            | b"swap"
            | b"device"
            | b"conf"
    );
    let ok = !path.iter().any(u8::is_ascii_whitespace) && unit_like;
    ok.then_some(&line[2..])
}

/// `Unit x.service is not loaded: ...`, `No files found for x.service.`, `Failed to ...`.
fn is_error(line: &[u8]) -> bool {
    line.starts_with(b"No files found for ")
        || (line.starts_with(b"Unit ") && memchr::memmem::find(line, b" not ").is_some())
        || line.starts_with(b"Failed to ")
}

/// `[Section]`, `Key=Value`, comments: a line a unit file may hold.
fn is_unit_syntax(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    if t.is_empty() || t.starts_with(b"#") || t.starts_with(b";") {
        return true;
    }
    if t.starts_with(b"[") && t.ends_with(b"]") {
        return true;
    }
    match memchr::memchr(b'=', t) {
        Some(eq) if eq > 0 => t[..eq]
            .trim_ascii_end()
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'),
        _ => false,
    }
}

impl Format for SystemctlCat {
    fn id(&self) -> FormatId {
        FormatId::SystemctlCat
    }

    fn sniff(&self, head: &Head) -> u8 {
        let Some(first) = head.lines.first() else {
            return 0;
        };
        if head.lines.len() <= 2 && is_error(first) {
            let unitish = first.split(|b| b.is_ascii_whitespace()).any(|w| {
                super::systemctl_list_units::is_unit_name(
                    w.trim_ascii_end().strip_suffix(b".").unwrap_or(w),
                )
            });
            return if unitish { 100 } else { 0 };
        }
        let section = head
            .bytes
            .split(|b| *b == b'\n')
            .map(|l| trim_cr(l).trim_ascii_end())
            .any(|l| SECTIONS.contains(&l));
        let header = head.lines.iter().any(|l| file_header(l).is_some());
        if !section && !header {
            return 0;
        }
        let (mut good, mut bad, mut cont) = (0u32, 0u32, false);
        for line in &head.lines {
            if cont || is_unit_syntax(line) || file_header(line).is_some() {
                good += 1;
            } else {
                bad += 1;
            }
            cont = line.ends_with(b"\\");
        }
        let share = (good * 100 / (good + bad).max(1)) as u8;
        if share >= 90 { 100 } else { share }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut cont = false;
        let mut first = true;
        parse_lines(data, out, |line, _| {
            let after_backslash = std::mem::replace(&mut cont, line.ends_with(b"\\"));
            if line.starts_with(b"# Warning:") {
                first = false;
                return Line::start(UNTIMED, Severity::Warn);
            }
            if file_header(line).is_some() {
                first = false;
                return Line::start(UNTIMED, Severity::Info);
            }
            if is_error(line) {
                first = false;
                return Line::start(UNTIMED, Severity::Error);
            }
            if std::mem::replace(&mut first, false) {
                return Line::start(UNTIMED, Severity::Info);
            }
            if after_backslash || is_unit_syntax(line) {
                Line::Continue
            } else {
                Line::Unparsed
            }
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "# /etc/systemd/system/gunicorn.service\n\
             [Unit]\n\
             Description=gunicorn daemon for the shop app\n\
             Requires=gunicorn.socket\n\
             After=network.target\n\
             \n\
             [Service]\n\
             User=www-data\n\
             Group=www-data\n\
             RuntimeDirectory=gunicorn\n\
             WorkingDirectory=/srv/shop\n\
             ExecStart=/srv/shop/venv/bin/gunicorn \\\n\
             \x20         --workers 3 \\\n\
             \x20         --bind unix:/run/gunicorn/socket \\\n\
             \x20         shop.wsgi:application\n\
             \n\
             [Install]\n\
             WantedBy=multi-user.target\n\
             \n\
             # /etc/systemd/system/gunicorn.service.d/override.conf\n\
             [Service]\n\
             # raise the worker timeout for long imports\n\
             ExecStart=\n\
             ExecStart=/srv/shop/venv/bin/gunicorn --timeout 120 --bind unix:/run/gunicorn/socket shop.wsgi:application\n",
            "# /etc/systemd/system/gunicorn.socket\n\
             [Unit]\n\
             Description=gunicorn socket\n\
             \n\
             [Socket]\n\
             ListenStream=/run/gunicorn.sock\n\
             SocketUser=www-data\n\
             \n\
             [Install]\n\
             WantedBy=sockets.target\n",
            "No files found for gunicorn.service.\n",
        ]
    }
}

/// Typed reading of `systemctl cat` output or a unit file: one [`UnitFile`] per `# /path`
/// header (or one for a plain file). `\` continuations are joined with a space, comments
/// skipped, keys and values trimmed.
pub fn parse_units(text: &str) -> Vec<UnitFile> {
    let mut files: Vec<UnitFile> = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(path) = file_header(line.as_bytes()) {
            logical.clear();
            let path = String::from_utf8_lossy(path).into_owned();
            let (name, drop_in) = unit_of(&path);
            files.push(UnitFile {
                path: Some(path),
                name,
                drop_in,
                sections: Vec::new(),
            });
            continue;
        }
        let t = line.trim();
        // Comments are skipped, also inside a continued line (as systemd does).
        if t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(body) = t.strip_suffix('\\') {
            logical.push_str(body.trim_end());
            logical.push(' ');
            continue;
        }
        logical.push_str(t);
        let full = std::mem::take(&mut logical);
        add_line(&mut files, full.trim());
    }
    if !logical.is_empty() {
        add_line(&mut files, logical.trim());
    }
    files
}

fn add_line(files: &mut Vec<UnitFile>, line: &str) {
    if line.is_empty() || is_error(line.as_bytes()) {
        return;
    }
    if files.is_empty() {
        files.push(UnitFile::default());
    }
    let Some(file) = files.last_mut() else { return };
    if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        file.sections.push(Section {
            name: name.to_string(),
            entries: Vec::new(),
        });
        return;
    }
    let Some((k, v)) = line.split_once('=') else {
        return;
    };
    if file.sections.is_empty() {
        file.sections.push(Section::default());
    }
    if let Some(s) = file.sections.last_mut() {
        s.entries.push((k.trim().to_string(), v.trim().to_string()));
    }
}

/// `/etc/systemd/system/nginx.service.d/override.conf` -> (`nginx.service`, drop-in).
fn unit_of(path: &str) -> (Option<String>, bool) {
    let mut parts = path.rsplit('/');
    let base = parts.next().unwrap_or(path);
    match parts.next().and_then(|dir| dir.strip_suffix(".d")) {
        Some(unit) if !unit.is_empty() => (Some(unit.to_string()), true),
        _ => (Some(base.to_string()).filter(|b| !b.is_empty()), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn files_sections_and_continuations() {
        let files = parse_units(SystemctlCat.samples()[0]);
        assert_eq!(files.len(), 2);
        let main = &files[0];
        assert_eq!(
            main.path.as_deref(),
            Some("/etc/systemd/system/gunicorn.service")
        );
        assert_eq!(main.name.as_deref(), Some("gunicorn.service"));
        assert!(!main.drop_in);
        assert_eq!(main.get("Unit", "Requires"), vec!["gunicorn.socket"]);
        assert_eq!(
            main.get("Service", "ExecStart"),
            vec![
                "/srv/shop/venv/bin/gunicorn --workers 3 --bind unix:/run/gunicorn/socket shop.wsgi:application"
            ]
        );
        assert_eq!(main.get("Service", "RuntimeDirectory"), vec!["gunicorn"]);
        let drop = &files[1];
        assert!(drop.drop_in);
        assert_eq!(drop.name.as_deref(), Some("gunicorn.service"));
        assert_eq!(drop.get("Service", "ExecStart").len(), 2);
        let eff = effective(&files, "gunicorn.service", "Service", "ExecStart");
        assert_eq!(eff.len(), 1);
        assert!(eff[0].contains("--timeout 120"));
    }

    #[test]
    fn records_per_file_and_errors() {
        let b = parse_str(
            &SystemctlCat,
            SystemctlCat.samples()[0],
            &ParseCtx::default(),
        );
        assert_eq!(b.stats.records, 2);
        assert_eq!(b.stats.unparsed, 0);
        let b = parse_str(
            &SystemctlCat,
            SystemctlCat.samples()[2],
            &ParseCtx::default(),
        );
        assert_eq!(b.sev, vec![Severity::Error]);
        assert!(parse_units(SystemctlCat.samples()[2]).is_empty());
    }

    #[test]
    fn plain_unit_file_with_leading_comments() {
        let text = "#  This file is part of the shop deploy.\n#\n\n[Unit]\nDescription=x\n\n[Socket]\nListenStream=0.0.0.0:8000\n";
        assert_eq!(SystemctlCat.sniff(&Head::new("x", text.as_bytes())), 100);
        let b = parse_str(&SystemctlCat, text, &ParseCtx::default());
        assert_eq!(b.stats.records, 1);
        let f = parse_units(text);
        assert_eq!(f[0].path, None);
        assert_eq!(f[0].get("Socket", "ListenStream"), vec!["0.0.0.0:8000"]);
    }

    #[test]
    fn a_comment_starting_with_a_path_is_not_a_header() {
        assert!(file_header(b"# /proc/<pid>/exe requires this capability").is_none());
        assert!(file_header(b"# /lib/systemd/system/nginx.service").is_some());
    }

    #[test]
    fn ini_files_are_not_units() {
        let ini = "[Desktop Entry]\nName=x\nExec=y\n";
        assert_eq!(SystemctlCat.sniff(&Head::new("x", ini.as_bytes())), 0);
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("# /etc/systemd/system/a.service.d/x.conf\n".to_string()), Just("[Service]\n".to_string()), Just("ExecStart=/bin/x \\\n".to_string()),
            Just("# c\n".to_string()), Just("=\n".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let files = parse_units(&text);
            let _ = effective(&files, "a.service", "Service", "ExecStart");
            let _ = parse_str(&SystemctlCat, &text, &ParseCtx::default());
        }
    }
}
