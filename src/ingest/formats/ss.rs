//! `ss` socket tables (iproute2): `-t`/`-u`/`-x`/`-a`/`-l`/`-n`/`-p`/`-e` in any mix, with the
//! `Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process` header (glued
//! `PortProcess` in newer versions), without it (`-H`, or lines cut out with grep), old and new
//! column layouts. Records: one untimed record per socket line; the header is a record; the
//! indented lines of `-e`/`-i`/`-m` and wrapped `users:(...)` continue their socket.

use serde::Serialize;

use super::{Format, Head, Line, ParseCtx, parse_lines};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct Ss;

/// One socket line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Socket {
    /// `tcp`, `udp`, `u_str`, `u_dgr`, `u_seq`, `nl`, `raw`... When `-t`/`-u`/`-x` hid the
    /// column it is inferred: a unix path gives `u_str`, `UNCONN` gives `udp`, else `tcp`.
    pub netid: String,
    /// `LISTEN`, `ESTAB`, `UNCONN`, `TIME-WAIT`...
    pub state: String,
    pub recv_q: u64,
    pub send_q: u64,
    pub local: Addr,
    pub peer: Addr,
    /// From `users:(("gunicorn",pid=788984,fd=5),...)`.
    pub processes: Vec<Process>,
    /// What follows the addresses, as printed (`users:(...) uid:33 ino:4711 sk:1 <->`).
    pub extra: String,
    /// 1-based line of the socket in the text.
    pub line: usize,
}

/// A socket address as ss prints it, split: `127.0.0.53%lo:53` -> host, scope, port. For
/// unix sockets the host is the path (`/run/gunicorn.sock`, `@abstract`, `*`) and the port
/// the inode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Addr {
    /// `0.0.0.0`, `*`, `::` (brackets removed), a unix path.
    pub host: String,
    pub port: Option<String>,
    /// Interface after `%`.
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub name: String,
    pub pid: Option<u32>,
    pub fd: Option<u32>,
}

/// Where a client connects: a TCP host and port, or a unix socket path. Shared by sockets
/// and nginx upstreams so the two can be compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(String),
}

impl Endpoint {
    /// `unix:/run/gunicorn.sock`, `/run/gunicorn.sock`, `127.0.0.1:8000`, `[::1]:8000`,
    /// `localhost:8000`, `*:80`.
    pub fn parse(s: &str) -> Option<Endpoint> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("unix:") {
            return (!path.is_empty()).then(|| Endpoint::Unix(path.to_string()));
        }
        if s.starts_with('/') || s.starts_with('@') {
            return Some(Endpoint::Unix(s.to_string()));
        }
        let (host, port) = s.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = port_number(port)?;
        Some(Endpoint::Tcp {
            host: host.to_string(),
            port,
        })
    }

    /// Would a client connecting to `self` reach a socket listening on `listener`? Wildcard
    /// listeners (`0.0.0.0`, `*`, `::`) take any host on their port; `localhost` is loopback.
    pub fn served_by(&self, listener: &Endpoint) -> bool {
        match (self, listener) {
            (Endpoint::Unix(a), Endpoint::Unix(b)) => a == b,
            (Endpoint::Tcp { host: h, port: p }, Endpoint::Tcp { host: lh, port: lp }) => {
                p == lp && (is_wildcard(lh) || same_host(h, lh))
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix:{p}"),
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

fn is_wildcard(h: &str) -> bool {
    matches!(h, "*" | "0.0.0.0" | "::" | "")
}

fn same_host(a: &str, b: &str) -> bool {
    let loopback = |h: &str| matches!(h, "localhost" | "::1") || h.starts_with("127.");
    a == b || (loopback(a) && loopback(b))
}

/// A port as ss prints it: a number, or (without `-n`) a service name from `/etc/services`.
fn port_number(p: &str) -> Option<u16> {
    if let Ok(n) = p.parse() {
        return Some(n);
    }
    Some(match p {
        "http" | "www" => 80,
        "https" => 443,
        "ssh" => 22,
        "smtp" => 25,
        "domain" => 53,
        "irdmi" => 8000,
        "http-alt" | "webcache" => 8080,
        "postgresql" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        _ => return None,
    })
}

impl Addr {
    /// Split `host[%scope]:port` (`[::]:80`, `*:*`, `:::22`, `127.0.0.53%lo:53`).
    fn inet(tok: &str) -> Addr {
        let (host, port) = match tok.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.to_string())),
            None => (tok, None),
        };
        let (host, scope) = if let Some(inner) = host.strip_prefix('[') {
            match inner.split_once(']') {
                Some((h, after)) => (h, after.strip_prefix('%')),
                None => (inner, None),
            }
        } else {
            match host.split_once('%') {
                Some((h, s)) => (h, Some(s)),
                None => (host, None),
            }
        };
        Addr {
            host: host.to_string(),
            port,
            scope: scope.map(str::to_string),
        }
    }
}

impl Socket {
    /// Accepting connections (`LISTEN`, TCP or unix stream).
    pub fn is_listener(&self) -> bool {
        self.state == "LISTEN"
    }

    pub fn is_unix(&self) -> bool {
        self.netid.starts_with("u_")
    }

    /// The local address as a client would name it; `None` for unnamed unix sockets and
    /// ports that are neither numbers nor well-known names.
    pub fn local_endpoint(&self) -> Option<Endpoint> {
        if self.is_unix() {
            let h = &self.local.host;
            return (h != "*" && !h.is_empty()).then(|| Endpoint::Unix(h.clone()));
        }
        Some(Endpoint::Tcp {
            host: self.local.host.clone(),
            port: port_number(self.local.port.as_deref()?)?,
        })
    }
}

const STATES: &[&[u8]] = &[
    b"UNCONN",
    b"LISTEN",
    b"ESTAB",
    b"SYN-SENT",
    b"SYN-RECV",
    b"FIN-WAIT-1",
    b"FIN-WAIT-2",
    b"TIME-WAIT",
    b"CLOSE",
    b"CLOSE-WAIT",
    b"LAST-ACK",
    b"CLOSING",
    b"BOUND",
    b"UNKNOWN",
];

/// Fields ss prints after the addresses; a line starting with one continues the socket.
const TAIL_FIELDS: &[&[u8]] = &[
    b"users:(", b"uid:", b"ino:", b"sk:", b"cgroup:", b"<->", b"-->", b"<--", b"skmem:(",
    b"timer:(", b"v6only:", b"fwmark:",
];

fn is_netid(t: &[u8]) -> bool {
    (1..=8).contains(&t.len())
        && t[0].is_ascii_lowercase()
        && t.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn is_num(t: &[u8]) -> bool {
    !t.is_empty() && t.iter().all(u8::is_ascii_digit)
}

/// Whitespace-separated tokens of `line` with their byte spans.
fn spans(line: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return None;
        }
        let s = i;
        while i < line.len() && !line[i].is_ascii_whitespace() {
            i += 1;
        }
        Some((s, i))
    })
}

/// The leading columns of a socket line: netid (if printed), state, queues, and where the
/// addresses start.
struct Lead<'a> {
    netid: Option<&'a [u8]>,
    state: &'a [u8],
    recv_q: u64,
    send_q: u64,
    rest: usize,
}

fn lead(line: &[u8]) -> Option<Lead<'_>> {
    let mut it = spans(line);
    let (a, b) = it.next()?;
    let first = &line[a..b];
    let (netid, state) = if STATES.contains(&first) {
        (None, first)
    } else {
        let (c, d) = it.next()?;
        let second = &line[c..d];
        if !is_netid(first) || !STATES.contains(&second) {
            return None;
        }
        (Some(first), second)
    };
    let mut num = || -> Option<(u64, usize)> {
        let (s, e) = it.next()?;
        let t = &line[s..e];
        if !is_num(t) {
            return None;
        }
        let n = std::str::from_utf8(t).ok()?.parse().unwrap_or(u64::MAX);
        Some((n, e))
    };
    let (recv_q, _) = num()?;
    let (send_q, rest) = num()?;
    Some(Lead {
        netid,
        state,
        recv_q,
        send_q,
        rest,
    })
}

fn is_header(line: &[u8]) -> bool {
    let has = |w: &[u8]| memchr::memmem::find(line, w).is_some();
    has(b"Recv-Q") && has(b"Send-Q") && has(b"State")
}

fn scan(line: &[u8]) -> Line {
    if line.trim_ascii().is_empty() || line[0].is_ascii_whitespace() {
        return Line::Continue;
    }
    if is_header(line) {
        return Line::start(UNTIMED, Severity::Info);
    }
    if let Some(l) = lead(line) {
        // A listener whose accept queue is full: connections are being dropped.
        let full = l.state == b"LISTEN" && l.recv_q > 0 && l.recv_q >= l.send_q;
        let sev = if full { Severity::Warn } else { Severity::Info };
        return Line::start(UNTIMED, sev);
    }
    if TAIL_FIELDS.iter().any(|f| line.starts_with(f)) {
        return Line::Continue;
    }
    Line::Unparsed
}

impl Format for Ss {
    fn id(&self) -> FormatId {
        FormatId::Ss
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut rows, mut bad, mut header) = (0u32, 0u32, false);
        for line in &head.lines {
            if is_header(line) {
                header = true;
                continue;
            }
            match scan(line) {
                Line::Start { .. } => rows += 1,
                Line::Continue | Line::Inherit { .. } => {}
                Line::Unparsed => bad += 1,
            }
        }
        if rows == 0 && !header {
            return 0;
        }
        let share = (rows * 100 / (rows + bad).max(1)) as u8;
        if header && bad == 0 { 100 } else { share }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        parse_lines(data, out, |line, _| scan(line));
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n\
             tcp   LISTEN 0      511          0.0.0.0:80         0.0.0.0:*    users:((\"nginx\",pid=1201,fd=6),(\"nginx\",pid=1200,fd=6))\n\
             tcp   LISTEN 0      511             [::]:80            [::]:*    users:((\"nginx\",pid=1201,fd=7),(\"nginx\",pid=1200,fd=7))\n\
             tcp   ESTAB  0      0          10.0.0.12:22       10.0.0.99:51514 users:((\"sshd\",pid=2210,fd=4))\n\
             u_str LISTEN 0      2048 /run/gunicorn.sock 31337           * 0     users:((\"gunicorn\",pid=788990,fd=5),(\"gunicorn\",pid=788984,fd=5))\n",
            "LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*    users:((\"systemd-resolve\",pid=610,fd=14))\n\
             LISTEN 129    128          0.0.0.0:8000      0.0.0.0:*    users:((\"python3\",pid=4242,fd=3))\n",
            "State      Recv-Q Send-Q Local Address:Port               Peer Address:Port\n\
             LISTEN     0      128       *:22                       *:*\n\
             ESTAB      0      0      192.168.1.5:22                 192.168.1.20:60122\n\
             \t cubic wscale:7,7 rto:204 rtt:0.6/0.3 mss:1448 cwnd:10\n",
        ]
    }
}

/// Typed reading of `ss` output: one [`Socket`] per socket line. Indented lines and lines
/// starting with `users:(` are joined to the socket before them.
pub fn parse_sockets(text: &str) -> Vec<Socket> {
    let mut out: Vec<Socket> = Vec::new();
    let mut joined: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match scan(line.as_bytes()) {
            Line::Start { .. } if !is_header(line.as_bytes()) => {
                joined.push((i + 1, line.to_string()));
            }
            Line::Continue | Line::Unparsed if !line.trim().is_empty() => {
                if let Some((_, prev)) = joined.last_mut() {
                    prev.push(' ');
                    prev.push_str(line.trim());
                }
            }
            _ => {}
        }
    }
    for (line_no, line) in joined {
        if let Some(s) = socket(&line, line_no) {
            out.push(s);
        }
    }
    out
}

fn socket(line: &str, line_no: usize) -> Option<Socket> {
    let b = line.as_bytes();
    let l = lead(b)?;
    let rest = line.get(l.rest..)?;
    let toks: Vec<(usize, usize)> = spans(rest.as_bytes()).take(4).collect();
    let tok = |i: usize| toks.get(i).and_then(|&(s, e)| rest.get(s..e));
    let text = |t: &[u8]| String::from_utf8_lossy(t).into_owned();
    let first = tok(0)?;
    let netid = match l.netid {
        Some(n) => text(n),
        None if first.starts_with('/') || first.starts_with('@') => "u_str".into(),
        None if l.state == b"UNCONN" => "udp".into(),
        None => "tcp".into(),
    };
    let unix = netid.starts_with("u_");
    let (local, peer, used) = if unix {
        let local = Addr {
            host: first.to_string(),
            port: tok(1).map(str::to_string),
            scope: None,
        };
        let peer = Addr {
            host: tok(2).unwrap_or("").to_string(),
            port: tok(3).map(str::to_string),
            scope: None,
        };
        (local, peer, toks.len().min(4))
    } else {
        let peer = tok(1).filter(|t| !TAIL_FIELDS.iter().any(|f| t.as_bytes().starts_with(f)));
        let used = if peer.is_some() { 2 } else { 1 };
        (
            Addr::inet(first),
            peer.map(Addr::inet).unwrap_or_default(),
            used,
        )
    };
    let tail_at = toks.get(used.saturating_sub(1)).map_or(0, |&(_, e)| e);
    let extra = rest.get(tail_at..).unwrap_or("").trim().to_string();
    Some(Socket {
        netid,
        state: text(l.state),
        recv_q: l.recv_q,
        send_q: l.send_q,
        local,
        peer,
        processes: users(&extra),
        extra,
        line: line_no,
    })
}

/// `users:(("gunicorn",pid=788984,fd=5),("gunicorn",pid=788990,fd=5))`, also the old
/// `users:(("sshd",1231,3))`.
fn users(s: &str) -> Vec<Process> {
    let mut out = Vec::new();
    let Some(i) = s.find("users:(") else {
        return out;
    };
    let mut rest = &s[i + 7..];
    while let Some(r) = rest.strip_prefix("(\"") {
        // The name runs to the `",` that ends it (names may hold spaces and parentheses).
        let Some(end) = r.find("\",") else { break };
        let name = &r[..end];
        let fields_start = &r[end + 2..];
        let close = fields_start.find(')').unwrap_or(fields_start.len());
        let (mut pid, mut fd) = (None, None);
        for (n, f) in fields_start[..close].split(',').enumerate() {
            let (k, v) = f
                .split_once('=')
                .unwrap_or(if n == 0 { ("pid", f) } else { ("fd", f) });
            match k {
                "pid" => pid = v.parse().ok(),
                "fd" => fd = v.parse().ok(),
                _ => {}
            }
        }
        out.push(Process {
            name: name.to_string(),
            pid,
            fd,
        });
        rest = fields_start.get(close + 1..).unwrap_or("");
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn new_layout_with_processes_and_unix_socket() {
        let s = parse_sockets(Ss.samples()[0]);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].netid, "tcp");
        assert!(s[0].is_listener());
        assert_eq!(s[0].local.host, "0.0.0.0");
        assert_eq!(s[0].local.port.as_deref(), Some("80"));
        assert_eq!(s[0].processes.len(), 2);
        assert_eq!(s[0].processes[1].pid, Some(1200));
        assert_eq!(s[1].local.host, "::");
        assert_eq!(
            s[1].local_endpoint().map(|e| e.to_string()).as_deref(),
            Some("[::]:80")
        );
        assert_eq!(s[2].peer.host, "10.0.0.99");
        let g = &s[3];
        assert!(g.is_unix() && g.is_listener());
        assert_eq!(g.local.host, "/run/gunicorn.sock");
        assert_eq!(g.local.port.as_deref(), Some("31337"));
        assert_eq!(g.processes[0].name, "gunicorn");
        assert_eq!(g.processes[0].fd, Some(5));
        assert_eq!(
            g.local_endpoint(),
            Some(Endpoint::Unix("/run/gunicorn.sock".into()))
        );
        assert_eq!(g.line, 5);
    }

    #[test]
    fn without_netid_the_column_is_inferred_and_full_queue_warns() {
        let s = parse_sockets(Ss.samples()[1]);
        assert_eq!(s[0].netid, "tcp");
        assert_eq!(s[0].local.scope.as_deref(), Some("lo"));
        assert_eq!(s[0].local.host, "127.0.0.53");
        let b = parse_str(&Ss, Ss.samples()[1], &ParseCtx::default());
        assert_eq!(b.sev, vec![Severity::Info, Severity::Warn]);
    }

    #[test]
    fn old_layout_wrapped_and_info_lines() {
        let b = parse_str(&Ss, Ss.samples()[2], &ParseCtx::default());
        assert_eq!(b.stats.records, 3);
        assert_eq!(b.stats.continuations, 1);
        let s = parse_sockets(Ss.samples()[2]);
        assert_eq!(s[0].local.host, "*");
        assert!(s[1].extra.contains("cubic"));
        let wrapped =
            "tcp LISTEN 0 128 127.0.0.1:8000 0.0.0.0:*\n    users:((\"gunicorn\",pid=7,fd=5))\n";
        let s = parse_sockets(wrapped);
        assert_eq!(s[0].processes[0].pid, Some(7));
    }

    #[test]
    fn old_users_and_odd_addresses() {
        assert_eq!(
            users("users:((\"sshd\",1231,3))"),
            vec![Process {
                name: "sshd".into(),
                pid: Some(1231),
                fd: Some(3)
            }]
        );
        let a = Addr::inet(":::37968");
        assert_eq!((a.host.as_str(), a.port.as_deref()), ("::", Some("37968")));
        let a = Addr::inet("[fe80::1]%eth0:546");
        assert_eq!(
            (a.host.as_str(), a.scope.as_deref()),
            ("fe80::1", Some("eth0"))
        );
    }

    #[test]
    fn endpoints_match_wildcards_and_loopback() {
        let e = |s: &str| Endpoint::parse(s).unwrap();
        assert!(e("127.0.0.1:8000").served_by(&e("0.0.0.0:8000")));
        assert!(e("localhost:8000").served_by(&e("127.0.0.1:8000")));
        assert!(!e("192.168.1.5:8000").served_by(&e("127.0.0.1:8000")));
        assert!(e("unix:/run/gunicorn.sock").served_by(&e("/run/gunicorn.sock")));
        assert!(!e("unix:/run/gunicorn.sock").served_by(&e("127.0.0.1:8000")));
    }

    #[test]
    fn logs_are_not_sockets() {
        let log = "Apr 13 11:24:04 web1 systemd[1]: Started nginx.service.\n";
        assert_eq!(Ss.sniff(&Head::new("x", log.as_bytes())), 0);
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("tcp LISTEN 0 128 ".to_string()), Just("127.0.0.1:8000 ".to_string()), Just("[::]:80 ".to_string()), Just("u_str ESTAB 0 0 /run/x.sock 1 * 2 ".to_string()),
            Just("users:((\"a\",pid=".to_string()), Just("),(\"".to_string()), Just("))".to_string()), Just("\n".to_string()), Just("\t".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            for s in parse_sockets(&text) {
                let _ = s.local_endpoint();
            }
            let _ = parse_str(&Ss, &text, &ParseCtx::default());
        }
    }
}
