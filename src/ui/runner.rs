//! Running one checklist command on this host, for live mode: `sh -c`, stdin closed, stderr
//! joined to stdout, at most [`MAX_OUTPUT`] bytes kept and [`TIMEOUT`] allowed, on a thread so
//! the screen stays live.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::{Duration, Instant};

pub const MAX_OUTPUT: usize = 64 * 1024;
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// What a run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub command: String,
    /// `exit 0`, `exit 1`, `killed after 20 s`, or why it could not start.
    pub status: String,
    pub output: String,
    /// More output than [`MAX_OUTPUT`] came; the rest was dropped (and said so).
    pub cut: bool,
}

/// A command on its way.
#[derive(Debug)]
pub struct Running {
    pub command: String,
    rx: Receiver<Outcome>,
}

impl Running {
    /// The outcome once the command has ended.
    pub fn poll(&self) -> Option<Outcome> {
        match self.rx.try_recv() {
            Ok(o) => Some(o),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Outcome {
                command: self.command.clone(),
                status: "lost: the runner thread ended".into(),
                output: String::new(),
                cut: false,
            }),
        }
    }
}

/// Start `command` with `sh -c`, allowed `timeout`.
pub fn spawn(command: &str, timeout: Duration) -> Running {
    let (tx, rx) = channel();
    let cmd = command.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(run(&cmd, timeout));
    });
    Running {
        command: command.to_string(),
        rx,
    }
}

fn run(command: &str, timeout: Duration) -> Outcome {
    let done = |status: String, output: String, cut: bool| Outcome {
        command: command.to_string(),
        status,
        output,
        cut,
    };
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return done(format!("could not start sh: {e}"), String::new(), false),
    };
    let Some(mut stdout) = child.stdout.take() else {
        let _ = child.kill();
        return done("no output pipe".into(), String::new(), false);
    };
    // Read on a thread of its own, so a command that never ends cannot block the timeout.
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut cut = false;
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_OUTPUT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    cut |= n > room;
                }
            }
        }
        (kept, cut)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => {
                break match s.code() {
                    Some(c) => format!("exit {c}"),
                    None => "ended by a signal".to_string(),
                };
            }
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break format!("killed after {} s", timeout.as_secs());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break format!("lost: {e}"),
        }
    };
    // A killed shell may leave a child holding the pipe: wait for the reader only briefly.
    let deadline = Instant::now() + Duration::from_secs(1);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (kept, cut) = if reader.is_finished() {
        reader.join().unwrap_or_default()
    } else {
        (Vec::new(), true)
    };
    done(status, String::from_utf8_lossy(&kept).into_owned(), cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(r: &Running) -> Outcome {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(o) = r.poll() {
                return o;
            }
            assert!(Instant::now() < deadline, "never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn output_and_errors_come_back_with_the_exit_status() {
        let o = wait(&spawn("echo out; echo err >&2; exit 3", TIMEOUT));
        assert_eq!(o.status, "exit 3");
        assert_eq!(o.output, "out\nerr\n");
        assert!(!o.cut);
    }

    #[test]
    fn a_command_that_hangs_is_killed_at_the_timeout() {
        let t = Instant::now();
        let o = wait(&spawn("sleep 30", Duration::from_millis(300)));
        assert!(o.status.starts_with("killed after"), "{o:?}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn endless_output_is_cut_at_the_limit() {
        let o = wait(&spawn("yes sitrep | head -c 200000", TIMEOUT));
        assert_eq!(o.output.len(), MAX_OUTPUT);
        assert!(o.cut);
    }
}
