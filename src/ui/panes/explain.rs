//! The `x` overlay: what the selected line means (the knowledge base), the parts of it named,
//! usual causes, next checks, and the words a newcomer may not know.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::analysis::knowledge::{define, explain};
use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(2).min(30);
    let (block, r) = super::overlay(f, area, (w, h), " Explain (any key closes) ", theme);
    let text = app
        .selected_record()
        .map(|(s, row)| {
            let s = &app.incident.sources[s];
            s.first_line(row, crate::model::source::MAX_DISPLAY_LINE)
                .into_owned()
        })
        .unwrap_or_default();
    let first = text.as_str();
    let found = explain(first);
    let mut lines = vec![Line::styled(
        crate::ui::panes::list::fit(&sanitize(first), usize::from(w) * 2),
        theme.muted(),
    )];
    lines.push(Line::raw(""));
    if found.is_empty() {
        lines.push(Line::raw("nothing known about this line"));
    }
    for (i, e) in found.iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::from(vec![
            Span::styled(if i == 0 { "" } else { "also: " }, theme.muted()),
            Span::styled(format!("{} ({})", e.id, e.family), theme.title(true)),
        ]));
        lines.push(Line::raw(e.meaning));
        for (k, v) in &e.parts {
            lines.push(Line::from(vec![
                Span::styled(format!("  {k}: "), theme.muted()),
                Span::raw(sanitize(v).into_owned()),
            ]));
        }
        for c in e.causes {
            lines.push(Line::raw(format!("  - {c}")));
        }
        for n in e.next {
            lines.push(Line::styled(format!("  $ {n}"), theme.muted()));
        }
        if i == 0 {
            for term in e.glossary {
                if let Some(d) = define(term) {
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {term}: "), theme.title(true)),
                        Span::raw(d),
                    ]));
                }
            }
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        r,
    );
}
