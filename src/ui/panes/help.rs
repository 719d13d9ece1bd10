//! The `?` overlay: every key of the keymap with what it does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::ui::action::KEYMAP;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines: Vec<Line> = KEYMAP
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>9}  ", b.keys), theme.title(true)),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{:>9}  ", "1-9"), theme.title(true)),
        Span::raw("focus pane N"),
    ]));
    let h = (lines.len() as u16 + 2).min(area.height);
    let w = 52.min(area.width);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .border_style(theme.block(true))
        .title(" Keys (? closes) ");
    f.render_widget(Paragraph::new(lines).block(block), r);
}
