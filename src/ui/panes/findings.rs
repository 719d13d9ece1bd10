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
    let title = format!(" Findings ({}) · f ", findings.len());
    let block = Block::bordered()
        .border_style(theme.block(app.findings_open))
        .title(Span::styled(title, theme.title(app.findings_open)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if findings.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("no rule found anything wrong", theme.muted())),
            inner,
        );
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
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
        lines.push(line);
    }
    if app.findings_open
        && let Some(chosen) = findings.get(app.finding)
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("{} ({})", chosen.id, chosen.severity),
            theme.title(true),
        ));
        lines.push(Line::raw(sanitize(&chosen.explanation).into_owned()));
        for n in &chosen.next {
            lines.push(Line::styled(format!("$ {}", sanitize(n)), theme.muted()));
        }
        lines.push(Line::styled(
            "Enter: go to the evidence (marked in every pane)",
            theme.muted(),
        ));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
