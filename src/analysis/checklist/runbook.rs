//! A runbook as written in TOML, and its checked form. Parsing keeps every value's position,
//! so a problem is reported with its line.
//!
//! ```toml
//! id = "bad-gateway-502"
//! title = "502 Bad Gateway"
//! summary = "nginx got no usable answer from the app server."
//! [when]
//! findings = ["upstream-unreachable"]   # any of these findings suggests the runbook
//! sources = ["nginx-error"]             # so does a source of one of these formats
//! [[step]]
//! id = "listening"
//! title = "Is the app server listening?"
//! why = "nginx can only pass a request to a socket someone listens on."
//! commands = ["ss -Hltnp", "ss -Hlxp"]
//! check = { state = "app-listening" }
//! next = { fail = "runbook:unit-wont-start" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::check::{Check, Expect, SourceSet, StateTest};
use super::facts::PLACEHOLDERS;

/// Where a runbook came from: it decides whether its commands may be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into sitrep.
    Builtin,
    /// The user's own, from the config directory.
    User(String),
    /// Shipped inside the bundle being read: shown, never trusted.
    Bundle(String),
}

impl Origin {
    pub fn label(&self) -> String {
        match self {
            Origin::Builtin => "built-in".into(),
            Origin::User(p) => format!("yours: {p}"),
            Origin::Bundle(p) => format!("from the bundle: {p}"),
        }
    }
}

/// Where a step leads on a pass or a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Another step of the same runbook, later in it (the ones between are skipped).
    Step(String),
    /// Another runbook: the walk suggests it.
    Runbook(String),
}

#[derive(Debug, Clone, Default)]
pub struct Next {
    pub pass: Option<Target>,
    pub fail: Option<Target>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub why: String,
    pub commands: Vec<String>,
    /// Its commands change the system (a restart, a rollback): sitrep never runs them, it
    /// only copies them.
    pub changes: bool,
    pub check: Option<Check>,
    pub next: Next,
}

#[derive(Debug, Clone)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub origin: Origin,
    pub when_findings: Vec<String>,
    pub when_sources: Vec<SourceSet>,
    pub steps: Vec<Step>,
}

/// A problem in a runbook file, at a 1-based line (0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    when: RawWhen,
    #[serde(default)]
    step: Vec<RawStep>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    #[serde(default)]
    findings: Vec<Spanned<String>>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    why: String,
    #[serde(default)]
    commands: Vec<Spanned<String>>,
    #[serde(default)]
    changes: bool,
    check: Option<Spanned<RawCheck>>,
    #[serde(default)]
    next: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    rule: Option<String>,
    /// Formats a rule reads: with none of them in the bundle, a silent rule proves nothing.
    #[serde(default)]
    needs: Vec<String>,
    source: Option<String>,
    unit: Option<String>,
    regex: Option<String>,
    expect: Option<String>,
    state: Option<String>,
}

/// Byte offset to 1-based line.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Read a runbook file. Every problem found is returned, each with its line.
pub fn parse(text: &str, origin: Origin, rule_ids: &[&str]) -> Result<Runbook, Vec<Problem>> {
    let raw: RawRunbook = toml::from_str(text).map_err(|e| {
        vec![Problem {
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().trim().replace('\n', " "),
        }]
    })?;
    let mut problems = Vec::new();
    let at = |s: &std::ops::Range<usize>| line_of(text, s.start);
    let id = raw.id.get_ref().clone();
    if !is_id(&id) {
        problems.push(Problem {
            line: at(&raw.id.span()),
            message: format!("runbook id {id:?}: use lower-case letters, digits and dashes"),
        });
    }
    for f in &raw.when.findings {
        if !rule_ids.contains(&f.get_ref().as_str()) {
            problems.push(Problem {
                line: at(&f.span()),
                message: format!("when.findings: no rule is called {:?}", f.get_ref()),
            });
        }
    }
    let mut when_sources = Vec::new();
    for s in &raw.when.sources {
        match SourceSet::parse(s.get_ref()) {
            Some(set) => when_sources.push(set),
            None => problems.push(Problem {
                line: at(&s.span()),
                message: format!("when.sources: {:?} {}", s.get_ref(), SourceSet::HELP),
            }),
        }
    }
    if raw.step.is_empty() {
        problems.push(Problem {
            line: 0,
            message: "the runbook has no [[step]]".into(),
        });
    }
    let step_ids: Vec<&str> = raw.step.iter().map(|s| s.id.get_ref().as_str()).collect();
    let mut steps = Vec::new();
    for (i, s) in raw.step.iter().enumerate() {
        let sid = s.id.get_ref();
        if step_ids[..i].contains(&sid.as_str()) {
            problems.push(Problem {
                line: at(&s.id.span()),
                message: format!("step id {sid:?} is used twice"),
            });
        }
        for c in &s.commands {
            if !s.changes && changes_the_system(c.get_ref()) {
                problems.push(Problem {
                    line: at(&c.span()),
                    message: format!(
                        "step {sid:?}: {:?} looks like it changes the system; mark the step changes = true (then it is only ever copied, never run)",
                        c.get_ref()
                    ),
                });
            }
            for name in placeholders(c.get_ref()) {
                if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
                    problems.push(Problem {
                        line: at(&c.span()),
                        message: format!(
                            "step {sid:?}: unknown placeholder {{{{{name}}}}}; known: {}",
                            PLACEHOLDERS
                                .iter()
                                .map(|(p, _)| *p)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        let check = match &s.check {
            None => None,
            Some(c) => match compile_check(c.get_ref(), rule_ids) {
                Ok(check) => Some(check),
                Err(message) => {
                    problems.push(Problem {
                        line: at(&c.span()),
                        message: format!("step {sid:?}: {message}"),
                    });
                    None
                }
            },
        };
        let mut next = Next::default();
        for (outcome, target) in &s.next {
            let line = at(&target.span());
            let t = match target.get_ref().strip_prefix("runbook:") {
                Some(rb) => Target::Runbook(rb.to_string()),
                None => {
                    let to = target.get_ref();
                    match step_ids.iter().position(|x| x == to) {
                        None => problems.push(Problem {
                            line,
                            message: format!(
                                "step {sid:?}: next.{outcome} goes to {to:?}, which is not a step here (another runbook is \"runbook:ID\")"
                            ),
                        }),
                        Some(j) if j <= i => problems.push(Problem {
                            line,
                            message: format!(
                                "step {sid:?}: next.{outcome} goes back to {to:?}; steps may only jump forward"
                            ),
                        }),
                        Some(_) => {}
                    }
                    Target::Step(to.clone())
                }
            };
            match outcome.as_str() {
                "pass" => next.pass = Some(t),
                "fail" => next.fail = Some(t),
                other => problems.push(Problem {
                    line,
                    message: format!(
                        "step {sid:?}: next.{other}: only pass and fail lead somewhere"
                    ),
                }),
            }
        }
        if (next.pass.is_some() || next.fail.is_some()) && s.check.is_none() {
            problems.push(Problem {
                line: at(&s.id.span()),
                message: format!(
                    "step {sid:?} has a next but no check: nothing decides pass or fail"
                ),
            });
        }
        steps.push(Step {
            id: sid.clone(),
            title: s.title.clone(),
            why: s.why.trim().to_string(),
            commands: s.commands.iter().map(|c| c.get_ref().clone()).collect(),
            changes: s.changes,
            check,
            next,
        });
    }
    for i in unreachable(&steps) {
        problems.push(Problem {
            line: at(&raw.step[i].id.span()),
            message: format!(
                "step {:?} is unreachable: every step before it jumps past it",
                steps[i].id
            ),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Runbook {
        id,
        title: raw.title,
        summary: raw.summary.trim().to_string(),
        origin,
        when_findings: raw
            .when
            .findings
            .iter()
            .map(|f| f.get_ref().clone())
            .collect(),
        when_sources,
        steps,
    })
}

/// Whether a command looks like it changes something: restarts, reloads, writes files, moves
/// releases, changes the platform. A guard for `changes = true`, not a proof of safety: a
/// step's commands are run only after the person has read them.
pub fn changes_the_system(command: &str) -> bool {
    static VERBS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(concat!(
            r"\bsystemctl\s+(\S+\s+)*(restart|reload|start|stop|enable|disable|daemon-reload|kill|mask|unmask|edit|set-property)\b",
            r"|\bservice\s+\S+\s+(restart|reload|start|stop)\b",
            r"|(^|[;&|]\s*|sudo\s+)(rm|mv|cp|ln|chmod|chown|kill|pkill|killall|tee|truncate|dd|install|mkdir|touch)\s",
            r"|\bcf\s+(push|restart|restage|rollback|add-network-policy|remove-network-policy|set-env|unset-env|bind-service|unbind-service|map-route|unmap-route|scale|delete|stop|start)\b",
            r"|\bcf\s+curl\b.*-X\s*(POST|PUT|PATCH|DELETE)",
            r"|\bterraform\s+(apply|destroy|import|init|taint|state\s+(rm|mv|push))\b",
            r"|\bgit\s+(push|reset|checkout|revert|commit|merge|rebase|clean)\b",
            r"|\b(apt|apt-get|dnf|yum|pip)\s+(install|remove|purge|upgrade)\b",
            r"|\bufw\s+(allow|deny|enable|disable|delete)\b|\biptables\s+-[AIDFRP]\b|\bnft\s+(add|delete|flush)\b",
            r"|\bnginx\s+-s\b",
        ))
        .ok()
    });
    writes_a_file(command) || VERBS.as_ref().is_some_and(|re| re.is_match(command))
}

/// A shell redirection to a file (`> f`, `>> f`), outside quotes; `2>&1` and `>/dev/null` are
/// not writes.
fn writes_a_file(command: &str) -> bool {
    let (mut single, mut double) = (false, false);
    let b = command.as_bytes();
    for (i, c) in b.iter().enumerate() {
        match c {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'>' if !single && !double => {
                let rest = command[i + 1..].trim_start_matches('>').trim_start();
                if !rest.starts_with('&') && !rest.starts_with("/dev/null") {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The `{{name}}` placeholders of a command.
pub fn placeholders(command: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = command;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            break;
        };
        out.push(after[..j].trim());
        rest = &after[j + 2..];
    }
    out
}

/// Steps no walk can reach: a step is reached from the one before it unless that one sends
/// both outcomes elsewhere, and from any step whose `next` names it.
fn unreachable(steps: &[Step]) -> Vec<usize> {
    let n = steps.len();
    let mut reached = vec![false; n];
    if n > 0 {
        reached[0] = true;
    }
    let index = |t: &Option<Target>| match t {
        Some(Target::Step(id)) => steps.iter().position(|s| &s.id == id),
        _ => None,
    };
    for i in 0..n {
        if !reached[i] {
            continue;
        }
        let s = &steps[i];
        let (p, f) = (index(&s.next.pass), index(&s.next.fail));
        for j in [p, f].into_iter().flatten() {
            if j > i {
                reached[j] = true;
            }
        }
        // The next step follows unless both outcomes jump elsewhere.
        let both = matches!(s.next.pass, Some(Target::Step(_)))
            && matches!(s.next.fail, Some(Target::Step(_)));
        if i + 1 < n && !both {
            reached[i + 1] = true;
        }
    }
    (0..n).filter(|i| !reached[*i]).collect()
}

fn compile_check(c: &RawCheck, rule_ids: &[&str]) -> Result<Check, String> {
    let kinds = [c.rule.is_some(), c.source.is_some(), c.state.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if kinds != 1 {
        return Err("a check is exactly one of rule = \"ID\", source = \"...\" (with regex), or state = \"...\"".into());
    }
    if let Some(unit) = &c.unit
        && let Some(bad) = placeholders(unit)
            .into_iter()
            .find(|p| !PLACEHOLDERS.iter().any(|(k, _)| k == p))
    {
        return Err(format!("check.unit: unknown placeholder {{{{{bad}}}}}"));
    }
    let needs = c
        .needs
        .iter()
        .map(|n| SourceSet::parse(n).ok_or_else(|| format!("needs: {n:?} {}", SourceSet::HELP)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(rule) = &c.rule {
        if !rule_ids.contains(&rule.as_str()) {
            return Err(format!("check.rule: no rule is called {rule:?}"));
        }
        if c.regex.is_some() || c.unit.is_some() || c.expect.is_some() {
            return Err("a rule check takes only needs".into());
        }
        return Ok(Check::Rule {
            id: rule.clone(),
            needs,
        });
    }
    if let Some(source) = &c.source {
        let set = SourceSet::parse(source)
            .ok_or_else(|| format!("check.source: {source:?} {}", SourceSet::HELP))?;
        let pattern = c
            .regex
            .as_deref()
            .ok_or("a source check needs regex = \"...\"")?;
        let regex = regex::Regex::new(pattern)
            .map_err(|e| format!("check.regex: {}", e.to_string().replace('\n', " ")))?;
        let expect = match c.expect.as_deref() {
            None | Some("present") => Expect::Present,
            Some("absent") => Expect::Absent,
            Some(other) => return Err(format!("check.expect: {other:?}: use present or absent")),
        };
        return Ok(Check::Match {
            source: set,
            unit: c.unit.clone(),
            regex,
            expect,
        });
    }
    let name = c.state.as_deref().unwrap_or_default();
    let test = StateTest::parse(name, c.unit.as_deref())?;
    if c.regex.is_some() || c.expect.is_some() {
        return Err("a state check takes only unit".into());
    }
    Ok(Check::State(test))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[&str] = &["upstream-socket-mismatch", "unit-failed"];

    fn problems(text: &str) -> Vec<Problem> {
        parse(text, Origin::Builtin, RULES)
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn a_good_runbook_parses() {
        let rb = parse(
            r#"
id = "t"
title = "T"
[when]
findings = ["unit-failed"]
sources = ["journal"]
[[step]]
id = "a"
title = "A"
commands = ["systemctl status {{unit}}"]
check = { state = "unit-active", unit = "gunicorn.service" }
next = { pass = "c" }
[[step]]
id = "b"
title = "B"
check = { source = "journal", regex = "Traceback", expect = "absent" }
[[step]]
id = "c"
title = "C"
check = { rule = "upstream-socket-mismatch", needs = ["nginx-config"] }
next = { fail = "runbook:other" }
"#,
            Origin::Builtin,
            RULES,
        )
        .unwrap();
        assert_eq!(rb.steps.len(), 3);
        assert_eq!(rb.steps[0].next.pass, Some(Target::Step("c".into())));
        assert_eq!(rb.steps[2].next.fail, Some(Target::Runbook("other".into())));
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let p = problems("id = \"t\"\ntitle = \"T\"\n[[step]]\nid = \"a\"\ntitle = \n");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, 5, "{p:?}");
    }

    #[test]
    fn unknown_rules_bad_regexes_and_placeholders_are_reported_at_their_lines() {
        let p = problems(
            r#"id = "t"
title = "T"
[[step]]
id = "a"
title = "A"
check = { rule = "no-such-rule" }
[[step]]
id = "b"
title = "B"
check = { source = "journal", regex = "(unclosed" }
[[step]]
id = "c"
title = "C"
commands = ["echo {{nope}}"]
"#,
        );
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![6, 10, 14], "{p:?}");
        assert!(p[0].message.contains("no-such-rule"));
        assert!(p[1].message.contains("regex"));
        assert!(p[2].message.contains("nope"));
    }

    #[test]
    fn unreachable_and_backward_steps_are_reported() {
        let p = problems(
            r#"id = "t"
title = "T"
[[step]]
id = "a"
title = "A"
check = { state = "app-listening" }
next = { pass = "c", fail = "c" }
[[step]]
id = "b"
title = "B"
[[step]]
id = "c"
title = "C"
check = { state = "app-listening" }
next = { fail = "a" }
"#,
        );
        assert!(
            p.iter().any(|p| p.line == 15 && p.message.contains("back")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|p| p.line == 9 && p.message.contains("unreachable")),
            "{p:?}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let p = problems("id = \"t\"\ntitle = \"T\"\ncolour = 1\n");
        assert!(p[0].message.contains("colour"), "{p:?}");
        assert_eq!(p[0].line, 3);
    }

    #[test]
    fn commands_that_change_the_system_must_be_marked() {
        for cmd in [
            "sudo systemctl daemon-reload && sudo systemctl restart gunicorn",
            "cf add-network-policy a b --protocol tcp --port 9000",
            "cf curl v3/deployments -X POST -d '{}'",
            "sudo ln -sfn /srv/app/releases/1 /srv/app/current",
            "echo x > /etc/nginx/conf.d/a.conf",
            "terraform apply",
            "sudo nginx -s reload",
        ] {
            assert!(changes_the_system(cmd), "{cmd}");
        }
        for cmd in [
            "sudo ss -Hltnp",
            "systemctl status gunicorn --no-pager",
            "sudo nginx -T 2>/dev/null | grep -n proxy_pass",
            "journalctl -u gunicorn --since '-1h' 2>&1 | tail",
            "cf curl v3/deployments?app_guids=x",
            "terraform plan -lock=false",
            "systemctl show gunicorn -p NeedDaemonReload",
            "awk '$9 >= 500 { print $1 }' /var/log/nginx/access.log | sort",
            "curl -s -o /dev/null -w '%{http_code}' http://x/ 2>&1",
        ] {
            assert!(!changes_the_system(cmd), "{cmd}");
        }
        let p = problems(
            "id = \"t\"\ntitle = \"T\"\n[[step]]\nid = \"a\"\ntitle = \"A\"\ncommands = [\"sudo systemctl restart x\"]\n",
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, 6);
        assert!(p[0].message.contains("changes = true"));
    }

    #[test]
    fn placeholders_are_found() {
        assert_eq!(
            placeholders("cf curl -d '{\"a\":{\"guid\":\"{{revision_guid}}\"}}' {{ app }}"),
            vec!["revision_guid", "app"]
        );
    }
}
