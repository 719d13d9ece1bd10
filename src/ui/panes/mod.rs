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

/// Groups of lines (one per host) cut to fit `height` together: each group gets an equal
/// share, a short group's unused share going to the others, so no host drops out of sight.
pub fn fit_groups<'a>(
    groups: Vec<Vec<ratatui::text::Line<'a>>>,
    height: usize,
) -> Vec<ratatui::text::Line<'a>> {
    let mut quota = vec![0usize; groups.len()];
    let mut left = height;
    // Hand out one line at a time to every group that still has some, until none is left.
    while left > 0 {
        let mut gave = false;
        for (i, g) in groups.iter().enumerate() {
            if left > 0 && quota[i] < g.len() {
                quota[i] += 1;
                left -= 1;
                gave = true;
            }
        }
        if !gave {
            break;
        }
    }
    groups
        .into_iter()
        .zip(quota)
        .flat_map(|(g, q)| g.into_iter().take(q))
        .collect()
}

/// The line that opens a host's group in the units and sockets panes (several hosts).
pub fn host_heading<'a>(
    host: &str,
    width: u16,
    theme: &crate::ui::theme::Theme,
) -> ratatui::text::Line<'a> {
    let name = crate::text::sanitize(host);
    let head = format!("── {name} ");
    let fill = usize::from(width).saturating_sub(crate::text::width(&head));
    ratatui::text::Line::styled(format!("{head}{}", "─".repeat(fill)), theme.title(false))
}

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
