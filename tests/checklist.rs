//! The guided checklist on the incident bundles: the built-in runbooks lint clean, each bundle
//! walks to the states an experienced engineer would expect (golden), the platform steps read
//! the CI, revisions and env files, and runbook files with problems are reported by line.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sitrep::analysis::checklist::runbook::Origin;
use sitrep::analysis::checklist::{BUILTIN, Checklist, Library, StepState};
use sitrep::analysis::rules::Evidence;
use sitrep::analysis::{Analysis, analyse};
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::Incident;

fn bundle(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles")
        .join(name)
}

fn analysed(name: &str) -> (Incident, Analysis) {
    let incident = load(&[bundle(name)], &LoadOptions::default()).unwrap();
    let a = analyse(&incident, Library::builtin());
    (incident, a)
}

fn walk_of(c: &Checklist, id: &str) -> usize {
    c.walks
        .iter()
        .position(|w| c.library.runbooks[w.runbook].id == id)
        .unwrap_or_else(|| panic!("no runbook {id}"))
}

fn sitrep(args: &[&str], config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("SITREP_CONFIG")
        .output()
        .unwrap()
}

/// Each applicable runbook (the chosen one marked) with each step's state and reason.
fn states(c: &Checklist) -> String {
    let mut out = String::new();
    for (i, w) in c.walks.iter().enumerate().filter(|(_, w)| w.applies) {
        let rb = c.runbook(i);
        let chosen = if c.chosen == Some(i) { " (chosen)" } else { "" };
        out.push_str(&format!("{}{chosen}\n", rb.id));
        for (step, r) in rb.steps.iter().zip(&w.steps) {
            let reason: String = r.reason.chars().take(110).collect();
            out.push_str(&format!(
                "  {} {:<28} {:<8} {reason}\n",
                r.state.mark(),
                step.id,
                r.state.word()
            ));
            if let Some(next) = &r.leads_to {
                out.push_str(&format!("      -> {next}\n"));
            }
        }
    }
    out
}

#[test]
fn every_built_in_runbook_lints_clean() {
    let lib = Library::builtin();
    assert!(lib.problems.is_empty(), "{:#?}", lib.problems);
    assert_eq!(lib.runbooks.len(), BUILTIN.len());
    let ids: Vec<&str> = lib.runbooks.iter().map(|r| r.id.as_str()).collect();
    for want in [
        "ci-failures",
        "runtime-failure",
        "connectivity",
        "rollback",
        "bad-gateway-502",
        "gateway-timeout-504",
        "unit-wont-start",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    // And through the command, as a user would check their own.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/analysis/checklist/runbooks");
    let files: Vec<String> = BUILTIN
        .iter()
        .map(|(f, _)| dir.join(f).display().to_string())
        .collect();
    let mut args = vec!["runbook", "lint"];
    args.extend(files.iter().map(String::as_str));
    let config = tempfile::tempdir().unwrap();
    let out = sitrep(&args, config.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches(": ok (").count(), BUILTIN.len(), "{stdout}");
}

#[test]
fn golden_checklist_states_of_every_bundle() {
    for name in [
        "i1-socket-mismatch",
        "i2-import-time-setting",
        "i3-daemon-reload",
        "i4-retry-storm",
        "i5-single-worker-upload",
        "i6-pipeline-platform",
        "healthy",
        "awkward",
        "restart-loop",
    ] {
        let (_, a) = analysed(name);
        insta::assert_snapshot!(format!("checklist-{name}"), states(&a.checklist));
    }
}

#[test]
fn i1_the_502_runbook_fails_where_nginx_points_elsewhere_with_the_proxy_pass_line() {
    let (incident, a) = analysed("i1-socket-mismatch");
    let c = &a.checklist;
    let w = walk_of(c, "bad-gateway-502");
    assert_eq!(c.chosen, Some(w), "the 502 runbook is the one to open");
    let rb = c.runbook(w);
    let at = c.walks[w].failed_at().unwrap();
    assert_eq!(rb.steps[at].id, "nginx-points-at-listener");
    // The step before it passed: gunicorn does listen, on its unix socket.
    assert_eq!(c.walks[w].steps[0].state, StepState::Passed);
    assert!(
        c.walks[w].steps[0]
            .reason
            .contains("unix:/run/gunicorn.sock")
    );
    let proxy_pass = c.walks[w].steps[at].evidence.iter().find_map(|e| match e {
        Evidence::Line { source, text, .. } => {
            Some((incident.sources[*source].file.clone(), text.clone()))
        }
        _ => None,
    });
    let (file, text) = proxy_pass.expect("the proxy_pass line is evidence");
    assert_eq!(file, "nginx/nginx-T.txt");
    assert!(
        text.contains("proxy_pass") && text.contains("127.0.0.1:8000"),
        "{text}"
    );
    // Commands are filled with what the bundle says.
    let cmds = &c.walks[w].steps[at].commands;
    assert!(
        cmds.iter()
            .any(|c| c.contains("systemctl cat gunicorn.service")),
        "{cmds:?}"
    );
}

#[test]
fn i4_the_504_runbook_fails_at_the_timeout_order() {
    let (_, a) = analysed("i4-retry-storm");
    let c = &a.checklist;
    let w = walk_of(c, "gateway-timeout-504");
    assert_eq!(c.chosen, Some(w));
    let rb = c.runbook(w);
    assert_eq!(
        rb.steps[c.walks[w].failed_at().unwrap()].id,
        "timeout-order"
    );
}

#[test]
fn i6_ci_revisions_and_env_feed_the_platform_runbooks() {
    let (incident, a) = analysed("i6-pipeline-platform");
    let c = &a.checklist;
    // CI: deploy-dev failed, with its record on the timeline.
    let w = walk_of(c, "ci-failures");
    assert!(c.walks[w].applies);
    let at = c.walks[w].failed_at().unwrap();
    let step = &c.walks[w].steps[at];
    assert!(
        step.reason
            .contains("deploy-dev failed at 2022-07-18T13:38:41"),
        "{}",
        step.reason
    );
    let record = step.evidence.iter().find_map(|e| match e {
        Evidence::Record { source, row } => Some((*source, *row)),
        _ => None,
    });
    let (s, r) = record.expect("the failed job's record");
    assert_eq!(incident.sources[s].file, "ci/jobs.json");
    assert_eq!(
        sitrep::model::time::format_utc(incident.sources[s].ts[r]),
        "2022-07-18T13:38:41.000000Z"
    );
    // Rollback: revision 14 is deployed; 13 is the one to go back to, and the command is
    // filled with its guid and the app's.
    let facts = &c.facts;
    assert_eq!(
        facts.values.get("deployed_revision").map(String::as_str),
        Some("14")
    );
    assert_eq!(facts.values.get("revision").map(String::as_str), Some("13"));
    assert_eq!(
        facts.values.get("app_guid").map(String::as_str),
        Some("231a5932-11a7-487e-bb2f-ebd3fdb40e4c")
    );
    let w = walk_of(c, "rollback");
    let all: Vec<&String> = c.walks[w].steps.iter().flat_map(|s| &s.commands).collect();
    let deploy = all
        .iter()
        .find(|c| c.contains("v3/deployments") && c.contains("POST"))
        .expect("the rollback command");
    assert!(
        deploy.contains("709c59de-761b-49b5-851f-2816c39e87a4")
            && deploy.contains("231a5932-11a7-487e-bb2f-ebd3fdb40e4c"),
        "{deploy}"
    );
    // One env only: the sibling comparison cannot be decided, and says what to capture.
    let w = walk_of(c, "runtime-failure");
    let env = c.walks[w]
        .steps
        .iter()
        .find(|s| s.reason.contains("sibling"))
        .expect("the env step");
    assert_eq!(env.state, StepState::Unknown);
}

#[test]
fn two_env_dumps_are_compared_without_showing_values() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    copy_dir(&bundle("i6-pipeline-platform"), &b);
    let env = std::fs::read_to_string(b.join("platform/cf-env.txt")).unwrap();
    // A healthy sibling that has one more variable and a different concurrency.
    let sibling = env
        .replace("grants-portal", "grants-portal-staging")
        .replace(
            "WEB_CONCURRENCY: 2",
            "WEB_CONCURRENCY: 4\nSCAN_TIMEOUT_S: 30",
        );
    std::fs::write(b.join("platform/cf-env-staging.txt"), sibling).unwrap();
    let incident = load(&[b], &LoadOptions::default()).unwrap();
    let a = analyse(&incident, Library::builtin());
    let c = &a.checklist;
    let w = walk_of(c, "runtime-failure");
    let step = c.walks[w]
        .steps
        .iter()
        .find(|s| {
            s.state == StepState::Failed
                && s.evidence.iter().any(
                    |e| matches!(e, Evidence::Fact(f) if f.contains("SCAN_TIMEOUT_S is missing")),
                )
        })
        .unwrap_or_else(|| panic!("{:#?}", c.walks[w].steps));
    let facts: Vec<String> = step
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Fact(f) => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert!(
        facts.iter().any(|f| f.contains("WEB_CONCURRENCY differs")),
        "{facts:?}"
    );
    assert!(
        !facts.iter().any(|f| f.contains("30") || f.contains('4')),
        "values leak: {facts:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_bad_runbook_file_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "id = \"mine\"\ntitle = \"Mine\"\n[[step]]\nid = \"a\"\ntitle = \"A\"\ncheck = { rule = \"no-such-rule\" }\n[[step]]\nid = \"b\"\ntitle = \"B\"\ncheck = { source = \"journal\", regex = \"([\" }\nnext = { fail = \"runbook:nowhere\" }\n",
    )
    .unwrap();
    let out = sitrep(&["runbook", "lint", file.to_str().unwrap()], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    let f = file.display().to_string();
    assert!(
        stdout.contains(&format!(
            "{f}:6: step \"a\": check.rule: no rule is called \"no-such-rule\""
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{f}:10: step \"b\": check.regex")),
        "{stdout}"
    );
    // A syntax error names its line too.
    std::fs::write(&file, "id = \"mine\"\ntitle = \"Mine\"\n[[step]]\nid = \n").unwrap();
    let out = sitrep(&["runbook", "lint", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{f}:4:")));
    // A `next` to a runbook that does not exist is caught once the file parses.
    std::fs::write(
        &file,
        "id = \"mine\"\ntitle = \"Mine\"\n[[step]]\nid = \"a\"\ntitle = \"A\"\ncheck = { state = \"ci-passed\" }\nnext = { fail = \"runbook:nowhere\" }\n",
    )
    .unwrap();
    let out = sitrep(&["runbook", "lint", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("{f}:7: next goes to runbook \"nowhere\""))
    );
}

#[test]
fn your_runbooks_join_the_list_and_replace_ours_by_id() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path().join("sitrep/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("502.toml"),
        "id = \"bad-gateway-502\"\ntitle = \"Our own 502 flow\"\n[[step]]\nid = \"call\"\ntitle = \"Call the app team\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.toml"), "id = \n").unwrap();
    let out = sitrep(&["runbook", "list"], config.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let line = stdout
        .lines()
        .find(|l| l.starts_with("bad-gateway-502"))
        .unwrap();
    assert!(
        line.contains("yours") && line.contains("Our own 502 flow"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1 + BUILTIN.len(), "{stdout}");
    // The broken one is reported with its file and line, and does not stop the rest.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.toml:1:"), "{stderr}");
}

#[test]
fn a_bundles_runbook_is_shown_never_chosen_and_the_bundle_is_not_changed() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    copy_dir(&bundle("i1-socket-mismatch"), &b);
    std::fs::create_dir_all(b.join("runbooks")).unwrap();
    std::fs::write(
        b.join("runbooks/ours.toml"),
        "id = \"bookshelf-502\"\ntitle = \"Bookshelf: restart everything\"\n[when]\nfindings = [\"upstream-socket-mismatch\"]\n[[step]]\nid = \"restart\"\ntitle = \"Restart\"\nchanges = true\ncommands = [\"sudo systemctl restart gunicorn nginx\"]\n",
    )
    .unwrap();
    std::fs::write(
        b.join("runbooks/bad.toml"),
        "id = \"bad\"\ntitle = \"Bad\"\n[[step]]\nid = \"a\"\ntitle = \"A\"\ncommands = [\"sudo systemctl restart nginx\"]\n",
    )
    .unwrap();
    let before = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd {} && find . -type f | sort | xargs md5sum",
            b.display()
        ))
        .output()
        .unwrap()
        .stdout;
    let incident = load(std::slice::from_ref(&b), &LoadOptions::default()).unwrap();
    // Not a log: not a source.
    assert!(
        !incident
            .sources
            .iter()
            .any(|s| s.file.contains("runbooks/"))
    );
    let lib = Library::load(None, &incident);
    // A bundle runbook with a problem is reported with its file and line, not run.
    assert!(lib.find("bad").is_none());
    assert!(
        lib.problems
            .iter()
            .any(|p| p.contains("runbooks/bad.toml:6:") && p.contains("changes = true")),
        "{:?}",
        lib.problems
    );
    let ours = lib.find("bookshelf-502").unwrap();
    assert!(matches!(lib.runbooks[ours].origin, Origin::Bundle(_)));
    let a = analyse(&incident, lib);
    let chosen = a.checklist.chosen.unwrap();
    assert_eq!(a.checklist.runbook(chosen).id, "bad-gateway-502");
    let after = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd {} && find . -type f | sort | xargs md5sum",
            b.display()
        ))
        .output()
        .unwrap()
        .stdout;
    assert_eq!(before, after);
}

#[test]
fn diagnose_json_carries_the_checklist_of_every_applicable_runbook() {
    let config = tempfile::tempdir().unwrap();
    let out = sitrep(
        &[
            "diagnose",
            bundle("i1-socket-mismatch").to_str().unwrap(),
            "--format",
            "json",
        ],
        config.path(),
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = v["checklist"].as_array().unwrap();
    let bg = list
        .iter()
        .find(|w| w["runbook"] == "bad-gateway-502")
        .unwrap();
    assert_eq!(bg["chosen"], true);
    assert_eq!(bg["failed_at"], "nginx-points-at-listener");
    let step = bg["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "nginx-points-at-listener")
        .unwrap();
    assert_eq!(step["state"], "failed");
    assert!(
        step["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "nginx/nginx-T.txt"
                && e["text"].as_str().unwrap().contains("proxy_pass"))
    );
    // Every applicable runbook is there, each with every step.
    assert!(list.len() >= 2);
    for w in list {
        assert!(!w["steps"].as_array().unwrap().is_empty());
    }
}

/// The 504 runbook's "does each layer wait longer than the one behind it" step, on a copy of
/// the I-4 bundle with `edit` applied.
fn timeout_order_of_i4_with(edit: impl Fn(&Path)) -> (StepState, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("i4");
    copy_dir(&bundle("i4-retry-storm"), &root);
    edit(&root);
    let incident = load(&[root], &LoadOptions::default()).unwrap();
    let a = analyse(&incident, Library::builtin());
    let c = &a.checklist;
    let w = walk_of(c, "gateway-timeout-504");
    let rb = c.runbook(w);
    let i = rb
        .steps
        .iter()
        .position(|s| s.id == "timeout-order")
        .unwrap();
    let r = &c.walks[w].steps[i];
    (r.state, r.reason.clone())
}

#[test]
fn a_timeout_check_without_the_app_servers_settings_is_unknown_not_passed() {
    // Nothing that sets gunicorn's timeout: no config file, no unit.
    let (state, reason) = timeout_order_of_i4_with(|root| {
        std::fs::remove_file(root.join("app/gunicorn.conf.py")).unwrap();
        std::fs::remove_dir_all(root.join("systemd")).unwrap();
    });
    assert_eq!(state, StepState::Unknown, "{reason}");
    assert!(
        reason.contains("no command line or config of gunicorn in the bundle"),
        "{reason}"
    );
    // The unit names a config file the bundle does not hold.
    let (state, reason) = timeout_order_of_i4_with(|root| {
        std::fs::remove_file(root.join("app/gunicorn.conf.py")).unwrap();
    });
    assert_eq!(state, StepState::Unknown, "{reason}");
    assert!(reason.contains("is not in the bundle"), "{reason}");
    // With everything there, the same step fails on the real values.
    let (state, reason) = timeout_order_of_i4_with(|_| {});
    assert_eq!(state, StepState::Failed, "{reason}");
}
