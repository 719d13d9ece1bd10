//! Units and sockets as state over time, not lines: the snapshots a bundle holds (`systemctl
//! list-units`, `show`, `status`, `ss`), taken at capture, plus the unit state changes systemd
//! wrote to the journal. [`Units`] answers "what state was each unit in at time t";
//! [`Sockets`] (and [`listeners`]) "what was listening at time t".
//!
//! Going back in time: the snapshot is the state at capture; before it, a unit is in the state
//! set by its latest journal change at or before t; before its first change, in the state that
//! change implies came before it (a first `Stopping` means it was running, a first `Starting`
//! that it was not). Every host is read separately; units are keyed by (host, unit).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::ingest::formats::ss::{Endpoint, Process, Socket, parse_sockets};
use crate::ingest::formats::systemctl_list_units::{UnitRow, is_unit_name, parse_units};
use crate::ingest::formats::systemctl_show::{UnitProps, parse_show};
use crate::ingest::formats::systemctl_status::{UnitStatus, parse_status};
use crate::ingest::timestamp::ymd_hms;
use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::source::{Source, flag};
use crate::model::time::{MICROS_PER_SEC, Micros, Offset, TzReason, UNTIMED, parse_instant};

// ---------------------------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------------------------

/// One unit as of a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitState {
    pub host: String,
    pub unit: String,
    /// `loaded`, `not-found`, `masked`...; empty when only the journal names the unit.
    pub load: String,
    /// `active`, `inactive`, `failed`, `activating`, `deactivating`, `reloading`.
    pub active: String,
    /// `running`, `dead`, `failed`, `exited`, `listening`, `auto-restart`, `start`...
    pub sub: String,
    /// `success`, `exit-code`, `signal`, `timeout`... when known.
    pub result: Option<String>,
    /// The main process's exit, as systemd prints it: `1/FAILURE`, `9/KILL`.
    pub exit_status: Option<String>,
    /// When it entered this state, if known.
    pub since: Option<Micros>,
    pub description: String,
    /// The unit is in the host's systemctl snapshot; `false` when only the journal names it.
    pub in_snapshot: bool,
}

impl UnitState {
    pub fn failed(&self) -> bool {
        self.active == "failed" || self.sub == "failed"
    }

    /// A unit known from the journal only, in no state yet.
    fn unknown(host: &str, unit: &str, description: Option<&str>) -> UnitState {
        UnitState {
            host: host.to_string(),
            unit: unit.to_string(),
            load: String::new(),
            active: "inactive".into(),
            sub: "dead".into(),
            result: None,
            exit_status: None,
            since: None,
            description: description.unwrap_or_default().to_string(),
            in_snapshot: false,
        }
    }

    fn from_row(host: &str, row: &UnitRow) -> UnitState {
        UnitState {
            host: host.to_string(),
            unit: row.unit.clone(),
            load: row.load.clone(),
            active: row.active.clone(),
            sub: row.sub.clone(),
            result: None,
            exit_status: None,
            since: None,
            description: row.description.clone(),
            in_snapshot: true,
        }
    }

    fn set(&mut self, active: &str, sub: &str) {
        self.active = active.to_string();
        self.sub = sub.to_string();
    }
}

/// One unit's state over time: `initial` until the first step, then each step's state.
#[derive(Debug)]
struct History {
    initial: UnitState,
    steps: Vec<Step>,
}

#[derive(Debug)]
struct Step {
    t: Micros,
    state: UnitState,
    /// Set by a journal message (the snapshot step is not).
    journal: bool,
}

impl History {
    fn at(&self, t: Micros) -> &UnitState {
        match self.steps.partition_point(|s| s.t <= t) {
            0 => &self.initial,
            i => &self.steps[i - 1].state,
        }
    }
}

/// Unit state over time for every host of an incident. Built once per load.
#[derive(Debug, Default)]
pub struct Units {
    /// Ordered by (unit, host).
    histories: Vec<History>,
    changes: Vec<(Micros, String, String, String)>,
}

impl Units {
    /// Read every host's snapshots and journal messages about units.
    pub fn build(incident: &Incident) -> Units {
        let mut histories = Vec::new();
        for host in host_names(incident) {
            let snap = Snapshot::read(incident, &host);
            let events = journal_events(incident, &host, &snap.descriptions);
            let t_snap = snapshot_time(incident, &host);
            let mut keys: Vec<&String> = snap.units.keys().chain(events.keys()).collect();
            keys.sort();
            keys.dedup();
            for unit in keys {
                let (evs, desc) = match events.get(unit) {
                    Some((e, d)) => (e.as_slice(), d.as_deref()),
                    None => (&[][..], None),
                };
                let base = snap.units.get(unit);
                histories.push(history(&host, unit, base, t_snap, evs, desc));
            }
        }
        histories.sort_by(|a, b| {
            (&a.initial.unit, &a.initial.host).cmp(&(&b.initial.unit, &b.initial.host))
        });
        let changes = collect_changes(&histories);
        Units { histories, changes }
    }

    /// Every unit as of `t`: failed units first, then by unit name (then host).
    pub fn at(&self, t: Micros) -> Vec<UnitState> {
        let mut v: Vec<UnitState> = self.histories.iter().map(|h| h.at(t).clone()).collect();
        v.sort_by_key(|s| !s.failed());
        v
    }

    /// One unit of one host as of `t`.
    pub fn unit_at(&self, host: &str, unit: &str, t: Micros) -> Option<UnitState> {
        self.histories
            .iter()
            .find(|h| h.initial.host == host && h.initial.unit == unit)
            .map(|h| h.at(t).clone())
    }

    /// Changes of the ACTIVE state read from the journal, in time order:
    /// `(time, host, unit, "active -> failed")`.
    pub fn changes(&self) -> Vec<(Micros, String, String, String)> {
        self.changes.clone()
    }

    /// Number of (host, unit) pairs known.
    pub fn len(&self) -> usize {
        self.histories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.histories.is_empty()
    }
}

fn collect_changes(histories: &[History]) -> Vec<(Micros, String, String, String)> {
    let mut out = Vec::new();
    for h in histories {
        let mut prev = &h.initial;
        for s in &h.steps {
            if s.journal && s.state.active != prev.active {
                let what = format!("{} -> {}", prev.active, s.state.active);
                out.push((s.t, s.state.host.clone(), s.state.unit.clone(), what));
            }
            prev = &s.state;
        }
    }
    out.sort_by(|a, b| (a.0, &a.1, &a.2).cmp(&(b.0, &b.1, &b.2)));
    out
}

/// Host names in the incident's order (also hosts that only sources name).
fn host_names(incident: &Incident) -> Vec<String> {
    let mut names: Vec<String> = incident.hosts.iter().map(|h| h.name.clone()).collect();
    for s in &incident.sources {
        if !names.contains(&s.host) {
            names.push(s.host.clone());
        }
    }
    names
}

/// When a host's snapshots were taken: its `captured_at`, else its last record's time.
fn snapshot_time(incident: &Incident, host: &str) -> Option<Micros> {
    let captured = incident
        .hosts
        .iter()
        .find(|h| h.name == host)
        .and_then(|h| h.captured_at);
    captured.or_else(|| {
        incident
            .sources
            .iter()
            .filter(|s| s.host == host)
            .filter_map(Source::last_time)
            .max()
    })
}

/// The host's own zone, as settled for its zone-less logs (manifest, `--tz`, another log):
/// how systemctl's `Tue 2023-05-02 09:19:22 BST` is read.
fn host_zone(incident: &Incident, host: &str) -> Option<Offset> {
    incident
        .sources
        .iter()
        .filter(|s| s.host == host)
        .find(|s| {
            matches!(
                s.zone.reason,
                TzReason::Manifest | TzReason::Flag | TzReason::SameProgram | TzReason::SameHost
            )
        })
        .and_then(|s| s.zone.offset)
}

/// Build one unit's history from its snapshot state (if any) and its journal events (in time
/// order).
fn history(
    host: &str,
    unit: &str,
    snapshot: Option<&UnitState>,
    t_snap: Option<Micros>,
    events: &[(Micros, Event)],
    description: Option<&str>,
) -> History {
    let base = snapshot
        .cloned()
        .unwrap_or_else(|| UnitState::unknown(host, unit, description));
    let (pre, post) = match (snapshot, t_snap) {
        (Some(_), Some(ts)) => events.split_at(events.partition_point(|(t, _)| *t <= ts)),
        _ => (events, &[][..]),
    };
    // Before the first change: what it implies came before it, else the snapshot state.
    let initial = match pre.first() {
        Some((_, e)) => implied_before(e, &base),
        None => base.clone(),
    };
    let mut steps = Vec::with_capacity(events.len() + 1);
    let mut cur = initial.clone();
    for (t, e) in pre {
        cur = apply(e, &cur, *t);
        steps.push(Step {
            t: *t,
            state: cur.clone(),
            journal: true,
        });
    }
    if let (Some(snap), Some(ts)) = (snapshot, t_snap) {
        let snap = reconcile(snap, (!pre.is_empty()).then_some(&cur));
        steps.push(Step {
            t: ts,
            state: snap.clone(),
            journal: false,
        });
        cur = snap;
    }
    for (t, e) in post {
        cur = apply(e, &cur, *t);
        steps.push(Step {
            t: *t,
            state: cur.clone(),
            journal: true,
        });
    }
    History { initial, steps }
}

/// The snapshot state, with what it lacks (since, result, exit status) taken from the state
/// the journal last set when the two agree.
fn reconcile(snap: &UnitState, last: Option<&UnitState>) -> UnitState {
    let mut s = snap.clone();
    if let Some(last) = last
        && last.active == s.active
        && last.sub == s.sub
    {
        s.since = s.since.or(last.since);
        if s.result.is_none() {
            s.result.clone_from(&last.result);
        }
        if s.exit_status.is_none() {
            s.exit_status.clone_from(&last.exit_status);
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Snapshots: list-units, show, status
// ---------------------------------------------------------------------------------------------

/// One host's units as captured, and their descriptions (to read journal lines that name a
/// unit by its description).
#[derive(Debug, Default)]
struct Snapshot {
    units: BTreeMap<String, UnitState>,
    descriptions: HashMap<String, String>,
}

impl Snapshot {
    fn read(incident: &Incident, host: &str) -> Snapshot {
        let zone = host_zone(incident, host);
        let mut snap = Snapshot::default();
        let of = |f: FormatId| {
            incident
                .sources
                .iter()
                .filter(move |s| s.host == host && s.format == f)
        };
        for s in of(FormatId::SystemctlListUnits) {
            for row in parse_units(&String::from_utf8_lossy(&s.data)) {
                snap.units
                    .insert(row.unit.clone(), UnitState::from_row(host, &row));
            }
        }
        for s in of(FormatId::SystemctlStatus) {
            for u in parse_status(&String::from_utf8_lossy(&s.data)) {
                if is_plain_unit_name(&u.unit) {
                    apply_status(snap.entry(host, &u.unit), &u, zone);
                }
            }
        }
        for s in of(FormatId::SystemctlShow) {
            for p in parse_show(&String::from_utf8_lossy(&s.data)) {
                if let Some(id) = p.id().filter(|id| is_plain_unit_name(id)) {
                    let id = id.to_string();
                    apply_show(snap.entry(host, &id), &p, zone);
                }
            }
        }
        for (unit, st) in &snap.units {
            if !st.description.is_empty() {
                snap.descriptions
                    .entry(st.description.clone())
                    .or_insert_with(|| unit.clone());
            }
        }
        snap
    }

    fn entry(&mut self, host: &str, unit: &str) -> &mut UnitState {
        self.units.entry(unit.to_string()).or_insert_with(|| {
            let mut s = UnitState::unknown(host, unit, None);
            s.in_snapshot = true;
            s
        })
    }
}

/// Refine a unit from `systemctl show`.
fn apply_show(st: &mut UnitState, p: &UnitProps, zone: Option<Offset>) {
    let get = |k: &str| p.get(k).map(str::trim).filter(|v| !v.is_empty());
    if let Some(v) = get("LoadState") {
        st.load = v.to_string();
    }
    if let Some(v) = get("ActiveState") {
        st.active = v.to_string();
    }
    if let Some(v) = get("SubState") {
        st.sub = v.to_string();
    }
    if let Some(v) = get("Description") {
        st.description = v.to_string();
    }
    if let Some(v) = get("Result") {
        st.result = Some(v.to_string());
    }
    st.exit_status = show_exit_status(p).or(st.exit_status.take());
    let key = match st.active.as_str() {
        "active" | "reloading" | "refreshing" => "ActiveEnterTimestamp",
        "inactive" | "failed" => "InactiveEnterTimestamp",
        "activating" => "InactiveExitTimestamp",
        "deactivating" => "ActiveExitTimestamp",
        _ => "StateChangeTimestamp",
    };
    let since = get(key)
        .or_else(|| get("StateChangeTimestamp"))
        .and_then(|v| systemd_time(v, zone));
    st.since = since.or(st.since);
}

/// `1/FAILURE` when the main process has exited (`ExecMainCode` 1 exited, 2 killed, 3 dumped):
/// the `status=` systemd printed in `ExecStart=`, else the number and its name.
fn show_exit_status(p: &UnitProps) -> Option<String> {
    let code: u8 = p.get("ExecMainCode")?.trim().parse().ok()?;
    if !(1..=3).contains(&code) {
        return None;
    }
    let printed = p.get("ExecStart").and_then(|v| {
        let at = v.find("status=")?;
        let s = v[at + 7..].split([' ', ';', '}']).next()?;
        (!s.is_empty()).then(|| s.to_string())
    });
    printed.or_else(|| {
        let n = p.exec_main_status()?;
        Some(status_text(code == 1, n))
    })
}

/// `1/FAILURE`, `9/KILL`: an exit code or signal number with systemd's name for it.
fn status_text(exited: bool, n: i32) -> String {
    let name = if exited {
        match n {
            0 => "SUCCESS",
            1 => "FAILURE",
            2 => "INVALIDARGUMENT",
            3 => "NOTIMPLEMENTED",
            4 => "NOPERMISSION",
            5 => "NOTINSTALLED",
            6 => "NOTCONFIGURED",
            7 => "NOTRUNNING",
            200 => "CHDIR",
            203 => "EXEC",
            209 => "STDOUT",
            217 => "USER",
            226 => "NAMESPACE",
            _ => "",
        }
    } else {
        match n {
            1 => "HUP",
            2 => "INT",
            3 => "QUIT",
            4 => "ILL",
            6 => "ABRT",
            7 => "BUS",
            8 => "FPE",
            9 => "KILL",
            11 => "SEGV",
            13 => "PIPE",
            14 => "ALRM",
            15 => "TERM",
            _ => "",
        }
    };
    if name.is_empty() {
        n.to_string()
    } else {
        format!("{n}/{name}")
    }
}

/// Refine a unit from `systemctl status`.
fn apply_status(st: &mut UnitState, u: &UnitStatus, zone: Option<Offset>) {
    if let Some(load) = u
        .loaded
        .as_deref()
        .and_then(|l| l.split_whitespace().next())
    {
        st.load = load.to_string();
    }
    if let Some(a) = &u.active {
        st.active.clone_from(a);
    }
    match u.sub.as_deref() {
        // `failed (Result: exit-code)`: the sub state is not printed, the result is.
        Some(sub) if sub.starts_with("Result:") => match st.active.as_str() {
            "failed" => st.sub = "failed".into(),
            "inactive" => st.sub = "dead".into(),
            _ => {}
        },
        Some(sub) => st.sub = sub.to_string(),
        None => {}
    }
    if u.result.is_some() {
        st.result.clone_from(&u.result);
    }
    if !u.description.is_empty() {
        st.description.clone_from(&u.description);
    }
    let since = u
        .since_utc
        .or_else(|| u.since.as_deref().and_then(|s| systemd_time(s, zone)));
    st.since = since.or(st.since);
    // `Main PID: 41869 (code=exited, status=1/FAILURE)`.
    if let Some(note) = &u.main_pid_note
        && let Some(at) = note.find("status=")
    {
        let s = note[at + 7..].trim_end_matches(')');
        let s = s.split([',', ' ', ')']).next().unwrap_or_default();
        if !s.is_empty() {
            st.exit_status = Some(s.to_string());
        }
    }
}

/// `Tue 2023-05-02 09:19:22 BST` as systemctl prints times. A zone given as an offset or
/// UTC/GMT is read as such; a zone name (`BST`, `IST`, `CEST`) is the host's own zone, so it
/// is read with `zone` when that is known.
fn systemd_time(s: &str, zone: Option<Offset>) -> Option<Micros> {
    let b = s.as_bytes();
    let at = b.iter().position(u8::is_ascii_digit)?;
    let (naive, used) = ymd_hms(&b[at..], b'-')?;
    let rest = s.get(at + used..)?.trim();
    let off = match Offset::parse(rest) {
        Some(o) => o,
        None if rest.bytes().all(|c| c.is_ascii_alphabetic()) => zone?,
        None => return None,
    };
    Some(naive - i64::from(off.seconds()) * MICROS_PER_SEC)
}

/// A unit name with nothing else around it.
fn is_plain_unit_name(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace) && is_unit_name(s.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Journal messages about units
// ---------------------------------------------------------------------------------------------

/// What a systemd message says happened to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Event {
    Starting,
    Started,
    Stopping,
    Stopped,
    /// `X: Deactivated successfully.` (`X: Succeeded.` before systemd 248).
    Deactivated,
    /// `X: Main process exited, code=exited, status=1/FAILURE`: the status.
    MainExited(String),
    /// `X: Failed with result 'exit-code'.`: the result.
    FailedWith(String),
    FailedToStart,
    ScheduledRestart,
    /// `X: Start request repeated too quickly.`
    StartLimitHit,
    /// `Finished X.` (oneshot units).
    Finished,
    Reloading,
    Reloaded,
    /// `Listening on X.` (sockets).
    Listening,
    /// `Closed X.` (sockets).
    Closed,
    FailedToListen,
    ReachedTarget,
    StoppedTarget,
}

/// Messages of the form `VERB X<suffix>`, where X is a unit name, `name - Description` (systemd
/// >= 250) or the description alone. Longer prefixes first.
const JOB_MESSAGES: &[(&str, &str, Event)] = &[
    ("Failed to start ", ".", Event::FailedToStart),
    ("Failed to listen on ", ".", Event::FailedToListen),
    ("Reached target ", ".", Event::ReachedTarget),
    ("Stopped target ", ".", Event::StoppedTarget),
    ("Starting ", "...", Event::Starting),
    ("Started ", ".", Event::Started),
    ("Stopping ", "...", Event::Stopping),
    ("Stopped ", ".", Event::Stopped),
    ("Finished ", ".", Event::Finished),
    ("Reloading ", "...", Event::Reloading),
    ("Reloaded ", ".", Event::Reloaded),
    ("Listening on ", ".", Event::Listening),
    ("Closed ", ".", Event::Closed),
];

/// Words one of the messages above holds: a cheap filter on raw bytes before rendering text.
const KEYWORDS: &str = "Start|Stop|Fail|Deactivated|Succeeded|Main process|Scheduled restart|Finished|Reload|Listening on|Closed|Reached target";

/// How a message names its unit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UnitRef<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
}

/// The message of a line written by systemd (PID 1): after `systemd[1]: ` or `systemd: `,
/// wherever the line puts it (`journalctl -o short` has time and host before it). Lines of
/// user managers (`systemd[1234]`) are not about system units.
fn systemd_message(text: &str) -> Option<&str> {
    let line = text.split('\n').next()?;
    let mut from = 0;
    while let Some(i) = line.get(from..)?.find("systemd") {
        let at = from + i;
        from = at + "systemd".len();
        if at > 0 && !line[..at].ends_with(' ') {
            continue;
        }
        let rest = &line[from..];
        if let Some(m) = rest.strip_prefix(": ") {
            return Some(m);
        }
        if let Some(r) = rest.strip_prefix('[')
            && let Some((pid, m)) = r.split_once("]: ")
            && !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit())
        {
            return (pid == "1").then_some(m);
        }
    }
    None
}

/// What a systemd message says about which unit.
fn parse_message(msg: &str) -> Option<(UnitRef<'_>, Event)> {
    let msg = msg.trim_end();
    if let Some((name, rest)) = msg.split_once(": ")
        && is_plain_unit_name(name)
    {
        let unit = UnitRef {
            name: Some(name),
            description: None,
        };
        return unit_message(rest).map(|e| (unit, e));
    }
    for (verb, suffix, event) in JOB_MESSAGES {
        if let Some(rest) = msg.strip_prefix(verb) {
            let rest = rest
                .strip_suffix(suffix)
                .or_else(|| (*suffix == "...").then(|| rest.strip_suffix('…')).flatten())?;
            return (!rest.trim().is_empty()).then(|| (unit_ref(rest), event.clone()));
        }
    }
    None
}

/// `X: ...` messages: what follows the unit name.
fn unit_message(rest: &str) -> Option<Event> {
    if rest.starts_with("Deactivated successfully") || rest.starts_with("Succeeded.") {
        return Some(Event::Deactivated);
    }
    if let Some(r) = rest.strip_prefix("Main process exited, ") {
        let status = r
            .split(", ")
            .find_map(|kv| kv.strip_prefix("status="))?
            .trim_end_matches('.');
        return Some(Event::MainExited(status.to_string()));
    }
    if let Some(r) = rest.strip_prefix("Failed with result '") {
        let result = r.split('\'').next()?;
        return Some(Event::FailedWith(result.to_string()));
    }
    if rest.starts_with("Scheduled restart job") {
        return Some(Event::ScheduledRestart);
    }
    if rest.starts_with("Start request repeated too quickly") {
        return Some(Event::StartLimitHit);
    }
    None
}

/// `gunicorn.service - Gunicorn daemon`, `gunicorn.service`, or `Gunicorn daemon`.
fn unit_ref(s: &str) -> UnitRef<'_> {
    if let Some((name, desc)) = s.split_once(" - ")
        && is_plain_unit_name(name)
    {
        return UnitRef {
            name: Some(name),
            description: Some(desc),
        };
    }
    if is_plain_unit_name(s) {
        return UnitRef {
            name: Some(s),
            description: None,
        };
    }
    UnitRef {
        name: None,
        description: Some(s),
    }
}

/// A message about a unit, read from one record.
#[derive(Debug)]
struct Found {
    t: Micros,
    source: usize,
    name: Option<String>,
    description: Option<String>,
    event: Event,
}

/// Sources whose records are journal lines.
fn is_journal(f: FormatId) -> bool {
    matches!(
        f,
        FormatId::JournalJson
            | FormatId::JournalExport
            | FormatId::JournalShort
            | FormatId::JournalShortIso
            | FormatId::JournalShortPrecise
            | FormatId::SystemctlStatus
    )
}

/// Every message about a unit in one source, in time order. Large sources are scanned in
/// pieces on all cores: the scan reads every record's bytes again.
fn scan_source(s: &Source, si: usize, keywords: Option<&regex::bytes::Regex>) -> Vec<Found> {
    const PIECE: usize = 1 << 16;
    let n = s.timed_len();
    let workers = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .min(n.div_ceil(PIECE))
        .max(1);
    let wanted = keywords.map(|k| keyword_rows(s, k, workers));
    let wanted = wanted.as_deref();
    if workers == 1 {
        return scan_rows(s, si, wanted, 0..n);
    }
    let per = n.div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let range = (w * per).min(n)..((w + 1) * per).min(n);
                scope.spawn(move || scan_rows(s, si, wanted, range))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The rows of a source whose bytes hold one of `keywords`, as a bitset: found by searching
/// the file's bytes a window at a time on `workers` threads (a search per row costs a call
/// per row), handing each window's pages back once searched.
fn keyword_rows(s: &Source, keywords: &regex::bytes::Regex, workers: usize) -> Vec<u64> {
    const WINDOW: u64 = 16 << 20;
    let n = s.len();
    let data: &[u8] = &s.data;
    let end_of = |row: usize| s.starts.get(row + 1).map_or(data.len(), |e| *e as usize);
    let holding = |rows: std::ops::Range<usize>| {
        let mut out: Vec<usize> = Vec::new();
        let mut from = rows.start;
        while from < rows.end {
            let limit = s.starts[from] + WINDOW;
            let to = (from + 1 + s.starts[from + 1..rows.end].partition_point(|x| *x < limit))
                .min(rows.end);
            let hi = end_of(to - 1);
            let mut at = s.starts[from] as usize;
            while let Some(m) = keywords.find_at(&data[..hi], at) {
                let row = s.starts[from..to].partition_point(|x| *x <= m.start() as u64) + from - 1;
                out.push(row);
                at = end_of(row).max(m.start() + 1);
                if at >= hi {
                    break;
                }
            }
            s.release_pages();
            from = to;
        }
        out
    };
    let per = n.div_ceil(workers.max(1)).max(1);
    let found: Vec<Vec<usize>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(per)
            .map(|from| scope.spawn(move || holding(from..(from + per).min(n))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut bits = vec![0u64; n.div_ceil(64)];
    for row in found.into_iter().flatten() {
        bits[row / 64] |= 1 << (row % 64);
    }
    bits
}

/// Messages about units in the records at time-order positions `range` of a source, of the
/// rows marked in `wanted` when given.
fn scan_rows(
    s: &Source,
    si: usize,
    wanted: Option<&[u64]>,
    range: std::ops::Range<usize>,
) -> Vec<Found> {
    let systemd = memchr::memmem::Finder::new(b"systemd");
    let mut out = Vec::new();
    for i in range {
        if i % (1 << 17) == 0 {
            // What this pass read is not needed again: keep a window resident, not the file.
            s.release_pages();
        }
        let row = s.row_in_time_order(i);
        if s.flags[row] & flag::TIME_INHERITED != 0 || s.ts[row] == UNTIMED {
            continue;
        }
        if wanted.is_some_and(|w| w[row / 64] & (1 << (row % 64)) == 0) {
            continue;
        }
        let raw = s.raw(row);
        if systemd.find(raw).is_none() {
            continue;
        }
        let found = if s.format == FormatId::JournalJson {
            json_message(raw)
        } else {
            text_message(&s.text(row))
        };
        if let Some((name, description, event)) = found {
            out.push(Found {
                t: s.ts[row],
                source: si,
                name,
                description,
                event,
            });
        }
    }
    out
}

/// What a journal line's text says about a unit.
fn text_message(text: &str) -> Option<(Option<String>, Option<String>, Event)> {
    let (unit, event) = systemd_message(text).and_then(parse_message)?;
    Some((
        unit.name.map(str::to_string),
        unit.description.map(str::to_string),
        event,
    ))
}

/// The fields of a `journalctl -o json` entry that say what PID 1 wrote about which unit.
#[derive(serde::Deserialize)]
struct JsonEntry<'a> {
    #[serde(rename = "SYSLOG_IDENTIFIER", borrow, default)]
    ident: Option<Cow<'a, str>>,
    #[serde(rename = "_COMM", borrow, default)]
    comm: Option<Cow<'a, str>>,
    #[serde(rename = "_PID", borrow, default)]
    pid: Option<Cow<'a, str>>,
    #[serde(rename = "MESSAGE", borrow, default)]
    message: Option<Cow<'a, str>>,
    /// The unit PID 1 wrote about.
    #[serde(rename = "UNIT", borrow, default)]
    unit: Option<Cow<'a, str>>,
}

/// A journal JSON record read directly (one parse, no rendering): the first entry of the
/// record, when systemd (PID 1) wrote it. `UNIT=` names the unit when the message does not.
fn json_message(raw: &[u8]) -> Option<(Option<String>, Option<String>, Event)> {
    let e: JsonEntry = serde_json::Deserializer::from_slice(raw)
        .into_iter::<JsonEntry>()
        .next()?
        .ok()?;
    let ident = e.ident.as_deref().or(e.comm.as_deref())?;
    if ident != "systemd" || e.pid.as_deref().is_some_and(|p| p != "1") {
        return None;
    }
    let message = e.message.as_deref()?;
    let (unit, event) = parse_message(message.split('\n').next()?)?;
    let field = e.unit.as_deref().filter(|u| is_plain_unit_name(u));
    Some((
        unit.name.or(field).map(str::to_string),
        unit.description.map(str::to_string),
        event,
    ))
}

/// Is every time of the source a whole second (`journalctl -o short`, status tails)?
fn whole_seconds(s: &Source) -> bool {
    s.ts.iter()
        .filter(|t| **t != UNTIMED)
        .all(|t| t.rem_euclid(MICROS_PER_SEC) == 0)
}

/// Events per unit of one host: `unit -> (events in time order, description learned)`.
type HostEvents = BTreeMap<String, (Vec<(Micros, Event)>, Option<String>)>;

/// The host's journal messages about units, as events per unit. Units named only by their
/// description are found through the snapshot's descriptions and those the journal teaches
/// (`Started x.service - Description.`, or `UNIT=` beside a description). The same message
/// read from two sources (the journal and a status tail) counts once; a whole-second message
/// from a less precise source is placed after the precise messages of that unit in its second.
fn journal_events(
    incident: &Incident,
    host: &str,
    descriptions: &HashMap<String, String>,
) -> HostEvents {
    let keywords = regex::bytes::Regex::new(KEYWORDS).ok();
    let mut sources: Vec<(bool, usize)> = incident
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.host == host && is_journal(s.format))
        .map(|(i, s)| (whole_seconds(s), i))
        .collect();
    sources.sort();
    let mut found: Vec<(bool, Found)> = Vec::new();
    for (coarse, si) in &sources {
        let v = scan_source(&incident.sources[*si], *si, keywords.as_ref());
        found.extend(v.into_iter().map(|f| (*coarse, f)));
    }
    let mut descs = descriptions.clone();
    let mut learned: HashMap<String, String> = HashMap::new();
    for (_, f) in &found {
        if let (Some(name), Some(desc)) = (&f.name, &f.description) {
            descs.entry(desc.clone()).or_insert_with(|| name.clone());
            learned.entry(name.clone()).or_insert_with(|| desc.clone());
        }
    }
    let mut seen: HashMap<(String, Event, i64), usize> = HashMap::new();
    let mut precise_max: HashMap<(String, i64), Micros> = HashMap::new();
    let mut kept: Vec<(Micros, String, Event)> = Vec::new();
    for (coarse, f) in found {
        let name = f
            .name
            .or_else(|| f.description.and_then(|d| descs.get(&d).cloned()));
        let Some(name) = name else { continue };
        let sec = f.t.div_euclid(MICROS_PER_SEC);
        let key = (name.clone(), f.event.clone(), sec);
        match seen.get(&key) {
            Some(src) if *src != f.source => continue,
            Some(_) => {}
            None => {
                seen.insert(key, f.source);
            }
        }
        let mut t = f.t;
        if coarse {
            if let Some(m) = precise_max.get(&(name.clone(), sec)) {
                t = t.max(m.saturating_add(1));
            }
        } else {
            let m = precise_max.entry((name.clone(), sec)).or_insert(t);
            *m = (*m).max(t);
        }
        kept.push((t, name, f.event));
    }
    kept.sort_by_key(|(t, _, _)| *t);
    let mut out = HostEvents::new();
    for (t, name, event) in kept {
        let desc = learned.get(&name).cloned();
        out.entry(name)
            .or_insert_with(|| (Vec::new(), desc))
            .0
            .push((t, event));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// State transitions
// ---------------------------------------------------------------------------------------------

/// The SUB state of an active unit of this type.
fn active_sub(unit: &str) -> &'static str {
    let kind = unit.rsplit('.').next().unwrap_or_default();
    match kind {
        "service" | "scope" => "running",
        "socket" => "listening",
        "timer" | "path" | "automount" => "waiting",
        "mount" => "mounted",
        "device" => "plugged",
        _ => "active",
    }
}

/// The state `event` implies the unit was in just before it.
fn implied_before(event: &Event, base: &UnitState) -> UnitState {
    let mut s = base.clone();
    let (active, sub) = match event {
        Event::Starting
        | Event::Started
        | Event::Listening
        | Event::FailedToListen
        | Event::ReachedTarget
        | Event::StartLimitHit => ("inactive", "dead"),
        Event::FailedToStart | Event::Finished => ("activating", "start"),
        Event::ScheduledRestart => ("activating", "auto-restart"),
        Event::Stopping
        | Event::Stopped
        | Event::Deactivated
        | Event::MainExited(_)
        | Event::FailedWith(_)
        | Event::Reloading
        | Event::Reloaded
        | Event::Closed
        | Event::StoppedTarget => ("active", active_sub(&s.unit)),
    };
    s.set(active, sub);
    s.result = None;
    s.exit_status = None;
    s.since = None;
    s
}

/// The state after `event` at `t`.
fn apply(event: &Event, prev: &UnitState, t: Micros) -> UnitState {
    let mut s = prev.clone();
    let running = active_sub(&s.unit);
    match event {
        Event::Starting => {
            s.set("activating", "start");
            s.result = None;
            s.exit_status = None;
        }
        Event::Started | Event::Listening | Event::ReachedTarget => {
            s.set("active", running);
            s.result = None;
            s.exit_status = None;
        }
        Event::Stopping => {
            let sub = if s.unit.ends_with(".service") {
                "stop-sigterm"
            } else {
                "stop"
            };
            s.set("deactivating", sub);
        }
        Event::Stopped | Event::Closed | Event::StoppedTarget => s.set("inactive", "dead"),
        Event::Deactivated => {
            s.set("inactive", "dead");
            s.result = Some("success".into());
        }
        Event::MainExited(status) => s.exit_status = Some(status.clone()),
        Event::FailedWith(result) => {
            s.set("failed", "failed");
            s.result = Some(result.clone());
        }
        Event::FailedToStart | Event::FailedToListen | Event::StartLimitHit => {
            s.set("failed", "failed")
        }
        Event::ScheduledRestart => s.set("activating", "auto-restart"),
        // A oneshot's start job is done: it stays inactive once its process has exited,
        // else (RemainAfterExit=yes) it is active with nothing running.
        Event::Finished => {
            if s.active != "inactive" && s.active != "failed" {
                s.set("active", "exited");
            }
        }
        Event::Reloading => s.set("reloading", "reload"),
        Event::Reloaded => s.set("active", running),
    }
    if s.active != prev.active || s.sub != prev.sub {
        s.since = Some(t);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------------

/// A listening socket as of a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    pub host: String,
    /// `tcp`, `udp`, `u_str`, `u_dgr`...
    pub netid: String,
    /// `0.0.0.0:80`, `[::]:80`, `127.0.0.53%lo:53`, `unix:/run/gunicorn.sock`.
    pub local: String,
    /// The owning process (not systemd holding a socket-activated one), lowest pid first.
    pub process: Option<String>,
    pub pid: Option<u32>,
    /// Established connections whose local address is this listener's.
    pub established: usize,
    /// `local` as an endpoint, to compare with nginx upstreams ([`Endpoint::served_by`]).
    pub endpoint: Option<Endpoint>,
    /// When the `ss` snapshot it comes from was taken, if known.
    pub taken_at: Option<Micros>,
}

/// One host's `ss` output at one time (several files taken at the same time are one).
#[derive(Debug)]
struct SsSnapshot {
    host: String,
    taken_at: Option<Micros>,
    sockets: Vec<Socket>,
}

/// Every host's `ss` snapshots, parsed once.
#[derive(Debug, Default)]
pub struct Sockets {
    hosts: Vec<String>,
    snapshots: Vec<SsSnapshot>,
}

impl Sockets {
    pub fn build(incident: &Incident) -> Sockets {
        let mut snapshots: Vec<SsSnapshot> = Vec::new();
        let socket_tables = [FormatId::Ss, FormatId::Netstat];
        for s in incident
            .sources
            .iter()
            .filter(|s| socket_tables.contains(&s.format))
        {
            let taken_at = ss_file_time(&s.file).or_else(|| snapshot_time(incident, &s.host));
            let text = String::from_utf8_lossy(&s.data);
            let sockets = match s.format {
                FormatId::Netstat => crate::ingest::formats::netstat::parse_sockets(&text),
                _ => parse_sockets(&text),
            };
            match snapshots
                .iter_mut()
                .find(|x| x.host == s.host && x.taken_at == taken_at)
            {
                Some(x) => x.sockets.extend(sockets),
                None => snapshots.push(SsSnapshot {
                    host: s.host.clone(),
                    taken_at,
                    sockets,
                }),
            }
        }
        let hosts = host_names(incident)
            .into_iter()
            .filter(|h| snapshots.iter().any(|s| s.host == *h))
            .collect();
        Sockets { hosts, snapshots }
    }

    /// Times of every host's snapshots: `(host, time)`, in load order.
    pub fn snapshot_times(&self) -> Vec<(String, Option<Micros>)> {
        self.snapshots
            .iter()
            .map(|s| (s.host.clone(), s.taken_at))
            .collect()
    }

    /// Listeners of each host from its latest snapshot at or before `t` (else its earliest).
    pub fn listeners(&self, t: Micros) -> Vec<Listener> {
        let mut out = Vec::new();
        for host in &self.hosts {
            let mine = self.snapshots.iter().filter(|s| s.host == *host);
            let key = |s: &&SsSnapshot| s.taken_at.unwrap_or(Micros::MIN);
            let chosen = mine
                .clone()
                .filter(|s| key(s) <= t)
                .max_by_key(key)
                .or_else(|| mine.min_by_key(key));
            if let Some(snap) = chosen {
                out.extend(listeners_of(snap));
            }
        }
        out
    }
}

/// Listeners from the `ss` snapshot(s) of each host as of `t`: the latest at or before `t`,
/// else the earliest. Parses the snapshots; a pane redrawn often should keep a [`Sockets`].
pub fn listeners(incident: &Incident, t: Micros) -> Vec<Listener> {
    Sockets::build(incident).listeners(t)
}

/// `sockets/ss-2023-04-13T11:24:00Z.txt` or `ss-1681385040.txt`: the time in the name.
fn ss_file_time(path: &str) -> Option<Micros> {
    let base = path.rsplit('/').next()?;
    let stem = base.strip_prefix("ss-")?;
    let stem = stem.strip_suffix(".txt").unwrap_or(stem);
    if let Some(t) = parse_instant(stem) {
        return Some(t);
    }
    // Epoch seconds: at least 9 digits (1973 on), so a numbered series is not read as times.
    let (secs, frac) = stem.split_once('.').unwrap_or((stem, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if secs.len() < 9 || secs.len() > 12 || !digits(secs) || !digits(frac) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let frac = format!("{frac:0<6}");
    let us: i64 = frac.get(..6)?.parse().ok()?;
    Some(secs * MICROS_PER_SEC + us)
}

/// Listeners of one snapshot, each with its established connections, ordered: TCP and UDP by
/// port, then unix sockets by path.
fn listeners_of(snap: &SsSnapshot) -> Vec<Listener> {
    let mut out: Vec<Listener> = Vec::new();
    for s in snap.sockets.iter().filter(|s| is_listening(s)) {
        let l = listener(s, snap);
        if !out
            .iter()
            .any(|o| o.netid == l.netid && o.local == l.local && o.pid == l.pid)
        {
            out.push(l);
        }
    }
    for s in snap.sockets.iter().filter(|s| s.state == "ESTAB") {
        if let Some(i) = best_listener(s, &out) {
            out[i].established += 1;
        }
    }
    out.sort_by_key(|l| {
        let port = match &l.endpoint {
            Some(Endpoint::Tcp { port, .. }) => *port,
            _ => 0,
        };
        (l.netid.starts_with("u_"), port, l.local.clone())
    });
    out
}

/// Accepting connections or datagrams: `LISTEN`, or a bound UDP / unix datagram socket.
fn is_listening(s: &Socket) -> bool {
    if s.state == "LISTEN" {
        return true;
    }
    let datagram = s.netid.starts_with("udp") || s.netid == "u_dgr";
    let bound = if s.is_unix() {
        s.local_endpoint().is_some()
    } else {
        s.local.port.as_deref().is_some_and(|p| p != "*")
    };
    s.state == "UNCONN" && datagram && bound
}

fn listener(s: &Socket, snap: &SsSnapshot) -> Listener {
    let owner = main_process(&s.processes);
    Listener {
        host: snap.host.clone(),
        netid: s.netid.clone(),
        local: local_text(s),
        process: owner.map(|p| p.name.clone()),
        pid: owner.and_then(|p| p.pid),
        established: 0,
        endpoint: s.local_endpoint(),
        taken_at: snap.taken_at,
    }
}

/// The process that owns a socket: not systemd holding it for socket activation, and of the
/// processes sharing it (master and workers), the lowest pid.
fn main_process(ps: &[Process]) -> Option<&Process> {
    ps.iter()
        .filter(|p| !(p.name == "systemd" && p.pid == Some(1)))
        .min_by_key(|p| p.pid.unwrap_or(u32::MAX))
        .or_else(|| ps.first())
}

/// The local address as ss printed it, with unix paths as nginx names them.
fn local_text(s: &Socket) -> String {
    if s.is_unix() {
        return format!("unix:{}", s.local.host);
    }
    let h = &s.local.host;
    let host = if h.contains(':') {
        format!("[{h}]")
    } else {
        h.clone()
    };
    let scope = s
        .local
        .scope
        .as_deref()
        .map(|sc| format!("%{sc}"))
        .unwrap_or_default();
    match &s.local.port {
        Some(p) => format!("{host}{scope}:{p}"),
        None => format!("{host}{scope}"),
    }
}

/// `tcp`, `udp`, or the unix netid: what must agree between a connection and its listener.
fn proto(netid: &str) -> &str {
    if netid.starts_with("tcp") {
        "tcp"
    } else if netid.starts_with("udp") {
        "udp"
    } else {
        netid
    }
}

/// The listener an established connection was accepted on: the same address, else a wildcard
/// of the same family (IPv4 / IPv6), else any wildcard on the port.
fn best_listener(conn: &Socket, listeners: &[Listener]) -> Option<usize> {
    let local = conn.local_endpoint()?;
    let mut best: Option<(u8, usize)> = None;
    for (i, l) in listeners.iter().enumerate() {
        if proto(&l.netid) != proto(&conn.netid) {
            continue;
        }
        let Some(ep) = &l.endpoint else { continue };
        let score = match (&local, ep) {
            (Endpoint::Unix(a), Endpoint::Unix(b)) if a == b => 3,
            (Endpoint::Tcp { host, port }, Endpoint::Tcp { host: lh, port: lp }) if port == lp => {
                let v6 = |h: &str| h.contains(':');
                if host == lh {
                    3
                } else if lh == "*" || lh.is_empty() {
                    2
                } else if lh == "0.0.0.0" || lh == "::" {
                    if v6(host) == v6(lh) { 2 } else { 1 }
                } else {
                    0
                }
            }
            _ => 0,
        };
        if score > 0 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, i));
        }
    }
    best.map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::*;
    use crate::ingest::{LoadOptions, load};

    /// Write `files` into a fresh directory and load it as one bundle.
    fn bundle(files: &[(&str, String)]) -> (tempfile::TempDir, Incident) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
        }
        let incident = load(&[dir.path().to_path_buf()], &LoadOptions::default()).unwrap();
        (dir, incident)
    }

    fn fixture(name: &str) -> Incident {
        let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bundles")
            .join(name);
        load(&[p], &LoadOptions::default()).unwrap()
    }

    fn t(s: &str) -> Micros {
        parse_instant(s).unwrap()
    }

    /// One `journalctl -o json` line written by PID 1.
    fn pid1(at: &str, msg: &str, unit: Option<&str>) -> String {
        let mut v = serde_json::json!({
            "__REALTIME_TIMESTAMP": t(at).to_string(),
            "PRIORITY": "6",
            "SYSLOG_IDENTIFIER": "systemd",
            "_PID": "1",
            "_SYSTEMD_UNIT": "init.scope",
            "MESSAGE": msg,
        });
        if let Some(u) = unit {
            v["UNIT"] = serde_json::Value::from(u);
        }
        v.to_string() + "\n"
    }

    fn manifest(host: &str, captured: &str) -> (&'static str, String) {
        (
            "manifest.toml",
            format!("host = \"{host}\"\ncaptured_at = \"{captured}\"\n"),
        )
    }

    fn units_json(rows: &[(&str, &str, &str, &str)]) -> (&'static str, String) {
        let v: Vec<_> = rows
            .iter()
            .map(|(unit, active, sub, desc)| {
                serde_json::json!({"unit": unit, "load": "loaded", "active": active, "sub": sub, "description": desc})
            })
            .collect();
        ("systemd/units.json", serde_json::Value::from(v).to_string())
    }

    fn state(u: &Units, unit: &str, at: &str) -> UnitState {
        u.at(t(at)).into_iter().find(|s| s.unit == unit).unwrap()
    }

    fn pair(s: &UnitState) -> (&str, &str) {
        (s.active.as_str(), s.sub.as_str())
    }

    #[test]
    fn a_failed_snapshot_is_walked_back_through_the_journal() {
        let journal = [
            pid1("2023-04-13T11:19:27Z", "Started gunicorn daemon.", None),
            "{\"__REALTIME_TIMESTAMP\":\"1681385000000000\",\"SYSLOG_IDENTIFIER\":\"gunicorn\",\"_PID\":\"7\",\"MESSAGE\":\"Started worker\"}\n".into(),
            pid1(
                "2023-04-13T11:24:00Z",
                "gunicorn.service: Main process exited, code=exited, status=1/FAILURE",
                Some("gunicorn.service"),
            ),
            pid1(
                "2023-04-13T11:24:00.000100Z",
                "gunicorn.service: Failed with result 'exit-code'.",
                Some("gunicorn.service"),
            ),
            pid1(
                "2023-04-13T11:24:00.000200Z",
                "gunicorn.service: Consumed 2.314s CPU time.",
                Some("gunicorn.service"),
            ),
        ]
        .concat();
        let (_d, inc) = bundle(&[
            manifest("web1", "2023-04-13T11:30:00Z"),
            units_json(&[
                ("gunicorn.service", "failed", "failed", "gunicorn daemon"),
                ("nginx.service", "active", "running", "nginx"),
            ]),
            ("journal/journal.json", journal),
        ]);
        let u = Units::build(&inc);
        let before = state(&u, "gunicorn.service", "2023-04-13T11:00:00Z");
        assert_eq!(pair(&before), ("inactive", "dead"));
        assert!(!before.failed());
        let up = state(&u, "gunicorn.service", "2023-04-13T11:20:00Z");
        assert_eq!(pair(&up), ("active", "running"));
        assert_eq!(up.since, Some(t("2023-04-13T11:19:27Z")));
        assert_eq!(up.exit_status, None);
        let exited = state(&u, "gunicorn.service", "2023-04-13T11:24:00.00005Z");
        assert_eq!(pair(&exited), ("active", "running"));
        assert_eq!(exited.exit_status.as_deref(), Some("1/FAILURE"));
        let down = state(&u, "gunicorn.service", "2023-04-13T11:25:00Z");
        assert!(down.failed());
        assert_eq!(down.exit_status.as_deref(), Some("1/FAILURE"));
        assert_eq!(down.result.as_deref(), Some("exit-code"));
        assert_eq!(down.since, Some(t("2023-04-13T11:24:00.0001Z")));
        // At capture: the snapshot, completed by the journal.
        let snap = state(&u, "gunicorn.service", "2023-04-13T11:30:00Z");
        assert!(snap.failed() && snap.in_snapshot);
        assert_eq!(snap.load, "loaded");
        assert_eq!(snap.exit_status.as_deref(), Some("1/FAILURE"));
        // Failed units first; nginx has no change: its snapshot state all along.
        let all = u.at(t("2023-04-13T11:25:00Z"));
        assert_eq!(all[0].unit, "gunicorn.service");
        assert_eq!(pair(&all[1]), ("active", "running"));
        let all = u.at(t("2023-04-13T11:00:00Z"));
        assert_eq!(all[0].unit, "gunicorn.service");
        assert_eq!(
            u.changes(),
            vec![
                (
                    t("2023-04-13T11:19:27Z"),
                    "web1".into(),
                    "gunicorn.service".into(),
                    "inactive -> active".into()
                ),
                (
                    t("2023-04-13T11:24:00.0001Z"),
                    "web1".into(),
                    "gunicorn.service".into(),
                    "active -> failed".into()
                ),
            ]
        );
        assert_eq!(
            u.unit_at("web1", "nginx.service", 0).map(|s| s.active),
            Some("active".into())
        );
    }

    #[test]
    fn changes_after_the_capture_start_from_the_snapshot() {
        let journal = pid1(
            "2023-04-13T11:40:00Z",
            "Stopping nginx.service - nginx...",
            None,
        );
        let (_d, inc) = bundle(&[
            manifest("web1", "2023-04-13T11:30:00Z"),
            units_json(&[("nginx.service", "failed", "failed", "nginx")]),
            ("journal/journal.json", journal),
        ]);
        let u = Units::build(&inc);
        assert!(state(&u, "nginx.service", "2023-04-13T11:00:00Z").failed());
        assert!(state(&u, "nginx.service", "2023-04-13T11:35:00Z").failed());
        let later = state(&u, "nginx.service", "2023-04-13T11:41:00Z");
        assert_eq!(pair(&later), ("deactivating", "stop-sigterm"));
        assert_eq!(u.changes()[0].3, "failed -> deactivating");
    }

    #[test]
    fn short_journal_names_units_by_name_description_or_both() {
        let journal = "\
2023-04-13T11:19:26+0000 web1 systemd[1]: Starting gunicorn.service - Gunicorn daemon for bookshelf...
2023-04-13T11:19:27+0000 web1 systemd[1]: Started Gunicorn daemon for bookshelf.
2023-04-13T11:19:28+0000 web1 systemd[4242]: Stopping Gunicorn daemon for bookshelf...
2023-04-13T11:24:01+0000 web1 systemd[1]: Stopping Bookshelf dev server...
2023-04-13T11:24:02+0000 web1 systemd[1]: bookshelf-dev.service: Deactivated successfully.
2023-04-13T11:24:02+0000 web1 systemd[1]: Stopped bookshelf-dev.service - Bookshelf dev server.
2023-04-13T11:24:03+0000 web1 systemd[1]: Reloading.
2023-04-13T11:24:04+0000 web1 nginx[1200]: Started nothing.
";
        let (_d, inc) = bundle(&[
            manifest("web1", "2023-04-13T11:30:00Z"),
            units_json(&[(
                "gunicorn.service",
                "active",
                "running",
                "Gunicorn daemon for bookshelf",
            )]),
            ("journal/journal.txt", journal.into()),
        ]);
        assert!(
            inc.sources
                .iter()
                .any(|s| s.format == FormatId::JournalShortIso)
        );
        let u = Units::build(&inc);
        assert_eq!(u.len(), 2);
        let g = |at| state(&u, "gunicorn.service", at);
        assert_eq!(pair(&g("2023-04-13T11:00:00Z")), ("inactive", "dead"));
        assert_eq!(pair(&g("2023-04-13T11:19:26Z")), ("activating", "start"));
        // The user manager's Stopping (pid 4242) is not about the system unit.
        assert_eq!(pair(&g("2023-04-13T11:20:00Z")), ("active", "running"));
        // Known from the journal only: running before its first message (Stopping).
        let d = |at| state(&u, "bookshelf-dev.service", at);
        assert_eq!(pair(&d("2023-04-13T11:00:00Z")), ("active", "running"));
        assert_eq!(
            pair(&d("2023-04-13T11:24:01Z")),
            ("deactivating", "stop-sigterm")
        );
        let gone = d("2023-04-13T11:25:00Z");
        assert_eq!(pair(&gone), ("inactive", "dead"));
        assert_eq!(gone.result.as_deref(), Some("success"));
        assert_eq!(gone.description, "Bookshelf dev server");
        assert!(!gone.in_snapshot && gone.load.is_empty());
    }

    #[test]
    fn a_restart_loop_then_the_start_limit() {
        let lines = [
            ("08:00:00", "Started app.service - App."),
            (
                "08:00:05",
                "app.service: Main process exited, code=killed, status=9/KILL",
            ),
            ("08:00:05.1", "app.service: Failed with result 'signal'."),
            (
                "08:00:06",
                "app.service: Scheduled restart job, restart counter is at 1.",
            ),
            ("08:00:06.1", "Stopped app.service - App."),
            ("08:00:06.2", "Starting app.service - App..."),
            (
                "08:00:07",
                "app.service: Start request repeated too quickly.",
            ),
            ("08:00:07.1", "app.service: Failed with result 'exit-code'."),
            ("08:00:07.2", "Failed to start app.service - App."),
        ];
        let journal: String = lines
            .iter()
            .map(|(at, m)| pid1(&format!("2023-06-20T{at}Z"), m, None))
            .collect();
        let (_d, inc) = bundle(&[("journal/journal.json", journal)]);
        let u = Units::build(&inc);
        let s = |at: &str| state(&u, "app.service", &format!("2023-06-20T{at}Z"));
        assert_eq!(pair(&s("07:00:00")), ("inactive", "dead"));
        assert_eq!(pair(&s("08:00:05.05")), ("active", "running"));
        assert_eq!(s("08:00:05.05").exit_status.as_deref(), Some("9/KILL"));
        assert_eq!(s("08:00:05.5").result.as_deref(), Some("signal"));
        assert_eq!(pair(&s("08:00:06.05")), ("activating", "auto-restart"));
        assert_eq!(pair(&s("08:00:06.15")), ("inactive", "dead"));
        let starting = s("08:00:06.5");
        assert_eq!(pair(&starting), ("activating", "start"));
        assert_eq!((starting.result, starting.exit_status), (None, None));
        let last = s("08:00:08");
        assert!(last.failed());
        assert_eq!(last.result.as_deref(), Some("exit-code"));
        assert_eq!(last.since, Some(t("2023-06-20T08:00:07Z")));
        // Without a snapshot, the last journal state holds after the journal ends.
        assert_eq!(last.description, "App");
        let kinds: Vec<String> = u.changes().into_iter().map(|c| c.3).collect();
        assert_eq!(
            kinds,
            [
                "inactive -> active",
                "active -> failed",
                "failed -> activating",
                "activating -> inactive",
                "inactive -> activating",
                "activating -> failed"
            ]
        );
    }

    #[test]
    fn show_and_status_refine_the_listing() {
        let show = "Id=gunicorn.service\nDescription=gunicorn daemon\nLoadState=loaded\n\
ActiveState=failed\nSubState=failed\nResult=exit-code\nExecMainCode=1\nExecMainStatus=3\n\
InactiveEnterTimestamp=Thu 2023-04-13 13:24:00 +02:00\n";
        let status = [
            "× nginx.service - nginx",
            "     Loaded: loaded (/lib/systemd/system/nginx.service; enabled; vendor preset: enabled)",
            "     Active: failed (Result: exit-code) since Thu 2023-04-13 11:20:00 UTC; 4min ago",
            "   Main PID: 1200 (code=exited, status=1/FAILURE)",
            "",
        ]
        .join("\n");
        let (_d, inc) = bundle(&[
            manifest("web1", "2023-04-13T11:30:00Z"),
            units_json(&[
                ("gunicorn.service", "active", "running", "old"),
                ("nginx.service", "active", "running", "nginx"),
            ]),
            ("systemd/show/gunicorn.service.txt", show.into()),
            ("systemd/status/nginx.txt", status),
        ]);
        let u = Units::build(&inc);
        for s in &inc.sources {
            eprintln!(
                "DBG {} {} {:?}",
                s.file,
                s.format,
                parse_status(&String::from_utf8_lossy(&s.data))
            );
        }
        let g = state(&u, "gunicorn.service", "2023-04-13T11:30:00Z");
        assert!(g.failed());
        assert_eq!(g.exit_status.as_deref(), Some("3/NOTIMPLEMENTED"));
        assert_eq!(g.since, Some(t("2023-04-13T11:24:00Z")));
        assert_eq!(g.description, "gunicorn daemon");
        let n = state(&u, "nginx.service", "2023-04-13T11:30:00Z");
        assert_eq!(pair(&n), ("failed", "failed"));
        assert_eq!(n.result.as_deref(), Some("exit-code"));
        assert_eq!(n.exit_status.as_deref(), Some("1/FAILURE"));
        assert_eq!(n.since, Some(t("2023-04-13T11:20:00Z")));
    }

    #[test]
    fn systemd_messages_are_read() {
        fn p(m: &str) -> Option<(Option<&str>, Option<&str>, Event)> {
            parse_message(m).map(|(r, e)| (r.name, r.description, e))
        }
        assert_eq!(
            p("Started gunicorn.service - Gunicorn daemon for bookshelf."),
            Some((
                Some("gunicorn.service"),
                Some("Gunicorn daemon for bookshelf"),
                Event::Started
            ))
        );
        assert_eq!(
            p("Started Gunicorn daemon for bookshelf."),
            Some((None, Some("Gunicorn daemon for bookshelf"), Event::Started))
        );
        assert_eq!(
            p("Starting nginx.service..."),
            Some((Some("nginx.service"), None, Event::Starting))
        );
        assert_eq!(
            p("gunicorn.service: Main process exited, code=exited, status=1/FAILURE"),
            Some((
                Some("gunicorn.service"),
                None,
                Event::MainExited("1/FAILURE".into())
            ))
        );
        assert_eq!(
            p("x.service: Failed with result 'start-limit-hit'.").map(|r| r.2),
            Some(Event::FailedWith("start-limit-hit".into()))
        );
        assert_eq!(
            p("x.service: Succeeded.").map(|r| r.2),
            Some(Event::Deactivated)
        );
        assert_eq!(
            p("Reached target Multi-User System.").map(|r| r.2),
            Some(Event::ReachedTarget)
        );
        assert_eq!(
            p("Listening on gunicorn socket.").map(|r| r.2),
            Some(Event::Listening)
        );
        assert_eq!(p("x.service: Consumed 2.314s CPU time."), None);
        assert_eq!(p("Reloading."), None);
        assert_eq!(p("Started "), None);
        assert_eq!(p("Starting gunicorn 20.1.0"), None);

        assert_eq!(
            systemd_message("systemd[1]: Started x."),
            Some("Started x.")
        );
        assert_eq!(
            systemd_message("Apr 13 11:19:27 systemd-box systemd[1]: Started x.\nmore"),
            Some("Started x.")
        );
        assert_eq!(systemd_message("systemd: Started x."), Some("Started x."));
        assert_eq!(systemd_message("systemd[812]: Started x."), None);
        assert_eq!(systemd_message("gunicorn[7]: systemd is fine"), None);
        assert_eq!(systemd_message("mysystemd[1]: Started x."), None);
    }

    #[test]
    fn times_in_systemctl_and_file_names() {
        let plus1 = Some(Offset(3600));
        assert_eq!(
            systemd_time("Tue 2023-05-02 09:19:22 BST", plus1),
            Some(t("2023-05-02T08:19:22Z"))
        );
        assert_eq!(systemd_time("Tue 2023-05-02 09:19:22 BST", None), None);
        assert_eq!(
            systemd_time("Tue 2023-05-02 09:19:22 UTC", plus1),
            Some(t("2023-05-02T09:19:22Z"))
        );
        assert_eq!(systemd_time("n/a", plus1), None);
        assert_eq!(systemd_time("", plus1), None);
        assert_eq!(
            ss_file_time("sockets/ss-2023-04-13T11:24:00Z.txt"),
            Some(t("2023-04-13T11:24:00Z"))
        );
        assert_eq!(
            ss_file_time("sockets/ss-1681385040.txt"),
            Some(t("2023-04-13T11:24:00Z"))
        );
        assert_eq!(
            ss_file_time("ss-1681385040.5"),
            Some(t("2023-04-13T11:24:00.5Z"))
        );
        assert_eq!(ss_file_time("sockets/ss-2.txt"), None);
        assert_eq!(ss_file_time("sockets/ss.txt"), None);
        assert_eq!(status_text(true, 1), "1/FAILURE");
        assert_eq!(status_text(false, 9), "9/KILL");
        assert_eq!(status_text(true, 99), "99");
    }

    #[test]
    fn listeners_come_from_the_snapshot_as_of_the_time() {
        let early = "\
tcp   LISTEN 0      128        127.0.0.1:8000      0.0.0.0:*    users:((\"python3\",pid=4242,fd=3))
tcp   ESTAB  0      0          127.0.0.1:8000    127.0.0.1:51000 users:((\"python3\",pid=4242,fd=4))
tcp   ESTAB  0      0          127.0.0.1:51000   127.0.0.1:8000 users:((\"nginx\",pid=1201,fd=9))
tcp   LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:((\"nginx\",pid=1201,fd=6),(\"nginx\",pid=1200,fd=6))
tcp   LISTEN 0      511             [::]:80           [::]:*    users:((\"nginx\",pid=1201,fd=7),(\"nginx\",pid=1200,fd=7))
tcp   ESTAB  0      0          10.0.0.5:80     192.0.2.1:40000 users:((\"nginx\",pid=1201,fd=10))
tcp   ESTAB  0      0          [::ffff:10.0.0.5]:80  [::ffff:192.0.2.2]:40001 users:((\"nginx\",pid=1201,fd=11))
udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*    users:((\"systemd-resolve\",pid=610,fd=13))
";
        let late = "\
u_str LISTEN 0      2048 /run/gunicorn.sock 31337 * 0 users:((\"gunicorn\",pid=790,fd=5),(\"gunicorn\",pid=788,fd=5),(\"systemd\",pid=1,fd=40))
u_str ESTAB  0      0    /run/gunicorn.sock 31340 * 31341 users:((\"gunicorn\",pid=790,fd=9))
u_str ESTAB  0      0    * 31341 * 31340 users:((\"nginx\",pid=1201,fd=12))
u_dgr UNCONN 0      0    * 31342 * 0 users:((\"x\",pid=5,fd=3))
";
        let (_d, inc) = bundle(&[
            manifest("web1", "2023-04-13T12:00:00Z"),
            ("sockets/ss-2023-04-13T11:00:00Z.txt", early.into()),
            ("sockets/ss-1681385400.txt", late.into()),
        ]);
        let sockets = Sockets::build(&inc);
        assert_eq!(sockets.snapshot_times().len(), 2);
        let at = |s: &str| sockets.listeners(t(s));
        let first = at("2023-04-13T11:10:00Z");
        let locals: Vec<&str> = first.iter().map(|l| l.local.as_str()).collect();
        assert_eq!(
            locals,
            [
                "127.0.0.53%lo:53",
                "0.0.0.0:80",
                "[::]:80",
                "127.0.0.1:8000"
            ]
        );
        let web = &first[1];
        assert_eq!(
            (web.process.as_deref(), web.pid),
            (Some("nginx"), Some(1200))
        );
        assert_eq!((first[1].established, first[2].established), (1, 1));
        assert_eq!(first[3].established, 1);
        assert_eq!(first[0].netid, "udp");
        assert_eq!(first[3].taken_at, Some(t("2023-04-13T11:00:00Z")));
        // Before every snapshot: the earliest.
        assert_eq!(at("2023-04-13T09:00:00Z"), first);
        let second = at("2023-04-13T11:40:00Z");
        assert_eq!(second.len(), 1);
        let g = &second[0];
        assert_eq!(g.local, "unix:/run/gunicorn.sock");
        assert_eq!((g.process.as_deref(), g.pid), (Some("gunicorn"), Some(788)));
        assert_eq!(g.established, 1);
        assert_eq!(
            g.endpoint,
            Some(Endpoint::Unix("/run/gunicorn.sock".into()))
        );
        assert_eq!(listeners(&inc, t("2023-04-13T11:40:00Z")), second);
    }

    #[test]
    fn fixture_i2_gunicorn_fails_at_the_expected_time() {
        let inc = fixture("i2-import-time-setting");
        let u = Units::build(&inc);
        let failed_at = t("2023-05-02T08:19:22Z");
        let g = |t: Micros| u.unit_at("app1", "gunicorn.service", t).unwrap();
        for s in [t("2023-05-02T07:50:00Z"), t("2023-05-02T08:19:21Z")] {
            assert_eq!(pair(&g(s)), ("active", "running"), "at {s}");
        }
        for s in [
            failed_at + MICROS_PER_SEC,
            t("2023-05-02T08:30:00Z"),
            t("2023-05-02T08:45:00Z"),
        ] {
            let st = g(s);
            assert!(st.failed(), "at {s}: {st:?}");
            assert_eq!(st.result.as_deref(), Some("exit-code"));
            assert_eq!(st.exit_status.as_deref(), Some("1/FAILURE"));
            assert_eq!(
                st.since.map(|x| x / MICROS_PER_SEC),
                Some(failed_at / MICROS_PER_SEC)
            );
        }
        let changes = u.changes();
        let last = changes.iter().rfind(|c| c.2 == "gunicorn.service").unwrap();
        assert_eq!(last.3, "active -> failed");
        assert_eq!(last.0 / MICROS_PER_SEC, failed_at / MICROS_PER_SEC);
        // The backup oneshot ran and finished: inactive again, with success.
        let b = u
            .unit_at("app1", "app-backup.service", t("2023-05-02T08:30:01Z"))
            .unwrap();
        assert_eq!(pair(&b), ("activating", "start"));
        let b = u
            .unit_at("app1", "app-backup.service", t("2023-05-02T08:31:00Z"))
            .unwrap();
        assert_eq!(pair(&b), ("inactive", "dead"));
    }

    #[test]
    fn fixture_i1_listeners_and_the_dev_server() {
        let inc = fixture("i1-socket-mismatch");
        let ls = listeners(&inc, t("2023-04-13T11:30:00Z"));
        let g = ls
            .iter()
            .find(|l| l.local == "unix:/run/gunicorn.sock")
            .unwrap();
        assert_eq!(g.process.as_deref(), Some("gunicorn"));
        assert_eq!(g.pid, Some(788_984));
        let upstream = Endpoint::parse("127.0.0.1:8000").unwrap();
        assert!(
            !ls.iter()
                .filter_map(|l| l.endpoint.as_ref())
                .any(|e| upstream.served_by(e))
        );
        let web = ls.iter().find(|l| l.local == "0.0.0.0:80").unwrap();
        assert_eq!(web.process.as_deref(), Some("nginx"));
        assert_eq!(web.pid, Some(1187));
        let https = ls.iter().find(|l| l.local == "0.0.0.0:443").unwrap();
        assert_eq!(https.established, 1);
        let u = Units::build(&inc);
        let dev = |at| u.unit_at("web1", "bookshelf-dev.service", t(at)).unwrap();
        assert_eq!(pair(&dev("2023-04-13T11:20:00Z")), ("active", "running"));
        assert_eq!(pair(&dev("2023-04-13T11:24:02Z")), ("inactive", "dead"));
        let app = |at| u.unit_at("web1", "gunicorn.service", t(at)).unwrap();
        assert_eq!(pair(&app("2023-04-13T11:00:00Z")), ("inactive", "dead"));
        assert_eq!(pair(&app("2023-04-13T11:30:00Z")), ("active", "running"));
    }

    #[test]
    fn fixture_i3_status_tail_and_journal_count_once() {
        let inc = fixture("i3-daemon-reload");
        let u = Units::build(&inc);
        let g = |at| u.unit_at("api2", "gunicorn.service", t(at)).unwrap();
        // IST in `systemctl status`/`show` is the host's zone (+05:30).
        assert_eq!(
            g("2023-05-09T10:10:00Z").since,
            Some(t("2023-05-09T09:51:07Z"))
        );
        // Stopped at 09:51:05.74, started again (the status tail says so) just after.
        assert_eq!(
            pair(&g("2023-05-09T09:51:05.5Z")),
            ("deactivating", "stop-sigterm")
        );
        assert_eq!(pair(&g("2023-05-09T09:51:06Z")), ("activating", "start"));
        assert_eq!(pair(&g("2023-05-09T09:52:00Z")), ("active", "running"));
        let stops = u
            .changes()
            .into_iter()
            .filter(|c| c.2 == "gunicorn.service" && c.3 == "active -> deactivating")
            .count();
        assert_eq!(stops, 3);
        let socket = g("2023-05-09T10:00:00Z");
        assert!(!socket.failed());
        let s = u
            .unit_at("api2", "gunicorn.socket", t("2023-05-09T09:43:40.731Z"))
            .unwrap();
        assert_eq!(pair(&s), ("inactive", "dead"));
    }

    #[test]
    fn every_fixture_loads_and_healthy_has_no_failed_unit() {
        for name in [
            "awkward",
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "i6-pipeline-platform",
        ] {
            let inc = fixture(name);
            let u = Units::build(&inc);
            let s = Sockets::build(&inc);
            for at in [Micros::MIN, 0, Micros::MAX] {
                let _ = u.at(at);
                let _ = s.listeners(at);
            }
            if name == "healthy" {
                let mut times: Vec<Micros> = u.changes().iter().map(|c| c.0).collect();
                times.push(t("2023-06-01T15:00:00Z"));
                for at in times {
                    assert!(u.at(at).iter().all(|s| !s.failed()), "{name} at {at}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn readers_never_panic(s in "\\PC{0,60}", zone in proptest::option::of(-50_000i32..50_000)) {
            let _ = systemd_message(&s);
            let _ = parse_message(&s);
            let _ = unit_message(&s);
            let _ = systemd_time(&s, zone.map(Offset));
            let _ = ss_file_time(&s);
            let _ = ss_file_time(&format!("ss-{s}"));
        }

        #[test]
        fn messages_with_systemd_words_never_panic(pieces in proptest::collection::vec(prop_oneof![
            Just("systemd[1]: ".to_string()), Just("Started ".to_string()), Just("Starting ".to_string()),
            Just("x.service".to_string()), Just(": ".to_string()), Just(" - ".to_string()), Just("...".to_string()),
            Just("Main process exited, ".to_string()), Just("status=".to_string()), Just("Failed with result '".to_string()),
            Just(".".to_string()), Just("…".to_string()), "\\PC{0,6}",
        ], 0..12)) {
            let text: String = pieces.concat();
            if let Some(m) = systemd_message(&text) {
                let _ = parse_message(m);
            }
            let _ = parse_message(&text);
        }
    }
}
