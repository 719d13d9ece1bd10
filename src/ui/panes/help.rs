//! The `?` overlay: every key of the keymap with what it does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::ui::app::App;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut lines: Vec<Line> = app
        .keymap
        .entries()
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>9}  ", b.label()), theme.title(true)),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{:>9}  ", "1-9"), theme.title(true)),
        Span::raw("focus pane N"),
    ]));
    // Two columns when one would not fit the height.
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let two = lines.len() > rows;
    let per_col = if two {
        lines.len().div_ceil(2)
    } else {
        lines.len()
    };
    let col_w: u16 = 50;
    let w = if two { col_w * 2 } else { col_w } + 2;
    let h = per_col as u16 + 2;
    let (block, r) = super::overlay(f, area, (w, h), " Keys (? closes) ", theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if two {
        let right = lines.split_off(per_col);
        let [a, b] = ratatui::layout::Layout::horizontal([
            ratatui::layout::Constraint::Percentage(50),
            ratatui::layout::Constraint::Percentage(50),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(lines), a);
        f.render_widget(Paragraph::new(right), b);
    } else {
        f.render_widget(Paragraph::new(lines), inner);
    }
}
