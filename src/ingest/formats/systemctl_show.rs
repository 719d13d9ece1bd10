//! `systemctl show UNIT...`: `Key=Value` properties, one block per unit, blocks separated by
//! a blank line. Records: one untimed record per block, each property line a continuation.

use serde::Serialize;

use super::{Format, Head, Line, ParseCtx, parse_lines};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct SystemctlShow;

/// The properties of one unit, in the order printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitProps {
    pub props: Vec<(String, String)>,
}

/// One `Listen=` of a socket unit: `/run/gunicorn.sock (Stream)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocketListen {
    /// `/run/gunicorn.sock`, `0.0.0.0:8000`, `[::]:80`.
    pub address: String,
    /// `Stream`, `Datagram`, `SequentialPacket`, `FIFO`...
    pub kind: String,
}

impl UnitProps {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key` (`ExecStartPre=` and `Listen=` can repeat).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.props
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `Id=`, else the first of `Names=`.
    pub fn id(&self) -> Option<&str> {
        self.get("Id")
            .or_else(|| self.get("Names").and_then(|n| n.split_whitespace().next()))
    }

    pub fn active_state(&self) -> Option<&str> {
        self.get("ActiveState")
    }

    pub fn sub_state(&self) -> Option<&str> {
        self.get("SubState")
    }

    /// `Result=`: `success`, `exit-code`, `timeout`, `signal`, `core-dump`...
    pub fn result(&self) -> Option<&str> {
        self.get("Result")
    }

    /// `ExecMainStatus=`: the main process's exit status (or signal number).
    pub fn exec_main_status(&self) -> Option<i32> {
        self.get("ExecMainStatus")?.trim().parse().ok()
    }

    pub fn need_daemon_reload(&self) -> Option<bool> {
        match self.get("NeedDaemonReload")? {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    }

    /// The command line of the first `ExecStart=` (`argv[]=` out of systemd's
    /// `{ path=... ; argv[]=... ; ... }`), or the value as is when it is a plain command.
    pub fn exec_start(&self) -> Option<String> {
        self.exec_starts().into_iter().next()
    }

    /// Every `ExecStart=` command line (oneshot services may have several).
    pub fn exec_starts(&self) -> Vec<String> {
        let mut v: Vec<String> = self.get_all("ExecStart").flat_map(exec_argvs).collect();
        if v.is_empty() {
            v = self.get_all("ExecStartEx").flat_map(exec_argvs).collect();
        }
        v
    }

    /// `Listen=` values of a socket unit.
    pub fn listen(&self) -> Vec<SocketListen> {
        self.get_all("Listen")
            .filter_map(|v| {
                let v = v.trim();
                if v.is_empty() {
                    return None;
                }
                Some(match v.rsplit_once(" (") {
                    Some((addr, kind)) if kind.ends_with(')') => SocketListen {
                        address: addr.trim().to_string(),
                        kind: kind.trim_end_matches(')').to_string(),
                    },
                    _ => SocketListen {
                        address: v.to_string(),
                        kind: String::new(),
                    },
                })
            })
            .collect()
    }

    pub fn user(&self) -> Option<&str> {
        self.get("User").filter(|v| !v.is_empty())
    }

    pub fn group(&self) -> Option<&str> {
        self.get("Group").filter(|v| !v.is_empty())
    }

    pub fn fragment_path(&self) -> Option<&str> {
        self.get("FragmentPath").filter(|v| !v.is_empty())
    }
}

/// `{ path=/usr/bin/x ; argv[]=/usr/bin/x -a b ; ignore_errors=no ; ... }`, possibly several
/// groups on one line: the `argv[]=` of each. A value without braces is returned as is.
fn exec_argvs(v: &str) -> Vec<String> {
    let v = v.trim();
    if !v.starts_with('{') {
        return if v.is_empty() {
            Vec::new()
        } else {
            vec![v.to_string()]
        };
    }
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(i) = rest.find("argv[]=") {
        rest = &rest[i + 7..];
        let end = rest
            .find(" ; ")
            .or_else(|| rest.find(" }"))
            .unwrap_or(rest.len());
        out.push(rest[..end].trim().to_string());
        rest = &rest[end..];
    }
    out
}

/// Property names `systemctl show` prints for every unit or service: at least one must appear.
const KNOWN: &[&str] = &[
    "Id",
    "Names",
    "Description",
    "LoadState",
    "ActiveState",
    "SubState",
    "FragmentPath",
    "UnitFileState",
    "UnitFilePreset",
    "MainPID",
    "ExecMainStatus",
    "ExecStart",
    "Result",
    "NeedDaemonReload",
    "ControlGroup",
    "InvocationID",
    "KillMode",
    "KillSignal",
    "CPUAccounting",
    "CPUShares",
    "MemoryCurrent",
    "TasksCurrent",
    "ActiveEnterTimestamp",
    "InactiveExitTimestamp",
    "CanStart",
    "Transient",
    "Listen",
    "Slice",
];

/// `Key=` where Key is CamelCase (`ActiveState`, `CPUQuotaPerSecUSec`): the key.
fn key_of(line: &[u8]) -> Option<&[u8]> {
    let eq = memchr::memchr(b'=', line)?;
    let key = &line[..eq];
    let ok = key.first().is_some_and(u8::is_ascii_uppercase)
        && key.iter().all(u8::is_ascii_alphanumeric)
        && key.iter().any(u8::is_ascii_lowercase);
    ok.then_some(key)
}

impl Format for SystemctlShow {
    fn id(&self) -> FormatId {
        FormatId::SystemctlShow
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut good, mut bad, mut known) = (0u32, 0u32, 0u32);
        for line in &head.lines {
            if line.starts_with(b"[") {
                return 0; // a unit file section: systemctl cat
            }
            match key_of(line) {
                Some(k) => {
                    good += 1;
                    if KNOWN.iter().any(|n| n.as_bytes() == k) {
                        known += 1;
                    }
                }
                None => bad += 1,
            }
        }
        if known == 0 || good < 2 {
            return 0;
        }
        let share = (good * 100 / (good + bad)) as u8;
        if share >= 80 { share } else { 0 }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut in_block = false;
        parse_lines(data, out, |line, b| {
            if line.trim_ascii().is_empty() {
                in_block = false;
                return Line::Continue;
            }
            let sev = severity(line);
            if !in_block {
                in_block = true;
                let base = if line.starts_with(b"Failed to ") {
                    Severity::Error
                } else {
                    Severity::Info
                };
                return Line::start(UNTIMED, sev.map_or(base, |s| s.min(base)));
            }
            if let Some(s) = sev {
                b.raise_last(s);
            }
            Line::Continue
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "Type=notify\n\
             Restart=on-failure\n\
             MainPID=0\n\
             ExecMainStatus=1\n\
             Result=exit-code\n\
             ExecStart={ path=/srv/shop/venv/bin/gunicorn ; argv[]=/srv/shop/venv/bin/gunicorn --workers 3 --bind unix:/run/gunicorn.sock shop.wsgi:application ; ignore_errors=no ; start_time=[Thu 2023-04-13 11:19:27 UTC] ; stop_time=[Thu 2023-04-13 11:19:29 UTC] ; pid=788984 ; code=exited ; status=1 }\n\
             User=www-data\n\
             Group=www-data\n\
             Id=gunicorn.service\n\
             Names=gunicorn.service\n\
             Requires=gunicorn.socket system.slice sysinit.target\n\
             Description=gunicorn daemon for the shop app\n\
             LoadState=loaded\n\
             ActiveState=failed\n\
             SubState=failed\n\
             FragmentPath=/etc/systemd/system/gunicorn.service\n\
             NeedDaemonReload=yes\n\
             \n\
             Id=gunicorn.socket\n\
             Names=gunicorn.socket\n\
             Listen=/run/gunicorn.sock (Stream)\n\
             ActiveState=active\n\
             SubState=listening\n",
            "Id=nginx.service\nActiveState=active\nSubState=running\nMainPID=1200\n",
        ]
    }
}

/// What a property line says about its unit's health.
fn severity(line: &[u8]) -> Option<Severity> {
    match line {
        b"ActiveState=failed" | b"SubState=failed" => Some(Severity::Error),
        b"NeedDaemonReload=yes" | b"LoadState=not-found" => Some(Severity::Warn),
        _ if line.starts_with(b"Result=") && line != b"Result=success" => Some(Severity::Error),
        _ => None,
    }
}

/// Typed reading of `systemctl show` output: one [`UnitProps`] per block. A line without `=`
/// continues the value before it (wrapped output).
pub fn parse_show(text: &str) -> Vec<UnitProps> {
    let mut units = Vec::new();
    let mut cur = UnitProps::default();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !cur.props.is_empty() {
                units.push(std::mem::take(&mut cur));
            }
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if key_of(line.as_bytes()).is_some() => {
                cur.props.push((k.to_string(), v.to_string()));
            }
            _ => {
                if let Some((_, v)) = cur.props.last_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            }
        }
    }
    if !cur.props.is_empty() {
        units.push(cur);
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn blocks_and_helpers() {
        let units = parse_show(SystemctlShow.samples()[0]);
        assert_eq!(units.len(), 2);
        let g = &units[0];
        assert_eq!(g.id(), Some("gunicorn.service"));
        assert_eq!(g.active_state(), Some("failed"));
        assert_eq!(g.sub_state(), Some("failed"));
        assert_eq!(g.result(), Some("exit-code"));
        assert_eq!(g.exec_main_status(), Some(1));
        assert_eq!(g.need_daemon_reload(), Some(true));
        assert_eq!(
            g.exec_start().as_deref(),
            Some(
                "/srv/shop/venv/bin/gunicorn --workers 3 --bind unix:/run/gunicorn.sock shop.wsgi:application"
            )
        );
        assert_eq!(g.user(), Some("www-data"));
        assert_eq!(g.group(), Some("www-data"));
        assert_eq!(
            g.fragment_path(),
            Some("/etc/systemd/system/gunicorn.service")
        );
        let s = &units[1];
        assert_eq!(
            s.listen(),
            vec![SocketListen {
                address: "/run/gunicorn.sock".into(),
                kind: "Stream".into()
            }]
        );
    }

    #[test]
    fn one_record_per_block_failed_is_error() {
        let b = parse_str(
            &SystemctlShow,
            SystemctlShow.samples()[0],
            &ParseCtx::default(),
        );
        assert_eq!(b.stats.records, 2);
        assert_eq!(b.sev, vec![Severity::Error, Severity::Info]);
        assert_eq!(b.lines, vec![1, 19]);
    }

    #[test]
    fn wrapped_values_and_plain_exec() {
        let u = parse_show("Id=a.service\nAfter=x.target\ny.target\nExecStart=/bin/true\n");
        assert_eq!(u[0].get("After"), Some("x.target y.target"));
        assert_eq!(u[0].exec_start().as_deref(), Some("/bin/true"));
    }

    #[test]
    fn env_files_and_unit_files_are_not_show() {
        let env = "DATABASE_URL=postgres://x\nSECRET_KEY=abc\n";
        assert_eq!(SystemctlShow.sniff(&Head::new("x", env.as_bytes())), 0);
        let unit = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n";
        assert_eq!(SystemctlShow.sniff(&Head::new("x", unit.as_bytes())), 0);
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("Id=a.service\n".to_string()), Just("ExecStart={ path=/x ; argv[]=".to_string()), Just(" ; }".to_string()), Just("Listen=/x (".to_string()),
            Just("ActiveState=failed\n".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            for u in parse_show(&text) {
                let _ = (u.exec_starts(), u.listen(), u.exec_main_status(), u.id());
            }
            let _ = parse_str(&SystemctlShow, &text, &ParseCtx::default());
        }
    }
}
