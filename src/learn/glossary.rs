//! The words a newcomer meets in an incident, in plain terms, each with where the console
//! shows it. `g` opens it in learn mode and from "explain this line".

/// (term, what it means, where to see it in sitrep)
pub const ENTRIES: &[(&str, &str, &str)] = &[
    (
        "upstream",
        "The server nginx hands a request on to: here the app server (gunicorn). When nginx says 'upstream', it means the app side, not the visitor.",
        "nginx -T (proxy_pass, upstream blocks) in the detail pane; the upstream column of the Access pane; 'upstream:' in Error lines.",
    ),
    (
        "reverse proxy",
        "A server that takes requests from the outside and passes them to another server behind it, then sends the answer back. nginx in front of gunicorn is one.",
        "The Access pane (what nginx received) next to the Journal pane (what the app did with it).",
    ),
    (
        "unix socket vs TCP port",
        "Two ways to connect on one host: a TCP port (127.0.0.1:8000) or a socket file (/run/gunicorn.sock). nginx and the app must use the same one; a file's permissions also decide who may open it.",
        "The Sockets pane: tcp lines versus u_str lines with their paths.",
    ),
    (
        "worker",
        "A process that handles requests. gunicorn runs one master that starts N workers; one worker handles one request at a time (sync workers).",
        "'Booting worker with pid' lines in the Journal pane; the Sockets pane shows the master holding the listener.",
    ),
    (
        "sync vs async worker",
        "A sync worker does one request at a time and blocks while it waits (for the database, an upload). Async workers (gevent, uvicorn) interleave many waiting requests. With one sync worker, one slow request stalls everyone.",
        "gunicorn's settings (--workers, --worker-class) in the unit file or gunicorn.conf.py, shown in the detail pane.",
    ),
    (
        "worker timeout",
        "gunicorn kills a worker that has not answered within --timeout seconds (30 by default) and starts a new one; the request it was serving is cut.",
        "'[CRITICAL] WORKER TIMEOUT (pid:N)' in the Journal pane, then 'Booting worker'; a 502 in the Access pane at the same second.",
    ),
    (
        "499 / 502 / 503 / 504",
        "Status codes at the proxy: 499 the client gave up first (nginx's own code); 502 the app gave no usable answer (refused, reset, closed); 503 nobody available (overload, maintenance, limits); 504 the app did not answer within proxy_read_timeout.",
        "The status column of the Access pane; the matching reason in the Error pane at the same time.",
    ),
    (
        "systemd unit",
        "Something systemd manages: a .service runs a program, a .socket opens a listening address for a service, a .timer starts things on a schedule.",
        "The Units pane, as it was at the cursor time; the unit file itself (systemctl cat) in the detail pane.",
    ),
    (
        "socket activation",
        "systemd opens the listening socket itself (a .socket unit) and starts the service when the first connection comes, handing the socket over. The socket can exist while the service is down.",
        "A .socket unit in the Units pane, and its ListenStream= in the unit file.",
    ),
    (
        "daemon-reload",
        "`systemctl daemon-reload` makes systemd read unit files again. Until then, edits to a unit file do nothing: systemd keeps running the old definition.",
        "'changed on disk' warnings in the Journal pane; NeedDaemonReload=yes in systemctl show.",
    ),
    (
        "RuntimeDirectory",
        "A directory under /run that systemd creates when a service starts and deletes when it stops. A socket file kept there vanishes with every stop.",
        "RuntimeDirectory= in the unit file (detail pane); 'No such file or directory' connects in the Error pane.",
    ),
    (
        "journal",
        "systemd's log: every service's output with its unit, pid and priority, read with journalctl.",
        "The Journal pane: unit, pid, message; the full fields of a record in the detail pane.",
    ),
    (
        "log rotation",
        "Renaming a growing log (access.log -> access.log.1, later .2.gz) and starting a new one, so old lines are kept but files stay small. An incident often spans two files.",
        "Rotated files merged in one pane, the file name shown for each record; S lists every file read.",
    ),
    (
        "retries and backoff",
        "Trying a failed call again, waiting longer each time (2 s, 4 s, 8 s...). Polite for a brief hiccup, harmful when the failure is permanent: each user request waits through every try.",
        "urllib3 'Retrying (Retry(total=...' warnings in the app's log, their gaps growing; repeated identical requests in the Access pane.",
    ),
    (
        "idempotency",
        "An operation is idempotent when doing it twice has the same effect as once. Retrying a non-idempotent request (a payment, a deployment) after a timeout may do the work twice.",
        "The same POST path repeated by one client in the Access pane, each after a 504 or 499.",
    ),
];

/// The entry for `term` (case-insensitive; a word of a term matches too).
pub fn lookup(term: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    let t = term.to_ascii_lowercase();
    ENTRIES
        .iter()
        .find(|(k, _, _)| k.eq_ignore_ascii_case(&t))
        .or_else(|| {
            ENTRIES
                .iter()
                .find(|(k, _, _)| k.to_ascii_lowercase().contains(&t))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_words_are_all_there() {
        for w in [
            "upstream",
            "reverse proxy",
            "unix socket",
            "worker",
            "sync vs async",
            "worker timeout",
            "502",
            "504",
            "499",
            "503",
            "unit",
            "socket activation",
            "daemon-reload",
            "RuntimeDirectory",
            "journal",
            "log rotation",
            "backoff",
            "idempotency",
        ] {
            assert!(lookup(w).is_some(), "{w}");
        }
        for (_, what, where_) in ENTRIES {
            assert!(what.len() > 40 && where_.len() > 20);
        }
    }
}
