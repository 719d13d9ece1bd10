//! Real nginx on loopback writes the logs; sitrep must read them as nginx wrote them: a custom
//! `log_format` learned from `nginx -T`, the zone-less error log placed by the access log's
//! offset, and a refused upstream seen in both at the same second.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::{Running, free_ports};

use std::process::{Command, Stdio};

use sitrep::analysis::timeline::Timeline;
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::format_id::FormatId;
use sitrep::model::severity::Severity;
use sitrep::model::time::TzReason;

#[test]
fn logs_written_by_real_nginx_parse_and_line_up() {
    let nginx = common::nginx();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let bundle = root.join("bundle");
    std::fs::create_dir_all(bundle.join("nginx")).expect("bundle dir");
    let [port, dead] = free_ports();
    let logs = bundle.join("nginx");
    let conf = format!(
        r#"daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {logs}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format timed '$remote_addr - $remote_user [$time_local] "$request" '
                     '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                     'rt=$request_time uct="$upstream_connect_time" urt="$upstream_response_time"';
    access_log {logs}/access.log timed;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
        location = /ok {{ return 200 "fine\n"; }}
        location / {{ proxy_pass http://127.0.0.1:{dead}; }}
    }}
}}
"#,
        root = root.display(),
        logs = logs.display(),
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("write nginx.conf");
    let dump = Command::new(&nginx)
        .args(["-T", "-p"])
        .arg(root)
        .arg("-c")
        .arg(&conf_path)
        .output()
        .expect("run nginx -T");
    assert!(
        dump.status.success(),
        "nginx -T failed: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let mut t = dump.stderr.clone();
    t.extend_from_slice(&dump.stdout);
    std::fs::write(logs.join("nginx-T.txt"), &t).expect("write nginx -T");

    let mut stop = Command::new(&nginx);
    stop.arg("-p")
        .arg(root)
        .arg("-c")
        .arg(&conf_path)
        .args(["-s", "stop"]);
    stop.stderr(Stdio::null());
    let server = Running(
        Command::new(&nginx)
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(&conf_path)
            // Workers must not hold the test's output open.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx"),
        Some(stop),
    );
    assert!(common::get(port, "/ok", "").contains("200 OK"));
    assert!(common::get(port, "/app/dashboard", "").contains("502 Bad Gateway"));
    assert!(common::get(port, "/ok", "").contains("200 OK"));
    drop(server);

    let inc = load(std::slice::from_ref(&bundle), &LoadOptions::default()).expect("load bundle");
    let by_format = |f: FormatId| {
        inc.sources
            .iter()
            .find(|s| s.format == f)
            .unwrap_or_else(|| {
                panic!(
                    "no {f} source in {:?}",
                    inc.sources
                        .iter()
                        .map(|s| (&s.file, s.format))
                        .collect::<Vec<_>>()
                )
            })
    };
    let access = by_format(FormatId::NginxAccess);
    assert_eq!(access.stats.records, 3);
    assert_eq!(
        access.stats.unparsed, 0,
        "the `timed` log_format was not learned from nginx -T"
    );
    assert_eq!(
        access.sev,
        vec![Severity::Info, Severity::Error, Severity::Info]
    );
    let error = by_format(FormatId::NginxError);
    assert_eq!(error.stats.unparsed, 0);
    assert_eq!(error.zone.reason, TzReason::SameProgram);
    let refused = (0..error.len())
        .find(|r| {
            error
                .text(*r)
                .contains("(111: Connection refused) while connecting to upstream")
        })
        .expect("nginx logged the refused upstream");
    assert_eq!(error.sev[refused], Severity::Error);
    // The same failure, one second apart at most, in both logs once zones are settled.
    let gap = (error.ts[refused] - access.ts[1]).abs();
    assert!(
        gap <= 1_000_000,
        "error and access times differ by {gap} us"
    );
    assert_eq!(by_format(FormatId::NginxConfig).file, "nginx/nginx-T.txt");
    let tl = Timeline::all(&inc.sources);
    assert_eq!(
        tl.first_error(&inc.sources).map(|t| t / 1_000_000),
        Some(error.ts[refused].min(access.ts[1]) / 1_000_000)
    );
}
