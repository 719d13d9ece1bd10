//! `netstat` (net-tools) output: the Internet table of `-t`/`-u`/`-w`/`-a`/`-l`/`-n`/`-p` in any
//! mix with the extra `User Inode` (`-e`) and `Timer` (`-o`) columns, the "Active UNIX domain
//! sockets" table, the multicast groups of `-g`, the counters of `-s`, and the files sos report
//! writes under `sos_commands/networking/` (`netstat_-W_-neopa`, `netstat_-s`, `netstat_-W_-agn`).
//!
//! Records: one untimed record per socket row, group row, section title and column header;
//! the indented lines of `-s` and of the "Not all processes could be identified" note continue
//! the record before them. [`parse_sockets`] reads the tables as the `ss` parser would have read
//! the same sockets, so listeners from either look the same.

use super::ss::{Addr, Process, Socket};
use super::{Format, Head, Line, ParseCtx, parse_lines};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct Netstat;

/// Section titles netstat prints before a table.
const TITLES: &[&str] = &[
    "Active Internet connections",
    "Active UNIX domain sockets",
    "Active Bluetooth connections",
    "IPv6/IPv4 Group Memberships",
];

/// Notes netstat prints (on stderr, often copied with the table) when run without root.
const NOTES: &[&str] = &[
    "(Not all processes could be identified",
    "(No info could be read",
];

/// The protocol sections of `netstat -s`.
const STAT_SECTIONS: &[&str] = &[
    "Ip:",
    "Icmp:",
    "IcmpMsg:",
    "Tcp:",
    "Udp:",
    "UdpLite:",
    "TcpExt:",
    "IpExt:",
    "MPTcpExt:",
    "Sctp:",
    "Ip6:",
    "Icmp6:",
    "Udp6:",
    "UdpLite6:",
    "TcpExt6:",
];

/// TCP states as netstat names them, with the name ss gives the same state.
const STATES: &[(&str, &str)] = &[
    ("ESTABLISHED", "ESTAB"),
    ("SYN_SENT", "SYN-SENT"),
    ("SYN_RECV", "SYN-RECV"),
    ("FIN_WAIT1", "FIN-WAIT-1"),
    ("FIN_WAIT2", "FIN-WAIT-2"),
    ("TIME_WAIT", "TIME-WAIT"),
    ("CLOSE", "UNCONN"),
    ("CLOSE_WAIT", "CLOSE-WAIT"),
    ("LAST_ACK", "LAST-ACK"),
    ("LISTEN", "LISTEN"),
    ("CLOSING", "CLOSING"),
    ("UNKNOWN", "UNKNOWN"),
];

/// Unix socket states, with ss's names.
const UNIX_STATES: &[(&str, &str)] = &[
    ("LISTENING", "LISTEN"),
    ("CONNECTED", "ESTAB"),
    ("CONNECTING", "SYN-SENT"),
    ("DISCONNECTING", "CLOSING"),
    ("FREE", "UNCONN"),
];

/// Unix socket types, with ss's netids.
const UNIX_TYPES: &[(&str, &str)] = &[
    ("STREAM", "u_str"),
    ("DGRAM", "u_dgr"),
    ("SEQPACKET", "u_seq"),
    ("RAW", "u_raw"),
    ("RDM", "u_rdm"),
    ("UNKNOWN", "u_unknown"),
];

/// Words `-o` prints before the timer's `(...)`.
const TIMERS: &[&str] = &["off", "on", "keepalive", "timewait"];

const PROTOS: &[&str] = &["tcp", "tcp6", "udp", "udp6", "udpl", "udpl6", "raw", "raw6"];

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn lookup(table: &[(&str, &'static str)], k: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
}

/// The next word of `s` and what follows it.
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// `host:port` as netstat prints it (`127.0.0.1:8000`, `:::80`, `[::]:http`, `0.0.0.0:*`).
fn addr(tok: &str) -> Option<Addr> {
    let (host, port) = tok.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let (host, scope) = match host.split_once('%') {
        Some((h, s)) => (h, Some(s.to_string())),
        None => (host, None),
    };
    Some(Addr {
        host: host.to_string(),
        port: Some(port.to_string()),
        scope,
    })
}

/// `9368/python3`, `678/gunicorn: maste` or `-` (unknown): the processes ss would list.
fn program(s: &str) -> Vec<Process> {
    let s = s.trim();
    let Some((pid, name)) = s.split_once('/') else {
        return Vec::new();
    };
    match pid.parse() {
        Ok(pid) => vec![Process {
            name: name.to_string(),
            pid: Some(pid),
            fd: None,
        }],
        Err(_) => Vec::new(),
    }
}

/// `s` without a trailing `-o` timer (`off (0.00/0/0)`, `keepalive (7194.21/0/0)`).
fn strip_timer(s: &str) -> &str {
    let t = s.trim_end();
    if !t.ends_with(')') {
        return s;
    }
    let Some(open) = t.rfind('(') else {
        return s;
    };
    let before = t[..open].trim_end();
    let name_at = before
        .rfind(|c: char| c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let name = &before[name_at..];
    if TIMERS.contains(&name) || name.starts_with("unkn-") {
        &before[..name_at]
    } else {
        s
    }
}

/// A row of the Internet table: `tcp 0 0 127.0.0.1:8000 0.0.0.0:* LISTEN 0 14746 9368/python3 off (0.00/0/0)`.
fn inet(line: &str, line_no: usize) -> Option<Socket> {
    let (proto, rest) = word(line)?;
    if !PROTOS.contains(&proto) {
        return None;
    }
    let (recv_q, rest) = word(rest)?;
    let (send_q, rest) = word(rest)?;
    let (local, rest) = word(rest)?;
    let (peer, rest) = word(rest)?;
    let (recv_q, send_q) = (recv_q.parse().ok()?, send_q.parse().ok()?);
    let (local, peer) = (addr(local)?, addr(peer)?);
    let raw = proto.starts_with("raw");
    let (state, rest) = match word(rest) {
        Some((w, r)) if lookup(STATES, w).is_some() => (lookup(STATES, w), r),
        // Raw sockets print the state as a number (`7` is closed).
        Some((w, r)) if raw && is_digits(w) => (Some(if w == "1" { "ESTAB" } else { "UNCONN" }), r),
        _ => (None, rest),
    };
    let extra = rest.trim().to_string();
    // After the state: `User Inode` (-e), `PID/Program name` (-p, the name may hold spaces),
    // the timer (-o).
    let cols = strip_timer(rest);
    let prog = match word(cols) {
        Some((w, _)) if w == "-" || w.split_once('/').is_some_and(|(p, _)| is_digits(p)) => cols,
        Some((_, r)) => match word(r) {
            Some((inode, r)) if is_digits(inode) => r,
            _ => "",
        },
        None => "",
    };
    let netid = proto.trim_end_matches('6');
    let netid = if netid == "udpl" { "udp" } else { netid };
    Some(Socket {
        netid: netid.to_string(),
        state: state.unwrap_or("UNCONN").to_string(),
        recv_q,
        send_q,
        local,
        peer,
        processes: program(prog),
        extra,
        line: line_no,
    })
}

/// A row of the unix table: `unix 2 [ ACC ] STREAM LISTENING 12345 678/gunicorn: maste /run/gunicorn.sock`.
fn unix(line: &str, line_no: usize) -> Option<Socket> {
    let (proto, rest) = word(line)?;
    let (refcnt, rest) = word(rest)?;
    if proto != "unix" || !is_digits(refcnt) {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('[')?;
    let (flags, rest) = rest.split_once(']')?;
    if !flags.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') {
        return None;
    }
    let (kind, rest) = word(rest)?;
    let netid = lookup(UNIX_TYPES, kind)?;
    let (state, rest) = match word(rest) {
        Some((w, r)) if lookup(UNIX_STATES, w).is_some() => (lookup(UNIX_STATES, w), r),
        _ => (None, rest),
    };
    let (inode, rest) = word(rest)?;
    if !is_digits(inode) {
        return None;
    }
    let rest = rest.trim();
    let with_program = word(rest)
        .is_some_and(|(w, _)| w == "-" || w.split_once('/').is_some_and(|(p, _)| is_digits(p)));
    let (prog, path) = if with_program {
        split_program(rest)
    } else {
        ("", rest)
    };
    let state = state.unwrap_or("UNCONN");
    Some(Socket {
        netid: netid.to_string(),
        state: state.to_string(),
        recv_q: 0,
        send_q: 0,
        local: Addr {
            host: if path.is_empty() { "*" } else { path }.to_string(),
            port: Some(inode.to_string()),
            scope: None,
        },
        peer: Addr {
            host: "*".to_string(),
            port: (state == "LISTEN").then(|| "0".to_string()),
            scope: None,
        },
        processes: program(prog),
        extra: prog.trim().to_string(),
        line: line_no,
    })
}

/// Width netstat pads `PID/Program name` to (the text itself is cut to one less), before the
/// unix path.
const PROGRAM_WIDTH: usize = 20;

/// `PID/Program name` and the path after it: `678/gunicorn: maste  /run/gunicorn.sock`,
/// `1489/master          public/pickup` (postfix's relative paths), `1/systemd`. The name
/// may hold spaces and `/` (`16080/./manage.py`), so the padded width decides where it ends;
/// past it (a longer name), the first word starting `/` or `@` is the path.
fn split_program(s: &str) -> (&str, &str) {
    if s.as_bytes().get(PROGRAM_WIDTH) == Some(&b' ')
        && let (Some(prog), Some(path)) = (s.get(..PROGRAM_WIDTH), s.get(PROGRAM_WIDTH..))
    {
        return (prog.trim_end(), path.trim());
    }
    let at = s
        .match_indices([' ', '\t'])
        .map(|(i, _)| i + 1)
        .find(|&i| s[i..].starts_with('/') || s[i..].starts_with('@'));
    match at {
        Some(i) => (s[..i].trim_end(), s[i..].trim()),
        None => (s, ""),
    }
}

/// A row of `-g`: `eth0  1  224.0.0.1`.
fn is_group_row(line: &str) -> bool {
    let w: Vec<&str> = line.split_ascii_whitespace().collect();
    w.len() == 3
        && is_digits(w[1])
        && w[2]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
}

fn is_column_header(line: &str) -> bool {
    line.starts_with("Proto ") || line.starts_with("Interface ") && line.contains("RefCnt")
}

/// Which table the lines are in; `-g` rows are told apart only by their section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Other,
    Groups,
}

fn scan(line: &str, section: &mut Section) -> Line {
    if line.trim().is_empty() || line.starts_with([' ', '\t']) {
        return Line::Continue;
    }
    if TITLES.iter().any(|t| line.starts_with(t)) {
        *section = if line.starts_with("IPv6/IPv4 Group") {
            Section::Groups
        } else {
            Section::Other
        };
        return Line::start(UNTIMED, Severity::Info);
    }
    let start = Line::start(UNTIMED, Severity::Info);
    if is_column_header(line) || NOTES.iter().any(|n| line.starts_with(n)) {
        return start;
    }
    if STAT_SECTIONS.contains(&line.trim_end()) {
        return start;
    }
    if *section == Section::Groups && (line.starts_with("---") || is_group_row(line)) {
        return if line.starts_with("---") {
            Line::Continue
        } else {
            start
        };
    }
    if inet(line, 0).is_some() || unix(line, 0).is_some() {
        return start;
    }
    Line::Unparsed
}

impl Format for Netstat {
    fn id(&self) -> FormatId {
        FormatId::Netstat
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut rows, mut bad) = (0u32, 0u32);
        let mut section = Section::Other;
        for line in &head.lines {
            match scan(&String::from_utf8_lossy(line), &mut section) {
                Line::Start { .. } => rows += 1,
                Line::Continue | Line::Inherit { .. } => {}
                Line::Unparsed => bad += 1,
            }
        }
        if rows == 0 {
            return 0;
        }
        (rows * 100 / (rows + bad)) as u8
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut section = Section::Other;
        parse_lines(data, out, |line, _| {
            scan(&String::from_utf8_lossy(line), &mut section)
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            // netstat -tlnp
            "Active Internet connections (only servers)\n\
             Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n\
             tcp        0      0 127.0.0.1:8000          0.0.0.0:*               LISTEN      4242/python3        \n\
             tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      1200/nginx: master  \n\
             tcp6       0      0 :::80                   :::*                    LISTEN      1200/nginx: master  \n\
             tcp        0      0 0.0.0.0:2024            0.0.0.0:*               LISTEN      -                   \n",
            // netstat -neopa (sos: netstat -W -neopa), with the unix table
            "Active Internet connections (servers and established)\n\
             Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name     Timer\n\
             tcp        0      0 127.0.0.1:45635         0.0.0.0:*               LISTEN      0          14746      9368/python3         off (0.00/0/0)\n\
             tcp        0      0 127.0.0.1:44868         127.0.0.1:45635         ESTABLISHED 0          14749      9368/python3         keepalive (7194.21/0/0)\n\
             udp        0      0 127.0.0.1:44894         0.0.0.0:*                           0          14748      9368/python3         off (0.00/0/0)\n\
             Active UNIX domain sockets (servers and established)\n\
             Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path\n\
             unix  2      [ ACC ]     STREAM     LISTENING     12345    678/gunicorn: maste  /run/gunicorn.sock\n\
             unix  3      [ ]         STREAM     CONNECTED     7607     5327/cargo           \n\
             unix  2      [ ]         DGRAM                    14000    1/systemd            /run/systemd/notify\n\
             unix  3      [ ]         STREAM     CONNECTED     1135     -                    @/tmp/.X11-unix/X0\n\
             unix  2      [ ACC ]     STREAM     LISTENING     22610    1489/master          public/pickup\n\
             unix  2      [ ACC ]     STREAM     LISTENING     67801    16080/./manage.py    /tmp/dev.sock\n",
            // netstat -agn
            "IPv6/IPv4 Group Memberships\n\
             Interface       RefCnt Group\n\
             --------------- ------ ---------------------\n\
             lo              1      224.0.0.1\n\
             eth0            1      ff02::1:ff00:2\n",
            // netstat -s
            "Ip:\n    Forwarding: 2\n    2888 total packets received\nIcmp:\n    1 ICMP messages received\n    ICMP input histogram:\n        destination unreachable: 1\nTcp:\n    18 active connection openings\n",
            // non-root, without -n
            "(Not all processes could be identified, non-owned process info\n will not be shown, you would have to be root to see it all.)\n\
             Active Internet connections (servers and established)\n\
             Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n\
             tcp        0      0 localhost:8000          0.0.0.0:*               LISTEN      -\n\
             tcp6       0      0 [::]:http               [::]:*                  LISTEN      -\n\
             unix  2      [ ACC ]     STREAM     LISTENING     31337    /run/gunicorn.sock\n",
        ]
    }
}

/// Typed reading of netstat output: one [`Socket`] per Internet or unix socket row, with the
/// netids, states and addresses `ss` would print (`tcp6` is `tcp`, `ESTABLISHED` is `ESTAB`, a
/// bound UDP socket is `UNCONN`, unix streams are `u_str` with the inode as port).
pub fn parse_sockets(text: &str) -> Vec<Socket> {
    text.split('\n')
        .enumerate()
        .filter_map(|(i, raw)| {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            inet(line, i + 1).or_else(|| unix(line, i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::ingest::formats::ss::{Endpoint, parse_sockets as ss_sockets};
    use proptest::prelude::*;

    #[test]
    fn listeners_read_as_ss_reads_them() {
        let s = parse_sockets(Netstat.samples()[0]);
        assert_eq!(s.len(), 4);
        assert_eq!(
            (s[0].netid.as_str(), s[0].state.as_str()),
            ("tcp", "LISTEN")
        );
        assert_eq!(s[0].processes[0].pid, Some(4242));
        assert_eq!(s[1].processes[0].name, "nginx: master");
        assert_eq!(
            s[2].local_endpoint(),
            Some(Endpoint::Tcp {
                host: "::".into(),
                port: 80
            })
        );
        assert!(s[3].processes.is_empty());
        let ss = ss_sockets(
            "tcp LISTEN 0 128 127.0.0.1:8000 0.0.0.0:* users:((\"python3\",pid=4242,fd=3))\n",
        );
        let mine = &s[0];
        assert_eq!((&mine.local, &mine.peer), (&ss[0].local, &ss[0].peer));
        assert_eq!(mine.processes[0].name, ss[0].processes[0].name);
    }

    #[test]
    fn extra_columns_timers_and_unix_sockets() {
        let s = parse_sockets(Netstat.samples()[1]);
        assert_eq!(s.len(), 9);
        assert_eq!(s[0].processes[0].pid, Some(9368));
        assert_eq!(s[1].state, "ESTAB");
        assert_eq!(
            (s[2].netid.as_str(), s[2].state.as_str()),
            ("udp", "UNCONN")
        );
        let g = &s[3];
        assert_eq!((g.netid.as_str(), g.state.as_str()), ("u_str", "LISTEN"));
        assert_eq!(g.local.host, "/run/gunicorn.sock");
        assert_eq!(g.local.port.as_deref(), Some("12345"));
        assert_eq!(g.processes[0].name, "gunicorn: maste");
        assert_eq!(g.processes[0].pid, Some(678));
        assert_eq!(g.line, 8);
        assert_eq!(s[4].local.host, "*");
        assert_eq!(
            (s[5].netid.as_str(), s[5].state.as_str()),
            ("u_dgr", "UNCONN")
        );
        assert_eq!(s[5].local.host, "/run/systemd/notify");
        assert_eq!(s[6].local.host, "@/tmp/.X11-unix/X0");
        assert_eq!(s[7].local.host, "public/pickup");
        assert_eq!(s[7].processes[0].name, "master");
        assert_eq!(s[8].local.host, "/tmp/dev.sock");
        assert_eq!(s[8].processes[0].name, "./manage.py");
        let ss = ss_sockets(
            "u_str LISTEN 0 2048 /run/gunicorn.sock 12345 * 0 users:((\"gunicorn: maste\",pid=678,fd=5))\n",
        );
        assert_eq!((&g.local, &g.peer), (&ss[0].local, &ss[0].peer));
    }

    #[test]
    fn names_without_n_and_unix_without_p() {
        let s = parse_sockets(Netstat.samples()[4]);
        assert_eq!(s[0].local.host, "localhost");
        assert_eq!(
            s[1].local_endpoint(),
            Some(Endpoint::Tcp {
                host: "::".into(),
                port: 80
            })
        );
        assert_eq!(s[2].local.host, "/run/gunicorn.sock");
        assert!(s[2].processes.is_empty());
    }

    #[test]
    fn groups_and_counters_are_records_not_sockets() {
        let b = parse_str(&Netstat, Netstat.samples()[2], &ParseCtx::default());
        assert_eq!(b.stats.records, 4);
        assert!(parse_sockets(Netstat.samples()[2]).is_empty());
        let b = parse_str(&Netstat, Netstat.samples()[3], &ParseCtx::default());
        assert_eq!(b.stats.records, 3);
    }

    #[test]
    fn other_tables_are_not_netstat() {
        for other in [
            "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\ntcp   LISTEN 0      511          0.0.0.0:80         0.0.0.0:*\n",
            "tcp   LISTEN 0      511          0.0.0.0:80         0.0.0.0:*\n",
            "version: 2.1\njobs:\n  build:\n    docker:\n",
            "Apr 13 11:24:04 web1 systemd[1]: Started nginx.service.\n",
        ] {
            assert_eq!(
                Netstat.sniff(&Head::new("x", other.as_bytes())),
                0,
                "{other}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("tcp 0 0 ".to_string()), Just("127.0.0.1:8000 ".to_string()), Just(":::* ".to_string()), Just("LISTEN ".to_string()),
            Just("unix 2 [ ACC ] STREAM LISTENING 1 ".to_string()), Just("9/a b ".to_string()), Just("off (0/0/0)".to_string()),
            Just("IPv6/IPv4 Group Memberships\n".to_string()), Just("\n".to_string()), Just("[".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            for s in parse_sockets(&text) {
                let _ = s.local_endpoint();
            }
            let _ = parse_str(&Netstat, &text, &ParseCtx::default());
        }
    }
}
