//! Listening sockets (tcp, udp, unix) with their process and established connections, from
//! the `ss` snapshot in force at the cursor time.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let listeners = app.sockets.listeners(app.cursor);
    let block = Block::bordered()
        .border_style(theme.block(false))
        .title(Span::styled(
            format!(" Sockets ({} listening, +established) ", listeners.len()),
            theme.title(false),
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = usize::from(inner.width);
    let multi_host = app.incident.hosts.len() > 1;
    let mut group: Option<&str> = None;
    let mut groups: Vec<Vec<Line>> = Vec::new();
    for l in &listeners {
        // Several hosts: each host's listeners under its name.
        if groups.is_empty() || multi_host && group != Some(l.host.as_str()) {
            group = Some(l.host.as_str());
            let mut g = Vec::new();
            if multi_host {
                g.push(super::host_heading(&l.host, inner.width, theme));
            }
            groups.push(g);
        }
        let Some(lines) = groups.last_mut() else {
            continue;
        };
        lines.push({
            let who = match (&l.process, l.pid) {
                (Some(p), Some(pid)) => format!("{p}/{pid}"),
                (Some(p), None) => p.clone(),
                _ => "-".into(),
            };
            let right = if l.established > 0 {
                format!(" {who} +{}", l.established)
            } else {
                format!(" {who}")
            };
            let addr_w = w.saturating_sub(crate::text::width(&right) + 6).max(12);
            let addr = crate::text::pad(&sanitize(&l.local), addr_w);
            Line::from(vec![
                Span::styled(format!("{:<5} ", l.netid), theme.muted()),
                Span::raw(addr),
                Span::styled(right, theme.muted()),
            ])
        });
    }
    let lines = super::fit_groups(groups, usize::from(inner.height));
    if lines.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("no ss snapshot in this bundle", theme.muted())),
            inner,
        );
        return;
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// The one-line summary small screens show.
pub fn summary(app: &App) -> String {
    let l = app.sockets.listeners(app.cursor);
    let unix = l.iter().filter(|s| s.netid.starts_with('u')).count();
    format!(
        "sockets: {} listening ({} tcp/udp, {unix} unix)",
        l.len(),
        l.len() - unix
    )
}
