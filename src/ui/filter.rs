//! Filters over every pane: keep lines matching a regex (`F`), drop lines matching one (`!`),
//! a severity floor (`v`), a time window from the cursor (`(` since, `)` until). Each can be
//! switched off and on (Alt-N) or removed (`u` the last, `U` all); the panes, their counts
//! and the histogram show only what passes.

use crate::model::Incident;
use crate::model::severity::Severity;
use crate::model::time::{Micros, UNTIMED};

/// A pattern as the user typed it (without the case flags smart case added).
fn shown(pattern: &str) -> &str {
    pattern
        .strip_prefix("(?i-u)")
        .or_else(|| pattern.strip_prefix("(?i)"))
        .unwrap_or(pattern)
}

/// One condition.
#[derive(Debug, Clone)]
pub enum Rule {
    In(regex::bytes::Regex),
    Out(regex::bytes::Regex),
    /// Keep records at this severity or worse.
    Floor(Severity),
    Since(Micros),
    Until(Micros),
    /// A field query (`status>=500 and path~^/api`); `keep: false` drops what matches.
    Where {
        query: crate::analysis::query::Query,
        text: String,
        keep: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub rule: Rule,
    pub on: bool,
}

impl Filter {
    /// As the footer shows it.
    pub fn label(&self) -> String {
        match &self.rule {
            Rule::In(r) => format!("+/{}/", shown(r.as_str())),
            Rule::Out(r) => format!("-/{}/", shown(r.as_str())),
            Rule::Floor(s) => format!("{}+", s.as_str()),
            Rule::Since(t) => format!("since {}", crate::ui::panes::list::clock(*t)),
            Rule::Until(t) => format!("until {}", crate::ui::panes::list::clock(*t)),
            Rule::Where { text, keep, .. } => {
                format!("{}{{{text}}}", if *keep { "+" } else { "-" })
            }
        }
    }

    fn keeps(&self, incident: &Incident, source: usize, row: usize) -> bool {
        let s = &incident.sources[source];
        let (t, sev, raw) = (s.ts[row], s.sev[row], s.raw(row));
        match &self.rule {
            Rule::Where { query, keep, .. } => query.matches(incident, source, row) == *keep,
            Rule::In(r) => r.is_match(raw),
            Rule::Out(r) => !r.is_match(raw),
            Rule::Floor(f) => sev <= *f,
            Rule::Since(s) => t == UNTIMED || t >= *s,
            Rule::Until(u) => t == UNTIMED || t <= *u,
        }
    }
}

/// The filters in force, in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub list: Vec<Filter>,
}

/// A regex as typed: smart case (no capital letter: case ignored). An ASCII pattern folds
/// ASCII case only, which keeps the regex's literal prefilter fast (Unicode folding turns an
/// `s` or a `k` into several literals to look for).
pub fn compile(text: &str) -> Result<regex::bytes::Regex, String> {
    let smart = if text.chars().any(char::is_uppercase) {
        text.to_string()
    } else if text.is_ascii() {
        format!("(?i-u){text}")
    } else {
        format!("(?i){text}")
    };
    regex::bytes::Regex::new(&smart).map_err(|e| format!("bad regex: {e}").replace('\n', " "))
}

impl Filters {
    pub fn active(&self) -> bool {
        self.list.iter().any(|f| f.on)
    }

    /// Add a filter; a new floor or window edge replaces the old one of its kind.
    pub fn add(&mut self, rule: Rule) {
        let same = |f: &Filter| {
            matches!(
                (&f.rule, &rule),
                (Rule::Floor(_), Rule::Floor(_))
                    | (Rule::Since(_), Rule::Since(_))
                    | (Rule::Until(_), Rule::Until(_))
            )
        };
        self.list.retain(|f| !same(f));
        self.list.push(Filter { rule, on: true });
    }

    /// The footer's list: `[1] +/upstream/ [2] warn+ ...`, a switched-off one in parentheses.
    pub fn label(&self) -> String {
        self.list
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if f.on {
                    format!("[{}] {}", i + 1, f.label())
                } else {
                    format!("[{}] ({})", i + 1, f.label())
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Per source, per row: whether the record passes every filter that is on; `None` when
    /// no filter is on. Cheap conditions go first; a regex scans each file's bytes once (on
    /// all cores) rather than record by record; a query is asked only of what is left.
    pub fn masks(&self, incident: &Incident) -> Option<Vec<Vec<bool>>> {
        if !self.active() {
            return None;
        }
        let mut on: Vec<&Filter> = self.list.iter().filter(|f| f.on).collect();
        on.sort_by_key(|f| match f.rule {
            Rule::In(_) | Rule::Out(_) => 1,
            Rule::Where { .. } => 2,
            _ => 0,
        });
        let masks = incident
            .sources
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let mut mask = vec![true; s.len()];
                for f in &on {
                    match &f.rule {
                        Rule::In(re) | Rule::Out(re) => {
                            let want = matches!(f.rule, Rule::In(_));
                            let hits = rows_matching(s, re);
                            for (m, h) in mask.iter_mut().zip(hits) {
                                *m &= h == want;
                            }
                        }
                        _ => {
                            for (r, m) in mask.iter_mut().enumerate() {
                                if *m {
                                    *m = f.keeps(incident, si, r);
                                }
                            }
                        }
                    }
                }
                mask
            })
            .collect();
        Some(masks)
    }
}

/// Which records of `s` the regex matches. The file's bytes are searched in one pass per
/// core (the regex's literal prefilter runs near memory speed), each match credited to the
/// record it starts in; a match running past its record, or a pattern with anchors, is
/// checked record by record. A smart-case pattern (no capital letter) is searched for as
/// typed in a lower-cased copy of the bytes, a window at a time: the same answer as folding
/// case in the regex, and several times faster than looking for every case variant.
fn rows_matching(s: &crate::model::source::Source, re: &regex::bytes::Regex) -> Vec<bool> {
    rows_matching_in(s, re, WINDOW)
}

fn rows_matching_in(
    s: &crate::model::source::Source,
    re: &regex::bytes::Regex,
    window: u64,
) -> Vec<bool> {
    let n = s.len();
    let anchored = re.as_str().contains('^') || re.as_str().contains('$');
    if anchored || n == 0 {
        return (0..n).map(|r| re.is_match(s.raw(r))).collect();
    }
    // Lower-cased bytes, searched case-sensitively, when the pattern folds ASCII case only
    // (it then has no capital letter of its own, so it is unchanged by lower-casing).
    let folded = re
        .as_str()
        .strip_prefix("(?i-u)")
        .and_then(|p| regex::bytes::Regex::new(&format!("(?-u){p}")).ok());
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n);
    let per = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..n)
            .step_by(per)
            .map(|first| {
                let folded = folded.as_ref();
                scope.spawn(move || scan(s, re, folded, first, (first + per).min(n), window))
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Bytes lower-cased at a time when searching a folded pattern.
const WINDOW: u64 = 4 << 20;

/// Rows `first..last` of `s`: which the regex matches (see [`rows_matching`]).
fn scan(
    s: &crate::model::source::Source,
    re: &regex::bytes::Regex,
    folded: Option<&regex::bytes::Regex>,
    first: usize,
    last: usize,
    window: u64,
) -> Vec<bool> {
    let data: &[u8] = &s.data;
    let mut hits = vec![false; last - first];
    let mut buf: Vec<u8> = Vec::new();
    let mut w_first = first;
    while w_first < last {
        // A window of whole records: the whole range, or about WINDOW bytes when lower-casing.
        let w_from = s.starts[w_first];
        let w_last = match folded {
            None => last,
            Some(_) => (w_first
                + 1
                + s.starts[w_first + 1..last].partition_point(|x| *x < w_from + window))
            .min(last),
        };
        let w_to = s.starts.get(w_last).map_or(data.len(), |x| *x as usize);
        let (hay, pattern, base) = match folded {
            Some(f) => {
                buf.clear();
                buf.extend(
                    data[w_from as usize..w_to]
                        .iter()
                        .map(u8::to_ascii_lowercase),
                );
                (&buf[..], f, w_from as usize)
            }
            None => (&data[..w_to], re, 0),
        };
        let mut at = w_from as usize - base;
        while at < hay.len() {
            let Some(m) = pattern.find_at(hay, at) else {
                break;
            };
            let off = (m.start() + base) as u64;
            let row = s.starts[w_first..w_last].partition_point(|x| *x <= off) + w_first - 1;
            let row_end = s.starts.get(row + 1).map_or(data.len(), |x| *x as usize);
            // Inside the record's own bytes (not its line break): decided; else the record
            // alone is asked.
            let text_end = s.starts[row] as usize + s.raw(row).len();
            if m.end() + base <= text_end {
                hits[row - first] = true;
            } else {
                hits[row - first] |= re.is_match(s.raw(row));
            }
            // Go on from the next record: this one is decided.
            at = (row_end - base).max(m.start() + 1);
        }
        w_first = w_last;
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i1() -> Incident {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bundles/i1-socket-mismatch");
        crate::ingest::load(&[p], &Default::default()).unwrap()
    }

    fn kept(inc: &Incident, f: &Filters) -> usize {
        f.masks(inc)
            .unwrap()
            .iter()
            .map(|m| m.iter().filter(|b| **b).count())
            .sum()
    }

    #[test]
    fn regex_in_and_out_floor_and_window_combine() {
        let inc = i1();
        let mut f = Filters::default();
        assert!(f.masks(&inc).is_none());
        f.add(Rule::In(compile("connect\\(\\) failed").unwrap()));
        let refused = kept(&inc, &f);
        assert!(refused > 10, "{refused}");
        f.add(Rule::Out(compile("/books/").unwrap()));
        let fewer = kept(&inc, &f);
        assert!(fewer < refused && fewer > 0, "{fewer} of {refused}");
        // Switched off, it no longer counts.
        f.list[1].on = false;
        assert_eq!(kept(&inc, &f), refused);
        // A floor replaces a floor.
        f.add(Rule::Floor(Severity::Warn));
        f.add(Rule::Floor(Severity::Error));
        assert_eq!(
            f.list
                .iter()
                .filter(|x| matches!(x.rule, Rule::Floor(_)))
                .count(),
            1
        );
        let t = crate::model::time::parse_instant("2023-04-13T11:25:00Z").unwrap();
        f.add(Rule::Since(t));
        let later = kept(&inc, &f);
        assert!(later < refused);
        assert_eq!(
            f.label(),
            "[1] +/connect\\(\\) failed/ [2] (-//books//) [3] error+ [4] since 11:25:00.000"
        );
    }

    #[test]
    fn one_pass_over_the_bytes_agrees_with_asking_each_record() {
        for name in [
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i6-pipeline-platform",
        ] {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/bundles")
                .join(name);
            let inc = crate::ingest::load(&[p], &Default::default()).unwrap();
            for pattern in [
                "connect",
                "get /",
                "error",
                r"\s",
                "GET /",
                "502",
                "a.b",
                r"\n",
                "Traceback",
                "zzz",
            ] {
                let re = compile(pattern).unwrap();
                for s in &inc.sources {
                    let each: Vec<bool> = (0..s.len()).map(|r| re.is_match(s.raw(r))).collect();
                    assert_eq!(rows_matching(s, &re), each, "{name} {} /{pattern}/", s.file);
                    // Small windows: records on every window edge.
                    for w in [1, 100, 4096] {
                        let got = rows_matching_in(s, &re, w);
                        assert_eq!(got, each, "{name} {} /{pattern}/ {w}", s.file);
                    }
                }
            }
        }
    }

    #[test]
    fn smart_case_and_bad_regexes() {
        assert!(compile("upstream").unwrap().is_match(b"UPSTREAM"));
        assert!(!compile("Upstream").unwrap().is_match(b"upstream"));
        assert!(compile("(").unwrap_err().starts_with("bad regex"));
    }
}
