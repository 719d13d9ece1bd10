//! What sitrep says about a capture, checked against what it should say; and the golden
//! text of its diagnosis, with everything that changes from run to run replaced.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use super::Lab;
use super::capture::sitrep;

/// A finding that must be there, and pieces of real log text its evidence must show.
pub struct Expect {
    pub id: &'static str,
    pub evidence: &'static [&'static str],
}

pub const fn expect(id: &'static str, evidence: &'static [&'static str]) -> Expect {
    Expect { id, evidence }
}

/// What the lab found wrong with sitrep's answers, and what sitrep said (for the report).
#[derive(Default)]
pub struct Verdict {
    pub problems: Vec<String>,
    said: String,
    golden: String,
    /// The findings of each capture judged, by label.
    found: Vec<(String, Vec<Value>)>,
    /// The golden keeps no evidence lines nor counts of errors: which lines there are and
    /// which sitrep cites depends on a race of the incident itself (two workers failing at
    /// once write their lines in any order, the master's last words vary).
    pub racy: bool,
}

/// The findings of `sitrep diagnose PATH --format json`.
pub fn findings(path: &Path) -> Vec<Value> {
    let p = path.to_str().unwrap();
    let out = sitrep(&["diagnose", p, "--format", "json"], "UTC");
    assert!(
        out.status.success(),
        "sitrep diagnose {p}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("diagnose JSON");
    v["findings"].as_array().cloned().unwrap_or_default()
}

fn texts(f: &Value) -> Vec<String> {
    f["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Verdict {
    /// Checks one capture (`label`: "copy" or "capture"): every expected finding is there with
    /// its evidence; with `only`, no other finding is (an empty `want` then means none at all).
    pub fn judge(&mut self, label: &str, path: &Path, want: &[Expect], only: bool) {
        let found = findings(path);
        let ids: Vec<&str> = found.iter().filter_map(|f| f["id"].as_str()).collect();
        for w in want {
            let Some(f) = found.iter().find(|f| f["id"] == w.id) else {
                self.problems
                    .push(format!("{label}: no {} among {ids:?}", w.id));
                continue;
            };
            let t = texts(f);
            for needle in w.evidence {
                if !t.iter().any(|t| t.contains(needle)) {
                    self.problems
                        .push(format!("{label}: {}'s evidence shows no {needle:?}", w.id));
                }
            }
        }
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                self.problems
                    .push(format!("{label}: {id} is reported twice ({ids:?})"));
            }
        }
        if only {
            for id in &ids {
                if !want.iter().any(|w| w.id == *id) {
                    self.problems.push(format!("{label}: unexpected {id}"));
                }
            }
        }
        let p = path.to_str().unwrap();
        self.formats(label, p);
        let text = String::from_utf8_lossy(&sitrep(&["diagnose", p], "UTC").stdout).into_owned();
        let sources = String::from_utf8_lossy(&sitrep(&["sources", p], "UTC").stdout).into_owned();
        self.said.push_str(&format!(
            "---- {label}: {p}\nfindings:\n{}\nsources:\n{sources}",
            found
                .iter()
                .map(|f| format!(
                    "  [{}] {} ({})",
                    f["severity"].as_str().unwrap_or("?"),
                    f["title"].as_str().unwrap_or("?"),
                    f["id"].as_str().unwrap_or("?")
                ))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        self.golden
            .push_str(&format!("==== sitrep diagnose {label}\n{text}\n"));
        self.found.push((label.to_string(), found));
    }

    /// Every log the lab wrote is read in its own format, every line of it understood.
    fn formats(&mut self, label: &str, p: &str) {
        let out = sitrep(&["sources", p, "--format", "json"], "UTC");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(s) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let file = s["file"].as_str().unwrap_or("");
            let name = file.rsplit('/').next().unwrap_or(file);
            let want = if name.starts_with("gunicorn") && name.ends_with(".log") {
                "gunicorn"
            } else if name.starts_with("access") {
                "nginx-access"
            } else if name == "error.log" {
                "nginx-error"
            } else {
                continue;
            };
            let records = s["records"].as_u64().unwrap_or(0);
            if records == 0 {
                // An empty log (gunicorn's access log when no request reached it) says nothing.
                continue;
            }
            let format = s["format"].as_str().unwrap_or("?");
            if format != want {
                self.problems
                    .push(format!("{label}: {file} read as {format}, not {want}"));
            }
            let unparsed = s["unparsed"].as_u64().unwrap_or(0);
            if unparsed > 0 {
                self.problems.push(format!(
                    "{label}: {file} has {unparsed} lines not understood"
                ));
            }
        }
    }

    /// In every capture judged, finding `id`'s title names `needle` (when the finding is there:
    /// its absence is already a problem).
    pub fn title_has(&mut self, id: &str, needle: &str) {
        for (label, found) in &self.found {
            for f in found.iter().filter(|f| f["id"] == id) {
                let title = f["title"].as_str().unwrap_or("");
                if !title.contains(needle) {
                    self.problems.push(format!(
                        "{label}: {id}'s title {title:?} does not name {needle:?}"
                    ));
                }
            }
        }
    }

    /// In every capture judged, the number `re` (one group) reads in finding `id`'s title or
    /// explanation must be `want`, when the finding is there and says one.
    pub fn number(&mut self, id: &str, re: &str, want: u64, what: &str) {
        let re = Regex::new(re).unwrap();
        for (label, found) in &self.found {
            for f in found.iter().filter(|f| f["id"] == id) {
                let text = format!(
                    "{} {}",
                    f["title"].as_str().unwrap_or(""),
                    f["explanation"].as_str().unwrap_or("")
                );
                if let Some(n) = re.captures(&text).and_then(|c| c[1].parse::<u64>().ok())
                    && n != want
                {
                    self.problems
                        .push(format!("{label}: {id} says {n} {what}; there were {want}"));
                }
            }
        }
    }

    /// Fails the test with every problem and what sitrep said; else compares the golden.
    pub fn conclude(self, lab: &Lab) {
        assert!(
            self.problems.is_empty(),
            "lab {}: sitrep's diagnosis is not what it should be:\n- {}\n\nwhat sitrep said:\n{}",
            lab.name,
            self.problems.join("\n- "),
            self.said
        );
        let text = if self.racy {
            let counts = Regex::new(r"\b\d+ in the first minute").unwrap();
            self.golden
                .lines()
                .filter(|l| !l.starts_with("   - "))
                .map(|l| format!("{}\n", counts.replace_all(l, "<N> in the first minute")))
                .collect()
        } else {
            self.golden
        };
        golden(lab, &text);
    }
}

/// `tests/lab/golden/NAME.txt` holds `text` normalised; `UPDATE_GOLDEN=1` rewrites it.
fn golden(lab: &Lab, text: &str) {
    let got = normalise(lab, text);
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/lab/golden")
        .join(format!("{}.txt", lab.name));
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&file, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        panic!(
            "no golden {}: run `UPDATE_GOLDEN=1 cargo test --test lab {}`",
            file.display(),
            lab.name
        )
    });
    if want != got {
        let first = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        panic!(
            "{} differs from the golden at line {} (UPDATE_GOLDEN=1 rewrites it):\n  golden: {:?}\n  now:    {:?}\n\nnow:\n{got}",
            lab.name,
            first + 1,
            want.lines().nth(first).unwrap_or(""),
            got.lines().nth(first).unwrap_or("")
        );
    }
}

/// `text` with what changes from run to run (pids, ports, the lab's folder, host name,
/// times, dates, line numbers, durations) replaced with placeholders.
pub fn normalise(lab: &Lab, text: &str) -> String {
    let mut t = text.replace(&lab.root.display().to_string(), "<LAB>");
    for (port, name) in &lab.ports {
        t = Regex::new(&format!(r"\b{port}\b"))
            .unwrap()
            .replace_all(&t, format!("<{name}>"))
            .into_owned();
    }
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            t = Regex::new(&format!(r"\b{}\b", regex::escape(h)))
                .unwrap()
                .replace_all(&t, "<HOST>")
                .into_owned();
        }
    }
    // Addresses are not durations: keep their dots out of the number rules below.
    t = Regex::new(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b")
        .unwrap()
        .replace_all(&t, "$1\u{1}$2\u{1}$3\u{1}$4")
        .into_owned();
    t = Regex::new(r"HTTP/(\d)\.(\d)")
        .unwrap()
        .replace_all(&t, "HTTP/$1\u{1}$2")
        .into_owned();
    let rules: &[(&str, &str)] = &[
        // Instants, in every shape the logs and sitrep print them.
        (
            r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z| ?[+-]\d\d:?\d\d)?",
            "<TIME>",
        ),
        (r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", "<TIME>"),
        (
            r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}",
            "<TIME>",
        ),
        (r"\b\d\d:\d\d:\d\d(\.\d+)?\b", "<HH:MM:SS>"),
        (r"\b\d{4}-\d\d-\d\d\b", "<DATE>"),
        // Pids and nginx's connection numbers.
        (r"\b\d+#\d+:", "<PID>#<TID>:"),
        (r"\*\d+ ", "*<CONN> "),
        (r"(^|[\s\]])\[\d+\]", "$1[<PID>]"),
        (r"(?i)(pid:? ?|pids? |pid=)\d+", "${1}<PID>"),
        (r"\(\d+\)", "(<PID>)"),
        (r"<PID>(, \d+)+", "<PID>, ..."),
        // The Python of the host, in traceback frames.
        (r"python3\.\d+", "python3.X"),
        // Where in a file, how long, how much.
        (r"(\.(log|txt|json|stdout|gz|py)):\d+", "$1:<LINE>"),
        (r"\b\d+\.\d+( ?s\b)?", "<SECS>$1"),
        (r"\b(rt|urt|uct)=<SECS>", "$1=<SECS>"),
    ];
    for (re, with) in rules {
        t = Regex::new(re).unwrap().replace_all(&t, *with).into_owned();
    }
    let mut t = t.replace('\u{1}', ".");
    // Rows of process tables: pids, user (the one running the tests), usage, times.
    let ps_rows: &[(&str, &str)] = &[
        (
            r"(ps\.txt:<LINE> )\s*\d+\s+\d+\s+(\S+)\s+[\d:-]+\s+",
            "${1}<PID> <PPID> <USER> <ETIME> ",
        ),
        (
            r"(ps-aux\.txt:<LINE> )(\S+)\s+\d+(\s+\S+){8}\s+",
            "${1}<USER> <PID> <USAGE> ",
        ),
    ];
    for (re, with) in ps_rows {
        t = Regex::new(re).unwrap().replace_all(&t, *with).into_owned();
    }
    // Evidence of one second comes in any order: each finding's evidence, sorted.
    let mut sorted = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for l in t.lines() {
        if l.starts_with("   - ") {
            run.push(l);
            continue;
        }
        run.sort_unstable();
        sorted.append(&mut run);
        sorted.push(l);
    }
    run.sort_unstable();
    sorted.append(&mut run);
    let mut t = sorted.join("\n");
    // The files where errors start, in one order (those of one second come in any).
    t = Regex::new(r"(in the first minute, in )([^()\n]+)( \(error-burst\))")
        .unwrap()
        .replace_all(&t, |c: &regex::Captures| {
            let mut files: Vec<&str> = c[2].split(", ").collect();
            files.sort_unstable();
            format!("{}{}{}", &c[1], files.join(", "), &c[3])
        })
        .into_owned();
    // sitrep cuts long evidence lines at its width, which the raw pids and paths move: keep
    // the part every run shows.
    t.lines()
        .map(|l| match l.char_indices().nth(100) {
            Some((i, _)) if l.starts_with("   - ") => format!("{}...", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
