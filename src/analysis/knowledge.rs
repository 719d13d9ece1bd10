//! "Explain this line": a knowledge base of message patterns written by nginx, gunicorn,
//! systemd, the journal, Django, urllib3/requests, Cloud Foundry, PostgreSQL clients, Python
//! and the kernel's OOM killer.
//!
//! Each [`Entry`] pairs a regular expression with plain-words text for a newcomer: what the
//! line means, the usual causes and the next commands to run. [`explain`] returns every
//! entry a line matches, the specific ones before the general ones, with the parts of the
//! line it names (errno, upstream, client, status, pid...). The regexes are compiled once,
//! on first use; [`SAMPLES`] holds one realistic line per entry, and the tests check that
//! every entry is matched by its sample, so the table checks itself.

use std::sync::OnceLock;

use regex::Regex;

use crate::ingest::formats::nginx_error;

/// One known message pattern.
#[derive(Debug)]
pub struct Entry {
    /// Stable id, `family.name`.
    pub id: &'static str,
    /// Who writes the line: `nginx`, `http`, `gunicorn`, `systemd`, `journal`, `django`,
    /// `urllib3`, `cf`, `postgres`, `python`, `kernel`.
    pub family: &'static str,
    /// The regex; named groups become [`Explanation::parts`].
    pub pattern: &'static str,
    /// A broad pattern (a status code, a generic failure, a wrapper such as "Max retries
    /// exceeded" around a more telling cause) that a more specific entry may also explain;
    /// general entries are listed after specific ones.
    pub general: bool,
    /// What the line means, in plain words.
    pub meaning: &'static str,
    /// Usual causes, most likely first.
    pub causes: &'static [&'static str],
    /// Next checks: commands to run.
    pub next: &'static [&'static str],
    /// Glossary terms the line touches; see [`define`].
    pub glossary: &'static [&'static str],
}

/// What the knowledge base knows about one line, for one matching entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The entry's id, `family.name`.
    pub id: &'static str,
    /// Who writes such lines.
    pub family: &'static str,
    /// What the line means, in plain words.
    pub meaning: &'static str,
    /// Usual causes, most likely first.
    pub causes: &'static [&'static str],
    /// Next checks: commands to run.
    pub next: &'static [&'static str],
    /// Glossary terms the line touches; [`define`] gives their definitions.
    pub glossary: &'static [&'static str],
    /// The parts of the line named: ("errno","111 Connection refused"),
    /// ("upstream","http://127.0.0.1:8000/"), ("client","192.0.2.20"), ("status","502"),
    /// ("pid","788990")... Regex captures first, then nginx error-log context fields.
    pub parts: Vec<(String, String)>,
}

/// Lines longer than this are explained from their first bytes only.
const MAX_LINE: usize = 64 * 1024;

/// A unit name before `: ` in systemd's messages, captured as `unit` (optional).
macro_rules! unit {
    () => {
        r"(?:(?P<unit>[\w@.:\\-]+\.(?:service|socket|timer|mount|target|path|scope|slice|swap|device)): )?"
    };
}

/// An nginx/RTR access-log request and status, with the client address when the line
/// starts with it.
macro_rules! access {
    ($status:literal) => {
        concat!(
            r#"(?:^(?P<client>[0-9A-Fa-f.:]+) \S+ \S+ \[[^\]]+\] )?"(?P<request>[A-Z]+ \S+ HTTP/[\d.]+)" (?P<status>"#,
            $status,
            r#") \d+"#
        )
    };
}

/// Shorthand for one [`Entry`].
macro_rules! k {
    ($id:literal, $family:literal, $general:literal, $pattern:expr,
     $meaning:literal, [$($c:literal),* $(,)?], [$($n:literal),* $(,)?], [$($g:literal),* $(,)?] $(,)?) => {
        Entry {
            id: $id,
            family: $family,
            pattern: $pattern,
            general: $general,
            meaning: $meaning,
            causes: &[$($c),*],
            next: &[$($n),*],
            glossary: &[$($g),*],
        }
    };
}

/// The knowledge base, in the order specific-before-general within each family.
pub static ENTRIES: &[Entry] = &[
    // ---------------------------------------------------------------- nginx error log
    k!(
        "nginx.connect_refused",
        "nginx",
        false,
        r"connect\(\) (?:to (?P<socket>unix:\S+) )?failed \((?P<errno>111): (?P<reason>Connection refused)\)",
        "nginx tried to open a connection to the app server (the upstream) and the other side said nobody is listening there. The visitor gets a 502 Bad Gateway.",
        [
            "the app server (gunicorn) is stopped, crashed or still starting",
            "nginx points at a different address or port than the app server binds",
            "the app listens on a unix socket but nginx proxies to TCP (or the reverse)"
        ],
        [
            "systemctl status gunicorn.service",
            "ss -ltnpx",
            "nginx -T | grep -n proxy_pass",
            "curl -v http://127.0.0.1:8000/"
        ],
        ["upstream", "errno", "unix socket", "502"]
    ),
    k!(
        "nginx.connect_permission",
        "nginx",
        false,
        r"connect\(\) (?:to (?P<socket>unix:\S+) )?failed \((?P<errno>13): (?P<reason>Permission denied)\)",
        "nginx found the app server's socket but was not allowed to connect to it.",
        [
            "the unix socket's owner, group or mode keep out the nginx user (www-data or nginx)",
            "a directory on the socket's path is not searchable by the nginx user",
            "SELinux forbids nginx from making network connections (httpd_can_network_connect)"
        ],
        [
            "ls -l /run/gunicorn.sock; namei -l /run/gunicorn.sock",
            "ps -o user= -C nginx | sort -u",
            "getenforce; ausearch -m avc -ts recent"
        ],
        ["upstream", "errno", "unix socket", "502"]
    ),
    k!(
        "nginx.connect_no_socket",
        "nginx",
        false,
        r"connect\(\) to (?P<socket>unix:\S+) failed \((?P<errno>2): (?P<reason>No such file or directory)\)",
        "nginx is configured to reach the app through a unix socket file, and that file does not exist.",
        [
            "the app server is not running, so it never created the socket",
            "the socket path in nginx differs from the one gunicorn or the .socket unit uses",
            "stopping the service removed its RuntimeDirectory and the socket with it"
        ],
        [
            "systemctl status gunicorn.socket gunicorn.service",
            "ss -lxp | grep gunicorn",
            "nginx -T | grep -n unix:",
            "systemctl cat gunicorn.socket"
        ],
        ["upstream", "unix socket", "errno", "502"]
    ),
    k!(
        "nginx.connect_unreachable",
        "nginx",
        false,
        r"connect\(\) failed \((?P<errno>101|113): (?P<reason>Network is unreachable|No route to host)\)",
        "nginx could not even find a network path to the upstream host.",
        [
            "the upstream host is down or its address changed",
            "a firewall rejects the traffic",
            "a wrong IP address in proxy_pass or the upstream block"
        ],
        [
            "ip route get UPSTREAM_IP",
            "ping -c 3 UPSTREAM_IP",
            "nginx -T | grep -n -e proxy_pass -e server"
        ],
        ["upstream", "errno"]
    ),
    k!(
        "nginx.upstream_timed_out",
        "nginx",
        false,
        r"upstream timed out \((?P<errno>110): (?P<reason>[^)]+)\) while (?P<phase>connecting to|sending request to|reading response header from|reading) upstream",
        "nginx waited for the app server longer than its proxy timeout and gave up; the visitor gets 504 Gateway Timeout.",
        [
            "the request is slow (big upload, report, deploy) and runs past proxy_read_timeout",
            "all app workers are busy or stuck, so the request waits",
            "a database or remote service the app calls is slow",
            "while connecting: the upstream host drops packets (firewall)"
        ],
        [
            "nginx -T | grep -n timeout",
            "journalctl -u gunicorn --since -15min | grep -i timeout",
            "grep ' 504 ' /var/log/nginx/access.log | tail"
        ],
        ["upstream", "timeout", "timeout chain", "504"]
    ),
    k!(
        "nginx.upstream_prematurely_closed",
        "nginx",
        false,
        r"upstream prematurely closed connection while (?P<phase>reading response header from|reading) upstream",
        "The app server hung up before sending a complete answer; nginx returns 502 to the visitor.",
        [
            "gunicorn killed the worker on its timeout (look for WORKER TIMEOUT)",
            "the worker crashed or was killed for using too much memory",
            "the app server restarted while requests were in flight"
        ],
        [
            "journalctl -u gunicorn --since -15min",
            "journalctl -k | grep -i -e oom -e killed",
            "grep -n timeout /etc/gunicorn*.py /etc/systemd/system/gunicorn.service"
        ],
        ["upstream", "worker", "timeout", "502"]
    ),
    k!(
        "nginx.no_live_upstreams",
        "nginx",
        false,
        r"no live upstreams while connecting to upstream",
        "Every server in the upstream group is marked as failed, so nginx did not even try one; visitors get 502.",
        [
            "earlier connection errors or timeouts marked each server down (max_fails / fail_timeout)",
            "the single upstream server is down",
            "a wrong name or port in the upstream block"
        ],
        [
            "grep -B5 'no live upstreams' /var/log/nginx/error.log | head -20",
            "nginx -T | grep -n -A5 upstream",
            "ss -ltnpx"
        ],
        ["upstream", "502"]
    ),
    k!(
        "nginx.body_too_large",
        "nginx",
        false,
        r"client intended to send too large body: (?P<bytes>\d+) bytes",
        "A client tried to upload more than nginx allows (client_max_body_size); nginx refused with 413.",
        [
            "an upload is bigger than the limit (the default is 1 MB)",
            "the limit is set in one server/location block but not in the one that served the request"
        ],
        [
            "nginx -T | grep -n client_max_body_size",
            "grep ' 413 ' /var/log/nginx/access.log | tail"
        ],
        ["413"]
    ),
    k!(
        "nginx.bind_in_use",
        "nginx",
        false,
        r"bind\(\) to (?P<address>\S+) failed \((?P<errno>98): (?P<reason>Address already in use)\)",
        "nginx could not start listening on an address because another process already owns that port.",
        [
            "another nginx (or an old master) is still running",
            "apache, a dev server or a container already uses port 80/443",
            "two server blocks ask for the same address with conflicting options"
        ],
        [
            "ss -ltnp 'sport = :80'",
            "ps -ef | grep -e nginx -e apache",
            "systemctl status nginx"
        ],
        ["errno", "listen"]
    ),
    k!(
        "nginx.bind_permission",
        "nginx",
        false,
        r"bind\(\) to (?P<address>\S+) failed \((?P<errno>13): (?P<reason>Permission denied)\)",
        "nginx was not allowed to listen on an address, usually a port below 1024 without root.",
        [
            "nginx was started as an ordinary user",
            "SELinux does not allow that port for http (semanage port)"
        ],
        [
            "ps -o user,cmd -C nginx",
            "getenforce; semanage port -l | grep http_port"
        ],
        ["errno", "listen"]
    ),
    k!(
        "nginx.ssl_handshake_upstream",
        "nginx",
        false,
        r"SSL_do_handshake\(\) failed \((?P<ssl_error>SSL: [^)]*)\) while SSL handshaking to upstream",
        "nginx tried to talk TLS to the upstream and the handshake failed.",
        [
            "proxy_pass says https:// but the app speaks plain http (or the reverse)",
            "the upstream needs SNI: proxy_ssl_server_name on",
            "protocol or cipher mismatch with the upstream"
        ],
        [
            "nginx -T | grep -n -e proxy_pass -e proxy_ssl",
            "openssl s_client -connect UPSTREAM:443 -servername NAME"
        ],
        ["upstream", "TLS"]
    ),
    k!(
        "nginx.ssl_handshake",
        "nginx",
        true,
        r"SSL_do_handshake\(\) failed \((?P<ssl_error>SSL: [^)]*)\)",
        "A TLS handshake with a client failed, so no request was read on that connection.",
        [
            "an old client offers protocols or ciphers the server refuses",
            "scanners and bots sending junk to port 443",
            "the client rejects the certificate (expired, wrong name, missing chain)"
        ],
        [
            "openssl s_client -connect HOST:443 -servername HOST",
            "nginx -T | grep -n -e ssl_protocols -e ssl_certificate"
        ],
        ["TLS"]
    ),
    k!(
        "nginx.ssl_cert_load",
        "nginx",
        false,
        r#"cannot load certificate(?: key)? "(?P<path>[^"]+)""#,
        "nginx could not read a certificate or key file named in its config, so it refuses to start or reload.",
        [
            "the file path is wrong or the file was never created (certbot did not run)",
            "file permissions keep nginx from reading it",
            "the file is not in PEM format"
        ],
        [
            "nginx -t",
            "ls -l PATH",
            "openssl x509 -in PATH -noout -subject -dates"
        ],
        ["TLS"]
    ),
    k!(
        "nginx.limiting_requests",
        "nginx",
        false,
        r#"limiting requests, excess: (?P<excess>[\d.]+) by zone "(?P<zone>[^"]+)""#,
        "The request-rate limit (limit_req) rejected or delayed a request because the client sent too many too fast.",
        [
            "a client, bot or retry loop floods the site",
            "the limit is too tight for normal traffic (many users behind one NAT address)"
        ],
        [
            "nginx -T | grep -n limit_req",
            "awk '{print $1}' /var/log/nginx/access.log | sort | uniq -c | sort -rn | head"
        ],
        ["rate limit", "503"]
    ),
    k!(
        "nginx.limiting_connections",
        "nginx",
        false,
        r#"limiting connections by zone "(?P<zone>[^"]+)""#,
        "The connection limit (limit_conn) rejected a client that had too many open connections.",
        [
            "one client opens many parallel connections",
            "the limit is too tight"
        ],
        ["nginx -T | grep -n limit_conn"],
        ["rate limit", "503"]
    ),
    k!(
        "nginx.open_not_found",
        "nginx",
        false,
        r#"open\(\) "(?P<path>[^"]+)" failed \((?P<errno>2): (?P<reason>No such file or directory)\)"#,
        "nginx looked for a file on disk for this request and it is not there; the visitor gets 404.",
        [
            "static files were never collected (manage.py collectstatic) or sit in another directory",
            "root/alias in the location block points somewhere else",
            "a bot probing for paths that do not exist (harmless)"
        ],
        [
            "ls -l PATH",
            "nginx -T | grep -n -e root -e alias",
            "python manage.py collectstatic --dry-run"
        ],
        ["errno", "static files"]
    ),
    k!(
        "nginx.open_permission",
        "nginx",
        false,
        r#"open\(\) "(?P<path>[^"]+)" failed \((?P<errno>13): (?P<reason>Permission denied)\)"#,
        "The file exists but nginx's user may not read it (or may not enter a directory above it); the visitor gets 403.",
        [
            "files or parent directories are not readable by www-data/nginx (home directories are often 0700)",
            "SELinux labels on the files"
        ],
        [
            "namei -l PATH",
            "sudo -u www-data cat PATH > /dev/null",
            "ls -Z PATH"
        ],
        ["errno", "static files"]
    ),
    k!(
        "nginx.worker_connections",
        "nginx",
        false,
        r"(?P<count>\d+) worker_connections are not enough",
        "An nginx worker ran out of connection slots; new connections are dropped.",
        [
            "traffic spike or slow upstreams keep connections open for a long time",
            "worker_connections is set low (each proxied request uses two)"
        ],
        [
            "nginx -T | grep -n -e worker_connections -e worker_processes",
            "ss -s"
        ],
        ["worker", "upstream"]
    ),
    k!(
        "nginx.too_many_open_files",
        "nginx",
        false,
        r"failed \((?P<errno>24): (?P<reason>Too many open files)\)",
        "The process hit its limit of open files (sockets count as files).",
        [
            "the open-files limit (LimitNOFILE, worker_rlimit_nofile) is low for the traffic",
            "connections pile up because upstreams are slow"
        ],
        [
            "cat /proc/$(pgrep -o nginx)/limits | grep 'open files'",
            "systemctl show nginx -p LimitNOFILE",
            "nginx -T | grep -n worker_rlimit_nofile"
        ],
        ["errno"]
    ),
    k!(
        "nginx.unknown_directive",
        "nginx",
        false,
        r#"unknown directive "(?P<directive>[^"]+)" in (?P<file>[^:\s]+):(?P<line>\d+)"#,
        "The nginx config contains a word nginx does not know, so the config is rejected.",
        [
            "a typo, or a stray character such as a non-ASCII quote",
            "the directive belongs to a module that is not installed"
        ],
        [
            "nginx -t",
            "sed -n 'LINEp' FILE",
            "nginx -V 2>&1 | tr ' ' '\\n' | grep module"
        ],
        ["config test"]
    ),
    k!(
        "nginx.config_test_failed",
        "nginx",
        false,
        r"configuration file (?P<file>\S+) test failed",
        "nginx checked its configuration and found an error; a reload with this config would be refused (the running config stays).",
        [
            "a syntax error or unknown directive in a recently edited file",
            "a file or certificate the config names is missing"
        ],
        [
            "nginx -t",
            "git -C /etc/nginx diff 2>/dev/null || ls -lt /etc/nginx/sites-enabled"
        ],
        ["config test"]
    ),
    k!(
        "nginx.host_not_found",
        "nginx",
        false,
        r#"host not found in upstream "(?P<upstream>[^"]+)""#,
        "A host name in proxy_pass or an upstream block could not be resolved when nginx loaded its config.",
        [
            "a typo in the host name",
            "DNS is not ready yet at boot, or the container/service name does not exist"
        ],
        ["getent hosts NAME", "nginx -T | grep -n NAME"],
        ["upstream", "DNS"]
    ),
    k!(
        "nginx.upstream_header_too_big",
        "nginx",
        false,
        r"upstream sent too big header while reading response header from upstream",
        "The app answered with headers bigger than nginx's proxy buffer; nginx returns 502.",
        [
            "large cookies or many Set-Cookie headers",
            "proxy_buffer_size is too small for the app's headers"
        ],
        [
            "nginx -T | grep -n -e proxy_buffer_size -e proxy_buffers",
            "curl -sI http://127.0.0.1:8000/PATH"
        ],
        ["upstream", "502"]
    ),
    k!(
        "nginx.directory_index_forbidden",
        "nginx",
        false,
        r#"directory index of "(?P<path>[^"]+)" is forbidden"#,
        "A URL maps to a directory with no index file, and listing is off; the visitor gets 403.",
        [
            "the site's root points at the wrong directory",
            "the index file (index.html) is missing",
            "requests meant for the app hit a static location instead of proxy_pass"
        ],
        [
            "ls -la PATH",
            "nginx -T | grep -n -e root -e index -e try_files"
        ],
        ["static files"]
    ),
    k!(
        "nginx.recv_reset",
        "nginx",
        false,
        r"recv\(\) failed \((?P<errno>104): (?P<reason>Connection reset by peer)\)",
        "The other side abruptly reset the connection. With 'upstream' in the line it was the app server, otherwise the client.",
        [
            "the app worker died mid-request (timeout, crash, OOM)",
            "the client gave up or a proxy in between closed the connection"
        ],
        [
            "journalctl -u gunicorn --since -15min",
            "journalctl -k | grep -i oom"
        ],
        ["upstream", "errno", "worker"]
    ),
    k!(
        "nginx.client_closed",
        "nginx",
        false,
        r"client prematurely closed connection",
        "The visitor (or a load balancer in front) hung up before nginx finished; access.log records 499.",
        [
            "the page was too slow and the user or caller gave up",
            "a load balancer's timeout is shorter than nginx's and the app's"
        ],
        [
            "grep ' 499 ' /var/log/nginx/access.log | tail",
            "nginx -T | grep -n timeout"
        ],
        ["499", "timeout chain"]
    ),
    k!(
        "nginx.buffered_to_temp_file",
        "nginx",
        false,
        r"an upstream response is buffered to a temporary file (?P<path>\S+)",
        "A response from the app was bigger than nginx's memory buffers, so nginx spooled it to disk. Usually harmless; frequent, it costs disk I/O.",
        [
            "large downloads or exports served through the app",
            "small proxy_buffers"
        ],
        [
            "nginx -T | grep -n proxy_buffer",
            "df -h /var/cache/nginx /var/lib/nginx"
        ],
        ["upstream"]
    ),
    k!(
        "nginx.signal_process",
        "nginx",
        false,
        r"signal process started",
        "Someone ran `nginx -s reload/reopen/stop` (or logrotate did); the master received a control signal.",
        [
            "a config reload after a deploy",
            "log rotation reopening files"
        ],
        [
            "journalctl -u nginx --since -1h",
            "ls -l /etc/logrotate.d/nginx"
        ],
        ["signal"]
    ),
    // ---------------------------------------------------------------- access lines (HTTP status)
    k!(
        "http.499",
        "http",
        true,
        access!("499"),
        "nginx's own code: the client closed the connection before the answer came, so nothing was sent.",
        [
            "the request is slow and the user, script or load balancer stopped waiting",
            "a caller with a shorter timeout than the app; it may retry (retry storm)"
        ],
        [
            "grep ' 499 ' /var/log/nginx/access.log | awk '{print $7}' | sort | uniq -c | sort -rn | head",
            "nginx -T | grep -n timeout"
        ],
        ["499", "timeout chain", "retry storm"]
    ),
    k!(
        "http.500",
        "http",
        true,
        access!("500"),
        "The app itself failed while handling the request (an unhandled exception).",
        [
            "a bug or missing setting hit by this path",
            "the database or another dependency failed"
        ],
        [
            "journalctl -u gunicorn --since -15min | grep -A30 Traceback",
            "tail -n 100 /var/log/gunicorn/error.log"
        ],
        ["upstream", "traceback"]
    ),
    k!(
        "http.502",
        "http",
        true,
        access!("502"),
        "Bad Gateway: nginx could not get a valid answer from the app server. The reason is in nginx's error.log at the same second.",
        [
            "the app server is down or listens somewhere else (connect() failed)",
            "a worker was killed mid-request (prematurely closed)",
            "socket permissions"
        ],
        [
            "grep \"$(date +%Y/%m/%d)\" /var/log/nginx/error.log | tail",
            "systemctl status gunicorn",
            "ss -ltnpx"
        ],
        ["upstream", "502"]
    ),
    k!(
        "http.503",
        "http",
        true,
        access!("503"),
        "Service Unavailable: nginx (rate or connection limit, maintenance page) or the app refused to serve right now.",
        [
            "limit_req / limit_conn rejections",
            "the app or platform in maintenance or overloaded"
        ],
        [
            "grep -e limiting /var/log/nginx/error.log | tail",
            "nginx -T | grep -n -e limit_req -e limit_conn -e 503"
        ],
        ["rate limit", "503"]
    ),
    k!(
        "http.504",
        "http",
        true,
        access!("504"),
        "Gateway Timeout: the app did not answer within nginx's proxy timeout.",
        [
            "a slow request (upload, report, deploy)",
            "workers all busy or stuck",
            "a slow database or remote call"
        ],
        [
            "grep 'upstream timed out' /var/log/nginx/error.log | tail",
            "journalctl -u gunicorn | grep 'WORKER TIMEOUT'"
        ],
        ["upstream", "timeout chain", "504"]
    ),
    k!(
        "http.413",
        "http",
        true,
        access!("413"),
        "Payload Too Large: nginx refused an upload bigger than client_max_body_size.",
        ["an upload bigger than the limit (default 1 MB)"],
        ["nginx -T | grep -n client_max_body_size"],
        ["413"]
    ),
    // ---------------------------------------------------------------- gunicorn
    k!(
        "gunicorn.worker_timeout",
        "gunicorn",
        false,
        r"WORKER TIMEOUT \(pid:(?P<pid>\d+)\)",
        "The gunicorn master killed a worker that had been silent longer than its --timeout (30 s by default). The request it was serving is lost; nginx shows 502 or 504.",
        [
            "a request slower than the timeout (upload, import, deploy)",
            "too few workers on a busy host (default is 1 sync worker)",
            "the worker is stuck on a slow database or remote call",
            "CPU starvation: one vCPU at 100%"
        ],
        [
            "journalctl -u gunicorn | grep -e 'WORKER TIMEOUT' -e 'Booting worker'",
            "systemctl cat gunicorn.service | grep -e timeout -e workers",
            "nproc; uptime"
        ],
        ["worker", "timeout", "timeout chain", "master"]
    ),
    k!(
        "gunicorn.worker_sigkill",
        "gunicorn",
        false,
        r"Worker \(pid:(?P<pid>\d+)\) was sent SIGKILL! Perhaps out of memory\?",
        "A worker was killed by SIGKILL. gunicorn did not do it itself; the usual killer is the kernel's out-of-memory killer.",
        [
            "the worker used too much memory (leak, huge query result)",
            "the host or container memory limit is small",
            "the worker timed out and was force-killed"
        ],
        [
            "journalctl -k | grep -i -e 'out of memory' -e oom",
            "free -m",
            "systemctl show gunicorn -p MemoryMax -p MemoryCurrent"
        ],
        ["worker", "signal", "OOM"]
    ),
    k!(
        "gunicorn.worker_exit_code",
        "gunicorn",
        false,
        r"Worker \(pid:(?P<pid>\d+)\) exited with code (?P<code>\d+)",
        "A worker process ended with a non-zero code; gunicorn will boot a replacement unless it could not boot at all.",
        [
            "an exception while loading the app (code 3)",
            "the app called sys.exit"
        ],
        ["journalctl -u gunicorn --since -15min | grep -B30 'exited with code'"],
        ["worker", "exit status"]
    ),
    k!(
        "gunicorn.worker_failed_to_boot",
        "gunicorn",
        false,
        r"Worker failed to boot",
        "gunicorn's workers could not even import the app, so the master gave up and exited (error code 3). The real cause is in the traceback printed just above.",
        [
            "an exception at import time (a setting read too early, a missing env variable)",
            "a missing module or wrong virtualenv",
            "a wrong WSGI path (app:application)"
        ],
        [
            "journalctl -u gunicorn -n 100 --no-pager",
            "sudo -u APPUSER /srv/app/venv/bin/python -c 'import app.wsgi'",
            "systemctl cat gunicorn.service"
        ],
        ["worker", "traceback", "master"]
    ),
    k!(
        "gunicorn.app_failed_to_load",
        "gunicorn",
        false,
        r"App failed to load",
        "gunicorn could not load the WSGI application object at all (error code 4).",
        [
            "the module:variable in the command line is wrong",
            "the app factory raised an error"
        ],
        [
            "systemctl cat gunicorn.service | grep ExecStart",
            "journalctl -u gunicorn -n 100 --no-pager"
        ],
        ["WSGI", "master"]
    ),
    k!(
        "gunicorn.app_import_error",
        "gunicorn",
        true,
        r"(?:Failed to find attribute '(?P<attribute>[^']*)' in '(?P<module>[^']*)'|Failed to find application object|Application object must be callable|Function reference must be a simple name|Failed to parse '[^']*' as an attribute name)",
        "A gunicorn worker imported the app's module but could not get the WSGI application from it, printed why to its standard error (without gunicorn's usual time and level) and exited with code 4; the master then stops with 'App failed to load'.",
        [
            "the part after the colon in MODULE:CALLABLE names something the module does not define (Django's wsgi.py defines `application`)",
            "the module path is right but the callable is an app factory that needs to be called (`module:create_app()`)"
        ],
        [
            "systemctl cat gunicorn.service | grep ExecStart",
            "grep -n '^application\\|^app' PROJECT/wsgi.py",
            "gunicorn --check-config MODULE:CALLABLE"
        ],
        ["WSGI", "worker", "master"]
    ),
    k!(
        "gunicorn.halt_server",
        "gunicorn",
        true,
        r"HaltServer:? <HaltServer '(?P<reason>[^']*)' (?P<code>\d+)>",
        "The gunicorn master stopped for good; the quoted reason and code say why (3 = worker failed to boot, 4 = app failed to load).",
        [
            "workers cannot start (see the traceback above)",
            "a fatal configuration problem"
        ],
        ["journalctl -u gunicorn -n 100 --no-pager"],
        ["master", "worker"]
    ),
    k!(
        "gunicorn.exception_in_worker",
        "gunicorn",
        false,
        r"Exception in worker process",
        "A worker hit an error while starting up; the traceback follows on the next lines.",
        [
            "import-time errors in the app",
            "missing modules or settings"
        ],
        ["journalctl -u gunicorn -n 100 --no-pager"],
        ["worker", "traceback"]
    ),
    k!(
        "gunicorn.booting_worker",
        "gunicorn",
        false,
        r"Booting worker with pid: (?P<pid>\d+)",
        "gunicorn started a worker process. At startup this is normal; repeated later it means workers are being replaced (timeouts, crashes, max_requests).",
        [
            "normal startup or reload",
            "replacing a killed worker (timeout, OOM)",
            "max_requests recycling"
        ],
        [
            "journalctl -u gunicorn --since -1h | grep -c 'Booting worker'",
            "journalctl -u gunicorn | grep -e TIMEOUT -e SIGKILL"
        ],
        ["worker", "master"]
    ),
    k!(
        "gunicorn.worker_exiting",
        "gunicorn",
        false,
        r"Worker exiting \(pid: (?P<pid>\d+)\)",
        "A worker is shutting down cleanly: a reload, a stop, or recycling after max_requests.",
        [
            "systemctl reload/restart",
            "max_requests reached",
            "the master is stopping"
        ],
        ["journalctl -u gunicorn --since -15min"],
        ["worker"]
    ),
    k!(
        "gunicorn.connection_in_use",
        "gunicorn",
        false,
        r"Connection in use: (?P<address>\('[^']*', \d+\)|/\S+)",
        "gunicorn tried to bind its address and something already holds it; it retries a few times.",
        [
            "an old gunicorn is still running (a stale master)",
            "another app or a dev server uses the port",
            "a leftover socket file"
        ],
        [
            "ss -ltnpx | grep -e 8000 -e gunicorn",
            "ps -ef | grep gunicorn"
        ],
        ["listen", "master"]
    ),
    k!(
        "gunicorn.cant_connect",
        "gunicorn",
        false,
        r"Can't connect to (?P<address>\('[^']*', \d+\)|/\S+)\s*$",
        "gunicorn gave up binding its listening address after retrying, and exits.",
        [
            "the address stays in use by another process",
            "no permission to create the socket file or use the port"
        ],
        ["ss -ltnpx", "ls -ld $(dirname /run/gunicorn.sock)"],
        ["listen", "unix socket"]
    ),
    k!(
        "gunicorn.listening_at",
        "gunicorn",
        false,
        r"Listening at: (?P<address>\S+) \((?P<pid>\d+)\)",
        "gunicorn is up and accepting connections at this address. It must match what nginx's proxy_pass points at.",
        ["normal startup"],
        ["nginx -T | grep -n proxy_pass", "ss -ltnpx | grep gunicorn"],
        ["listen", "upstream", "unix socket"]
    ),
    k!(
        "gunicorn.starting",
        "gunicorn",
        false,
        r"Starting gunicorn (?P<version>\d[\w.]*)",
        "The gunicorn master process started.",
        ["a service start or restart", "a deploy"],
        [
            "systemctl status gunicorn",
            "journalctl -u gunicorn -b | grep Starting"
        ],
        ["master"]
    ),
    k!(
        "gunicorn.handling_signal",
        "gunicorn",
        false,
        r"Handling signal: (?P<signal>\w+)",
        "The master received a control signal: term/int = stop, hup = reload, ttin/ttou = more/fewer workers, winch = stop workers.",
        [
            "systemctl stop/restart/reload",
            "a deploy script",
            "the system shutting down"
        ],
        [
            "journalctl -u gunicorn --since -15min",
            "journalctl --since -15min | grep -e 'systemd\\[1\\]' | grep gunicorn"
        ],
        ["signal", "master"]
    ),
    k!(
        "gunicorn.shutting_down",
        "gunicorn",
        false,
        r"Shutting down: Master",
        "The gunicorn master is exiting; nothing serves the app until it starts again.",
        [
            "a stop or restart",
            "a fatal error such as Worker failed to boot"
        ],
        [
            "journalctl -u gunicorn -n 50 --no-pager",
            "systemctl status gunicorn"
        ],
        ["master"]
    ),
    // ---------------------------------------------------------------- systemd
    k!(
        "systemd.main_exited_code",
        "systemd",
        false,
        concat!(
            unit!(),
            r"Main process exited, code=exited, status=(?P<status>\d+)/(?P<status_name>\w+)"
        ),
        "The service's main program ended by itself with this exit status. 0 is success; 1 is a generic failure; 203/EXEC means the program could not be started at all.",
        [
            "the program failed at startup (read its own log lines just above)",
            "a wrong ExecStart path (203/EXEC) or user (217/USER)",
            "a missing environment variable or config file"
        ],
        [
            "systemctl status UNIT",
            "journalctl -u UNIT -n 100 --no-pager",
            "systemctl cat UNIT"
        ],
        ["unit", "exit status"]
    ),
    k!(
        "systemd.main_exited_killed",
        "systemd",
        false,
        concat!(
            unit!(),
            r"Main process exited, code=killed, status=(?P<status>\d+)/(?P<signal>\w+)"
        ),
        "The service's main program was ended by a signal. KILL often means the OOM killer or a stop timeout; TERM means something asked it to stop.",
        [
            "the kernel OOM killer (SIGKILL)",
            "a stop that did not finish in time (SIGKILL after TimeoutStopSec)",
            "a person or script ran kill"
        ],
        [
            "journalctl -k | grep -i oom",
            "journalctl -u UNIT -n 50 --no-pager"
        ],
        ["unit", "signal", "OOM"]
    ),
    k!(
        "systemd.main_exited_dumped",
        "systemd",
        false,
        concat!(
            unit!(),
            r"Main process exited, code=dumped, status=(?P<status>\d+)/(?P<signal>\w+)"
        ),
        "The service crashed hard (segfault, abort) and the kernel wrote a core dump.",
        [
            "a crash in native code (a C extension, the interpreter)",
            "corrupted libraries after an upgrade"
        ],
        ["coredumpctl list", "coredumpctl info UNIT"],
        ["unit", "signal"]
    ),
    k!(
        "systemd.failed_exit_code",
        "systemd",
        false,
        concat!(unit!(), r"Failed with result 'exit-code'"),
        "systemd marks the unit failed because its program ended with a non-zero exit status.",
        [
            "the program's own error, printed just above",
            "a wrong ExecStart, user or working directory"
        ],
        [
            "systemctl status UNIT",
            "journalctl -u UNIT -n 100 --no-pager"
        ],
        ["unit", "exit status"]
    ),
    k!(
        "systemd.failed_signal",
        "systemd",
        false,
        concat!(unit!(), r"Failed with result 'signal'"),
        "systemd marks the unit failed because its program was killed by a signal.",
        ["a crash (SEGV, ABRT)", "a manual or scripted kill"],
        ["journalctl -u UNIT -n 50 --no-pager", "coredumpctl list"],
        ["unit", "signal"]
    ),
    k!(
        "systemd.failed_timeout",
        "systemd",
        false,
        concat!(unit!(), r"Failed with result 'timeout'"),
        "The unit did not finish starting or stopping within its allowed time (TimeoutStartSec/TimeoutStopSec).",
        [
            "Type=notify but the program never tells systemd it is ready",
            "slow startup (migrations, waiting for a database)",
            "a program that ignores SIGTERM"
        ],
        [
            "systemctl show UNIT -p Type -p TimeoutStartUSec -p TimeoutStopUSec",
            "journalctl -u UNIT -n 50 --no-pager"
        ],
        ["unit", "timeout"]
    ),
    k!(
        "systemd.failed_oom",
        "systemd",
        false,
        concat!(unit!(), r"Failed with result 'oom-kill'"),
        "A process of the unit was killed for running out of memory (by the kernel or systemd-oomd).",
        [
            "a memory leak or a huge request",
            "MemoryMax too small for the workload",
            "too many workers for the host's memory"
        ],
        [
            "journalctl -k | grep -i -e 'out of memory' -e oom",
            "systemctl show UNIT -p MemoryMax -p MemoryPeak",
            "free -m"
        ],
        ["unit", "OOM"]
    ),
    k!(
        "systemd.failed_start_limit",
        "systemd",
        false,
        concat!(unit!(), r"Failed with result 'start-limit-hit'"),
        "The unit failed and was restarted so many times so quickly that systemd stopped trying.",
        [
            "a crash loop: the real error is in the first failures, further up",
            "Restart=always with a program that exits immediately"
        ],
        [
            "journalctl -u UNIT -b --no-pager | head -100",
            "systemctl reset-failed UNIT",
            "systemctl show UNIT -p StartLimitBurst -p StartLimitIntervalUSec"
        ],
        ["unit", "crash loop"]
    ),
    k!(
        "systemd.start_too_quickly",
        "systemd",
        false,
        concat!(unit!(), r"Start request repeated too quickly"),
        "systemd refused another start: the unit hit its start rate limit after repeated failures.",
        ["a crash loop", "a script restarting the unit in a loop"],
        [
            "journalctl -u UNIT -b --no-pager | head -100",
            "systemctl reset-failed UNIT"
        ],
        ["unit", "crash loop"]
    ),
    k!(
        "systemd.scheduled_restart",
        "systemd",
        false,
        concat!(
            unit!(),
            r"Scheduled restart job, restart counter is at (?P<count>\d+)"
        ),
        "The unit stopped and its Restart= setting makes systemd start it again; the counter says how many times so far.",
        [
            "the program keeps crashing (look at the first failure)",
            "a normal restart after a one-off failure"
        ],
        [
            "journalctl -u UNIT -n 100 --no-pager",
            "systemctl show UNIT -p NRestarts -p Restart"
        ],
        ["unit", "crash loop"]
    ),
    k!(
        "systemd.changed_on_disk",
        "systemd",
        false,
        r"(?:(?:drop-ins of |Warning: )(?P<unit>[^\s,]+) )?changed on disk\. Run 'systemctl daemon-reload'",
        "The unit file was edited but systemd still runs the old version; edits take effect only after daemon-reload.",
        [
            "someone edited a unit or drop-in and forgot daemon-reload",
            "a deploy that copies unit files without reloading"
        ],
        [
            "systemctl daemon-reload",
            "systemctl cat UNIT",
            "systemctl show UNIT -p NeedDaemonReload"
        ],
        ["unit", "daemon-reload"]
    ),
    k!(
        "systemd.deactivated",
        "systemd",
        false,
        concat!(unit!(), r"Deactivated successfully"),
        "The unit stopped cleanly. Expected after a stop; unexpected if nobody asked it to stop.",
        [
            "a stop or restart",
            "a oneshot unit finishing",
            "the program exiting with status 0 on its own"
        ],
        ["journalctl -u UNIT -n 30 --no-pager"],
        ["unit"]
    ),
    k!(
        "systemd.failed_at_step",
        "systemd",
        false,
        concat!(
            unit!(),
            r"Failed at step (?P<step>[A-Z_]+) spawning (?P<path>\S+): (?P<reason>.+)"
        ),
        "systemd could not even launch the program: the named step (EXEC, USER, CHDIR, NAMESPACE...) failed.",
        [
            "ExecStart points at a file that does not exist (venv moved or not created)",
            "User= or WorkingDirectory= does not exist",
            "the file is not executable"
        ],
        ["systemctl cat UNIT", "ls -l PATH", "id APPUSER"],
        ["unit", "exit status"]
    ),
    k!(
        "systemd.unit_not_found",
        "systemd",
        false,
        r"Unit (?P<unit>\S+?)\.? (?:not found|could not be found)",
        "systemd has no unit by this name.",
        [
            "a typo in the name",
            "the unit file was created but daemon-reload was not run",
            "the unit file lives in the wrong directory"
        ],
        [
            "systemctl list-unit-files | grep NAME",
            "ls /etc/systemd/system/",
            "systemctl daemon-reload"
        ],
        ["unit", "daemon-reload"]
    ),
    k!(
        "systemd.dependency_failed",
        "systemd",
        false,
        r"Dependency failed for (?P<description>.+?)\.?$",
        "This unit was not started because a unit it Requires= failed first (often its .socket unit).",
        [
            "the required unit failed (look for it just above)",
            "a wrong Requires=/After= name"
        ],
        ["systemctl list-dependencies UNIT", "systemctl --failed"],
        ["unit"]
    ),
    k!(
        "systemd.failed_to_start",
        "systemd",
        true,
        r"Failed to start (?P<description>.+?)\.?$",
        "systemd reports that starting a unit failed. The reason is in the unit's own lines just above (exit status, result).",
        [
            "the program failed at startup",
            "a dependency failed",
            "a timeout while starting"
        ],
        [
            "systemctl status UNIT",
            "journalctl -u UNIT -n 100 --no-pager"
        ],
        ["unit"]
    ),
    k!(
        "systemd.stop_sigterm_timeout",
        "systemd",
        false,
        concat!(unit!(), r"State 'stop-sigterm' timed out\. Killing"),
        "The service ignored the polite stop request for longer than TimeoutStopSec, so systemd is killing it with SIGKILL.",
        [
            "long-running requests that do not finish",
            "a program that ignores SIGTERM"
        ],
        ["systemctl show UNIT -p TimeoutStopUSec -p KillMode"],
        ["unit", "signal", "timeout"]
    ),
    // ---------------------------------------------------------------- journal
    k!(
        "journal.started",
        "journal",
        false,
        r"Journal started",
        "systemd-journald started (at boot or after a restart). Lines before this may be in another boot or lost.",
        ["a boot", "journald restarted"],
        ["journalctl --list-boots", "journalctl -b -1 -e"],
        ["journal"]
    ),
    k!(
        "journal.runtime_journal",
        "journal",
        false,
        r"Runtime [Jj]ournal \((?P<path>[^)]+)\) is (?P<size>\S+), max (?P<max>[^,]+)",
        "The journal is kept in memory (/run), not on disk: it is lost at reboot.",
        [
            "/var/log/journal does not exist",
            "Storage=volatile or auto without the directory"
        ],
        [
            "ls -ld /var/log/journal",
            "grep -i storage /etc/systemd/journald.conf"
        ],
        ["journal"]
    ),
    k!(
        "journal.rotation",
        "journal",
        false,
        r"(?P<file>/\S+?\.journal)\b.*?(?:suggesting rotation|rotating\.?$)",
        "journald closed a journal file and started a new one. Old files are deleted to respect size limits, so the oldest lines may be gone.",
        [
            "a file reached its size or age limit",
            "a corrupted file was set aside"
        ],
        [
            "journalctl --disk-usage",
            "journalctl --header | head -30",
            "grep -i -e SystemMax -e MaxRetention /etc/systemd/journald.conf"
        ],
        ["journal"]
    ),
    k!(
        "journal.suppressed",
        "journal",
        false,
        r"Suppressed (?P<count>\d+) messages from (?P<unit>\S+)",
        "journald dropped this many lines from a service that logged too fast (rate limiting). Evidence may be missing for that window.",
        [
            "a service in an error loop spamming its log",
            "RateLimitBurst too low for a chatty service"
        ],
        [
            "journalctl -u UNIT --since -10min | tail",
            "grep -i RateLimit /etc/systemd/journald.conf"
        ],
        ["journal", "rate limit"]
    ),
    k!(
        "journal.stopped",
        "journal",
        false,
        r"Journal stopped",
        "systemd-journald stopped (shutdown or restart); lines after this until it starts again can be lost.",
        ["a shutdown or reboot", "journald restarted or crashed"],
        ["journalctl --list-boots"],
        ["journal"]
    ),
    // ---------------------------------------------------------------- Django
    k!(
        "django.settings_not_configured",
        "django",
        false,
        r"Requested setting (?P<setting>\w+), but settings are not configured",
        "Code read a Django setting before Django loaded its settings, usually at import time (a module-level read or a default argument).",
        [
            "a module imported early (e.g. app/__init__.py) reads settings at import time",
            "DJANGO_SETTINGS_MODULE is not set in the service's environment"
        ],
        [
            "journalctl -u gunicorn -n 100 --no-pager | grep -B40 ImproperlyConfigured",
            "systemctl show gunicorn -p Environment"
        ],
        ["traceback", "import time"]
    ),
    k!(
        "django.secret_key",
        "django",
        false,
        r"SECRET_KEY setting must not be empty",
        "Django refuses to start without a SECRET_KEY, and it came out empty.",
        [
            "the environment variable or secrets file that supplies it is missing in this environment",
            "the wrong settings module"
        ],
        [
            "systemctl show gunicorn -p Environment -p EnvironmentFiles",
            "cf env APP"
        ],
        ["environment"]
    ),
    k!(
        "django.improperly_configured",
        "django",
        true,
        r"ImproperlyConfigured: (?P<reason>.+)",
        "Django found a configuration problem at startup and stopped; the text says which.",
        [
            "a missing setting or environment variable",
            "a missing database driver (psycopg2)",
            "a wrong settings module"
        ],
        [
            "journalctl -u gunicorn -n 100 --no-pager",
            "python manage.py check --deploy"
        ],
        ["environment", "traceback"]
    ),
    k!(
        "django.disallowed_host",
        "django",
        false,
        r"Invalid HTTP_HOST header: '(?P<host>[^']*)'",
        "A request arrived for a host name not in ALLOWED_HOSTS; Django answers 400.",
        [
            "a new domain or IP address not added to ALLOWED_HOSTS",
            "nginx does not pass the Host header (proxy_set_header Host $host)",
            "scanners using the bare IP (harmless)"
        ],
        [
            "grep -rn ALLOWED_HOSTS /srv/app",
            "nginx -T | grep -n proxy_set_header"
        ],
        ["Host header"]
    ),
    k!(
        "django.missing_table",
        "django",
        false,
        r#"(?:relation "|no such table: )(?P<table>[^"\s]+)"?(?: does not exist)?"#,
        "The database has no such table: the schema is behind the code.",
        [
            "migrations were not run after the deploy",
            "the app points at the wrong (empty) database"
        ],
        [
            "python manage.py showmigrations | grep '\\[ \\]'",
            "python manage.py migrate --plan"
        ],
        ["migration"]
    ),
    k!(
        "django.operational_error",
        "django",
        true,
        r"OperationalError: (?P<reason>.+)",
        "The database driver failed to talk to the database (not a bug in the query itself).",
        [
            "the database is down, restarting or unreachable",
            "wrong credentials or host",
            "too many connections"
        ],
        [
            "pg_isready -h DBHOST",
            "journalctl -u postgresql --since -15min"
        ],
        ["database"]
    ),
    k!(
        "django.internal_server_error",
        "django",
        true,
        r"Internal Server Error: (?P<path>/\S*)",
        "Django's request logger: this URL raised an unhandled exception and the visitor got 500. The traceback follows.",
        [
            "a bug on this path",
            "a failing database or remote service",
            "a missing setting or template"
        ],
        ["journalctl -u gunicorn --since -15min | grep -A40 'Internal Server Error'"],
        ["traceback", "500"]
    ),
    k!(
        "django.template_does_not_exist",
        "django",
        false,
        r"TemplateDoesNotExist(?::| at \S+) ?(?P<template>\S+)",
        "Django could not find a template file in any template directory.",
        [
            "a typo in the template name",
            "the app is missing from INSTALLED_APPS",
            "TEMPLATES DIRS points elsewhere in this environment"
        ],
        [
            "python manage.py shell -c \"from django.template.loader import get_template; get_template('NAME')\"",
            "grep -rn -e DIRS -e INSTALLED_APPS settings.py"
        ],
        ["traceback"]
    ),
    k!(
        "django.csrf_failed",
        "django",
        false,
        r"Forbidden \(CSRF (?P<reason>[^)]+)\): (?P<path>\S+)",
        "Django rejected a form post because the CSRF check failed (403).",
        [
            "the site moved to https and CSRF_TRUSTED_ORIGINS or the proxy headers are missing",
            "cookies blocked or expired",
            "a form posted from another origin"
        ],
        [
            "grep -rn -e CSRF_TRUSTED_ORIGINS -e SECURE_PROXY_SSL_HEADER settings.py",
            "nginx -T | grep -n X-Forwarded-Proto"
        ],
        ["Host header"]
    ),
    k!(
        "django.apps_not_ready",
        "django",
        false,
        r"AppRegistryNotReady: (?P<reason>.+)",
        "Code used models before Django finished setting up its apps, usually an import-time side effect.",
        [
            "a model imported in a module loaded before django.setup()",
            "a script that forgot django.setup()"
        ],
        ["journalctl -u gunicorn -n 100 --no-pager | grep -B40 AppRegistryNotReady"],
        ["import time", "traceback"]
    ),
    // ---------------------------------------------------------------- urllib3 / requests
    k!(
        "urllib3.retrying",
        "urllib3",
        false,
        r"Retrying \((?P<retry>Retry\([^)]*\))\) after connection broken by '(?P<error>\w+)(?:.*?\[Errno (?P<errno>-?\d+)\] (?P<reason>[^'\x22\]]+))?",
        "The app's HTTP client failed to reach a remote service and is retrying with a growing wait (backoff); total= is the retries left.",
        [
            "the remote service is down or not listening",
            "network policy or firewall blocks the app (cf add-network-policy)",
            "a wrong host name or port in the app's config"
        ],
        [
            "curl -v URL from the app's host or container",
            "cf network-policies",
            "getent hosts HOST"
        ],
        ["retry storm", "errno", "backoff"]
    ),
    k!(
        "urllib3.name_resolution",
        "urllib3",
        false,
        r"(?:NameResolutionError|\[Errno (?P<errno>-[235]|-3008)\] (?P<reason>Name or service not known|Temporary failure in name resolution|No address associated with hostname|nodename nor servname provided))",
        "The app could not turn a host name into an address (DNS).",
        [
            "a typo in the service URL",
            "an internal name that does not resolve from here",
            "DNS down in the container or host"
        ],
        ["getent hosts HOST", "cat /etc/resolv.conf"],
        ["DNS"]
    ),
    k!(
        "urllib3.new_connection_error",
        "urllib3",
        false,
        r"Failed to establish a new connection: \[Errno (?P<errno>-?\d+)\] (?P<reason>[^'\x22\]]+)",
        "The app's HTTP client could not open a connection to a remote service; the errno says why (111 nobody listening, 110 timed out, 113 no route).",
        [
            "the remote service is down",
            "a firewall or network policy",
            "a wrong host or port"
        ],
        ["curl -v URL", "ss -tn state syn-sent"],
        ["errno"]
    ),
    k!(
        "urllib3.max_retries",
        "urllib3",
        true,
        r"(?:HTTPS?ConnectionPool\(host='(?P<host>[^']*)', port=(?P<port>\d+)\): )?Max retries exceeded with url: (?P<path>\S+)",
        "The HTTP client used up its retries and gave up; the cause is in 'Caused by' at the end of the line.",
        [
            "the remote service stayed unreachable",
            "DNS, TLS or timeout errors on every try"
        ],
        ["curl -v http://HOST:PORT/PATH", "getent hosts HOST"],
        ["retry storm", "backoff"]
    ),
    k!(
        "urllib3.connect_timeout",
        "urllib3",
        false,
        r"ConnectTimeout(?:Error)?\b(?:.*?connect timeout=(?P<timeout>[\d.]+))?",
        "Opening a connection to the remote service took longer than the client's connect timeout. Packets are probably dropped, not refused.",
        [
            "a firewall that silently drops",
            "the remote host is down or overloaded",
            "a wrong IP address"
        ],
        ["curl -v --connect-timeout 5 URL", "ip route get HOST_IP"],
        ["timeout"]
    ),
    k!(
        "urllib3.read_timeout",
        "urllib3",
        false,
        r"ReadTimeout(?:Error)?\b(?:.*?read timeout=(?P<timeout>[\d.]+))?",
        "The connection opened but the remote service did not answer within the client's read timeout.",
        [
            "the remote service is slow or overloaded",
            "the timeout is too short for this call"
        ],
        ["time curl -v URL", "grep -rn timeout= /srv/app"],
        ["timeout", "timeout chain"]
    ),
    k!(
        "urllib3.ssl_error",
        "urllib3",
        false,
        r"SSLError\((?:.*?(?P<reason>CERTIFICATE_VERIFY_FAILED|WRONG_VERSION_NUMBER|certificate verify failed|hostname mismatch))?",
        "The TLS handshake with the remote service failed.",
        [
            "a self-signed or internal CA certificate not in the client's trust store",
            "speaking https to an http port (WRONG_VERSION_NUMBER)",
            "an expired certificate"
        ],
        [
            "openssl s_client -connect HOST:443 -servername HOST",
            "python -c 'import certifi; print(certifi.where())'"
        ],
        ["TLS"]
    ),
    k!(
        "urllib3.remote_disconnected",
        "urllib3",
        false,
        r"RemoteDisconnected\('(?P<reason>[^']*)'\)",
        "The remote service accepted the connection then closed it without any response.",
        [
            "the remote worker crashed or timed out mid-request",
            "a keep-alive connection the server had already closed"
        ],
        ["check the remote service's logs at the same time"],
        ["worker", "upstream"]
    ),
    k!(
        "requests.connection_error",
        "urllib3",
        true,
        r"requests\.exceptions\.ConnectionError",
        "The requests library could not talk to a remote service; the nested error in the message says why.",
        ["see the errno or inner exception: refused, DNS, timeout, TLS"],
        ["curl -v URL"],
        ["errno"]
    ),
    // ---------------------------------------------------------------- Cloud Foundry
    k!(
        "cf.health_check_failed",
        "cf",
        false,
        r"(?:Timed out after (?P<timeout>\w+): )?health check never passed",
        "Cloud Foundry started the app but its health check (port, process or http) never succeeded in time, so the instance was killed.",
        [
            "the app listens on a different port than $PORT",
            "the app crashes or starts too slowly",
            "the http health-check endpoint fails"
        ],
        [
            "cf logs APP --recent",
            "cf get-health-check APP",
            "cf env APP"
        ],
        ["health check", "crash loop"]
    ),
    k!(
        "cf.out_of_memory",
        "cf",
        false,
        r"(?i:exited with status) (?P<status>\d+) \(out of memory\)",
        "The app instance used more memory than its quota and was killed.",
        [
            "the memory quota is too small",
            "a leak or a huge request",
            "too many workers for the quota"
        ],
        ["cf app APP", "cf scale APP -m 1G", "cf logs APP --recent"],
        ["OOM", "exit status"]
    ),
    k!(
        "cf.exit_137",
        "cf",
        false,
        r"Exit status (?P<status>137)\b",
        "The instance's process was killed with SIGKILL (128 + 9), by the memory limit or because it did not stop in time.",
        [
            "out of memory",
            "it exceeded the graceful shutdown interval",
            "a failed health check"
        ],
        ["cf events APP", "cf logs APP --recent"],
        ["exit status", "signal", "OOM"]
    ),
    k!(
        "cf.app_instance_exited",
        "cf",
        false,
        r#"App instance exited with guid (?P<guid>[0-9a-f-]+)(?:.*?"reason"=>"(?P<reason>[^"]*)")?(?:.*?"exit_description"=>"(?P<description>[^"]*)")?"#,
        "The Cloud Controller recorded that an instance of the app stopped; reason and exit_description say how.",
        [
            "a crash (CRASHED)",
            "out of memory",
            "a failed health check"
        ],
        ["cf events APP", "cf logs APP --recent"],
        ["crash loop"]
    ),
    k!(
        "cf.process_crashed",
        "cf",
        false,
        r#"Process has crashed with type: "(?P<process_type>\w+)""#,
        "An app process crashed; Cloud Foundry will restart it with a growing delay.",
        [
            "the app exits at startup (missing env variable, bad start command)",
            "out of memory",
            "health check failures"
        ],
        ["cf events APP", "cf logs APP --recent", "cf env APP"],
        ["crash loop"]
    ),
    k!(
        "cf.rtr_502",
        "cf",
        false,
        r#"\[RTR/\d+\] OUT .*?"(?P<request>[A-Z]+ \S+ HTTP/[\d.]+)" (?P<status>502) "#,
        "The Cloud Foundry router could not get an answer from the app instance (Bad Gateway).",
        [
            "the instance is crashed or restarting",
            "the app closed the connection mid-request"
        ],
        ["cf app APP", "cf logs APP --recent | grep -e CELL -e APP"],
        ["upstream", "502"]
    ),
    k!(
        "cf.rtr_504",
        "cf",
        false,
        r#"\[RTR/\d+\] OUT .*?"(?P<request>[A-Z]+ \S+ HTTP/[\d.]+)" (?P<status>504) "#,
        "The Cloud Foundry router timed out waiting for the app instance.",
        [
            "a slow request",
            "the app waits on an unreachable service (retries with backoff)"
        ],
        ["cf logs APP --recent | grep -e Retrying -e RTR"],
        ["upstream", "timeout chain", "504"]
    ),
    k!(
        "cf.exit_status",
        "cf",
        true,
        r"\[(?:APP|CELL)/[^\]]*\] (?:OUT|ERR) Exit status (?P<status>\d+)",
        "An app instance process exited with this status.",
        [
            "a crash or deliberate exit (non-zero)",
            "a stop or scale-down (0 or 143)"
        ],
        ["cf events APP", "cf logs APP --recent"],
        ["exit status"]
    ),
    // ---------------------------------------------------------------- PostgreSQL (client side mostly)
    k!(
        "postgres.connection_refused",
        "postgres",
        false,
        r#"(?:could not connect to server|connection to server (?:at "(?P<host>[^"]+)"(?: \((?P<address>[^)]+)\))?, port (?P<port>\d+) )?failed): Connection refused"#,
        "The app could not reach PostgreSQL: nothing listens at that host and port.",
        [
            "PostgreSQL is down or restarting",
            "it listens only on localhost (listen_addresses)",
            "a wrong host or port in DATABASE_URL"
        ],
        [
            "pg_isready -h HOST -p PORT",
            "systemctl status postgresql",
            "ss -ltnp | grep 5432"
        ],
        ["database", "errno"]
    ),
    k!(
        "postgres.no_socket",
        "postgres",
        false,
        r#"(?:could not connect to server: No such file or directory|connection to server on socket "(?P<socket>[^"]+)" failed: No such file or directory)"#,
        "The app tried PostgreSQL's local unix socket and the socket file is not there.",
        [
            "PostgreSQL is not running on this host",
            "the database is on another host but HOST is empty",
            "a different socket directory"
        ],
        ["systemctl status postgresql", "ls -l /var/run/postgresql/"],
        ["database", "unix socket"]
    ),
    k!(
        "postgres.too_many_connections",
        "postgres",
        false,
        r#"too many (?:connections|clients)(?: for role "(?P<role>[^"]+)")?"#,
        "PostgreSQL refused a new connection because max_connections (or the role's limit) is used up.",
        [
            "more workers x pool size than max_connections",
            "connections leaked or stuck idle in transaction",
            "a retry storm opening connections"
        ],
        [
            "psql -c 'select state, count(*) from pg_stat_activity group by 1'",
            "psql -c 'show max_connections'"
        ],
        ["database", "worker"]
    ),
    k!(
        "postgres.reserved_slots",
        "postgres",
        false,
        r"remaining connection slots are reserved",
        "Only the slots kept for superusers (or replication) are left, so ordinary users are turned away: the server is effectively full.",
        [
            "the same as too many connections",
            "a pooler or app holding all connections"
        ],
        ["psql -c 'select usename, count(*) from pg_stat_activity group by 1'"],
        ["database"]
    ),
    k!(
        "postgres.password_failed",
        "postgres",
        false,
        r#"password authentication failed for user "(?P<user>[^"]+)""#,
        "PostgreSQL rejected the user name and password the app sent.",
        [
            "a wrong or rotated password in this environment",
            "the user exists on another server"
        ],
        [
            "psql 'postgresql://USER@HOST/DB' -c 'select 1'",
            "check the DATABASE_URL or env of the service"
        ],
        ["database", "environment"]
    ),
    k!(
        "postgres.no_pg_hba",
        "postgres",
        false,
        r#"no pg_hba\.conf entry for host "(?P<host>[^"]+)", user "(?P<user>[^"]+)", database "(?P<database>[^"]+)""#,
        "PostgreSQL's access rules (pg_hba.conf) have no line allowing this host, user and database.",
        [
            "the app moved to a new host or network",
            "SSL required but not used (or the reverse)"
        ],
        [
            "grep -v '^#' /etc/postgresql/*/main/pg_hba.conf",
            "psql -c 'select pg_reload_conf()'"
        ],
        ["database"]
    ),
    k!(
        "postgres.database_missing",
        "postgres",
        false,
        r#"database "(?P<database>[^"]+)" does not exist"#,
        "The named database is not on that server.",
        [
            "a wrong name in the settings",
            "the database was never created in this environment"
        ],
        ["psql -l"],
        ["database"]
    ),
    k!(
        "postgres.starting_up",
        "postgres",
        false,
        r"the database system is starting up",
        "PostgreSQL is running but still recovering or starting, and accepts no connections yet.",
        [
            "a restart or a crash recovery in progress",
            "a standby not yet consistent"
        ],
        ["journalctl -u postgresql --since -15min", "pg_isready"],
        ["database"]
    ),
    k!(
        "postgres.shutting_down",
        "postgres",
        false,
        r"the database system is shutting down",
        "PostgreSQL is stopping and refuses new connections.",
        ["a restart or upgrade", "the host is shutting down"],
        [
            "journalctl -u postgresql --since -15min",
            "systemctl status postgresql"
        ],
        ["database"]
    ),
    // ---------------------------------------------------------------- Python startup
    k!(
        "python.module_not_found",
        "python",
        false,
        r"ModuleNotFoundError: No module named '(?P<module>[^']+)'",
        "Python could not find a module to import. At startup this stops gunicorn's workers from booting.",
        [
            "the package is not installed in the virtualenv the service uses",
            "the service runs a different Python or venv",
            "a wrong working directory or PYTHONPATH, so the project package is not found"
        ],
        [
            "systemctl cat gunicorn.service | grep -e ExecStart -e WorkingDirectory",
            "/srv/app/venv/bin/pip show PACKAGE",
            "/srv/app/venv/bin/python -c 'import MODULE'"
        ],
        ["traceback", "virtualenv", "import time"]
    ),
    k!(
        "python.import_error",
        "python",
        false,
        r"ImportError: (?:cannot import name '(?P<name>[^']+)'(?: from '(?P<module>[^']+)')?|(?P<reason>.+))",
        "An import failed: the module exists but the name is not in it, or loading it failed (often a circular import or a version mismatch).",
        [
            "a package upgrade removed or moved the name",
            "a circular import",
            "a missing system library"
        ],
        [
            "/srv/app/venv/bin/pip freeze | grep -i PACKAGE",
            "/srv/app/venv/bin/python -c 'import MODULE'"
        ],
        ["traceback", "import time"]
    ),
    k!(
        "python.syntax_error",
        "python",
        false,
        r"SyntaxError: (?P<reason>.+)",
        "Python could not parse a source file; the lines above name the file and line.",
        [
            "a bad merge or edit",
            "code for a newer Python running on an older one"
        ],
        [
            "python -m py_compile FILE",
            "/srv/app/venv/bin/python --version"
        ],
        ["traceback"]
    ),
    k!(
        "python.address_in_use",
        "python",
        false,
        r"\[Errno (?P<errno>98)\] (?P<reason>Address already in use)",
        "A Python program could not bind a port or socket path because something else holds it.",
        [
            "an old instance still running",
            "another service on the same port",
            "a dev server left running"
        ],
        ["ss -ltnpx", "ps -ef | grep -e python -e gunicorn"],
        ["errno", "listen"]
    ),
    k!(
        "python.permission_error",
        "python",
        false,
        r"PermissionError: \[Errno (?P<errno>13)\] (?P<reason>Permission denied)(?:: '(?P<path>[^']+)')?",
        "The program's user may not open or create that file or directory.",
        [
            "the service runs as a user who does not own the log, media or socket directory",
            "a file created earlier by root"
        ],
        ["namei -l PATH", "systemctl show gunicorn -p User -p Group"],
        ["errno"]
    ),
    k!(
        "python.traceback",
        "python",
        true,
        r"^\s*Traceback \(most recent call last\):",
        "The start of a Python error report. Read it to the end for the error, and look for the first frame in the application's own code for the cause.",
        ["any unhandled exception"],
        ["journalctl -u gunicorn -n 100 --no-pager"],
        ["traceback"]
    ),
    // ---------------------------------------------------------------- kernel
    k!(
        "kernel.oom_cgroup",
        "kernel",
        false,
        r"Memory cgroup out of memory: Kill(?:ed)? process (?P<pid>\d+) \((?P<process>[^)]+)\)",
        "A process was killed because its group (a service's MemoryMax, a container's limit) used up its memory allowance.",
        [
            "MemoryMax/container limit too small",
            "a memory leak",
            "too many workers"
        ],
        [
            "systemctl show UNIT -p MemoryMax -p MemoryPeak",
            "journalctl -k | grep -A20 'invoked oom-killer'"
        ],
        ["OOM", "signal"]
    ),
    k!(
        "kernel.oom_killed",
        "kernel",
        false,
        r"Out of memory: Kill(?:ed)? process (?P<pid>\d+) \((?P<process>[^)]+)\)",
        "The whole machine ran out of memory and the kernel killed the process it judged the biggest offender (SIGKILL, no clean-up).",
        [
            "too many or too big workers for the RAM",
            "a memory leak or a huge request",
            "no swap"
        ],
        [
            "journalctl -k | grep -B5 -A30 'invoked oom-killer'",
            "free -m",
            "ps aux --sort=-rss | head"
        ],
        ["OOM", "signal", "worker"]
    ),
    k!(
        "kernel.oom_invoked",
        "kernel",
        false,
        r"(?P<process>\S+) invoked oom-killer:",
        "Memory ran out while this process asked for more; the kernel is about to pick a process to kill (the next lines say which).",
        ["memory pressure on the host or in a cgroup"],
        ["journalctl -k | grep -A40 'invoked oom-killer'"],
        ["OOM"]
    ),
    k!(
        "kernel.segfault",
        "kernel",
        false,
        r"(?P<process>[^\s\[]+)\[(?P<pid>\d+)\]: segfault at",
        "A program crashed on an invalid memory access.",
        [
            "a bug in native code (a C extension)",
            "mismatched libraries after an upgrade"
        ],
        ["coredumpctl list", "journalctl -k | grep segfault"],
        ["signal"]
    ),
];

/// Plain-words definitions of the glossary terms entries name.
pub static GLOSSARY: &[(&str, &str)] = &[
    (
        "upstream",
        "The server nginx passes requests on to (here the app server, gunicorn), named by proxy_pass or an upstream block. 'Upstream failed' means the app side, not the visitor.",
    ),
    (
        "unix socket",
        "A special file (e.g. /run/gunicorn.sock) two programs on the same host connect through instead of a TCP port. Both sides must use the same path, and the file's permissions decide who may connect.",
    ),
    (
        "worker",
        "A process (or thread) that handles requests. gunicorn has one master and N workers; nginx has its own workers. A busy or stuck worker cannot take new requests.",
    ),
    (
        "master",
        "gunicorn's supervising process: it binds the address, starts workers, kills stuck ones and replaces dead ones. It serves no requests itself.",
    ),
    (
        "timeout",
        "How long one side waits before giving up. Each hop (client, load balancer, nginx, gunicorn, database) has its own.",
    ),
    (
        "timeout chain",
        "The timeouts of each hop, outside in. Each should be a little longer than the one behind it; otherwise the outer hop gives up (504/499) while the inner one keeps working, and callers may retry.",
    ),
    (
        "errno",
        "The operating system's error number for a failed call, with its name: 2 no such file, 13 permission denied, 98 address in use, 104 reset by peer, 110 timed out, 111 connection refused.",
    ),
    (
        "listen",
        "A server 'listens' on an address (IP:port or a unix socket path) to accept connections. `ss -ltnpx` shows who listens where; only one process may own an address.",
    ),
    (
        "TLS",
        "The encryption under https. A handshake agrees on protocol, cipher and certificate before any request is sent.",
    ),
    (
        "rate limit",
        "A cap on how many requests, connections or log lines are accepted per second; the excess is delayed, rejected or dropped.",
    ),
    (
        "static files",
        "Files (CSS, JS, images) nginx serves straight from disk without asking the app; Django gathers them with collectstatic.",
    ),
    (
        "config test",
        "`nginx -t` checks the configuration without applying it; a reload with a broken config is refused and the old one keeps running.",
    ),
    (
        "DNS",
        "The lookup that turns a host name into an IP address.",
    ),
    (
        "signal",
        "A short message the kernel delivers to a process: TERM asks it to stop, KILL ends it at once (no clean-up), HUP often means reload.",
    ),
    (
        "retry storm",
        "Callers retrying failed or slow requests, often with growing waits, multiplying the load or repeating work that had in fact succeeded.",
    ),
    (
        "backoff",
        "Waiting longer before each retry (2 s, 4 s, 8 s...) so a struggling service gets room to recover.",
    ),
    (
        "traceback",
        "Python's error report: the chain of calls (frames) ending in the error. The last line is the error; the first frame in your own code is usually the cause.",
    ),
    (
        "OOM",
        "Out of memory. The kernel (or the platform) kills a process with SIGKILL to free memory; the victim gets no chance to log anything.",
    ),
    (
        "exit status",
        "The number a program ends with: 0 success, anything else failure. 128+N means killed by signal N (137 = KILL, 143 = TERM).",
    ),
    (
        "WSGI",
        "The interface between a Python web app and a server like gunicorn: gunicorn loads `module:application` and calls it per request.",
    ),
    (
        "unit",
        "Something systemd manages: a .service (a program), a .socket (a listening address it opens for a service), a .timer...",
    ),
    (
        "crash loop",
        "A service that fails at start, is restarted automatically, and fails again, until a restart limit stops it. The first failure holds the cause.",
    ),
    (
        "daemon-reload",
        "`systemctl daemon-reload` makes systemd re-read unit files; without it, edits to them are ignored.",
    ),
    (
        "journal",
        "systemd's log store, read with journalctl. Kept in memory (lost at reboot) unless /var/log/journal exists.",
    ),
    (
        "import time",
        "Code at the top level of a Python module runs when the module is first imported, before any request; errors there stop the app from starting.",
    ),
    (
        "environment",
        "Variables (DATABASE_URL, SECRET_KEY...) given to a process at start: by systemd Environment=/EnvironmentFile=, or `cf set-env`. Different per host and per environment.",
    ),
    (
        "Host header",
        "The host name the visitor asked for. nginx must pass it on (proxy_set_header Host $host) and Django must allow it (ALLOWED_HOSTS).",
    ),
    (
        "migration",
        "A scripted change to the database schema; Django runs them with `manage.py migrate`, typically during deploy.",
    ),
    (
        "database",
        "Here usually PostgreSQL, reached by the app over TCP (port 5432) or a local unix socket.",
    ),
    (
        "health check",
        "A platform's periodic test that an app instance is alive (port open, process up, or an http URL answering); failing it gets the instance restarted.",
    ),
    (
        "virtualenv",
        "A private Python installation (e.g. /srv/app/venv) with the app's packages; the service must run the python/gunicorn from it.",
    ),
    (
        "499",
        "nginx's code for 'the client closed the connection before the answer'.",
    ),
    ("500", "Internal Server Error: the app raised an error."),
    (
        "502",
        "Bad Gateway: nginx could not get a valid answer from the upstream.",
    ),
    (
        "503",
        "Service Unavailable: refused for now (limits, maintenance, overload).",
    ),
    (
        "504",
        "Gateway Timeout: the upstream did not answer in time.",
    ),
    (
        "413",
        "Payload Too Large: the request body was over the limit.",
    ),
];

/// Sample lines, one per entry at least, in the real formats. The tests check that each
/// entry is matched by its sample; they also serve as examples for `sitrep explain`.
pub static SAMPLES: &[(&str, &str)] = &[
    (
        "nginx.connect_refused",
        r#"2023/04/13 11:24:04 [error] 789202#789202: *14 connect() failed (111: Connection refused) while connecting to upstream, client: 192.168.1.20, server: app.example.org, request: "GET / HTTP/1.1", upstream: "http://192.168.1.5:8000/", host: "app.example.org""#,
    ),
    (
        "nginx.connect_permission",
        r#"2023/04/13 12:02:11 [crit] 1201#1201: *3 connect() to unix:/run/gunicorn/socket failed (13: Permission denied) while connecting to upstream, client: 203.0.113.9, server: app.example.org, request: "GET /login/ HTTP/1.1", upstream: "http://unix:/run/gunicorn/socket:/login/", host: "app.example.org""#,
    ),
    (
        "nginx.connect_no_socket",
        r#"2023/04/13 12:05:40 [crit] 1201#1201: *9 connect() to unix:/run/gunicorn.sock failed (2: No such file or directory) while connecting to upstream, client: 203.0.113.9, server: app.example.org, request: "GET / HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/", host: "app.example.org""#,
    ),
    (
        "nginx.connect_unreachable",
        r#"2023/04/13 12:07:00 [error] 1201#1201: *12 connect() failed (113: No route to host) while connecting to upstream, client: 203.0.113.9, server: app.example.org, request: "GET / HTTP/1.1", upstream: "http://10.0.3.7:8000/", host: "app.example.org""#,
    ),
    (
        "nginx.upstream_timed_out",
        r#"2023/04/13 14:10:31 [error] 1202#1202: *310 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.1.2.3, server: deploy.example.org, request: "POST /api/deploy HTTP/1.1", upstream: "http://127.0.0.1:8000/api/deploy", host: "deploy.example.org""#,
    ),
    (
        "nginx.upstream_prematurely_closed",
        r#"2023/04/13 15:22:09 [error] 904#904: *77 upstream prematurely closed connection while reading response header from upstream, client: 198.51.100.4, server: netbox.example.org, request: "POST /dcim/devices/import/ HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/dcim/devices/import/", host: "netbox.example.org""#,
    ),
    (
        "nginx.no_live_upstreams",
        r#"2023/04/13 15:23:00 [error] 904#904: *80 no live upstreams while connecting to upstream, client: 198.51.100.4, server: app.example.org, request: "GET / HTTP/1.1", upstream: "http://app_servers/", host: "app.example.org""#,
    ),
    (
        "nginx.body_too_large",
        r#"2023/04/13 16:00:01 [error] 904#904: *91 client intended to send too large body: 5242880 bytes, client: 198.51.100.4, server: app.example.org, request: "POST /upload HTTP/1.1", host: "app.example.org""#,
    ),
    (
        "nginx.bind_in_use",
        "2023/04/13 11:19:00 [emerg] 4321#4321: bind() to 0.0.0.0:80 failed (98: Address already in use)",
    ),
    (
        "nginx.bind_permission",
        "2023/04/13 11:19:00 [emerg] 4321#4321: bind() to 0.0.0.0:443 failed (13: Permission denied)",
    ),
    (
        "nginx.ssl_handshake_upstream",
        r#"2023/04/13 17:01:02 [error] 904#904: *120 SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream, client: 198.51.100.4, server: app.example.org, request: "GET / HTTP/1.1", upstream: "https://127.0.0.1:8000/", host: "app.example.org""#,
    ),
    (
        "nginx.ssl_handshake",
        "2023/04/13 17:03:44 [crit] 904#904: *133 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 192.0.2.77, server: 0.0.0.0:443",
    ),
    (
        "nginx.ssl_cert_load",
        r#"2023/04/13 17:10:00 [emerg] 5001#5001: cannot load certificate "/etc/letsencrypt/live/app.example.org/fullchain.pem": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory)"#,
    ),
    (
        "nginx.limiting_requests",
        r#"2023/04/13 18:00:00 [error] 904#904: *201 limiting requests, excess: 20.450 by zone "login", client: 192.0.2.50, server: app.example.org, request: "POST /login/ HTTP/1.1", host: "app.example.org""#,
    ),
    (
        "nginx.limiting_connections",
        r#"2023/04/13 18:00:02 [error] 904#904: *205 limiting connections by zone "perip", client: 192.0.2.50, server: app.example.org, request: "GET / HTTP/1.1", host: "app.example.org""#,
    ),
    (
        "nginx.open_not_found",
        r#"2023/04/13 18:10:10 [error] 904#904: *301 open() "/srv/app/static/css/site.css" failed (2: No such file or directory), client: 192.0.2.20, server: app.example.org, request: "GET /static/css/site.css HTTP/1.1", host: "app.example.org", referrer: "https://app.example.org/""#,
    ),
    (
        "nginx.open_permission",
        r#"2023/04/13 18:11:10 [error] 904#904: *302 open() "/home/deploy/app/static/js/app.js" failed (13: Permission denied), client: 192.0.2.20, server: app.example.org, request: "GET /static/js/app.js HTTP/1.1", host: "app.example.org""#,
    ),
    (
        "nginx.worker_connections",
        "2023/04/13 19:00:00 [alert] 904#904: 768 worker_connections are not enough",
    ),
    (
        "nginx.too_many_open_files",
        "2023/04/13 19:00:05 [crit] 904#904: accept4() failed (24: Too many open files)",
    ),
    (
        "nginx.unknown_directive",
        r#"2023/04/13 19:30:00 [emerg] 6001#6001: unknown directive "proxy_pas" in /etc/nginx/sites-enabled/app:14"#,
    ),
    (
        "nginx.config_test_failed",
        "nginx: configuration file /etc/nginx/nginx.conf test failed",
    ),
    (
        "nginx.host_not_found",
        r#"2023/04/13 19:31:00 [emerg] 6002#6002: host not found in upstream "app-backend:8000" in /etc/nginx/conf.d/app.conf:3"#,
    ),
    (
        "nginx.upstream_header_too_big",
        r#"2023/04/13 19:40:00 [error] 904#904: *410 upstream sent too big header while reading response header from upstream, client: 192.0.2.20, server: app.example.org, request: "GET /sso/callback HTTP/1.1", upstream: "http://127.0.0.1:8000/sso/callback", host: "app.example.org""#,
    ),
    (
        "nginx.directory_index_forbidden",
        r#"2023/04/13 19:41:00 [error] 904#904: *411 directory index of "/srv/app/public/" is forbidden, client: 192.0.2.20, server: app.example.org, request: "GET / HTTP/1.1", host: "app.example.org""#,
    ),
    (
        "nginx.recv_reset",
        r#"2023/04/13 19:42:00 [error] 904#904: *412 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 192.0.2.20, server: app.example.org, request: "GET /report HTTP/1.1", upstream: "http://127.0.0.1:8000/report", host: "app.example.org""#,
    ),
    (
        "nginx.client_closed",
        r#"2023/04/13 19:43:00 [info] 904#904: *413 client prematurely closed connection while reading client request body, client: 192.0.2.20, server: app.example.org, request: "POST /upload HTTP/1.1", host: "app.example.org""#,
    ),
    (
        "nginx.buffered_to_temp_file",
        r#"2023/04/13 11:31:12 [warn] 789202#789202: *99 an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/1/00/0000000001 while reading upstream, client: 10.0.0.7, server: _, request: "GET /export.csv HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/export.csv", host: "app""#,
    ),
    (
        "nginx.signal_process",
        "2023/04/13 11:30:00 [notice] 789200#789200: signal process started",
    ),
    (
        "http.499",
        r#"10.1.2.3 - - [13/Apr/2023:14:10:31 +0000] "POST /api/deploy HTTP/1.1" 499 0 "-" "python-requests/2.31.0""#,
    ),
    (
        "http.500",
        r#"192.0.2.20 - - [13/Apr/2023:14:11:00 +0000] "GET /orders/17/ HTTP/1.1" 500 145 "-" "Mozilla/5.0 (X11; Linux x86_64)""#,
    ),
    (
        "http.502",
        r#"192.168.1.20 - - [13/Apr/2023:11:24:04 +0000] "GET / HTTP/1.1" 502 166 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)""#,
    ),
    (
        "http.503",
        r#"192.0.2.50 - - [13/Apr/2023:18:00:00 +0000] "POST /login/ HTTP/1.1" 503 197 "-" "curl/8.0.1""#,
    ),
    (
        "http.504",
        r#"10.1.2.3 - - [13/Apr/2023:14:10:31 +0000] "POST /api/deploy HTTP/1.1" 504 167 "-" "python-requests/2.31.0""#,
    ),
    (
        "http.413",
        r#"198.51.100.4 - - [13/Apr/2023:16:00:01 +0000] "POST /upload HTTP/1.1" 413 183 "-" "Mozilla/5.0""#,
    ),
    (
        "gunicorn.worker_timeout",
        "[2023-04-13 11:24:34 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)",
    ),
    (
        "gunicorn.worker_sigkill",
        "[2023-04-13 11:24:35 +0000] [788984] [ERROR] Worker (pid:788990) was sent SIGKILL! Perhaps out of memory?",
    ),
    (
        "gunicorn.worker_exit_code",
        "[2023-04-13 11:20:02 +0000] [788984] [ERROR] Worker (pid:788990) exited with code 3",
    ),
    (
        "gunicorn.worker_failed_to_boot",
        "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>",
    ),
    (
        "gunicorn.app_failed_to_load",
        "[2023-04-13 11:20:02 +0000] [788984] [INFO] Reason: App failed to load.",
    ),
    (
        "gunicorn.halt_server",
        "gunicorn.errors.HaltServer: <HaltServer 'App failed to load.' 4>",
    ),
    (
        "gunicorn.app_import_error",
        "Failed to find attribute 'app' in 'proj.wsgi'.",
    ),
    (
        "gunicorn.exception_in_worker",
        "[2023-04-13 11:21:02 +0000] [788990] [ERROR] Exception in worker process",
    ),
    (
        "gunicorn.booting_worker",
        "[2023-04-13 11:19:27 +0000] [788990] [INFO] Booting worker with pid: 788990",
    ),
    (
        "gunicorn.worker_exiting",
        "[2023-04-13 11:21:02 +0000] [788990] [INFO] Worker exiting (pid: 788990)",
    ),
    (
        "gunicorn.connection_in_use",
        "[2023-04-13 11:19:27 +0000] [788984] [ERROR] Connection in use: ('0.0.0.0', 8000)",
    ),
    (
        "gunicorn.cant_connect",
        "[2023-04-13 11:19:32 +0000] [788984] [ERROR] Can't connect to ('0.0.0.0', 8000)",
    ),
    (
        "gunicorn.listening_at",
        "[2023-04-13 11:19:27 +0000] [788984] [INFO] Listening at: unix:/run/gunicorn.sock (788984)",
    ),
    (
        "gunicorn.starting",
        "[2023-04-13 11:19:27 +0000] [788984] [INFO] Starting gunicorn 20.1.0",
    ),
    (
        "gunicorn.handling_signal",
        "[2023-04-13 11:40:00 +0000] [788984] [INFO] Handling signal: term",
    ),
    (
        "gunicorn.shutting_down",
        "[2023-04-13 11:40:01 +0000] [788984] [INFO] Shutting down: Master",
    ),
    (
        "systemd.main_exited_code",
        "Apr 13 11:19:31 web1 systemd[1]: gunicorn.service: Main process exited, code=exited, status=1/FAILURE",
    ),
    (
        "systemd.main_exited_killed",
        "Apr 13 11:50:00 web1 systemd[1]: gunicorn.service: Main process exited, code=killed, status=9/KILL",
    ),
    (
        "systemd.main_exited_dumped",
        "Apr 13 11:51:00 web1 systemd[1]: worker.service: Main process exited, code=dumped, status=11/SEGV",
    ),
    (
        "systemd.failed_exit_code",
        "Apr 13 11:19:31 web1 systemd[1]: gunicorn.service: Failed with result 'exit-code'.",
    ),
    (
        "systemd.failed_signal",
        "Apr 13 11:51:00 web1 systemd[1]: worker.service: Failed with result 'signal'.",
    ),
    (
        "systemd.failed_timeout",
        "Apr 13 11:52:00 web1 systemd[1]: gunicorn.service: Failed with result 'timeout'.",
    ),
    (
        "systemd.failed_oom",
        "Apr 13 11:50:00 web1 systemd[1]: gunicorn.service: Failed with result 'oom-kill'.",
    ),
    (
        "systemd.failed_start_limit",
        "Apr 13 11:19:40 web1 systemd[1]: gunicorn.service: Failed with result 'start-limit-hit'.",
    ),
    (
        "systemd.start_too_quickly",
        "Apr 13 11:19:40 web1 systemd[1]: gunicorn.service: Start request repeated too quickly.",
    ),
    (
        "systemd.scheduled_restart",
        "Apr 13 11:19:36 web1 systemd[1]: gunicorn.service: Scheduled restart job, restart counter is at 3.",
    ),
    (
        "systemd.changed_on_disk",
        "Warning: The unit file, source configuration file or drop-ins of gunicorn.service changed on disk. Run 'systemctl daemon-reload' to reload units.",
    ),
    (
        "systemd.deactivated",
        "Apr 13 11:40:01 web1 systemd[1]: gunicorn.service: Deactivated successfully.",
    ),
    (
        "systemd.failed_at_step",
        "Apr 13 11:19:31 web1 systemd[788980]: gunicorn.service: Failed at step EXEC spawning /srv/app/venv/bin/gunicorn: No such file or directory",
    ),
    (
        "systemd.unit_not_found",
        "Failed to start gunicorn.service: Unit gunicorn.service not found.",
    ),
    (
        "systemd.dependency_failed",
        "Apr 13 11:19:31 web1 systemd[1]: Dependency failed for gunicorn daemon.",
    ),
    (
        "systemd.failed_to_start",
        "Apr 13 11:19:31 web1 systemd[1]: Failed to start gunicorn daemon.",
    ),
    (
        "systemd.stop_sigterm_timeout",
        "Apr 13 11:52:00 web1 systemd[1]: gunicorn.service: State 'stop-sigterm' timed out. Killing.",
    ),
    (
        "journal.started",
        "Apr 13 06:00:01 web1 systemd-journald[311]: Journal started",
    ),
    (
        "journal.runtime_journal",
        "Apr 13 06:00:01 web1 systemd-journald[311]: Runtime Journal (/run/log/journal/3f2a9c0d1e2b4c5d8e7f6a5b4c3d2e1f) is 8.0M, max 64.0M, 56.0M free.",
    ),
    (
        "journal.rotation",
        "Apr 13 09:00:00 web1 systemd-journald[311]: /var/log/journal/3f2a9c0d1e2b4c5d8e7f6a5b4c3d2e1f/system.journal: Journal header limits reached or header out-of-date, rotating.",
    ),
    (
        "journal.suppressed",
        "Apr 13 11:24:40 web1 systemd-journald[311]: Suppressed 1423 messages from gunicorn.service",
    ),
    (
        "journal.stopped",
        "Apr 13 23:59:59 web1 systemd-journald[311]: Journal stopped",
    ),
    (
        "django.settings_not_configured",
        "django.core.exceptions.ImproperlyConfigured: Requested setting EMAIL_HOST_USER, but settings are not configured. You must either define the environment variable DJANGO_SETTINGS_MODULE or call settings.configure() before accessing settings.",
    ),
    (
        "django.secret_key",
        "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.",
    ),
    (
        "django.improperly_configured",
        "django.core.exceptions.ImproperlyConfigured: Error loading psycopg2 module: No module named 'psycopg2'",
    ),
    (
        "django.disallowed_host",
        "Invalid HTTP_HOST header: '203.0.113.10'. You may need to add '203.0.113.10' to ALLOWED_HOSTS.",
    ),
    (
        "django.missing_table",
        r#"django.db.utils.ProgrammingError: relation "orders_order" does not exist"#,
    ),
    (
        "django.operational_error",
        r#"django.db.utils.OperationalError: FATAL:  remaining connection slots are reserved for non-replication superuser connections"#,
    ),
    (
        "django.internal_server_error",
        "ERROR 2023-04-13 14:11:00,120 log 788990 140230 Internal Server Error: /orders/17/",
    ),
    (
        "django.template_does_not_exist",
        "django.template.exceptions.TemplateDoesNotExist: orders/detail.html",
    ),
    (
        "django.csrf_failed",
        "WARNING 2023-04-13 14:12:00,001 log 788990 140230 Forbidden (CSRF cookie not set.): /login/",
    ),
    (
        "django.apps_not_ready",
        "django.core.exceptions.AppRegistryNotReady: Apps aren't loaded yet.",
    ),
    (
        "urllib3.retrying",
        "WARNING:urllib3.connectionpool:Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a2c1b9d90>: Failed to establish a new connection: [Errno 111] Connection refused')': /scan",
    ),
    (
        "urllib3.name_resolution",
        "urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPConnection object at 0x7f3a2c1b9d90>: Failed to establish a new connection: [Errno -2] Name or service not known",
    ),
    (
        "urllib3.new_connection_error",
        "urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPConnection object at 0x7f3a2c1b9d90>: Failed to establish a new connection: [Errno 111] Connection refused",
    ),
    (
        "urllib3.max_retries",
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='scanner.apps.internal', port=8080): Max retries exceeded with url: /scan (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a2c1b9d90>: Failed to establish a new connection: [Errno 111] Connection refused'))",
    ),
    (
        "urllib3.connect_timeout",
        "requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='api.example.net', port=443): Max retries exceeded with url: /v1/items (Caused by ConnectTimeoutError(<urllib3.connection.HTTPSConnection object at 0x7f0c>, 'Connection to api.example.net timed out. (connect timeout=5)'))",
    ),
    (
        "urllib3.read_timeout",
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.net', port=443): Read timed out. (read timeout=10)",
    ),
    (
        "urllib3.ssl_error",
        "requests.exceptions.SSLError: HTTPSConnectionPool(host='internal.example.net', port=443): Max retries exceeded with url: / (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)')))",
    ),
    (
        "urllib3.remote_disconnected",
        "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
    ),
    (
        "requests.connection_error",
        "requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))",
    ),
    (
        "cf.health_check_failed",
        "   2022-07-18T09:38:09.00-0400 [CELL/0] ERR Timed out after 1m0s: health check never passed.",
    ),
    (
        "cf.out_of_memory",
        r#"   2022-07-18T09:40:00.12-0400 [API/3] OUT App instance exited with guid 8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b payload: {"instance"=>"a1b2c3d4-e5f6-4a7b-8c9d", "index"=>0, "cell_id"=>"c0ffee00-1234", "reason"=>"CRASHED", "exit_description"=>"APP/PROC/WEB: Exited with status 137 (out of memory)", "crash_count"=>1, "crash_timestamp"=>1658151600120000000, "version"=>"d4e5f6a7-b8c9"}"#,
    ),
    (
        "cf.exit_137",
        "   2022-07-18T09:40:00.05-0400 [APP/PROC/WEB/0] OUT Exit status 137 (exceeded 10s graceful shutdown interval)",
    ),
    (
        "cf.app_instance_exited",
        r#"   2022-07-18T09:40:00.12-0400 [API/3] OUT App instance exited with guid 8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b payload: {"instance"=>"a1b2c3d4-e5f6-4a7b-8c9d", "index"=>0, "reason"=>"CRASHED", "exit_description"=>"Instance never healthy after 1m0s: Failed to make TCP connection to port 8080: connection refused", "crash_count"=>2}"#,
    ),
    (
        "cf.process_crashed",
        r#"   2022-07-18T09:40:00.13-0400 [API/3] OUT Process has crashed with type: "web""#,
    ),
    (
        "cf.rtr_502",
        r#"   2022-07-18T09:38:05.11-0400 [RTR/1] OUT app.example.org - [2022-07-18T13:38:05.102+0000] "POST /upload HTTP/1.1" 502 0 67 "-" "curl/7.81" "10.0.0.4:51234" "10.0.1.9:61002" x_forwarded_for:"203.0.113.5" vcap_request_id:"9a8b7c6d" response_time:0.004 app_id:"8f1c2d3e" app_index:"0""#,
    ),
    (
        "cf.rtr_504",
        r#"   2022-07-18T09:39:05.11-0400 [RTR/0] OUT app.example.org - [2022-07-18T13:39:05.102+0000] "POST /upload HTTP/1.1" 504 0 24 "-" "curl/7.81" "10.0.0.4:51240" "10.0.1.9:61002" response_time:900.001"#,
    ),
    (
        "cf.exit_status",
        "   2022-07-18T09:41:00.00-0400 [APP/PROC/WEB/0] OUT Exit status 1",
    ),
    (
        "postgres.connection_refused",
        r#"psycopg2.OperationalError: connection to server at "db.internal" (10.0.2.5), port 5432 failed: Connection refused"#,
    ),
    (
        "postgres.no_socket",
        r#"psycopg2.OperationalError: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory"#,
    ),
    (
        "postgres.too_many_connections",
        r#"django.db.utils.OperationalError: FATAL:  sorry, too many clients already"#,
    ),
    (
        "postgres.reserved_slots",
        "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
    ),
    (
        "postgres.password_failed",
        r#"django.db.utils.OperationalError: connection to server at "db.internal" (10.0.2.5), port 5432 failed: FATAL:  password authentication failed for user "app""#,
    ),
    (
        "postgres.no_pg_hba",
        r#"FATAL:  no pg_hba.conf entry for host "10.0.4.12", user "app", database "appdb", no encryption"#,
    ),
    (
        "postgres.database_missing",
        r#"FATAL:  database "appdb" does not exist"#,
    ),
    (
        "postgres.starting_up",
        "psycopg2.OperationalError: FATAL:  the database system is starting up",
    ),
    (
        "postgres.shutting_down",
        "psycopg2.OperationalError: FATAL:  the database system is shutting down",
    ),
    (
        "python.module_not_found",
        "ModuleNotFoundError: No module named 'whitenoise'",
    ),
    (
        "python.import_error",
        "ImportError: cannot import name 'url' from 'django.conf.urls' (/srv/app/venv/lib/python3.11/site-packages/django/conf/urls/__init__.py)",
    ),
    ("python.syntax_error", "SyntaxError: invalid syntax"),
    (
        "python.address_in_use",
        "OSError: [Errno 98] Address already in use",
    ),
    (
        "python.permission_error",
        "PermissionError: [Errno 13] Permission denied: '/var/log/app/app.log'",
    ),
    ("python.traceback", "Traceback (most recent call last):"),
    (
        "kernel.oom_cgroup",
        "Apr 13 11:49:59 web1 kernel: Memory cgroup out of memory: Killed process 788990 (gunicorn) total-vm:1203456kB, anon-rss:998765kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:2100kB oom_score_adj:0",
    ),
    (
        "kernel.oom_killed",
        "Apr 13 11:49:59 web1 kernel: Out of memory: Killed process 788990 (gunicorn) total-vm:1203456kB, anon-rss:998765kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:2100kB oom_score_adj:0",
    ),
    (
        "kernel.oom_invoked",
        "Apr 13 11:49:59 web1 kernel: gunicorn invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
    ),
    (
        "kernel.segfault",
        "Apr 13 11:51:00 web1 kernel: python3[790001]: segfault at 0 ip 00007f1c2b3a4d5e sp 00007ffd1e2f3a40 error 4 in libc.so.6[7f1c2b200000+195000]",
    ),
];

/// Every entry with its compiled regex, built once. An entry whose regex does not compile
/// is left out (the tests prove none is).
fn compiled() -> &'static [(&'static Entry, Regex)] {
    static CELL: OnceLock<Vec<(&'static Entry, Regex)>> = OnceLock::new();
    CELL.get_or_init(|| {
        ENTRIES
            .iter()
            .filter_map(|e| Regex::new(e.pattern).ok().map(|re| (e, re)))
            .collect()
    })
}

/// How many patterns the knowledge base knows.
pub fn entries() -> usize {
    ENTRIES.len()
}

/// The definition of a glossary term, when it has one (case-insensitive).
pub fn define(term: &str) -> Option<&'static str> {
    GLOSSARY
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(term))
        .map(|(_, d)| *d)
}

/// Explain one log line: every matching entry, specific entries before general ones (in
/// table order otherwise); empty when nothing is known about the line.
pub fn explain(line: &str) -> Vec<Explanation> {
    let line = clip(line.trim_end_matches(['\r', '\n']));
    let context = nginx_context(line);
    let mut out: Vec<(bool, Explanation)> = compiled()
        .iter()
        .filter_map(|(e, re)| {
            let caps = re.captures(line)?;
            let mut parts = captured_parts(re, &caps);
            for (k, v) in &context {
                if !parts.iter().any(|(pk, _)| pk == k) {
                    parts.push((k.clone(), v.clone()));
                }
            }
            Some((
                e.general,
                Explanation {
                    id: e.id,
                    family: e.family,
                    meaning: e.meaning,
                    causes: e.causes,
                    next: e.next,
                    glossary: e.glossary,
                    parts,
                },
            ))
        })
        .collect();
    out.sort_by_key(|(general, _)| *general);
    out.into_iter().map(|(_, x)| x).collect()
}

/// The line cut to at most [`MAX_LINE`] bytes, on a character boundary.
fn clip(line: &str) -> &str {
    if line.len() <= MAX_LINE {
        return line;
    }
    let mut end = MAX_LINE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// Named captures as parts, in the regex's order. `errno` and `reason` together become one
/// part, `("errno", "111 Connection refused")`.
fn captured_parts(re: &Regex, caps: &regex::Captures<'_>) -> Vec<(String, String)> {
    let get = |name: &str| {
        caps.name(name)
            .map(|m| m.as_str())
            .filter(|s| !s.is_empty())
    };
    let errno = get("errno");
    let mut parts = Vec::new();
    for name in re.capture_names().flatten() {
        let Some(value) = get(name) else { continue };
        match (name, errno) {
            ("errno", _) => match get("reason") {
                Some(reason) => parts.push(("errno".to_string(), format!("{value} {reason}"))),
                None => parts.push(("errno".to_string(), value.to_string())),
            },
            ("reason", Some(_)) => {}
            _ => parts.push((name.to_string(), value.trim().to_string())),
        }
    }
    parts
}

/// The context fields (client, server, request, upstream, host...) of an nginx error line.
fn nginx_context(line: &str) -> Vec<(String, String)> {
    nginx_error::parse_line(line.as_bytes())
        .map(|e| {
            e.context
                .iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn part<'a>(x: &'a Explanation, key: &str) -> Option<&'a str> {
        x.parts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn ids(line: &str) -> Vec<&'static str> {
        explain(line).iter().map(|x| x.id).collect()
    }

    #[test]
    fn has_at_least_fifty_entries() {
        assert!(entries() >= 50, "{}", entries());
    }

    #[test]
    fn every_regex_compiles_and_ids_are_unique() {
        assert_eq!(compiled().len(), ENTRIES.len());
        for e in ENTRIES {
            assert!(Regex::new(e.pattern).is_ok(), "{}", e.id);
            assert_eq!(
                ENTRIES.iter().filter(|o| o.id == e.id).count(),
                1,
                "{}",
                e.id
            );
            assert!(e.id.contains('.') && !e.meaning.is_empty(), "{}", e.id);
            assert!((1..=4).contains(&e.causes.len()), "{} causes", e.id);
            assert!(!e.next.is_empty() && !e.glossary.is_empty(), "{}", e.id);
        }
    }

    #[test]
    fn every_entry_is_matched_by_its_sample() {
        for e in ENTRIES {
            let samples: Vec<&str> = SAMPLES
                .iter()
                .filter(|(id, _)| *id == e.id)
                .map(|(_, l)| *l)
                .collect();
            assert!(!samples.is_empty(), "no sample for {}", e.id);
            for s in samples {
                assert!(
                    ids(s).contains(&e.id),
                    "{} not matched by {s:?}: {:?}",
                    e.id,
                    ids(s)
                );
            }
        }
        for (id, _) in SAMPLES {
            assert!(
                ENTRIES.iter().any(|e| e.id == *id),
                "sample for unknown {id}"
            );
        }
    }

    #[test]
    fn every_glossary_term_is_defined() {
        for e in ENTRIES {
            for t in e.glossary {
                assert!(define(t).is_some(), "{}: {t}", e.id);
            }
        }
    }

    #[test]
    fn nginx_connect_refused_names_its_parts() {
        let line = SAMPLES[0].1;
        let x = explain(line);
        assert_eq!(x[0].id, "nginx.connect_refused");
        assert_eq!(x[0].family, "nginx");
        assert_eq!(part(&x[0], "errno"), Some("111 Connection refused"));
        assert_eq!(part(&x[0], "upstream"), Some("http://192.168.1.5:8000/"));
        assert_eq!(part(&x[0], "client"), Some("192.168.1.20"));
        assert_eq!(part(&x[0], "server"), Some("app.example.org"));
        assert_eq!(part(&x[0], "request"), Some("GET / HTTP/1.1"));
        assert_eq!(part(&x[0], "host"), Some("app.example.org"));
        assert_eq!(part(&x[0], "reason"), None);
    }

    #[test]
    fn nginx_unix_socket_and_timeout() {
        let x = explain(
            "2023/04/13 12:05:40 [crit] 1201#1201: *9 connect() to unix:/run/gunicorn.sock failed (2: No such file or directory) while connecting to upstream, client: 203.0.113.9, server: app.example.org, request: \"GET / HTTP/1.1\", upstream: \"http://unix:/run/gunicorn.sock:/\", host: \"app.example.org\"",
        );
        assert_eq!(x[0].id, "nginx.connect_no_socket");
        assert_eq!(part(&x[0], "socket"), Some("unix:/run/gunicorn.sock"));
        assert_eq!(part(&x[0], "errno"), Some("2 No such file or directory"));
        let x = explain(
            "2023/04/13 14:10:31 [error] 1202#1202: *310 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.1.2.3, server: d, request: \"POST /api/deploy HTTP/1.1\", upstream: \"http://127.0.0.1:8000/api/deploy\", host: \"d\"",
        );
        assert_eq!(x[0].id, "nginx.upstream_timed_out");
        assert_eq!(part(&x[0], "errno"), Some("110 Connection timed out"));
        assert_eq!(part(&x[0], "phase"), Some("reading response header from"));
        assert_eq!(
            part(&x[0], "upstream"),
            Some("http://127.0.0.1:8000/api/deploy")
        );
        let x = explain(
            "2023/04/13 11:19:00 [emerg] 4321#4321: bind() to 0.0.0.0:80 failed (98: Address already in use)",
        );
        assert_eq!(x[0].id, "nginx.bind_in_use");
        assert_eq!(part(&x[0], "address"), Some("0.0.0.0:80"));
    }

    #[test]
    fn access_line_status() {
        let x = explain(
            "192.0.2.20 - - [13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 502 166 \"-\" \"Mozilla/5.0\"",
        );
        assert_eq!(ids_of(&x), ["http.502"]);
        assert_eq!(part(&x[0], "status"), Some("502"));
        assert_eq!(part(&x[0], "client"), Some("192.0.2.20"));
        assert_eq!(part(&x[0], "request"), Some("GET / HTTP/1.1"));
        // The same request with a 200 is not worth explaining.
        assert!(
            explain(
                "192.0.2.20 - - [13/Apr/2023:11:24:04 +0000] \"GET / HTTP/1.1\" 200 612 \"-\" \"-\""
            )
            .is_empty()
        );
    }

    fn ids_of(x: &[Explanation]) -> Vec<&'static str> {
        x.iter().map(|e| e.id).collect()
    }

    #[test]
    fn gunicorn_lines() {
        let x =
            explain("[2023-04-13 11:24:34 +0000] [788984] [CRITICAL] WORKER TIMEOUT (pid:788990)");
        assert_eq!(x[0].id, "gunicorn.worker_timeout");
        assert_eq!(part(&x[0], "pid"), Some("788990"));
        let x = explain("gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>");
        assert_eq!(
            ids_of(&x),
            ["gunicorn.worker_failed_to_boot", "gunicorn.halt_server"]
        );
        assert_eq!(part(&x[1], "code"), Some("3"));
        let x = explain(
            "[2023-04-13 11:19:27 +0000] [788984] [INFO] Listening at: unix:/run/gunicorn.sock (788984)",
        );
        assert_eq!(part(&x[0], "address"), Some("unix:/run/gunicorn.sock"));
    }

    #[test]
    fn systemd_and_journal_lines() {
        let x = explain(
            "Apr 13 11:19:31 web1 systemd[1]: gunicorn.service: Main process exited, code=exited, status=1/FAILURE",
        );
        assert_eq!(x[0].id, "systemd.main_exited_code");
        assert_eq!(part(&x[0], "unit"), Some("gunicorn.service"));
        assert_eq!(part(&x[0], "status"), Some("1"));
        assert_eq!(part(&x[0], "status_name"), Some("FAILURE"));
        let x = explain(
            "Apr 13 11:19:31 web1 systemd[1]: gunicorn.service: Failed with result 'exit-code'.",
        );
        assert_eq!(ids_of(&x), ["systemd.failed_exit_code"]);
        assert_eq!(part(&x[0], "unit"), Some("gunicorn.service"));
        let x = explain("Failed to start gunicorn.service: Unit gunicorn.service not found.");
        assert_eq!(
            ids_of(&x),
            ["systemd.unit_not_found", "systemd.failed_to_start"]
        );
        assert_eq!(part(&x[0], "unit"), Some("gunicorn.service"));
        let x = explain(
            "Apr 13 11:24:40 web1 systemd-journald[311]: Suppressed 1423 messages from gunicorn.service",
        );
        assert_eq!(x[0].id, "journal.suppressed");
        assert_eq!(part(&x[0], "count"), Some("1423"));
        let x = explain(
            "Warning: The unit file, source configuration file or drop-ins of gunicorn.service changed on disk. Run 'systemctl daemon-reload' to reload units.",
        );
        assert_eq!(part(&x[0], "unit"), Some("gunicorn.service"));
    }

    #[test]
    fn django_urllib3_cf_postgres_python_kernel_lines() {
        let x = explain(
            "django.core.exceptions.ImproperlyConfigured: Requested setting EMAIL_HOST_USER, but settings are not configured. You must either define the environment variable DJANGO_SETTINGS_MODULE or call settings.configure() before accessing settings.",
        );
        assert_eq!(
            ids_of(&x),
            [
                "django.settings_not_configured",
                "django.improperly_configured"
            ]
        );
        assert_eq!(part(&x[0], "setting"), Some("EMAIL_HOST_USER"));
        let x = explain(
            "Invalid HTTP_HOST header: 'evil.example'. You may need to add 'evil.example' to ALLOWED_HOSTS.",
        );
        assert_eq!(part(&x[0], "host"), Some("evil.example"));

        let line = SAMPLES
            .iter()
            .find(|(id, _)| *id == "urllib3.retrying")
            .map(|(_, l)| *l)
            .unwrap_or_default();
        let x = explain(line);
        assert_eq!(x[0].id, "urllib3.retrying");
        assert_eq!(part(&x[0], "errno"), Some("111 Connection refused"));
        assert_eq!(part(&x[0], "error"), Some("NewConnectionError"));
        assert!(part(&x[0], "retry").is_some_and(|r| r.starts_with("Retry(total=4")));
        let x = explain(
            "requests.exceptions.ConnectionError: HTTPConnectionPool(host='scanner.apps.internal', port=8080): Max retries exceeded with url: /scan (Caused by x)",
        );
        let m = x.iter().find(|e| e.id == "urllib3.max_retries");
        assert!(
            m.is_some_and(|m| part(m, "host") == Some("scanner.apps.internal")
                && part(m, "port") == Some("8080")
                && part(m, "path") == Some("/scan"))
        );

        let x = explain(
            "   2022-07-18T09:38:09.00-0400 [CELL/0] ERR Timed out after 1m0s: health check never passed.",
        );
        assert_eq!(x[0].id, "cf.health_check_failed");
        assert_eq!(part(&x[0], "timeout"), Some("1m0s"));
        let x = explain(
            r#"   2022-07-18T09:38:05.11-0400 [RTR/1] OUT app.example.org - [2022-07-18T13:38:05.102+0000] "POST /upload HTTP/1.1" 502 0 67 "-" "curl/7.81""#,
        );
        assert_eq!(x[0].id, "cf.rtr_502");
        assert_eq!(part(&x[0], "request"), Some("POST /upload HTTP/1.1"));
        let oom = SAMPLES
            .iter()
            .find(|(id, _)| *id == "cf.out_of_memory")
            .map(|(_, l)| *l)
            .unwrap_or_default();
        let x = explain(oom);
        assert_eq!(ids_of(&x), ["cf.out_of_memory", "cf.app_instance_exited"]);
        assert_eq!(part(&x[1], "reason"), Some("CRASHED"));

        let x = explain(
            "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
        );
        assert_eq!(ids_of(&x), ["postgres.reserved_slots"]);
        let x =
            explain("psycopg2.OperationalError: could not connect to server: Connection refused");
        assert_eq!(x[0].id, "postgres.connection_refused");

        let x = explain("ModuleNotFoundError: No module named 'whitenoise'");
        assert_eq!(part(&x[0], "module"), Some("whitenoise"));
        let x = explain("OSError: [Errno 98] Address already in use");
        assert_eq!(part(&x[0], "errno"), Some("98 Address already in use"));

        let x = explain(
            "Apr 13 11:49:59 web1 kernel: Out of memory: Killed process 788990 (gunicorn) total-vm:1203456kB",
        );
        assert_eq!(x[0].id, "kernel.oom_killed");
        assert_eq!(
            (part(&x[0], "pid"), part(&x[0], "process")),
            (Some("788990"), Some("gunicorn"))
        );
    }

    #[test]
    fn unrelated_lines_explain_to_nothing() {
        assert!(explain("hello world").is_empty());
        assert!(explain("").is_empty());
        // Another program's "Can't connect to" is not gunicorn's.
        assert!(
            ids("ERROR 2003 (HY000): Can't connect to MySQL server on 'db:3306' (111)").is_empty()
        );
        // The wrapper comes after the telling cause.
        let t = SAMPLES
            .iter()
            .find(|(id, _)| *id == "urllib3.connect_timeout")
            .map_or("", |(_, l)| *l);
        assert_eq!(ids(t), ["urllib3.connect_timeout", "urllib3.max_retries"]);
        assert!(
            explain("[2023-04-13 11:19:27 +0000] [788984] [INFO] Using worker: sync").is_empty()
        );
    }

    #[test]
    fn long_lines_are_clipped_on_a_char_boundary() {
        let line = "é".repeat(MAX_LINE);
        assert!(explain(&line).is_empty());
        assert!(clip(&line).len() <= MAX_LINE);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = explain(&s);
        }

        #[test]
        fn never_panics_near_known_lines(i in 0..SAMPLES.len(), cut in 0usize..400, junk in "\\PC{0,8}") {
            let line = SAMPLES[i].1;
            let mut end = cut.min(line.len());
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            let _ = explain(&format!("{}{junk}{}", &line[..end], &line[end..]));
        }
    }
}
