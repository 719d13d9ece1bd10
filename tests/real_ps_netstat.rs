//! Real `ps` (procps) and `netstat` (net-tools) output, as people and sos report record it, must
//! be recognised and read whole: a listener started here shows in every table with its pid,
//! and netstat's listeners reach the Sockets state as ss's do. Only this test's own process
//! and sockets are looked for: the machine may run other servers.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::{Running, binary, free_port};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use sitrep::analysis::state::Sockets;
use sitrep::ingest::formats::{Format, ParseCtx, netstat, ps};
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::time::Micros;

/// A python3 process listening on 127.0.0.1:`port` and on the unix socket `sock`; returns once
/// both are bound.
fn listener(dir: &Path, port: u16, sock: &Path) -> Running {
    let script = dir.join("listen.py");
    std::fs::write(
        &script,
        "import socket, sys, time\n\
         t = socket.socket()\n\
         t.bind(('127.0.0.1', int(sys.argv[1])))\n\
         t.listen(16)\n\
         u = socket.socket(socket.AF_UNIX)\n\
         u.bind(sys.argv[2])\n\
         u.listen(16)\n\
         print('ready', flush=True)\n\
         time.sleep(300)\n",
    )
    .unwrap();
    let python = binary(&["/usr/bin/python3", "/usr/local/bin/python3"], "python3");
    let mut child = Command::new(python)
        .arg(&script)
        .arg(port.to_string())
        .arg(sock)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the test listener did not start");
    Running(child, None)
}

/// Run `program args` and write what it printed (its notes on stderr first, as a terminal
/// shows them) to `out`.
fn record(program: &str, args: &[&str], out: &Path) {
    let o = Command::new(program).args(args).output().unwrap();
    assert!(o.status.success(), "{program} {args:?} failed: {o:?}");
    let mut text = o.stderr;
    text.extend_from_slice(&o.stdout);
    std::fs::write(out, text).unwrap();
}

#[test]
fn real_ps_and_netstat_are_read_whole_and_show_the_listener() {
    let ps_bin = binary(&["/usr/bin/ps", "/bin/ps"], "procps");
    let netstat_bin = binary(&["/usr/bin/netstat", "/bin/netstat"], "net-tools");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sock = dir.path().join("app.sock");
    let server = listener(dir.path(), port, &sock);
    let pid = server.0.id();

    let cap = dir.path().join("capture");
    std::fs::create_dir(&cap).unwrap();
    let ps_runs: &[(&str, &[&str])] = &[
        ("ps_aux", &["aux"]),
        ("ps_-ef", &["-ef"]),
        ("ps_-eo", &["-eo", "pid,ppid,user,etime,args"]),
        ("ps_-elfL", &["-elfL"]),
    ];
    let netstat_runs: &[(&str, &[&str])] = &[
        ("netstat_-tlnp", &["-tlnp"]),
        ("netstat_-anp", &["-anp"]),
        ("netstat_-neopa", &["-neopa"]),
    ];
    for (name, args) in ps_runs {
        record(&ps_bin, args, &cap.join(name));
    }
    for (name, args) in netstat_runs {
        record(&netstat_bin, args, &cap.join(name));
    }

    // The binary recognises every file and leaves no line unparsed.
    let out = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("sources")
        .arg(&cap)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected = ps_runs
        .iter()
        .map(|(n, _)| (*n, "ps"))
        .chain(netstat_runs.iter().map(|(n, _)| (*n, "netstat")));
    for (name, format) in expected {
        let row = rows
            .iter()
            .find(|r| r["file"].as_str().is_some_and(|f| f.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} not listed: {rows:?}"));
        assert_eq!(row["format"], format, "{name}: {row}");
        assert_eq!(row["unparsed"], 0, "{name}: {row}");
        assert!(row["records"].as_u64().unwrap() > 1, "{name}: {row}");
    }

    // Every ps table holds the listener, its parent (this test) and its command line.
    let script = dir.path().join("listen.py").display().to_string();
    for (name, _) in ps_runs {
        let text = std::fs::read_to_string(cap.join(name)).unwrap();
        let procs = ps::parse_processes(&text);
        let p = procs
            .iter()
            .find(|p| p.pid == pid)
            .unwrap_or_else(|| panic!("{name}: pid {pid} missing:\n{text}"));
        assert!(p.args.contains(&script), "{name}: {p:?}");
        assert!(p.args.contains(&port.to_string()), "{name}: {p:?}");
        assert!(p.user.is_some(), "{name}: {p:?}");
        let line = text.lines().nth(p.line as usize - 1).unwrap();
        assert!(line.contains(&pid.to_string()), "{name}: {p:?} at {line}");
        // A row read alone (as the detail pane reads it) still gives its pid.
        let fields = ps::Ps.fields(line.as_bytes(), &ParseCtx::default());
        assert!(
            fields.contains(&("pid".to_string(), pid.to_string())),
            "{name}: {fields:?}"
        );
        if *name != "ps_aux" {
            assert_eq!(p.ppid, Some(std::process::id()), "{name}: {p:?}");
        }
        if *name == "ps_-eo" {
            assert!(p.elapsed.is_some(), "{name}: {p:?}");
        }
    }

    // Every netstat table holds the TCP listener with its pid; those with unix sockets, the
    // unix one too.
    let tcp = format!("127.0.0.1:{port}");
    let unix = sock.display().to_string();
    for (name, _) in netstat_runs {
        let text = std::fs::read_to_string(cap.join(name)).unwrap();
        let sockets = netstat::parse_sockets(&text);
        let mine = |local: &str, netid: &str| {
            sockets.iter().any(|s| {
                s.is_listener()
                    && s.netid == netid
                    && format!("{}:{}", s.local.host, s.local.port.as_deref().unwrap_or(""))
                        .starts_with(local)
                    && s.processes.first().and_then(|p| p.pid) == Some(pid)
            })
        };
        assert!(mine(&tcp, "tcp"), "{name}: no {tcp} of pid {pid}:\n{text}");
        if *name != "netstat_-tlnp" {
            assert!(
                mine(&unix, "u_str"),
                "{name}: no {unix} of pid {pid}:\n{text}"
            );
        }
    }

    // Loaded as a bundle, netstat's listeners are the host's listeners.
    let inc = load(std::slice::from_ref(&cap), &LoadOptions::default()).unwrap();
    let listeners = Sockets::build(&inc).listeners(Micros::MAX);
    for (local, netid) in [(tcp.clone(), "tcp"), (format!("unix:{unix}"), "u_str")] {
        let l = listeners
            .iter()
            .find(|l| l.local == local)
            .unwrap_or_else(|| panic!("no listener {local}: {listeners:?}"));
        assert_eq!(l.netid, netid);
        assert_eq!(l.pid, Some(pid), "{l:?}");
        assert_eq!(l.process.as_deref(), Some("python3"), "{l:?}");
    }
    drop(server);
}
