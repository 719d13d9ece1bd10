//! `unit-failed`: a systemd unit is in the `failed` state at capture (or at the end of the
//! data), or it keeps dying: three or more non-zero exits of its main process in the journal (a
//! restart loop). Evidence: its state, result and exit status as sitrep reconstructed them, the
//! journal lines systemd wrote about the failure (`Main process exited...`, `Failed with
//! result...`) and the unit's own last journal lines before it failed.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::analysis::state::UnitState;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{UNTIMED, format_utc};

pub struct UnitFailed;

/// How many exits make a restart loop.
const LOOP_EXITS: usize = 3;

const EXITS: Lookout = Lookout {
    name: "unit-failed/exits",
    formats: FormatId::JOURNALS,
    words: &["Main process exited"],
};

/// systemd's own lines about `unit` failing.
fn is_failure_message(text: &str, unit: &str) -> bool {
    let about = |what: &str| text.contains(&format!("{unit}: {what}"));
    about("Main process exited")
        || about("Failed with result")
        || about("Start request repeated too quickly")
        || about("Scheduled restart job")
        || about("Control process exited")
}

/// A non-zero exit of the main process.
fn is_bad_exit(text: &str, unit: &str) -> bool {
    text.contains(&format!("{unit}: Main process exited")) && !text.contains("status=0/SUCCESS")
}

/// The units a journal record belongs to (the writer's unit, the unit systemd writes about).
fn units_of(cx: &Context, r: (usize, usize)) -> Vec<String> {
    let s = &cx.incident.sources[r.0];
    if !matches!(s.format, FormatId::JournalJson | FormatId::JournalExport) {
        return Vec::new();
    }
    cx.incident
        .fields(r.0, r.1)
        .into_iter()
        .filter(|(k, v)| {
            matches!(k.as_str(), "_SYSTEMD_UNIT" | "UNIT" | "USER_UNIT" | "unit") && !v.is_empty()
        })
        .map(|(_, v)| v)
        .collect()
}

/// The record is written by `unit` itself (its stdout/stderr), not by systemd about it.
fn written_by(cx: &Context, r: (usize, usize), unit: &str) -> bool {
    let s = &cx.incident.sources[r.0];
    if matches!(s.format, FormatId::JournalJson | FormatId::JournalExport) {
        return cx
            .incident
            .fields(r.0, r.1)
            .iter()
            .any(|(k, v)| k == "_SYSTEMD_UNIT" && v == unit);
    }
    // Short formats: the identifier is the unit's name without its suffix.
    let stem = unit.rsplit_once('.').map_or(unit, |(s, _)| s);
    let text = cx.text(r);
    text.contains(&format!(" {stem}[")) || text.starts_with(&format!("{stem}["))
}

fn describe(st: &UnitState) -> String {
    let mut s = format!("{}: {} ({})", st.unit, st.active, st.sub);
    if let Some(r) = &st.result {
        s.push_str(&format!(", result {r}"));
    }
    if let Some(e) = &st.exit_status {
        s.push_str(&format!(", main process status {e}"));
    }
    if let Some(t) = st.since {
        s.push_str(&format!(", since {}", format_utc(t)));
    }
    s
}

impl Rule for UnitFailed {
    fn id(&self) -> &'static str {
        "unit-failed"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&EXITS]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let end = cx.end();
        // (host, unit) of every failed unit at the end, then restart loops.
        let mut targets: Vec<UnitState> = cx
            .units
            .at(end)
            .into_iter()
            .filter(UnitState::failed)
            .collect();
        let mut exits: Vec<(String, String, usize)> = Vec::new();
        for r in cx.records_with(&EXITS) {
            let text = cx.text(r);
            if !text.contains(": Main process exited") {
                continue;
            }
            let host = &cx.incident.sources[r.0].host;
            for u in units_of(cx, r) {
                if is_bad_exit(&text, &u) {
                    match exits.iter_mut().find(|e| &e.0 == host && e.1 == u) {
                        Some(e) => e.2 += 1,
                        None => exits.push((host.clone(), u, 1)),
                    }
                    break;
                }
            }
        }
        for (host, unit, n) in &exits {
            if *n >= LOOP_EXITS
                && !targets.iter().any(|t| &t.host == host && &t.unit == unit)
                && let Some(st) = cx.units.unit_at(host, unit, end)
            {
                targets.push(st);
            }
        }
        targets
            .into_iter()
            .map(|st| {
                let n = exits
                    .iter()
                    .find(|e| e.0 == st.host && e.1 == st.unit)
                    .map_or(0, |e| e.2);
                self.finding(cx, &st, n)
            })
            .collect()
    }
}

impl UnitFailed {
    fn finding(&self, cx: &Context, st: &UnitState, exits: usize) -> Finding {
        let unit = st.unit.as_str();
        // Both tests below need the unit's name without its suffix in the text.
        let stem = [unit.rsplit_once('.').map_or(unit, |(s, _)| s)];
        let mine: Vec<(usize, usize)> = cx
            .records_holding(FormatId::JOURNALS, &stem)
            .filter(|r| cx.incident.sources[r.0].host == st.host)
            .filter(|r| {
                let t = cx.text(*r);
                t.contains(unit) || written_by(cx, *r, unit)
            })
            .collect();
        let failure_msgs: Vec<(usize, usize)> = mine
            .iter()
            .copied()
            .filter(|r| is_failure_message(&cx.text(*r), unit))
            .collect();
        // The last failure, and what the unit itself said right before it.
        let failed_at = failure_msgs.last().map(|r| cx.time(*r));
        let own_before: Vec<(usize, usize)> = mine
            .iter()
            .copied()
            .filter(|r| written_by(cx, *r, unit))
            .filter(|r| failed_at.is_none_or(|t| cx.time(*r) <= t || t == UNTIMED))
            .collect();
        let mut evidence = vec![Evidence::Fact(describe(st))];
        if exits > 0 {
            evidence.push(Evidence::Fact(format!(
                "{exits} non-zero exit(s) of the main process in the journal"
            )));
        }
        let tail = &own_before[own_before.len().saturating_sub(3)..];
        evidence.extend(tail.iter().map(Evidence::from));
        let last_failure = &failure_msgs[failure_msgs.len().saturating_sub(3)..];
        evidence.extend(last_failure.iter().map(Evidence::from));
        let how = match (&st.result, &st.exit_status) {
            (Some(r), Some(e)) => format!(" (result {r}, status {e})"),
            (Some(r), None) => format!(" (result {r})"),
            (None, Some(e)) => format!(" (status {e})"),
            (None, None) => String::new(),
        };
        let when = st
            .since
            .or(failed_at)
            .filter(|t| *t != UNTIMED)
            .map_or(String::new(), |t| {
                format!(" since {}", format_utc(t).get(11..19).unwrap_or("?"))
            });
        let (title, explanation) = if st.failed() {
            (
                format!("{unit} is failed{how}{when}"),
                format!(
                    "systemd started {unit}, but its main process exited with an error and \
                     systemd gave up on it, so whatever it serves is down. The lines it printed \
                     just before the failure usually name the reason; fix that, then run \
                     `systemctl restart {unit}` and check it stays active."
                ),
            )
        } else {
            (
                format!("{unit} is in a restart loop: {exits} failed exits{how}"),
                format!(
                    "{unit} keeps exiting with an error and systemd keeps starting it again. \
                     Between restarts nothing serves its requests, and each restart hides the \
                     previous crash. Read the lines it prints before each exit to find the \
                     cause; restarting it again will not help."
                ),
            )
        };
        Finding {
            id: self.id(),
            severity: Severity::Error,
            depth: Depth::State,
            title,
            explanation,
            evidence,
            next: vec![
                format!("systemctl status {unit}"),
                format!("journalctl -u {unit} -n 50 --no-pager"),
                format!("systemctl cat {unit}"),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rules::Context;

    fn run(name: &str) -> Vec<Finding> {
        crate::analysis::rules::run_on_bundle(&UnitFailed, name)
    }

    #[test]
    fn i2_gunicorn_failed_with_exit_code() {
        let f = run("i2-import-time-setting");
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert!(
            f.title.starts_with("gunicorn.service is failed"),
            "{}",
            f.title
        );
        assert!(f.title.contains("exit-code"), "{}", f.title);
        assert!(f.title.contains("1/FAILURE"), "{}", f.title);
        assert!(f.title.contains("08:19:22"), "{}", f.title);
        let records = f
            .evidence
            .iter()
            .filter(|e| matches!(e, Evidence::Record { .. }))
            .count();
        assert!((3..=6).contains(&records), "{f:#?}");
        assert_eq!(f.depth, Depth::State);
    }

    #[test]
    fn i1_and_i3() {
        let f = run("i1-socket-mismatch");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.starts_with("gunicorn.service is failed"));
        let f = run("i3-daemon-reload");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.starts_with("api-cachewarm.service is failed"));
    }

    #[test]
    fn silent_when_healthy() {
        assert!(run("healthy").is_empty());
    }

    #[test]
    fn restart_loop_of_an_active_unit() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |t: u64, unit_field: &str, msg: &str| {
            serde_json::json!({
                "__REALTIME_TIMESTAMP": t.to_string(),
                "_HOSTNAME": "w1",
                "SYSLOG_IDENTIFIER": "systemd",
                "_PID": "1",
                "_SYSTEMD_UNIT": "init.scope",
                "UNIT": unit_field,
                "PRIORITY": "6",
                "MESSAGE": msg,
            })
            .to_string()
        };
        let mut lines = Vec::new();
        let base = 1_681_385_000_000_000u64;
        for i in 0..4u64 {
            let t = base + i * 10_000_000;
            lines.push(entry(t, "app.service", "Started app.service - App."));
            lines.push(entry(
                t + 1_000_000,
                "app.service",
                "app.service: Main process exited, code=exited, status=2/INVALIDARGUMENT",
            ));
            lines.push(entry(
                t + 1_000_100,
                "app.service",
                "app.service: Failed with result 'exit-code'.",
            ));
            lines.push(entry(
                t + 5_000_000,
                "app.service",
                "app.service: Scheduled restart job, restart counter is at 1.",
            ));
        }
        lines.push(entry(
            base + 50_000_000,
            "app.service",
            "Started app.service - App.",
        ));
        std::fs::create_dir_all(dir.path().join("journal")).unwrap();
        std::fs::write(
            dir.path().join("manifest.toml"),
            "host = \"w1\"\ncaptured_at = \"2023-04-13T11:30:00Z\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("journal/journal.json"),
            lines.join("\n") + "\n",
        )
        .unwrap();
        let f = crate::analysis::rules::run_on_path(&UnitFailed, dir.path());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title.contains("app.service is in a restart loop: 4"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn every_rule_of_this_set_runs_on_every_bundle() {
        use crate::analysis::rules::{
            Rule, app_boot_failure::AppBootFailure, daemon_reload_needed::DaemonReloadNeeded,
            socket_missing::SocketMissing, worker_timeout::WorkerTimeout,
        };
        let rules: [&dyn Rule; 5] = [
            &AppBootFailure,
            &UnitFailed,
            &WorkerTimeout,
            &DaemonReloadNeeded,
            &SocketMissing,
        ];
        for b in [
            "awkward",
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "i6-pipeline-platform",
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/bundles")
                .join(b);
            let incident = crate::ingest::load(&[path], &Default::default()).unwrap();
            let cx = Context::new(&incident);
            for r in rules {
                let found = r.check(&cx);
                if matches!(b, "healthy" | "awkward" | "i6-pipeline-platform") {
                    assert!(found.is_empty(), "{b} {}: {found:#?}", r.id());
                }
                for f in found {
                    assert!(!f.title.is_empty() && !f.next.is_empty());
                    assert!(f.evidence.len() <= 12, "{b} {}", r.id());
                }
            }
        }
    }
}
