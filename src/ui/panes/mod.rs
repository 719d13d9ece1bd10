//! One file per pane. Each draws itself from the app state into the area it is given.

pub mod checklist;
pub mod detail;
pub mod explain;
pub mod findings;
pub mod help;
pub mod lesson;
pub mod list;
pub mod notes;
pub mod palette;
pub mod sockets;
pub mod sources;
pub mod units;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Clear};

/// An overlay of `w`x`h` cells centred in `area`, cleared and framed with `title`; returns the
/// frame's block and its area (the caller draws inside `block.inner(area)`).
pub fn overlay(
    f: &mut Frame,
    area: Rect,
    (w, h): (u16, u16),
    title: &'static str,
    theme: &crate::ui::theme::Theme,
) -> (Block<'static>, Rect) {
    let (w, h) = (w.min(area.width), h.min(area.height));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .border_style(theme.block(true))
        .title(title);
    (block, r)
}
