//! The collectors: tokio tasks that follow log files (rotation-proof, see [`super::follow`]),
//! the journal (`journalctl -o json -f`, restarted after its last cursor if it dies), and poll
//! `systemctl` and `ss`, turning state changes into lines of a changes log. Everything goes
//! to the console over one channel as [`Update`]s.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::discover::{LogFile, Programs};
use super::follow::{Follower, Start};
use crate::model::time::{MICROS_PER_SEC, format_utc};

/// The name the changes log has in the model.
pub const CHANGES: &str = "live/changes.log";
pub const JOURNAL: &str = "journal/journal.json";

/// What a collector sends.
#[derive(Debug)]
pub enum Update {
    /// Whole lines appended to a log (a file, the journal, the changes log).
    Lines { name: String, bytes: Vec<u8> },
    /// A command's whole output, replacing the last one of that name.
    Snapshot { name: String, bytes: Vec<u8> },
    /// Something to tell the user (a rotation, a collector that died and came back).
    Note(String),
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct Plan {
    pub logs: Vec<LogFile>,
    pub programs: Programs,
    /// Follow the journal and poll systemctl.
    pub systemd: bool,
    pub units: Vec<String>,
    /// History to load first: `journalctl --since`, and this many bytes of each file's end.
    pub since: Duration,
    pub tail_bytes: u64,
    /// How often systemctl and ss are polled.
    pub poll: Duration,
}

/// The running collectors; dropping it stops them.
pub struct Feed {
    pub rx: UnboundedReceiver<Update>,
    stop: Arc<AtomicBool>,
    /// Says when the collectors' thread has ended (its runtime dropped, children killed).
    done: Option<std::sync::mpsc::Receiver<()>>,
}

impl Drop for Feed {
    /// Stop the collectors and wait (2 s at most) for their children to be killed: the
    /// process may exit right after, and a `journalctl -f` or a hung `systemctl` must not
    /// outlive it.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(Duration::from_secs(2));
        }
    }
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Feed")
    }
}

fn now_line(text: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    format!("{} sitrep: {text}\n", format_utc(now)).into_bytes()
}

/// Start every collector of `plan` on a runtime of its own thread.
pub fn start(plan: Plan) -> Feed {
    let (tx, rx) = unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let (finished, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _finished = finished;
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.send(Update::Note(format!(
                    "live collectors could not start: {e}"
                )));
                return;
            }
        };
        rt.block_on(async move {
            for log in plan.logs.clone() {
                tokio::spawn(follow_file(log.path, log.name, plan.tail_bytes, tx.clone()));
            }
            if plan.systemd {
                tokio::spawn(follow_journal(plan.clone(), tx.clone()));
                tokio::spawn(poll_units(plan.clone(), tx.clone()));
            }
            tokio::spawn(poll_sockets(plan.clone(), tx.clone()));
            // Run until the console lets go of the feed.
            while !flag.load(Ordering::Relaxed) && !tx.is_closed() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        // Dropping the runtime ends the tasks; their children are killed on drop. Then
        // `_finished` goes, which tells the Feed.
        drop(rt);
    });
    Feed {
        rx,
        stop,
        done: Some(done),
    }
}

async fn follow_file(path: PathBuf, name: String, tail: u64, tx: UnboundedSender<Update>) {
    let mut f = Follower::new(path, Start::Tail(tail));
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let bytes = f.poll();
        for e in f.events() {
            let _ = tx.send(Update::Note(e.to_string()));
        }
        if !bytes.is_empty()
            && tx
                .send(Update::Lines {
                    name: name.clone(),
                    bytes,
                })
                .is_err()
        {
            return;
        }
    }
}

/// `journalctl -o json -f`, from the window's start; if it ends, again after the last cursor.
async fn follow_journal(plan: Plan, tx: UnboundedSender<Update>) {
    let mut cursor: Option<String> = None;
    let mut backoff = Duration::from_secs(1);
    let since = format!("-{}s", plan.since.as_secs());
    loop {
        let mut cmd = tokio::process::Command::new(&plan.programs.journalctl);
        cmd.args(["-o", "json", "-f", "--no-pager"]);
        match &cursor {
            Some(c) => cmd.arg(format!("--after-cursor={c}")),
            None => cmd.arg(format!("--since={since}")),
        };
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Update::Note(format!(
                    "journal: cannot run {} ({e})",
                    plan.programs.journalctl
                )));
                return;
            }
        };
        let Some(out) = child.stdout.take() else {
            return;
        };
        let mut lines = BufReader::new(out).lines();
        let mut batch = Vec::new();
        let mut got = false;
        loop {
            let next = tokio::time::timeout(Duration::from_millis(200), lines.next_line()).await;
            match next {
                Ok(Ok(Some(line))) => {
                    if let Some(c) = cursor_of(&line) {
                        cursor = Some(c);
                    }
                    batch.extend_from_slice(line.as_bytes());
                    batch.push(b'\n');
                    got = true;
                    if batch.len() < 1 << 20 {
                        continue;
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => break,
                Err(_) => {}
            }
            if !batch.is_empty()
                && tx
                    .send(Update::Lines {
                        name: JOURNAL.into(),
                        bytes: std::mem::take(&mut batch),
                    })
                    .is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(Update::Lines {
                name: JOURNAL.into(),
                bytes: batch,
            });
        }
        let _ = child.wait().await;
        if got {
            backoff = Duration::from_secs(1);
        }
        let _ = tx.send(Update::Note(format!(
            "journal: journalctl ended; starting it again in {} s{}",
            backoff.as_secs(),
            if cursor.is_some() {
                " after its last cursor"
            } else {
                ""
            }
        )));
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

/// The `__CURSOR` of a journal JSON line.
fn cursor_of(line: &str) -> Option<String> {
    let i = line.find("\"__CURSOR\"")?;
    let rest = line[i + 10..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

async fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let run = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(10), run).await {
        Err(_) => Err(format!("{program}: no answer after 10 s")),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Ok(Ok(o)) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(Ok(o)) => Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("failed")
        )),
    }
}

/// `systemctl list-units` every poll: the snapshot, and a changes-log line per unit whose
/// state moved; `systemctl show`/`cat` of the watched units at start and when they change.
async fn poll_units(plan: Plan, tx: UnboundedSender<Update>) {
    let mut last: Option<BTreeMap<String, String>> = None;
    let mut failing = false;
    let mut tick = tokio::time::interval(plan.poll);
    let prog = plan.programs.systemctl.clone();
    for u in &plan.units {
        if let Ok(text) = output(&prog, &["cat", u, "--no-pager"]).await {
            let _ = tx.send(Update::Snapshot {
                name: format!("systemd/cat/{u}"),
                bytes: text.into_bytes(),
            });
        }
    }
    loop {
        tick.tick().await;
        let json = match output(
            &prog,
            &["list-units", "--all", "--output=json", "--no-pager"],
        )
        .await
        {
            Ok(j) => j,
            Err(e) => {
                if !failing {
                    let _ = tx.send(Update::Note(format!("units: {e}")));
                }
                failing = true;
                continue;
            }
        };
        failing = false;
        let units: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap_or_default();
        let now: BTreeMap<String, String> = units
            .iter()
            .filter_map(|u| {
                Some((
                    u["unit"].as_str()?.to_string(),
                    format!(
                        "{}/{}",
                        u["active"].as_str().unwrap_or("?"),
                        u["sub"].as_str().unwrap_or("?")
                    ),
                ))
            })
            .collect();
        let mut changed: Vec<String> = Vec::new();
        if let Some(before) = &last {
            let mut lines = Vec::new();
            for (unit, state) in &now {
                match before.get(unit) {
                    Some(old) if old != state => {
                        lines.extend(now_line(&format!("{unit}: {old} -> {state}")));
                        changed.push(unit.clone());
                    }
                    None => lines.extend(now_line(&format!("{unit}: appeared, {state}"))),
                    _ => {}
                }
            }
            for unit in before.keys().filter(|u| !now.contains_key(*u)) {
                lines.extend(now_line(&format!("{unit}: gone")));
            }
            if !lines.is_empty() {
                let _ = tx.send(Update::Lines {
                    name: CHANGES.into(),
                    bytes: lines,
                });
            }
        }
        if last.as_ref() != Some(&now) {
            let _ = tx.send(Update::Snapshot {
                name: "systemd/units.json".into(),
                bytes: json.into_bytes(),
            });
            for u in plan
                .units
                .iter()
                .filter(|u| last.is_none() || changed.contains(u))
            {
                if let Ok(text) = output(&prog, &["show", u, "--no-pager"]).await {
                    let _ = tx.send(Update::Snapshot {
                        name: format!("systemd/show/{u}.txt"),
                        bytes: text.into_bytes(),
                    });
                }
            }
        }
        last = Some(now);
        if tx.is_closed() {
            return;
        }
    }
}

/// `ss` every poll: a new snapshot (named by its time) when the listeners change, and a
/// changes-log line per listener that appeared or vanished.
async fn poll_sockets(plan: Plan, tx: UnboundedSender<Update>) {
    let mut last: Option<Vec<String>> = None;
    let mut failing = false;
    let mut tick = tokio::time::interval(plan.poll);
    loop {
        tick.tick().await;
        let tcp = output(&plan.programs.ss, &["-Haptn"]).await;
        let unix = output(&plan.programs.ss, &["-Hapx"]).await;
        let (tcp, unix) = match (tcp, unix) {
            (Ok(t), Ok(u)) => (t, u),
            (Err(e), _) | (_, Err(e)) => {
                if !failing {
                    let _ = tx.send(Update::Note(format!("sockets: {e}")));
                }
                failing = true;
                continue;
            }
        };
        failing = false;
        let text = format!("{tcp}{unix}");
        let sockets = crate::ingest::formats::ss::parse_sockets(&text);
        let mut listening: Vec<String> = sockets
            .iter()
            .filter(|s| s.is_listener())
            .map(|s| {
                let who = s.processes.first().map_or("?", |p| p.name.as_str());
                format!(
                    "{} {}:{} ({who})",
                    s.netid,
                    s.local.host,
                    s.local.port.as_deref().unwrap_or("*")
                )
            })
            .collect();
        listening.sort();
        listening.dedup();
        if last.as_ref() == Some(&listening) {
            continue;
        }
        if let Some(before) = &last {
            let mut lines = Vec::new();
            for l in listening.iter().filter(|l| !before.contains(l)) {
                lines.extend(now_line(&format!("listener appeared: {l}")));
            }
            for l in before.iter().filter(|l| !listening.contains(l)) {
                lines.extend(now_line(&format!("listener vanished: {l}")));
            }
            let _ = tx.send(Update::Lines {
                name: CHANGES.into(),
                bytes: lines,
            });
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let _ = tx.send(Update::Snapshot {
            name: format!(
                "sockets/ss-{}Z.txt",
                &format_utc(now * MICROS_PER_SEC)[..19]
            ),
            bytes: text.into_bytes(),
        });
        last = Some(listening);
        if tx.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_read_from_a_journal_line() {
        let line = r#"{"__CURSOR" : "s=abc;i=1f", "MESSAGE":"x"}"#;
        assert_eq!(cursor_of(line).as_deref(), Some("s=abc;i=1f"));
        assert_eq!(cursor_of(r#"{"MESSAGE":"x"}"#), None);
    }
}
