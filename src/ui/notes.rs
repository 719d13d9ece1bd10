//! Evidence notes outside lessons: `m` marks the selected record as evidence (again: unmarks),
//! `a` writes a note on it, `M` lists them in time order. They are kept with the checklist's
//! progress for the bundle, and the incident report carries them.

use crate::model::time::format_utc;
use crate::progress::RecordNote;

use super::app::App;

impl App {
    fn note_index(&self, record: (usize, usize)) -> Option<usize> {
        let s = &self.incident.sources[record.0];
        let (line, time) = (s.lines[record.1], format_utc(s.ts[record.1]));
        self.walk
            .progress
            .records
            .iter()
            .position(|n| n.file == s.file && n.line == line && n.time == time)
    }

    fn new_note(&self, record: (usize, usize)) -> RecordNote {
        let s = &self.incident.sources[record.0];
        RecordNote {
            file: s.file.clone(),
            line: s.lines[record.1],
            time: format_utc(s.ts[record.1]),
            text: s.first_line(record.1, 4096).into_owned(),
            note: String::new(),
        }
    }

    /// `m`: mark the selected record as evidence, or unmark it.
    pub(crate) fn toggle_record_mark(&mut self) {
        let Some(rec) = self.selected_record() else {
            return;
        };
        let s = &self.incident.sources[rec.0];
        let at = format!("{}:{}", s.file, s.lines[rec.1]);
        match self.note_index(rec) {
            Some(i) => {
                self.walk.progress.records.remove(i);
                self.status = Some(format!("unmarked {at}"));
            }
            None => {
                let n = self.new_note(rec);
                self.walk.progress.records.push(n);
                self.status = Some(format!(
                    "marked {at} as evidence (a: note on it, M: all notes)"
                ));
            }
        }
        self.sort_notes();
        self.save_progress();
        self.dirty = true;
    }

    /// `a` outside the checklist: start writing a note on the selected record.
    pub(crate) fn start_record_note(&mut self) {
        let Some(rec) = self.selected_record() else {
            return;
        };
        let current = self
            .note_index(rec)
            .map(|i| self.walk.progress.records[i].note.clone())
            .unwrap_or_default();
        self.record_note = Some(current);
        self.dirty = true;
    }

    /// Enter on the note being typed: keep it (an empty one keeps the mark, without words).
    pub(crate) fn finish_record_note(&mut self, text: String) {
        let Some(rec) = self.selected_record() else {
            return;
        };
        let i = match self.note_index(rec) {
            Some(i) => i,
            None => {
                let n = self.new_note(rec);
                self.walk.progress.records.push(n);
                self.walk.progress.records.len() - 1
            }
        };
        self.walk.progress.records[i].note = text.trim().to_string();
        self.sort_notes();
        self.save_progress();
        self.status = Some("note kept (M lists the notes)".into());
        self.dirty = true;
    }

    fn sort_notes(&mut self) {
        self.walk
            .progress
            .records
            .sort_by(|a, b| (&a.time, &a.file, a.line).cmp(&(&b.time, &b.file, b.line)));
    }
}
