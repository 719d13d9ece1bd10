//! The command palette overlay: what is typed, then the best matches with their matched
//! characters in bold.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::palette::{entries, ranked};
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(p) = &app.palette else {
        return;
    };
    let all = entries(app, p.places);
    let found = ranked(&all, &p.query);
    let room = usize::from(area.height.saturating_sub(6)).clamp(3, 18);
    let sel = p.selected.min(found.len().saturating_sub(1));
    let skip = sel.saturating_sub(room - 1);
    let mut lines = vec![Line::from(vec![
        Span::styled(if p.places { "jump> " } else { ": " }, theme.title(true)),
        Span::raw(sanitize(&p.query).into_owned()),
        Span::styled(
            format!("▏ {} of {} · ↑/↓ Enter Esc", found.len(), all.len()),
            theme.muted(),
        ),
    ])];
    for (row, (i, idx)) in found.iter().enumerate().skip(skip).take(room) {
        let e = &all[*i];
        let text = format!("{} {}", e.kind, sanitize(&e.label));
        let kind_len = e.kind.chars().count();
        let spans: Vec<Span> = text
            .chars()
            .enumerate()
            .map(|(k, c)| {
                let base = if k <= kind_len {
                    theme.muted()
                } else {
                    ratatui::style::Style::default()
                };
                if idx.contains(&k) {
                    Span::styled(
                        c.to_string(),
                        base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                    )
                } else {
                    Span::styled(c.to_string(), base)
                }
            })
            .collect();
        let mut line = Line::from(spans);
        if row == sel {
            line = line.style(theme.selection());
        }
        lines.push(line);
    }
    let w = area.width.saturating_sub(8).min(100);
    let h = (lines.len() as u16 + 2).min(area.height);
    let title = if p.places { " Jump to " } else { " Palette " };
    let (block, r) = super::overlay(f, area, (w, h), title, theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines), inner);
}
