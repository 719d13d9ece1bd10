//! The selected record: its lines on screen from the pane's place in it (`d`/`D` scroll, `b`
//! back to the top; only those lines are read, however long the record), then, once its end
//! is in view, its parsed fields as a table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::model::time::format_utc;
use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

/// Fields the journal repeats in every entry and nobody needs in the detail table.
const HIDDEN: &[&str] = &[
    "__MONOTONIC_TIMESTAMP",
    "_BOOT_ID",
    "_MACHINE_ID",
    "_CAP_EFFECTIVE",
    "__CURSOR",
];

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let view = app.detail;
    let Some((source, row)) = app.selected_record().filter(|k| view.key == Some(*k)) else {
        let block = Block::bordered()
            .border_style(theme.block(false))
            .title(Span::styled(" Detail ", theme.title(false)));
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(Paragraph::new("nothing selected"), inner);
        return;
    };
    // Only the lines on screen are read and coloured: a record may hold a million lines.
    let window = app.detail_window();
    let shown_to = view.scroll + window.len();
    let title = if view.scroll > 0 || shown_to < view.total {
        format!(
            " Detail · line {} of {} · d/D scroll, b top ",
            view.scroll + 1,
            view.total
        )
    } else {
        " Detail ".to_string()
    };
    let block = Block::bordered()
        .border_style(theme.block(false))
        .title(Span::styled(title, theme.title(false)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let s = &app.incident.sources[source];
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{} ", format_utc(s.ts[row])), theme.muted()),
        Span::styled(s.sev[row].as_str(), theme.severity(s.sev[row])),
        Span::styled(
            format!("  {}:{} ({})", sanitize(&s.file), s.lines[row], s.format),
            theme.muted(),
        ),
    ])];
    let coloured = app
        .highlighted
        .as_ref()
        .filter(|c| c.key == (source, row) && c.from == view.scroll)
        .and_then(|c| c.lines.as_ref());
    match coloured {
        Some(hl) => lines.extend(hl.iter().cloned()),
        None => {
            for l in &window {
                lines.push(Line::styled(
                    sanitize(&l.replace('\t', "    ")).into_owned(),
                    theme.severity(s.sev[row]),
                ));
            }
        }
    }
    // The fields follow the text: shown once its last line is on screen.
    if shown_to < view.total {
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }
    let fields = app.incident.fields(source, row);
    if !fields.is_empty() {
        lines.push(Line::raw(""));
        let key_w = fields
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0)
            .min(24);
        let mut seen = std::collections::HashSet::new();
        for (k, v) in fields.iter().filter(|(k, _)| !HIDDEN.contains(&k.as_str())) {
            if !seen.insert((k.clone(), v.clone())) && k.starts_with('_') {
                continue;
            }
            lines.push(Line::from(vec![
                Span::styled(format!("{:>key_w$} ", sanitize(k)), theme.muted()),
                Span::raw(sanitize(v).into_owned()),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
