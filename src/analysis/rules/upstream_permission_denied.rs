//! `upstream-permission-denied`: nginx may not open the app server's unix socket (`(13:
//! Permission denied) while connecting to upstream`). Evidence: the first few errors and their
//! count, the owner, group and mode of the `.socket` unit (`SocketUser=`, `SocketGroup=`,
//! `SocketMode=` as systemd runs it, and as the file on disk says when that differs) and
//! nginx's `user` directive. When the mode shuts out everyone but owner and group and nginx's
//! user is neither, the finding is a cause, not only a symptom.

use super::{Context, Depth, Evidence, Finding, Rule, Sample};
use crate::analysis::scan::Lookout;
use crate::ingest::formats::nginx_error::parse_line;
use crate::ingest::formats::systemctl_cat::parse_units;
use crate::ingest::formats::systemctl_show::parse_show;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;

pub struct UpstreamPermissionDenied;

/// Every line [`denied`] is true of holds this.
const DENIALS: Lookout = Lookout {
    name: "upstream-permission-denied/denials",
    formats: &[FormatId::NginxError],
    words: &["(13: Permission denied)"],
};

fn denied(raw: &[u8]) -> Option<String> {
    let e = parse_line(raw)?;
    let m = String::from_utf8_lossy(e.message);
    if !(m.contains("(13: Permission denied)") && m.contains("while connecting to upstream")) {
        return None;
    }
    // `connect() to unix:/run/gunicorn.sock failed (13: ...)`
    Some(
        m.split_once("connect() to ")
            .and_then(|(_, r)| r.split_once(" failed"))
            .map_or_else(String::new, |(a, _)| a.to_string()),
    )
}

/// Socket ownership as read from one source.
#[derive(Debug, Clone, Default)]
struct SocketPerms {
    unit: String,
    listen: Vec<String>,
    user: Option<String>,
    group: Option<String>,
    mode: Option<String>,
    source: usize,
    /// Byte range of the unit inside the source.
    range: (usize, usize),
}

/// Byte range of the `systemctl show` block with `Id=unit`, else the whole data.
fn show_block(data: &[u8], unit: &str) -> (usize, usize) {
    let needle = format!("Id={unit}\n");
    let Some(at) = memchr::memmem::find(data, needle.as_bytes()) else {
        return (0, data.len());
    };
    let start = memchr::memmem::rfind(&data[..at], b"\n\n").map_or(0, |i| i + 2);
    let end = memchr::memmem::find(&data[at..], b"\n\n").map_or(data.len(), |i| at + i);
    (start, end)
}

/// Byte range of `# /path/unit` .. next `# /` header in `systemctl cat` output.
fn cat_block(data: &[u8], unit: &str) -> (usize, usize) {
    let needle = format!("/{unit}\n");
    let Some(at) = memchr::memmem::find(data, needle.as_bytes()) else {
        return (0, data.len());
    };
    let end = memchr::memmem::find(&data[at..], b"\n# /").map_or(data.len(), |i| at + i + 1);
    let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
    (start, end)
}

/// Offset of the line starting with `key=` inside `range`.
fn key_line(data: &[u8], range: (usize, usize), key: &str) -> Option<usize> {
    let (start, end) = range;
    let hay = data.get(start..end)?;
    let mut pos = 0;
    for line in hay.split(|b| *b == b'\n') {
        let trimmed = line.trim_ascii_start();
        if trimmed.starts_with(key.as_bytes()) && trimmed.get(key.len()) == Some(&b'=') {
            return Some(start + pos);
        }
        pos += line.len() + 1;
    }
    None
}

fn socket_perms(cx: &Context, host: &str) -> (Vec<SocketPerms>, Vec<SocketPerms>) {
    let mut shown = Vec::new();
    let mut on_disk = Vec::new();
    for (i, s) in cx.incident.sources.iter().enumerate() {
        if s.host != host {
            continue;
        }
        match s.format {
            FormatId::SystemctlShow => {
                for u in parse_show(&String::from_utf8_lossy(&s.data)) {
                    let Some(id) = u.id().map(str::to_string) else {
                        continue;
                    };
                    if !id.ends_with(".socket") {
                        continue;
                    }
                    shown.push(SocketPerms {
                        range: show_block(&s.data, &id),
                        unit: id,
                        listen: u.listen().into_iter().map(|l| l.address).collect(),
                        user: u
                            .get("SocketUser")
                            .filter(|v| !v.is_empty())
                            .map(Into::into),
                        group: u
                            .get("SocketGroup")
                            .filter(|v| !v.is_empty())
                            .map(Into::into),
                        mode: u
                            .get("SocketMode")
                            .filter(|v| !v.is_empty())
                            .map(Into::into),
                        source: i,
                    });
                }
            }
            FormatId::SystemctlCat => {
                for f in parse_units(&String::from_utf8_lossy(&s.data)) {
                    let Some(name) = f.name.clone() else { continue };
                    if !name.ends_with(".socket") {
                        continue;
                    }
                    let last = |k: &str| f.get("Socket", k).last().map(|v| v.to_string());
                    on_disk.push(SocketPerms {
                        range: cat_block(&s.data, &name),
                        unit: name,
                        listen: f
                            .get("Socket", "ListenStream")
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                        user: last("SocketUser"),
                        group: last("SocketGroup"),
                        mode: last("SocketMode"),
                        source: i,
                    });
                }
            }
            _ => {}
        }
    }
    (shown, on_disk)
}

/// Can a user `nginx_user` (of group `nginx_group`) not connect, by owner/group/mode alone?
fn shut_out(p: &SocketPerms, nginx_user: &str, nginx_group: &str) -> bool {
    let Some(mode) = p.mode.as_deref() else {
        return false;
    };
    let Ok(bits) = u32::from_str_radix(mode.trim(), 8) else {
        return false;
    };
    let user = p.user.as_deref().unwrap_or("root");
    let group = p.group.as_deref().unwrap_or("root");
    bits & 0o002 == 0 && user != nginx_user && group != nginx_group
}

impl Rule for UpstreamPermissionDenied {
    fn id(&self) -> &'static str {
        "upstream-permission-denied"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&DENIALS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let src = &cx.incident.sources;
        let hosts = cx.hosts_with(&[FormatId::NginxError]);
        let mut findings = Vec::new();
        for host in hosts {
            let mut paths: Vec<String> = Vec::new();
            let mut errors = Sample::default();
            for r in cx.records_with(&DENIALS).filter(|r| src[r.0].host == host) {
                if let Some(p) = denied(src[r.0].raw(r.1)) {
                    if !p.is_empty() && !paths.contains(&p) {
                        paths.push(p);
                    }
                    errors.add(r, 3);
                }
            }
            if errors.count == 0 {
                continue;
            }
            let mut evidence: Vec<Evidence> = errors.first.iter().map(Evidence::from).collect();
            evidence.push(Evidence::Fact(format!(
                "{} connections refused with (13: Permission denied) to {}",
                errors.count,
                if paths.is_empty() {
                    "the upstream".to_string()
                } else {
                    paths.join(", ")
                }
            )));
            // nginx's user.
            let dump = cx.nginx.iter().find(|d| d.host == host);
            let user_directive = dump.and_then(|d| d.config.user.as_ref().map(|u| (d.source, u)));
            let (nginx_user, nginx_group) = match user_directive {
                Some((_, u)) => {
                    let mut w = u.value.split_whitespace();
                    let user = w.next().unwrap_or("nobody").to_string();
                    let group = w.next().map_or_else(|| user.clone(), str::to_string);
                    (Some(user), Some(group))
                }
                None => (None, None),
            };
            if let Some((source, u)) = user_directive {
                evidence.push(cx.line_at(source, u.at.offset));
            }
            // The socket unit: the one listening on an error's path, else every socket unit.
            let (shown, on_disk) = socket_perms(cx, &host);
            let pick = |list: &[SocketPerms]| -> Vec<SocketPerms> {
                let exact: Vec<SocketPerms> = list
                    .iter()
                    .filter(|p| {
                        p.listen
                            .iter()
                            .any(|l| paths.iter().any(|e| e.trim_start_matches("unix:") == l))
                    })
                    .cloned()
                    .collect();
                if exact.is_empty() {
                    list.iter()
                        .filter(|p| p.listen.iter().any(|l| l.starts_with('/')))
                        .cloned()
                        .collect()
                } else {
                    exact
                }
            };
            let shown = pick(&shown);
            let on_disk = pick(&on_disk);
            let mut cause = false;
            let mut perm_part = String::new();
            for p in shown.iter().chain(on_disk.iter()).take(2) {
                let data = &src[p.source].data;
                for key in ["SocketUser", "SocketGroup", "SocketMode"] {
                    if let Some(off) = key_line(data, p.range, key) {
                        evidence.push(cx.line_at(p.source, off));
                    }
                }
            }
            // What systemd runs counts; the file on disk when nothing else is known.
            if let Some(p) = shown.first().or(on_disk.first()) {
                perm_part = format!(
                    "; {} makes the socket {}:{} mode {}",
                    p.unit,
                    p.user.as_deref().unwrap_or("root"),
                    p.group.as_deref().unwrap_or("root"),
                    p.mode.as_deref().unwrap_or("0666")
                );
                if let (Some(u), Some(g)) = (&nginx_user, &nginx_group) {
                    cause = shut_out(p, u, g);
                    if cause {
                        perm_part.push_str(&format!(", which shuts out nginx's user {u}"));
                    }
                }
                if let Some(d) = on_disk.iter().find(|d| d.unit == p.unit)
                    && !shown.is_empty()
                    && (d.group != p.group || d.user != p.user || d.mode != p.mode)
                {
                    evidence.push(Evidence::Fact(format!(
                        "the unit file of {} on disk says {}:{} mode {}, but systemd still runs \
                         it as {}:{} mode {}: run systemctl daemon-reload",
                        p.unit,
                        d.user.as_deref().unwrap_or("root"),
                        d.group.as_deref().unwrap_or("root"),
                        d.mode.as_deref().unwrap_or("0666"),
                        p.user.as_deref().unwrap_or("root"),
                        p.group.as_deref().unwrap_or("root"),
                        p.mode.as_deref().unwrap_or("0666"),
                    )));
                }
            }
            let target = paths
                .first()
                .cloned()
                .unwrap_or_else(|| "its upstream".into());
            let unix_path = target.trim_start_matches("unix:").to_string();
            findings.push(Finding {
                id: self.id(),
                severity: Severity::Error,
                depth: if cause { Depth::Cause } else { Depth::Symptom },
                title: format!(
                    "nginx{} is not allowed to connect to {target}{perm_part}",
                    nginx_user
                        .as_deref()
                        .map_or(String::new(), |u| format!(" (user {u})"))
                ),
                explanation: "A unix socket is a file, and connecting to it needs write \
                              permission on it (and search permission on its directories). \
                              nginx runs as its own user, so when the socket belongs to another \
                              user and group with no access for others, every proxied request \
                              fails and the client gets 502. Give the socket a group nginx's \
                              user is in (SocketGroup= in the .socket unit, or gunicorn's group \
                              and umask), then daemon-reload and restart the socket."
                    .into(),
                evidence,
                next: vec![
                    format!("namei -l {unix_path}   # owner and mode of the socket and each directory"),
                    "systemctl show gunicorn.socket -p SocketUser -p SocketGroup -p SocketMode -p NeedDaemonReload".into(),
                    format!(
                        "sudo -u {} curl --unix-socket {unix_path} http://localhost/",
                        nginx_user.as_deref().unwrap_or("www-data")
                    ),
                ],
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&UpstreamPermissionDenied, name)
    }

    fn lines(f: &Finding) -> Vec<String> {
        f.evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Line { text, .. } => Some(text.clone()),
                Evidence::Fact(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fires_on_the_daemon_reload_incident() {
        let f = run("i3-daemon-reload");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(f.title.contains("unix:/run/gunicorn.sock"), "{}", f.title);
        assert!(f.title.contains("user www-data"), "{}", f.title);
        assert!(f.title.contains("svc-api:svc-api mode 0660"), "{}", f.title);
        assert_eq!(f.depth, Depth::Cause);
        let l = lines(f);
        assert!(l.iter().any(|t| t.starts_with("32 connections")), "{l:?}");
        assert!(l.iter().any(|t| t == "user www-data;"), "{l:?}");
        assert!(l.iter().any(|t| t == "SocketGroup=svc-api"), "{l:?}");
        assert!(l.iter().any(|t| t == "SocketGroup=www-data"), "{l:?}");
        assert!(l.iter().any(|t| t.contains("daemon-reload")), "{l:?}");
    }

    #[test]
    fn silent_elsewhere() {
        for b in [
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i4-retry-storm",
        ] {
            assert!(run(b).is_empty(), "{b}");
        }
    }
}
