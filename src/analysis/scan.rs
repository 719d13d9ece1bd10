//! One pass over the raw bytes of every source for everything the rules and checks look for.
//!
//! A rule declares a [`Lookout`]: the formats it reads and words one of which the text of every
//! record it cares about holds. One search per source (an Aho-Corasick automaton over all the
//! words that apply to it, case as written, on every core) finds the records whose bytes may
//! hold a word; a rule then reads only those, and renders the text of no other record.
//!
//! The search may keep too much, never too little: a rule still tests the text of what it is
//! handed. Where the text is not the bytes (a journal entry as JSON: `ident[pid]: MESSAGE`
//! from field values), a word is cut before its first `[`, `]`, `:` or line break (which the
//! rendering may have added), and a record whose bytes hold an escape or a byte array is kept
//! for every word; where the text is composed otherwise, every record is kept.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::analysis::timeline::Timeline;
use crate::ingest::formats::{TextFrom, text_from};
use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::source::Source;

/// What a rule looks for: records of `formats` whose text holds one of `words` (case as
/// written).
#[derive(Debug)]
pub struct Lookout {
    /// Unique among lookouts: how a rule asks for its records.
    pub name: &'static str,
    pub formats: &'static [FormatId],
    pub words: &'static [&'static str],
}

/// A lookout as the scan takes it: a rule's, or one built at run time (a checklist regex).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub name: String,
    pub formats: Vec<FormatId>,
    /// `None`: no word is known that every match holds; every record is kept.
    pub words: Option<Vec<Vec<u8>>>,
}

impl From<&Lookout> for Wanted {
    fn from(l: &Lookout) -> Wanted {
        Wanted {
            name: l.name.to_string(),
            formats: l.formats.to_vec(),
            words: Some(l.words.iter().map(|w| w.as_bytes().to_vec()).collect()),
        }
    }
}

impl Wanted {
    /// Lines of `formats` that `regex` may match: every match starts with one of the
    /// regex's prefix literals, when it has a finite set of non-empty ones.
    pub fn regex(formats: &[FormatId], regex: &regex::Regex) -> Wanted {
        Wanted {
            name: Wanted::regex_name(formats, regex),
            formats: formats.to_vec(),
            words: prefixes(regex.as_str()),
        }
    }

    pub fn regex_name(formats: &[FormatId], regex: &regex::Regex) -> String {
        let f: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
        format!("/{}/ in {}", regex.as_str(), f.join(","))
    }
}

/// The literals every match of `pattern` starts with; `None` when there is no such finite set
/// of non-empty literals.
fn prefixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// Bytes a word is cut before when the text joins field values (see [`TextFrom::FieldValues`]).
const JOINERS: &[u8] = b"[]:\n";
/// Bytes whose presence keeps a record for every word when the text joins field values: an
/// escape, or a value written as an array of byte values.
const UNSURE: &[&[u8]] = &[b"\\", b"\":["];
/// Bytes a worker searches before handing the pages back.
const WINDOW: usize = 16 << 20;

/// Which records of which lookout the scan kept, as positions in the timeline.
pub struct Scan {
    names: Vec<String>,
    formats: Vec<Vec<FormatId>>,
    hits: Vec<Vec<u32>>,
}

/// What one source is searched for: patterns, and for each the lookouts it serves
/// (`None`: every lookout of the source).
struct Plan {
    automaton: Option<AhoCorasick>,
    /// The same patterns, for finding the next row that holds any (SIMD, for any number of
    /// patterns; the automaton's own prefilter gives up past 16).
    packed: Option<aho_corasick::packed::Searcher>,
    serves: Vec<Vec<u16>>,
    /// Lookouts that keep every record of this source.
    every: Vec<u16>,
    /// Lookouts that also keep every record holding one of [`UNSURE`].
    unsure: Vec<u16>,
}

fn plan(source: &Source, wanted: &[Wanted]) -> Option<Plan> {
    let mine: Vec<u16> = (0..wanted.len())
        .filter(|i| wanted[*i].formats.contains(&source.format))
        .map(|i| u16::try_from(i).unwrap_or(u16::MAX))
        .collect();
    if mine.is_empty() {
        return None;
    }
    let form = text_from(source.format);
    let mut every = Vec::new();
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    let mut serves: Vec<Vec<u16>> = Vec::new();
    for &l in &mine {
        let words = match (&wanted[l as usize].words, form) {
            (Some(w), TextFrom::Bytes) => w.clone(),
            (Some(w), TextFrom::FieldValues) => w
                .iter()
                .map(|w| {
                    let cut = w
                        .iter()
                        .position(|b| JOINERS.contains(b))
                        .unwrap_or(w.len());
                    w[..cut].to_vec()
                })
                .collect(),
            _ => Vec::new(),
        };
        if words.is_empty() || words.iter().any(Vec::is_empty) {
            every.push(l);
            continue;
        }
        for w in words {
            match patterns.iter().position(|p| *p == w) {
                Some(p) => {
                    if !serves[p].contains(&l) {
                        serves[p].push(l);
                    }
                }
                None => {
                    patterns.push(w);
                    serves.push(vec![l]);
                }
            }
        }
    }
    let unsure: Vec<u16> = match form {
        TextFrom::FieldValues => mine
            .iter()
            .copied()
            .filter(|l| !every.contains(l))
            .collect(),
        _ => Vec::new(),
    };
    let automaton = if patterns.is_empty() {
        None
    } else {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok()
    };
    if automaton.is_none() && !patterns.is_empty() {
        // A search that cannot be built keeps everything rather than nothing.
        return Some(Plan {
            automaton: None,
            packed: None,
            serves: Vec::new(),
            every: mine,
            unsure: Vec::new(),
        });
    }
    let packed = aho_corasick::packed::Config::new()
        .builder()
        .extend(&patterns)
        .build();
    Some(Plan {
        automaton,
        packed,
        serves,
        every,
        unsure,
    })
}

/// (row, lookout) for every word found in rows `rows` of `source`, in row order. A search
/// for the first word anywhere (fast: it skips ahead on a prefilter) finds the next row with
/// any; that row alone is then searched for every word, and the search goes on after it.
fn search(source: &Source, plan: &Plan, rows: std::ops::Range<usize>) -> Vec<(u32, u16)> {
    let mut out: Vec<(u32, u16)> = Vec::new();
    let Some(ac) = &plan.automaton else {
        return out;
    };
    let data: &[u8] = &source.data;
    let end_of = |row: usize| {
        source
            .starts
            .get(row + 1)
            .map_or(data.len(), |e| *e as usize)
    };
    let lo = source.starts[rows.start] as usize;
    let hi = end_of(rows.end - 1);
    let starts = &source.starts[rows.clone()];
    let mut at = lo;
    while at < hi {
        let found = match &plan.packed {
            Some(p) => p
                .find_in(&data[..hi], aho_corasick::Span::from(at..hi))
                .map(|m| m.start()),
            None => ac
                .find(aho_corasick::Input::new(&data[..hi]).range(at..hi))
                .map(|m| m.start()),
        };
        let Some(start) = found else {
            break;
        };
        let row = rows.start + starts.partition_point(|s| *s <= start as u64) - 1;
        let (from, to) = (source.starts[row] as usize, end_of(row));
        let r = u32::try_from(row).unwrap_or(u32::MAX);
        let first = out.len();
        for m in ac.find_overlapping_iter(&data[from..to]) {
            if let Some(lookouts) = plan.serves.get(m.pattern().as_usize()) {
                for &l in lookouts {
                    if !out[first..].contains(&(r, l)) {
                        out.push((r, l));
                    }
                }
            }
        }
        at = to.max(start + 1);
    }
    if !plan.unsure.is_empty() {
        for unsure in UNSURE {
            let finder = memchr::memmem::Finder::new(unsure);
            let mut at = lo;
            while let Some(i) = finder.find(&data[at..hi]) {
                let row = rows.start + starts.partition_point(|s| *s <= (at + i) as u64) - 1;
                let r = u32::try_from(row).unwrap_or(u32::MAX);
                out.extend(plan.unsure.iter().map(|l| (r, *l)));
                at = end_of(row).max(at + i + 1);
            }
        }
    }
    out
}

/// Row ranges of about [`WINDOW`] bytes each.
fn windows(source: &Source) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let n = source.len();
    let mut from = 0;
    while from < n {
        let limit = source.starts[from] + WINDOW as u64;
        let to = (from + 1 + source.starts[from + 1..].partition_point(|s| *s < limit)).min(n);
        out.push(from..to);
        from = to;
    }
    out
}

impl Scan {
    /// Search every source once for everything in `wanted`, on every core.
    pub fn run(incident: &Incident, timeline: &Timeline, wanted: &[Wanted]) -> Scan {
        let sources = &incident.sources;
        let plans: Vec<Option<Plan>> = sources.iter().map(|s| plan(s, wanted)).collect();
        let work: Vec<(usize, std::ops::Range<usize>)> = sources
            .iter()
            .enumerate()
            .filter(|(i, _)| plans[*i].as_ref().is_some_and(|p| p.automaton.is_some()))
            .flat_map(|(i, s)| windows(s).into_iter().map(move |w| (i, w)))
            .collect();
        let found = crate::parallel::each(&work, |(i, rows)| {
            let s = &sources[*i];
            let Some(plan) = plans[*i].as_ref() else {
                return Vec::new();
            };
            let hits = search(s, plan, rows.clone());
            s.release_pages();
            hits
        });
        // Per source: (row, lookout), sorted.
        let mut per_source: Vec<Vec<(u32, u16)>> = vec![Vec::new(); sources.len()];
        for ((i, _), hits) in work.iter().zip(found) {
            per_source[*i].extend(hits);
        }
        let mut marked: Vec<Vec<u64>> = Vec::with_capacity(sources.len());
        for (i, hits) in per_source.iter_mut().enumerate() {
            hits.sort_unstable();
            hits.dedup();
            let mut bits = vec![0u64; sources[i].len().div_ceil(64)];
            for (row, _) in hits.iter() {
                bits[*row as usize / 64] |= 1 << (row % 64);
            }
            marked.push(bits);
        }
        let every: Vec<&[u16]> = plans
            .iter()
            .map(|p| p.as_ref().map_or(&[][..], |p| p.every.as_slice()))
            .collect();
        let mut hits: Vec<Vec<u32>> = vec![Vec::new(); wanted.len()];
        for (at, e) in timeline.entries.iter().enumerate() {
            let (s, row) = (e.source as usize, e.row);
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            for &l in every[s] {
                hits[l as usize].push(at);
            }
            if marked[s][row as usize / 64] & (1 << (row % 64)) == 0 {
                continue;
            }
            let rows = &per_source[s];
            let from = rows.partition_point(|(r, _)| *r < row);
            for (_, l) in rows[from..].iter().take_while(|(r, _)| *r == row) {
                hits[*l as usize].push(at);
            }
        }
        Scan {
            names: wanted.iter().map(|w| w.name.clone()).collect(),
            formats: wanted.iter().map(|w| w.formats.clone()).collect(),
            hits,
        }
    }

    /// Timeline positions the scan kept for the lookout called `name`, in order, with the
    /// formats it covers; `None` when no lookout of that name was searched for.
    pub fn kept(&self, name: &str) -> Option<(&[u32], &[FormatId])> {
        let i = self.names.iter().position(|n| n == name)?;
        Some((&self.hits[i], &self.formats[i]))
    }
}

/// Whether the bytes of a record of `format` may hold in its text a word that `finders` look
/// for (each made from [`searchable`]): the scan's reasoning, for one record and words known
/// only at run time.
pub fn may_hold(format: FormatId, raw: &[u8], finders: &[memchr::memmem::Finder]) -> bool {
    match text_from(format) {
        TextFrom::Composed => true,
        TextFrom::Bytes => finders.iter().any(|f| f.find(raw).is_some()),
        TextFrom::FieldValues => {
            UNSURE
                .iter()
                .any(|u| memchr::memmem::find(raw, u).is_some())
                || finders.iter().any(|f| f.find(raw).is_some())
        }
    }
}

/// The part of `word` a search of bytes of `format` may look for (see the module comment):
/// `None` when nothing of it can be looked for.
pub fn searchable(format: FormatId, word: &str) -> Option<&str> {
    let w = match text_from(format) {
        TextFrom::Bytes => word,
        TextFrom::FieldValues => {
            let cut = word
                .bytes()
                .position(|b| JOINERS.contains(&b))
                .unwrap_or(word.len());
            &word[..cut]
        }
        TextFrom::Composed => "",
    };
    (!w.is_empty()).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regex_gives_its_prefixes_or_nothing() {
        assert_eq!(
            prefixes("Worker failed to boot|HaltServer"),
            Some(vec![
                b"Worker failed to boot".to_vec(),
                b"HaltServer".to_vec()
            ])
        );
        assert_eq!(
            prefixes(r"(?m)^CircleCI job x( #\d+)? failed"),
            Some(vec![
                b"CircleCI job x #".to_vec(),
                b"CircleCI job x failed".to_vec()
            ])
        );
        assert_eq!(prefixes(r"\d+ failed"), None);
        assert_eq!(prefixes(r".*failed"), None);
        assert_eq!(prefixes(r"x*y"), Some(vec![b"x".to_vec(), b"y".to_vec()]));
    }

    /// A journal of JSON entries: the timeout written plainly, escaped (`\u0020`), as an
    /// array of byte values, and a line without it.
    fn journal() -> (tempfile::TempDir, Incident) {
        let dir = tempfile::tempdir().unwrap();
        let entry = |t: u64, message: &str| {
            format!(
                "{{\"__REALTIME_TIMESTAMP\":\"{t}\",\"PRIORITY\":\"2\",\"SYSLOG_IDENTIFIER\":\"gunicorn\",\"_PID\":\"7\",\"MESSAGE\":{message}}}\n"
            )
        };
        let bytes: Vec<String> = b"WORKER TIMEOUT (pid:9)"
            .iter()
            .map(|b| b.to_string())
            .collect();
        let text = [
            entry(
                1_681_385_044_000_000,
                r#""[CRITICAL] WORKER TIMEOUT (pid:8)""#,
            ),
            entry(
                1_681_385_045_000_000,
                r#""[CRITICAL] WORKER\u0020TIMEOUT (pid:9)""#,
            ),
            entry(1_681_385_046_000_000, &format!("[{}]", bytes.join(","))),
            entry(
                1_681_385_047_000_000,
                r#""[INFO] Booting worker with pid: 10""#,
            ),
        ]
        .concat();
        std::fs::write(dir.path().join("journal.json"), text).unwrap();
        let incident =
            crate::ingest::load(&[dir.path().to_path_buf()], &Default::default()).unwrap();
        (dir, incident)
    }

    const TIMEOUTS: Lookout = Lookout {
        name: "test/timeouts",
        formats: FormatId::JOURNALS,
        words: &["WORKER TIMEOUT"],
    };

    #[test]
    fn the_scan_keeps_every_record_whose_text_holds_a_word_and_drops_the_rest() {
        let (_dir, incident) = journal();
        assert_eq!(incident.sources[0].format, FormatId::JournalJson);
        let timeline = Timeline::all(&incident.sources);
        let scan = Scan::run(&incident, &timeline, &[Wanted::from(&TIMEOUTS)]);
        let (kept, _) = scan.kept("test/timeouts").unwrap();
        // The plain, the escaped and the byte-array timeouts; not the boot line.
        assert_eq!(kept, &[0, 1, 2]);
        for at in kept {
            let e = timeline.entries[*at as usize];
            let text = incident.sources[e.source as usize].text(e.row as usize);
            assert!(text.contains("WORKER TIMEOUT"), "{text}");
        }
        assert_eq!(scan.kept("test/other"), None);
    }

    #[test]
    fn a_lookout_nobody_declared_reads_every_record_the_same_way() {
        let (_dir, incident) = journal();
        let cx = crate::analysis::rules::Context::new(&incident);
        let got: Vec<(usize, usize)> = cx.records_with(&TIMEOUTS).collect();
        assert_eq!(got, vec![(0, 0), (0, 1), (0, 2)]);
    }

    #[test]
    fn a_checklist_regex_reads_the_records_the_one_scan_kept_for_it() {
        let (_dir, incident) = journal();
        let regex = regex::Regex::new(r"WORKER TIMEOUT \(pid:\d+\)").unwrap();
        let asked = Wanted::regex(FormatId::JOURNALS, &regex);
        assert_eq!(asked.words, Some(vec![b"WORKER TIMEOUT (pid:".to_vec()]));
        let cx = crate::analysis::rules::Context::looking_for(
            &incident,
            vec![asked],
            Default::default(),
        );
        let kept: Vec<(usize, usize)> = cx.records_matching(FormatId::JOURNALS, &regex).collect();
        assert_eq!(kept, vec![(0, 0), (0, 1), (0, 2)]);
        // A regex the scan was not told of reads every record.
        let other = regex::Regex::new(r"WORKER TIMEOUT").unwrap();
        assert_eq!(cx.records_matching(FormatId::JOURNALS, &other).count(), 4);
    }

    #[test]
    fn words_are_cut_where_a_rendering_joins_fields() {
        assert_eq!(
            searchable(FormatId::JournalJson, "gunicorn[1]: x"),
            Some("gunicorn")
        );
        assert_eq!(searchable(FormatId::JournalJson, ": Main"), None);
        assert_eq!(
            searchable(FormatId::Gunicorn, "gunicorn[1]: x"),
            Some("gunicorn[1]: x")
        );
    }
}
