//! I-1 for real: gunicorn binds a unix socket, nginx proxies to a TCP port where nothing
//! listens. The test captures the real logs, `nginx -T` and `ss` output into a bundle and
//! checks that `upstream-unreachable` names the cause with the real lines as evidence.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::free_ports;

use std::process::Command;

use sitrep::analysis::rules::{Evidence, diagnose};
use sitrep::ingest::{LoadOptions, load};

#[test]
fn nginx_to_a_dead_port_while_gunicorn_listens_on_a_unix_socket() {
    let nginx = common::nginx();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundle = root.join("bundle");
    for d in ["nginx", "sockets", "app"] {
        std::fs::create_dir_all(bundle.join(d)).unwrap();
    }
    // The app: gunicorn on a unix socket, as after the migration.
    let gunicorn_log = bundle.join("app/gunicorn.log");
    let (_app, sock) = common::gunicorn_on_socket(root, &gunicorn_log);
    // nginx still points at the old TCP address.
    let [port, dead] = free_ports();
    let logs = bundle.join("nginx");
    let conf_path =
        common::i1_nginx_conf(root, &logs, port, dead, "access_log {access_log} combined");
    let dump = common::run_ok(
        Command::new(&nginx)
            .arg("-T")
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(&conf_path),
    );
    std::fs::write(
        logs.join("nginx-T.txt"),
        [dump.stderr, dump.stdout].concat(),
    )
    .unwrap();
    let server = common::start_nginx(root, &conf_path);
    for path in ["/", "/books/", "/"] {
        assert!(common::get(port, path, "").contains("502 Bad Gateway"));
    }
    // The sockets as `ss` sees them now: both listeners, gunicorn's and nginx's.
    let ss = Command::new("ss").args(["-Hltnpx"]).output().unwrap();
    assert!(ss.status.success());
    std::fs::write(bundle.join("sockets/ss.txt"), &ss.stdout).unwrap();
    drop(server);

    let inc = load(std::slice::from_ref(&bundle), &LoadOptions::default()).unwrap();
    let d = diagnose(&inc);
    let f = d
        .findings
        .iter()
        .find(|f| f.id == "upstream-unreachable")
        .unwrap_or_else(|| {
            panic!(
                "no upstream-unreachable among {:?}",
                d.findings.iter().map(|f| f.id).collect::<Vec<_>>()
            )
        });
    let dead_addr = format!("127.0.0.1:{dead}");
    assert!(f.title.contains(&dead_addr), "{}", f.title);
    assert!(
        f.title.contains(&format!("unix:{}", sock.display())),
        "{}",
        f.title
    );
    // The evidence is nginx's own lines: the refused connection and the proxy_pass.
    let texts: Vec<String> = f
        .evidence
        .iter()
        .map(|e| match e {
            Evidence::Record { source, row } => inc.sources[*source].text(*row).into_owned(),
            Evidence::Line { text, .. } | Evidence::Fact(text) => text.clone(),
        })
        .collect();
    assert!(
        texts.iter().any(
            |t| t.contains("(111: Connection refused) while connecting to upstream")
                && t.contains(&dead_addr)
        ),
        "{texts:#?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("proxy_pass http://{dead_addr};"))),
        "{texts:#?}"
    );
    assert!(texts.iter().any(|t| t.contains("\" 502 ")), "{texts:#?}");
}
