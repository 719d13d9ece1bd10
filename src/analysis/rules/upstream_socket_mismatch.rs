//! `upstream-socket-mismatch`: nginx and the app server disagree on where they meet. nginx
//! passes requests to one address (`proxy_pass`, or an upstream's `server` line) while the app
//! server is told to listen on another: gunicorn's `--bind` (uWSGI's `--socket`, uvicorn's
//! `--uds`, runserver's address) in the unit's `ExecStart=` or its process's command line,
//! `bind` in gunicorn's config file, or the `ListenStream=` of the `.socket` unit that hands
//! it its socket. Fires only when
//! an nginx address has no app server behind it and an app server address has no nginx in
//! front. Evidence: the nginx config line and each app-side line that names the other address.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::appserver::stopped;
use crate::ingest::formats::app_command::{ServerKind, settings as read_command};
use crate::ingest::formats::gunicorn_config::parse_settings;
use crate::ingest::formats::ss::Endpoint;
use crate::ingest::formats::systemctl_cat::parse_units;
use crate::ingest::formats::systemctl_show::parse_show;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;

pub struct UpstreamSocketMismatch;

/// One address an app server is configured to listen on.
#[derive(Debug, Clone)]
struct AppBind {
    host: String,
    endpoint: Endpoint,
    /// `--bind of gunicorn.service`, `ListenStream= of gunicorn.socket`, `bind in gunicorn.conf.py`.
    origin: String,
    evidence: Option<Evidence>,
}

/// A `ListenStream=` value as an endpoint (`8000` alone means every address).
fn listen_endpoint(v: &str) -> Option<Endpoint> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Endpoint::Tcp {
            host: "::".into(),
            port: v.parse().ok()?,
        });
    }
    Endpoint::parse(v)
}

/// Byte range of one unit inside a `systemctl cat` or `systemctl show` source.
fn unit_range(data: &[u8], unit: &str, show: bool) -> (usize, usize) {
    if show {
        let needle = format!("Id={unit}\n");
        let Some(at) = memchr::memmem::find(data, needle.as_bytes()) else {
            return (0, data.len());
        };
        let start = memchr::memmem::rfind(&data[..at], b"\n\n").map_or(0, |i| i + 2);
        let end = memchr::memmem::find(&data[at..], b"\n\n").map_or(data.len(), |i| at + i);
        (start, end)
    } else {
        let needle = format!("/{unit}\n");
        let Some(at) = memchr::memmem::find(data, needle.as_bytes()) else {
            return (0, data.len());
        };
        let end = memchr::memmem::find(&data[at..], b"\n# /").map_or(data.len(), |i| at + i + 1);
        (
            memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1),
            end,
        )
    }
}

/// Offset of the first of `needles` found inside `range`.
fn find_in(data: &[u8], range: (usize, usize), needles: &[&str]) -> Option<usize> {
    let hay = data.get(range.0..range.1)?;
    needles
        .iter()
        .filter(|n| !n.is_empty())
        .find_map(|n| memchr::memmem::find(hay, n.as_bytes()))
        .map(|i| range.0 + i)
}

fn push(binds: &mut Vec<AppBind>, b: AppBind) {
    if !binds
        .iter()
        .any(|x| x.host == b.host && x.endpoint == b.endpoint && x.origin == b.origin)
    {
        binds.push(b);
    }
}

/// Every address an app server on any host is configured for.
fn app_binds(cx: &Context) -> Vec<AppBind> {
    let src = &cx.incident.sources;
    let mut binds = Vec::new();
    // Pass 1: services that run an app server (their names pair them with socket units).
    let mut services: Vec<(String, String)> = Vec::new();
    for (i, s) in src.iter().enumerate() {
        let units: Vec<(String, Vec<String>, bool)> = match s.format {
            FormatId::SystemctlCat => parse_units(&String::from_utf8_lossy(&s.data))
                .into_iter()
                .filter_map(|f| {
                    let name = f.name.clone()?;
                    let cmds = f
                        .get("Service", "ExecStart")
                        .into_iter()
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect();
                    Some((name, cmds, false))
                })
                .collect(),
            FormatId::SystemctlShow => parse_show(&String::from_utf8_lossy(&s.data))
                .into_iter()
                .filter_map(|u| Some((u.id()?.to_string(), u.exec_starts(), true)))
                .collect(),
            _ => continue,
        };
        for (name, cmds, show) in units {
            if stopped(cx, &s.host, &name) {
                continue;
            }
            for (cmd, kind) in cmds
                .iter()
                .filter_map(|c| ServerKind::of(c).map(|k| (c, k)))
            {
                if !services.contains(&(s.host.clone(), name.clone())) {
                    services.push((s.host.clone(), name.clone()));
                }
                let range = unit_range(&s.data, &name, show);
                let what = match kind {
                    ServerKind::Gunicorn => "--bind".to_string(),
                    k => format!("the {} command line", k.name()),
                };
                for b in read_command(kind, cmd).bind {
                    let Some(endpoint) = Endpoint::parse(&b) else {
                        continue;
                    };
                    let off = find_in(&s.data, range, &[&b, "--bind", "ExecStart="]);
                    push(
                        &mut binds,
                        AppBind {
                            host: s.host.clone(),
                            endpoint,
                            origin: format!("{what} of {name}"),
                            evidence: off.map(|o| cx.line_at(i, o)),
                        },
                    );
                }
            }
        }
    }
    // Pass 2: socket units that belong to those services.
    let stem = |n: &str| {
        n.rsplit_once('.')
            .map_or(n.to_string(), |(a, _)| a.to_string())
    };
    let belongs = |host: &str, socket: &str, service: Option<&str>| {
        services
            .iter()
            .any(|(h, n)| h == host && (stem(n) == stem(socket) || service.is_some_and(|s| s == n)))
    };
    for (i, s) in src.iter().enumerate() {
        match s.format {
            FormatId::SystemctlCat => {
                for f in parse_units(&String::from_utf8_lossy(&s.data)) {
                    let Some(name) = f.name.clone() else { continue };
                    if !name.ends_with(".socket")
                        || !belongs(&s.host, &name, f.get("Socket", "Service").last().copied())
                    {
                        continue;
                    }
                    let range = unit_range(&s.data, &name, false);
                    for v in f.get("Socket", "ListenStream") {
                        let Some(endpoint) = listen_endpoint(v) else {
                            continue;
                        };
                        let needle = format!("ListenStream={v}");
                        let off = find_in(&s.data, range, &[&needle, "ListenStream="]);
                        push(
                            &mut binds,
                            AppBind {
                                host: s.host.clone(),
                                endpoint,
                                origin: format!("ListenStream= of {name}"),
                                evidence: off.map(|o| cx.line_at(i, o)),
                            },
                        );
                    }
                }
            }
            FormatId::SystemctlShow => {
                for u in parse_show(&String::from_utf8_lossy(&s.data)) {
                    let Some(name) = u.id().map(str::to_string) else {
                        continue;
                    };
                    if !name.ends_with(".socket") || !belongs(&s.host, &name, u.get("Triggers")) {
                        continue;
                    }
                    let range = unit_range(&s.data, &name, true);
                    for l in u.listen() {
                        let Some(endpoint) = listen_endpoint(&l.address) else {
                            continue;
                        };
                        let needle = format!("Listen={}", l.address);
                        let off = find_in(&s.data, range, &[&needle, "Listen="]);
                        push(
                            &mut binds,
                            AppBind {
                                host: s.host.clone(),
                                endpoint,
                                origin: format!("Listen= of {name} (as loaded)"),
                                evidence: off.map(|o| cx.line_at(i, o)),
                            },
                        );
                    }
                }
            }
            FormatId::GunicornConfig => {
                let name = s.file.rsplit('/').next().unwrap_or(&s.file).to_string();
                for b in parse_settings(&String::from_utf8_lossy(&s.data)).bind {
                    let Some(endpoint) = Endpoint::parse(&b) else {
                        continue;
                    };
                    let off = find_in(&s.data, (0, s.data.len()), &[&b, "bind"]);
                    push(
                        &mut binds,
                        AppBind {
                            host: s.host.clone(),
                            endpoint,
                            origin: format!("bind in {name}"),
                            evidence: off.map(|o| cx.line_at(i, o)),
                        },
                    );
                }
            }
            _ => {}
        }
    }
    // Pass 3: app servers seen only in a process table (no unit starts them).
    for app in cx.apps.iter().filter(|a| a.unit.is_none()) {
        let Some(via) = app.launched_by.as_deref().filter(|v| v.starts_with("ps")) else {
            continue;
        };
        for b in &app.settings.bind {
            let Some(endpoint) = Endpoint::parse(b) else {
                continue;
            };
            push(
                &mut binds,
                AppBind {
                    host: app.host.clone(),
                    endpoint,
                    origin: match app.kind {
                        ServerKind::Gunicorn => format!("--bind of gunicorn ({via})"),
                        k => format!("the {} command line ({via})", k.name()),
                    },
                    evidence: app.exec_line.clone(),
                },
            );
        }
    }
    binds
}

impl Rule for UpstreamSocketMismatch {
    fn id(&self) -> &'static str {
        "upstream-socket-mismatch"
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let binds = app_binds(cx);
        let mut findings = Vec::new();
        for dump in &cx.nginx {
            let mine: Vec<&AppBind> = binds.iter().filter(|b| b.host == dump.host).collect();
            if mine.is_empty() {
                continue;
            }
            let targets = dump.config.upstream_targets();
            let with_endpoint: Vec<(&Endpoint, _)> = targets
                .iter()
                .filter_map(|t| t.endpoint.as_ref().map(|e| (e, t)))
                .collect();
            // App addresses nginx never sends anything to.
            let orphans: Vec<&AppBind> = mine
                .iter()
                .copied()
                .filter(|b| !with_endpoint.iter().any(|(e, _)| e.served_by(&b.endpoint)))
                .collect();
            if orphans.is_empty() {
                continue;
            }
            let mut seen: Vec<&str> = Vec::new();
            for (endpoint, target) in &with_endpoint {
                if seen.contains(&target.address.as_str()) {
                    continue;
                }
                seen.push(&target.address);
                if mine.iter().any(|b| endpoint.served_by(&b.endpoint)) {
                    continue;
                }
                let mut evidence = Vec::new();
                if let Some(at) = &target.server_at {
                    evidence.push(cx.line_at(dump.source, at.offset));
                }
                evidence.push(cx.line_at(dump.source, target.at.offset));
                let mut app_addrs: Vec<String> = Vec::new();
                let mut origins: Vec<String> = Vec::new();
                for b in &orphans {
                    if let Some(e) = &b.evidence
                        && !evidence.contains(e)
                        && evidence.len() < 8
                    {
                        evidence.push(e.clone());
                    }
                    let a = b.endpoint.to_string();
                    if !app_addrs.contains(&a) {
                        app_addrs.push(a);
                    }
                    if !origins.contains(&b.origin) {
                        origins.push(b.origin.clone());
                    }
                }
                evidence.push(Evidence::Fact(format!(
                    "nginx sends to {}; the app server is configured for {} ({})",
                    target.address,
                    app_addrs.join(", "),
                    origins.join("; ")
                )));
                let app = app_addrs.join(" and ");
                let fix = match orphans.first().map(|b| &b.endpoint) {
                    Some(Endpoint::Unix(p)) => format!("http://unix:{p}"),
                    Some(e) => format!("http://{e}"),
                    None => "the app server's address".into(),
                };
                findings.push(Finding {
                    id: self.id(),
                    severity: Severity::Error,
                    depth: Depth::Cause,
                    title: format!(
                        "nginx proxies to {} but the app server is configured for {app}",
                        target.address
                    ),
                    explanation: format!(
                        "nginx and the app server must meet at the same address: nginx connects \
                         to what its {} names ({}:{}), the app server listens where its command \
                         line (gunicorn's --bind, uWSGI's --socket, uvicorn's --uds or --port), \
                         its config file or its .socket unit says. Here they differ, so nginx knocks where \
                         nobody answers and the site returns 502. Change one side to match the \
                         other (for example {} {fix}), reload nginx or restart the app server, \
                         and test the address with curl.",
                        target.directive, target.at.file, target.at.line, target.directive
                    ),
                    evidence,
                    next: vec![
                        format!("nginx -T | grep -n '{}\\|server '", target.directive),
                        if orphans.iter().all(|b| b.origin.contains("(ps, ")) {
                            "ps -eo pid,ppid,args | grep -E 'gunicorn|uwsgi|uvicorn|runserver'   # the app server's command line".into()
                        } else {
                            "systemctl cat gunicorn.service gunicorn.socket".into()
                        },
                        "ss -ltnpx   # what really listens".into(),
                        match orphans.first().map(|b| &b.endpoint) {
                            Some(Endpoint::Unix(p)) => {
                                format!("curl --unix-socket {p} http://localhost/")
                            }
                            Some(e) => format!("curl -sv http://{e}/"),
                            None => "curl -sv http://127.0.0.1/".into(),
                        },
                    ],
                });
            }
        }
        findings
    }

    fn unknown(&self, cx: &Context) -> Option<String> {
        if cx.nginx.is_empty() {
            return Some("no nginx -T in the bundle".into());
        }
        let binds = app_binds(cx);
        let known = cx
            .nginx
            .iter()
            .any(|d| binds.iter().any(|b| b.host == d.host));
        (!known).then(|| {
            "the bundle does not say where the app server is told to listen (no unit, config \
             file or command line of it)"
                .to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_read_from_a_process_table_is_compared_too() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("web1");
        std::fs::create_dir_all(&root).unwrap();
        // `ps -eo pid,ppid,user,etime,args` as procps prints it (gunicorn 20.1, Debian 12).
        std::fs::write(
            root.join("ps.txt"),
            "  PID  PPID USER         ELAPSED COMMAND\n\
             \x20 812     1 www-data       01:02 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --bind unix:/run/gunicorn.sock proj.wsgi:application\n\
             \x20 815   812 www-data       01:01 /usr/bin/python3 /usr/bin/gunicorn --workers 2 --bind unix:/run/gunicorn.sock proj.wsgi:application\n",
        )
        .unwrap();
        std::fs::write(
            root.join("nginx-T.txt"),
            "# configuration file /etc/nginx/nginx.conf:\n\
             http {\n    server {\n        listen 80;\n        location / {\n            \
             proxy_pass http://127.0.0.1:8000;\n        }\n    }\n}\n",
        )
        .unwrap();
        let f = crate::analysis::rules::run_on_path(&UpstreamSocketMismatch, &root);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title
                .contains("nginx proxies to 127.0.0.1:8000 but the app server is configured for unix:/run/gunicorn.sock"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].evidence.iter().any(
                |e| matches!(e, Evidence::Line { line: 2, text, .. } if text.starts_with("812 "))
            ),
            "{:#?}",
            f[0].evidence
        );
    }

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&UpstreamSocketMismatch, name)
    }

    fn lines(f: &Finding) -> Vec<String> {
        f.evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Line { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fires_on_the_socket_mismatch_incident() {
        let f = run("i1-socket-mismatch");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(
            f.title,
            "nginx proxies to 127.0.0.1:8000 but the app server is configured for unix:/run/gunicorn.sock"
        );
        assert_eq!(f.depth, Depth::Cause);
        let l = lines(f);
        assert!(
            l.iter().any(|t| t == "proxy_pass http://127.0.0.1:8000;"),
            "{l:?}"
        );
        assert!(
            l.iter()
                .any(|t| t.contains("--bind unix:/run/gunicorn.sock")),
            "{l:?}"
        );
    }

    #[test]
    fn fires_on_the_daemon_reload_incident() {
        let f = run("i3-daemon-reload");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(
            f.title,
            "nginx proxies to unix:/run/gunicorn.sock but the app server is configured for unix:/run/gunicorn/socket"
        );
        let l = lines(f);
        assert!(
            l.iter()
                .any(|t| t.starts_with("server unix:/run/gunicorn.sock")),
            "{l:?}"
        );
        assert!(
            l.iter().any(|t| t == "ListenStream=/run/gunicorn/socket"),
            "{l:?}"
        );
        assert!(
            l.iter()
                .any(|t| t.contains("--bind unix:/run/gunicorn/socket")),
            "{l:?}"
        );
    }

    #[test]
    fn silent_elsewhere() {
        for b in [
            "healthy",
            "i2-import-time-setting",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "awkward",
        ] {
            assert!(run(b).is_empty(), "{b}: {:#?}", run(b));
        }
    }
}
