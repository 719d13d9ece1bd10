//! The evidence notes overlay (`M`): the marked records in time order, each with its note.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let notes = &app.walk.progress.records;
    let mut lines = Vec::new();
    if notes.is_empty() {
        lines.push(Line::styled(
            "no notes yet: m marks the selected record as evidence, a writes a note on it",
            theme.muted(),
        ));
    }
    for n in notes {
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} {}:{} ",
                    n.time.get(11..23).unwrap_or(&n.time),
                    sanitize(&n.file),
                    n.line
                ),
                theme.muted(),
            ),
            Span::raw(sanitize(&n.note).into_owned()),
        ]));
        lines.push(Line::styled(
            format!("    {}", sanitize(&n.text)),
            theme.muted(),
        ));
    }
    let w = area.width.saturating_sub(6).min(120);
    let h = (lines.len() as u16 + 2).clamp(3, area.height);
    let (block, r) = super::overlay(f, area, (w, h), " Notes (any key closes) ", theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
