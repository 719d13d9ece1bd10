//! Live mode in the console: what the collectors send is laid into the model as it comes,
//! the panes grow (following the newest record when they were at the end), the unit and socket
//! state is rebuilt when a new snapshot arrives, and the findings are worked out again now and
//! then. `Space` pauses the view while collection goes on.

use std::time::{Duration, Instant};

use crate::ingest::append::{self, Grown};
use crate::ingest::formats::ParseCtx;
use crate::live::collect::{Feed, Update};
use crate::model::time::Offset;

use super::app::{App, ListKind, ListPane};

/// How often the findings are worked out again while data comes in.
const REANALYSE: Duration = Duration::from_secs(15);

/// The live side of the console.
#[derive(Debug)]
pub struct LiveState {
    pub feed: Feed,
    /// Updates received and not yet laid into the model (paused, or the rules still hold it).
    pub queued: Vec<Update>,
    pub paused: bool,
    /// Lines that arrived while paused.
    pub waiting: usize,
    pub ctx: ParseCtx,
    /// The zone of zone-less logs: this host's.
    pub zone: Offset,
    /// Records kept per source at the most.
    pub cap: usize,
    /// What could not be found or read, and collector notes, newest last.
    pub problems: Vec<String>,
    pub analysed_at: Instant,
    pub changed: bool,
}

impl LiveState {
    pub fn new(feed: Feed, ctx: ParseCtx, zone: Offset, cap: usize, problems: Vec<String>) -> Self {
        LiveState {
            feed,
            queued: Vec::new(),
            paused: false,
            waiting: 0,
            ctx,
            zone,
            cap,
            problems,
            analysed_at: Instant::now(),
            changed: false,
        }
    }
}

fn lines_in(u: &Update) -> usize {
    match u {
        Update::Lines { bytes, .. } => memchr::memchr_iter(b'\n', bytes).count(),
        _ => 0,
    }
}

impl App {
    /// Take what the collectors sent; lay it into the model unless paused. True when the
    /// screen must change.
    pub fn poll_live(&mut self) -> bool {
        let Some(live) = &mut self.feed else {
            return false;
        };
        let mut got = false;
        while let Ok(u) = live.feed.rx.try_recv() {
            if live.paused {
                live.waiting += lines_in(&u);
            }
            if let Update::Note(n) = &u {
                live.problems.push(n.clone());
            }
            live.queued.push(u);
            got = true;
        }
        if live.paused {
            if got {
                self.dirty = true;
            }
            return got;
        }
        let applied = !live.queued.is_empty() && self.apply_queued();
        // The first data gets findings soon; after that, every REANALYSE at the most.
        let soon = self.diagnosis.findings.is_empty() && self.diagnosis.incident_start.is_none();
        let due = self.feed.as_ref().is_some_and(|l| {
            l.changed
                && (l.analysed_at.elapsed() >= REANALYSE
                    || (soon && l.analysed_at.elapsed() >= Duration::from_secs(2)))
        });
        if due && self.pending.is_none() {
            self.reanalyse();
        }
        applied || got
    }

    /// Pause or go on; going on lays in everything that came meanwhile.
    pub fn toggle_pause(&mut self) {
        if let Some(live) = &mut self.feed {
            live.paused = !live.paused;
            live.waiting = 0;
            self.dirty = true;
        }
        if self.feed.as_ref().is_some_and(|l| !l.paused) {
            self.apply_queued();
        }
    }

    /// Work the findings and checklist out again, behind the screen.
    fn reanalyse(&mut self) {
        if let Some(live) = &mut self.feed {
            live.analysed_at = Instant::now();
            live.changed = false;
        }
        self.spawn_analysis(Default::default());
    }

    /// Lay the queued updates into the model; false when the model is held by the rules
    /// (they run on a copy of the pointer) and the updates must wait.
    fn apply_queued(&mut self) -> bool {
        let Some(incident) = std::sync::Arc::get_mut(&mut self.incident) else {
            return false;
        };
        let Some(live) = &mut self.feed else {
            return false;
        };
        let before: Vec<usize> = incident.sources.iter().map(|s| s.timed_len()).collect();
        let mut renumbered = vec![false; incident.sources.len()];
        let mut state_changed = false;
        for u in live.queued.drain(..) {
            let (name, bytes, replace) = match u {
                Update::Lines { name, bytes } => (name, bytes, false),
                Update::Snapshot { name, bytes } => (name, bytes, true),
                Update::Note(_) => continue,
            };
            state_changed |= name.starts_with("systemd/") || name.starts_with("sockets/");
            let host = incident
                .hosts
                .first()
                .map(|h| h.name.clone())
                .unwrap_or_default();
            let i = match incident.sources.iter().position(|s| s.file == name) {
                Some(i) if replace => {
                    incident.sources[i] = append::empty(&name, &host);
                    if i < renumbered.len() {
                        renumbered[i] = true;
                    }
                    i
                }
                Some(i) => i,
                None => {
                    incident.sources.push(append::empty(&name, &host));
                    renumbered.push(false);
                    incident.sources.len() - 1
                }
            };
            let g: Grown = append::append(
                &mut incident.sources[i],
                &bytes,
                &live.ctx,
                live.zone,
                live.cap,
            );
            if g.renumbered {
                renumbered[i] = true;
            }
        }
        live.changed = true;
        self.base = None;
        if state_changed {
            self.units = std::sync::Arc::new(crate::analysis::state::Units::build(&self.incident));
            self.sockets =
                std::sync::Arc::new(crate::analysis::state::Sockets::build(&self.incident));
        }
        self.grow_lists(&before, &renumbered);
        self.errors = {
            let p = &self.lists[0];
            p.errors_in(0, p.records.len())
        };
        self.dirty = true;
        true
    }

    /// Extend each list pane with the new records, or rebuild it when its sources were
    /// renumbered or the new records are not all later; follow the newest record when the
    /// focused pane was at its end.
    fn grow_lists(&mut self, before: &[usize], renumbered: &[bool]) {
        let following = {
            let n = self.visible_len(self.focus);
            n == 0 || self.lists[self.focus].selected + 1 >= n
        };
        // With filters on, the panes are built again through them.
        if self.filters.active() {
            let cursor = self.cursor;
            self.apply_filters();
            if following {
                let last = self.visible_len(self.focus).saturating_sub(1);
                self.select_index(self.focus, last);
            } else {
                self.goto_time(cursor);
            }
            return;
        }
        let focus_kind = self.lists[self.focus].kind;
        let kinds: Vec<ListKind> = ListKind::ALL
            .iter()
            .copied()
            .filter(|k| {
                *k == ListKind::Timeline
                    || self
                        .incident
                        .sources
                        .iter()
                        .any(|s| k.holds(s.format) && s.timed_len() > 0)
            })
            .collect();
        let same_panes = kinds.len() == self.lists.len()
            && kinds.iter().zip(&self.lists).all(|(k, p)| *k == p.kind);
        if !same_panes {
            let old: Vec<(ListKind, usize)> =
                self.lists.iter().map(|p| (p.kind, p.selected)).collect();
            self.lists = kinds
                .iter()
                .map(|k| ListPane::new(*k, &self.incident))
                .collect();
            for p in &mut self.lists {
                if let Some((_, sel)) = old.iter().find(|(k, _)| *k == p.kind) {
                    p.selected = (*sel).min(p.records.len().saturating_sub(1));
                }
            }
            self.focus = self
                .lists
                .iter()
                .position(|p| p.kind == focus_kind)
                .unwrap_or(0);
        } else {
            for p in &mut self.lists {
                if !p.extend(&self.incident, before, renumbered) {
                    let sel_time =
                        (p.selected < p.records.len()).then(|| p.records.time(p.selected));
                    *p = ListPane::new(p.kind, &self.incident);
                    if let Some(t) = sel_time {
                        p.selected = p.records.seek(t).min(p.records.len().saturating_sub(1));
                    }
                }
            }
        }
        if following {
            let last = self.visible_len(self.focus).saturating_sub(1);
            self.select_index(self.focus, last);
        }
    }
}
