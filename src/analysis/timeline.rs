//! All sources merged into one time-ordered index of (source, row). Records are never copied:
//! the index points into the sources, and equal times keep source order, then file order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::model::severity::Severity;
use crate::model::source::Source;
use crate::model::time::Micros;

/// One record of the merged timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub source: u32,
    pub row: u32,
}

#[derive(Debug, Default, Clone)]
pub struct Timeline {
    pub entries: Vec<Entry>,
    times: Vec<Micros>,
}

impl Timeline {
    /// Merge the timed records of `sources` for which `keep(source, row)` holds, each source
    /// limited to its time-order positions `range[source]`.
    pub fn build(
        sources: &[Source],
        ranges: &[std::ops::Range<usize>],
        mut keep: impl FnMut(usize, usize) -> bool,
    ) -> Timeline {
        let total: usize = ranges.iter().map(|r| r.len()).sum();
        let mut entries = Vec::with_capacity(total);
        let mut times = Vec::with_capacity(total);
        let mut heap = BinaryHeap::with_capacity(sources.len());
        let mut pos: Vec<usize> = ranges.iter().map(|r| r.start).collect();
        for (i, s) in sources.iter().enumerate() {
            if pos[i] < ranges[i].end {
                heap.push(Reverse((s.time_at(pos[i]), i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            let s = &sources[i];
            // Take every record of this source up to the next head's time in one run.
            let limit = heap.peek().map(|Reverse((t2, j))| (*t2, *j));
            loop {
                let row = s.row_in_time_order(pos[i]);
                if keep(i, row) {
                    entries.push(Entry {
                        source: i as u32,
                        row: row as u32,
                    });
                    times.push(s.ts[row]);
                }
                pos[i] += 1;
                if pos[i] >= ranges[i].end {
                    break;
                }
                let next_t = s.time_at(pos[i]);
                if let Some((t2, j)) = limit
                    && (next_t, i) > (t2, j)
                {
                    heap.push(Reverse((next_t, i)));
                    break;
                }
            }
        }
        Timeline { entries, times }
    }

    /// Every timed record of every source.
    pub fn all(sources: &[Source]) -> Timeline {
        let ranges: Vec<_> = sources.iter().map(|s| 0..s.timed_len()).collect();
        Timeline::build(sources, &ranges, |_, _| true)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn time(&self, i: usize) -> Micros {
        self.times[i]
    }

    /// First position whose time is `>= t`.
    pub fn seek(&self, t: Micros) -> usize {
        self.times.partition_point(|x| *x < t)
    }

    /// Records per source.
    pub fn counts(&self, n_sources: usize) -> Vec<usize> {
        let mut c = vec![0; n_sources];
        for e in &self.entries {
            c[e.source as usize] += 1;
        }
        c
    }

    /// The entries for which `keep(source, row)` holds, in the same order.
    pub fn select(&self, mut keep: impl FnMut(usize, usize) -> bool) -> Timeline {
        let mut entries = Vec::new();
        let mut times = Vec::new();
        for (e, t) in self.entries.iter().zip(&self.times) {
            if keep(e.source as usize, e.row as usize) {
                entries.push(*e);
                times.push(*t);
            }
        }
        Timeline { entries, times }
    }

    /// Add `later` at the end when none of it is earlier than what is here (the usual case
    /// in live mode); returns false, changing nothing, when it would break the order.
    pub fn append(&mut self, later: Timeline) -> bool {
        if let (Some(last), Some(first)) = (self.times.last(), later.times.first())
            && first < last
        {
            return false;
        }
        self.entries.extend(later.entries);
        self.times.extend(later.times);
        true
    }

    /// Time of the first record at `error` or worse.
    pub fn first_error(&self, sources: &[Source]) -> Option<Micros> {
        self.entries
            .iter()
            .zip(&self.times)
            .find(|(e, _)| sources[e.source as usize].sev[e.row as usize] <= Severity::Error)
            .map(|(_, t)| *t)
    }
}
