//! The sources overlay (`S`): every file or stream read or followed, its format, records and
//! zone; then what could not be found or read, and what to do about it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::model::severity::Severity;
use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = area.width.saturating_sub(4).min(120);
    // Several hosts: each file named with its host. The name column takes what the numbers
    // leave, so a narrow terminal does not wrap every row.
    let multi_host = app.incident.hosts.len() > 1;
    let name = |s: &crate::model::source::Source| {
        if multi_host {
            format!("{} {}", s.host, s.file)
        } else {
            s.file.clone()
        }
    };
    let longest = app
        .incident
        .sources
        .iter()
        .map(|s| crate::text::width(&name(s)))
        .max()
        .unwrap_or(6)
        .max(6);
    let fmt_w = app
        .incident
        .sources
        .iter()
        .map(|s| s.format.as_str().len())
        .max()
        .unwrap_or(6)
        .clamp(6, 22);
    let fixed = 1 + fmt_w + 1 + 8 + 1 + 8 + 2 + 18;
    let name_w = longest.min(
        usize::from(w.saturating_sub(2))
            .saturating_sub(fixed)
            .max(12),
    );
    let mut lines = vec![Line::styled(
        format!(
            "{:<name_w$} {:<fmt_w$} {:>8} {:>8}  zone",
            "source", "format", "records", "unparsed"
        ),
        theme.title(true),
    )];
    for s in &app.incident.sources {
        let zone = match s.zone.offset {
            Some(o) => format!("{o} ({})", s.zone.reason.as_str()),
            None => "untimed".into(),
        };
        lines.push(Line::raw(format!(
            "{} {:<fmt_w$} {:>8} {:>8}  {zone}",
            crate::text::pad(&fit_tail(&sanitize(&name(s)), name_w), name_w),
            s.format.as_str(),
            s.len(),
            s.stats.unparsed
        )));
    }
    if app.incident.sources.is_empty() {
        lines.push(Line::styled("nothing read yet", theme.muted()));
    }
    let mut problems: Vec<&String> = app.incident.notes.iter().collect();
    if let Some(l) = &app.feed {
        problems.extend(&l.problems);
    }
    for s in &app.incident.sources {
        problems.extend(&s.notes);
    }
    if !problems.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Not found, not read, or worth knowing",
            theme.title(true),
        ));
        for p in problems.iter().rev().take(usize::from(area.height / 2)) {
            lines.push(Line::styled(
                format!("• {}", sanitize(p)),
                theme.severity(Severity::Warn),
            ));
        }
    }
    // Rows as wrapped in the box, so a long problem does not push the last one out.
    let inner_w = usize::from(w.saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let h = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(area.height);
    let (block, r) = super::overlay(f, area, (w, h), " Sources (any key closes) ", theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// A path cut to `width` characters from its start, so the end (the file name, a series'
/// time) stays: `…ss-2023-04-13T11:33:40Z.txt`.
fn fit_tail(s: &str, width: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    if crate::text::width(s) <= width {
        return s.to_string();
    }
    // Whole grapheme clusters from the end, as many as fit after the `…`.
    let mut room = width.saturating_sub(1);
    let mut from = s.len();
    for (i, g) in s.grapheme_indices(true).rev() {
        let w = crate::text::width(g);
        if w > room {
            break;
        }
        room -= w;
        from = i;
    }
    format!("…{}", &s[from..])
}
