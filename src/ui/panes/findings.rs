//! The findings: what the rules say is wrong, root cause first. With `f` the list takes the
//! keys; the chosen finding's evidence is marked in every pane and its explanation shown.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let findings = &app.diagnosis.findings;
    let title = if app.findings_hidden() {
        " Findings · f ".to_string()
    } else {
        format!(" Findings ({}) · f ", findings.len())
    };
    let block = Block::bordered()
        .border_style(theme.block(app.findings_open))
        .title(Span::styled(title, theme.title(app.findings_open)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if app.findings_hidden() {
        f.render_widget(
            Paragraph::new(Line::styled(
                "hidden during the lesson: f shows them (costs like a hint)",
                theme.muted(),
            )),
            inner,
        );
        return;
    }
    if findings.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("no rule found anything wrong", theme.muted())),
            inner,
        );
        return;
    }
    // One line per finding (cut, not wrapped), then the chosen one's explanation below.
    let mut list: Vec<Line> = Vec::new();
    for (i, finding) in findings.iter().enumerate() {
        let mut line = Line::from(vec![
            Span::styled(format!("{:>2} ", i + 1), theme.muted()),
            Span::styled(
                format!("{:<5} ", finding.severity.as_str()),
                theme.severity(finding.severity),
            ),
            Span::raw(sanitize(&finding.title).into_owned()),
        ]);
        if app.findings_open && i == app.finding {
            line = line.style(theme.selection());
        }
        list.push(line);
    }
    let chosen = findings.get(app.finding).filter(|_| app.findings_open);
    let list_h = (list.len() as u16).min(if chosen.is_some() {
        inner.height / 2
    } else {
        inner.height
    });
    let [top, bottom] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(list_h),
        ratatui::layout::Constraint::Min(0),
    ])
    .areas(inner);
    // Keep the chosen finding in view.
    let skip = app
        .finding
        .saturating_sub(usize::from(list_h).saturating_sub(1));
    let list: Vec<Line> = list
        .into_iter()
        .skip(if chosen.is_some() { skip } else { 0 })
        .collect();
    f.render_widget(Paragraph::new(list), top);
    let Some(chosen) = chosen else {
        return;
    };
    let mut lines = vec![
        Line::styled(
            format!("{} ({})", chosen.id, chosen.severity),
            theme.title(true),
        ),
        Line::raw(sanitize(&chosen.explanation).into_owned()),
    ];
    for n in &chosen.next {
        lines.push(Line::styled(format!("$ {}", sanitize(n)), theme.muted()));
    }
    lines.push(Line::styled(
        "Enter: go to the evidence (marked in every pane)",
        theme.muted(),
    ));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), bottom);
}
