//! Growing a source as its file grows (live mode): only the new bytes are parsed, together
//! with the last record, so a line that continues it (the next line of a traceback) still
//! joins it. Zone-less times take the zone given; memory is bounded by dropping the oldest
//! records, which the source's notes say.

use crate::model::format_id::FormatId;
use crate::model::source::{Bytes, Source, SourceBuilder, SourceStats, ZoneUsed, flag};
use crate::model::time::TzReason;
use crate::model::time::{MICROS_PER_SEC, Offset, UNTIMED};

use super::formats::{self, ParseCtx};

/// What an append changed, for the panes that index the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grown {
    /// Records before the append; rows from here on are new.
    pub before: usize,
    /// Rows were renumbered (old records dropped, or the time order changed): indexes into
    /// this source are stale.
    pub renumbered: bool,
}

/// A source with no bytes yet, its format to be told from its first lines.
pub fn empty(file: &str, host: &str) -> Source {
    Source {
        file: file.to_string(),
        group: super::rotation::rotation_of(file).0,
        host: host.to_string(),
        format: FormatId::Unknown,
        data: Bytes::Owned(Vec::new()),
        starts: Vec::new(),
        lines: Vec::new(),
        ts: Vec::new(),
        sev: Vec::new(),
        flags: Vec::new(),
        order: None,
        stats: SourceStats::default(),
        zone: ZoneUsed {
            offset: None,
            reason: TzReason::Untimed,
        },
        notes: Vec::new(),
    }
}

/// Add `new` (whole lines) to `source` and parse it. `zone` is applied to zone-less times;
/// `cap` bounds the records kept (the oldest are dropped, and a note says how many).
pub fn append(source: &mut Source, new: &[u8], ctx: &ParseCtx, zone: Offset, cap: usize) -> Grown {
    let before = source.len();
    if new.is_empty() {
        return Grown {
            before,
            renumbered: false,
        };
    }
    if let Bytes::Mapped(m) = &source.data {
        source.data = Bytes::Owned(m.to_vec());
    }
    let Bytes::Owned(data) = &mut source.data else {
        return Grown::default();
    };
    data.extend_from_slice(new);
    if source.format == FormatId::Unknown {
        source.format = super::sniff::sniff(&source.file, data);
    }
    let parser = formats::lookup(source.format).unwrap_or(&formats::generic::Generic);
    // Parse again from the last record's start: it may go on in the new lines.
    let keep = before.saturating_sub(1);
    let (from, first_line) = match before {
        0 => (0usize, 1u32),
        _ => (source.starts[keep] as usize, source.lines[keep]),
    };
    let mut b = SourceBuilder::default();
    parser.parse(&data[from..], ctx, &mut b);
    let shift = i64::from(zone.seconds()) * MICROS_PER_SEC;
    source.starts.truncate(keep);
    source.lines.truncate(keep);
    source.ts.truncate(keep);
    source.sev.truncate(keep);
    source.flags.truncate(keep);
    let was_sorted = source.order.is_none();
    for i in 0..b.len() {
        let mut t = b.ts[i];
        let mut f = b.flags[i];
        if t != UNTIMED && f & flag::ZONELESS != 0 {
            t -= shift;
        }
        if t == UNTIMED
            && let Some(prev) = source.ts.last().copied().filter(|p| *p != UNTIMED)
        {
            t = prev;
            f |= flag::TIME_INHERITED;
        }
        source.starts.push(b.starts[i] + from as u64);
        source
            .lines
            .push(b.lines[i].saturating_add(first_line.saturating_sub(1)));
        source.ts.push(t);
        source.sev.push(b.sev[i]);
        source.flags.push(f);
    }
    source.notes.append(&mut b.notes);
    // Time order: appended records usually come last; if not, sort the whole source.
    let key = |t: i64| if t == UNTIMED { i64::MAX } else { t };
    let tail_sorted = source.ts[keep.min(source.ts.len())..]
        .windows(2)
        .all(|w| key(w[0]) <= key(w[1]))
        && (keep == 0
            || source.ts.get(keep).is_none_or(|t| {
                key(*t)
                    >= source.ts[..keep]
                        .iter()
                        .map(|x| key(*x))
                        .max()
                        .unwrap_or(i64::MIN)
            }));
    let mut renumbered = false;
    if !(was_sorted && tail_sorted) {
        let mut perm: Vec<u32> = (0..source.ts.len() as u32).collect();
        perm.sort_by_key(|r| key(source.ts[*r as usize]));
        source.order = Some(perm);
        renumbered = true;
    }
    refresh_stats(source);
    if source.zone.offset.is_none() && source.ts.iter().any(|t| *t != UNTIMED) {
        let zoneless = source.flags.iter().any(|f| f & flag::ZONELESS != 0);
        source.zone = ZoneUsed {
            offset: Some(zone),
            reason: if zoneless {
                TzReason::Local
            } else if source.format.is_journal() {
                TzReason::Utc
            } else {
                TzReason::InLog
            },
        };
    }
    if source.len() > cap {
        drop_oldest(source, source.len() - cap * 3 / 4);
        renumbered = true;
    }
    Grown {
        before: if renumbered { 0 } else { before },
        renumbered,
    }
}

fn refresh_stats(source: &mut Source) {
    let records = source.len();
    let lines = memchr::memchr_iter(b'\n', &source.data).count();
    source.stats.records = records;
    source.stats.continuations = lines.saturating_sub(records);
    source.stats.unparsed = source
        .flags
        .iter()
        .filter(|f| **f & flag::UNPARSED != 0)
        .count();
    source.stats.untimed = source.ts.iter().filter(|t| **t == UNTIMED).count();
}

/// Forget the `n` first records (in file order) and their bytes, and say so.
fn drop_oldest(source: &mut Source, n: usize) {
    let n = n.min(source.len());
    if n == 0 {
        return;
    }
    let cut = source
        .starts
        .get(n)
        .map_or(source.data.len(), |s| *s as usize);
    let line_shift = source.lines.get(n).map_or(0, |l| l.saturating_sub(1));
    if let Bytes::Owned(v) = &mut source.data {
        v.drain(..cut);
    }
    source.starts.drain(..n);
    source.lines.drain(..n);
    source.ts.drain(..n);
    source.sev.drain(..n);
    source.flags.drain(..n);
    for s in &mut source.starts {
        *s -= cut as u64;
    }
    for l in &mut source.lines {
        *l -= line_shift;
    }
    if source.order.is_some() {
        let key = |t: i64| if t == UNTIMED { i64::MAX } else { t };
        let mut perm: Vec<u32> = (0..source.ts.len() as u32).collect();
        perm.sort_by_key(|r| key(source.ts[*r as usize]));
        source.order = Some(perm);
    }
    refresh_stats(source);
    source.notes.push(format!(
        "{n} older records dropped from memory (the cap per source); line numbers now count from the first kept"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access_line(sec: u32, status: u16) -> String {
        format!(
            "127.0.0.1 - - [13/Apr/2023:11:24:{sec:02} +0000] \"GET /p{sec} HTTP/1.1\" {status} 166 \"-\" \"curl/8\"\n"
        )
    }

    #[test]
    fn lines_appended_in_pieces_parse_as_one_file_would() {
        let mut whole = String::new();
        let mut s = empty("nginx/access.log", "h");
        for sec in 0..30 {
            let line = access_line(sec, if sec % 7 == 0 { 502 } else { 200 });
            whole.push_str(&line);
            append(
                &mut s,
                line.as_bytes(),
                &ParseCtx::default(),
                Offset::UTC,
                1_000_000,
            );
        }
        assert_eq!(s.format, FormatId::NginxAccess);
        let once = crate::ingest::load_files(
            crate::ingest::bundle::BundleFiles {
                name: "x".into(),
                manifest: None,
                entries: vec![crate::ingest::bundle::Entry {
                    path: "nginx/access.log".into(),
                    data: Bytes::Owned(whole.into_bytes()),
                    mtime: None,
                    notes: Vec::new(),
                }],
                notes: Vec::new(),
                loose: true,
            },
            &Default::default(),
        );
        let o = &once.sources[0];
        assert_eq!(s.len(), o.len());
        assert_eq!(s.ts, o.ts);
        assert_eq!(s.sev, o.sev);
        assert_eq!(s.lines, o.lines);
        assert_eq!(s.text(29), o.text(29));
        assert!(s.order.is_none());
    }

    #[test]
    fn a_traceback_split_across_appends_stays_one_record() {
        let mut s = empty("app/app.log", "h");
        let ctx = ParseCtx::default();
        append(
            &mut s,
            b"2023-04-13 11:41:32,100 ERROR app: boom\nTraceback (most recent call last):\n",
            &ctx,
            Offset::UTC,
            100,
        );
        let g = append(
            &mut s,
            b"  File \"x.py\", line 1, in <module>\nValueError: bad\n2023-04-13 11:41:33,000 INFO app: next\n",
            &ctx,
            Offset::UTC,
            100,
        );
        assert_eq!(g.before, 1);
        assert_eq!(
            s.len(),
            2,
            "{:?}",
            (0..s.len()).map(|r| s.text(r)).collect::<Vec<_>>()
        );
        assert!(s.text(0).contains("ValueError: bad"));
    }

    #[test]
    fn the_cap_drops_the_oldest_and_says_so() {
        let mut s = empty("nginx/access.log", "h");
        for sec in 0..40 {
            append(
                &mut s,
                access_line(sec, 200).as_bytes(),
                &ParseCtx::default(),
                Offset::UTC,
                20,
            );
        }
        assert!(s.len() <= 20, "{}", s.len());
        assert!(
            s.notes.iter().any(|n| n.contains("dropped")),
            "{:?}",
            s.notes
        );
        // What is kept is the newest, and its text is whole.
        assert!(s.text(s.len() - 1).contains("/p39"));
        assert!(s.text(0).starts_with("127.0.0.1"));
    }

    #[test]
    fn zone_less_lines_take_the_zone_given() {
        let mut s = empty("nginx/error.log", "h");
        append(
            &mut s,
            b"2023/04/13 11:24:04 [error] 1#1: *1 connect() failed (111: Connection refused) while connecting to upstream\n",
            &ParseCtx::default(),
            Offset(2 * 3600),
            100,
        );
        assert_eq!(
            crate::model::time::format_utc(s.ts[0]),
            "2023-04-13T09:24:04.000000Z"
        );
    }
}
