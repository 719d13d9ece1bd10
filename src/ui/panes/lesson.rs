//! The lesson panel (the brief, the objectives and their answers, the hints taken, the last
//! feedback), the debrief at the end, and the glossary.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::learn::lesson::Kind;
use crate::model::severity::Severity;
use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

/// A lesson's text as paragraphs: its line breaks are the writer's, the screen wraps anew;
/// a blank line or a line starting a list item begins a new paragraph.
fn wrap_text(lines: &mut Vec<Line<'static>>, text: &str) {
    let mut para = String::new();
    for l in text.trim().lines() {
        let l = l.trim();
        let starts_item = l.starts_with("- ") || l.starts_with("* ");
        if (l.is_empty() || starts_item) && !para.is_empty() {
            lines.push(Line::raw(sanitize(&para).into_owned()));
            para.clear();
        }
        if l.is_empty() {
            continue;
        }
        if !para.is_empty() {
            para.push(' ');
        }
        para.push_str(l);
    }
    if !para.is_empty() {
        lines.push(Line::raw(sanitize(&para).into_owned()));
    }
}

/// The panel: on the right half of wide screens, over everything on small ones.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(view) = &app.lesson else {
        return;
    };
    let a = &view.attempt;
    let l = &a.lesson;
    let bold = theme.title(true).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::styled(
        format!(
            "{} · {} · score {} so far",
            sanitize(&l.title),
            l.level.word(),
            a.score()
        ),
        bold,
    )];
    wrap_text(&mut lines, &l.brief);
    lines.push(Line::raw(""));
    for (i, o) in l.objective.iter().enumerate() {
        let mark = if a.passed[i] { "✓" } else { "·" };
        let what = match o.kind {
            Kind::Evidence => "evidence",
            Kind::Question => "cause",
            Kind::Fix => "fix",
        };
        let mut line = Line::from(vec![
            Span::styled(
                format!(" {mark} "),
                theme.severity(if a.passed[i] {
                    Severity::Notice
                } else {
                    Severity::Info
                }),
            ),
            Span::styled(format!("{what:<8} "), theme.muted()),
            Span::raw(sanitize(&o.prompt).into_owned()),
        ]);
        if i == view.objective {
            line = line.style(theme.selection());
        }
        lines.push(line);
    }
    if let Some(o) = l.objective.get(view.objective) {
        lines.push(Line::raw(""));
        match o.kind {
            Kind::Evidence => lines.push(Line::styled(
                format!(
                    "Select a record in a pane, press m to mark it ({} marked), then L and Enter here.",
                    a.marked.len()
                ),
                theme.muted(),
            )),
            Kind::Question | Kind::Fix => {
                for (k, c) in o.choice.iter().enumerate() {
                    lines.push(Line::raw(format!("  {}  {}", k + 1, sanitize(&c.text))));
                }
                lines.push(Line::styled("Press the number of your answer.", theme.muted()));
            }
        }
    }
    if let Some(fb) = &view.feedback {
        lines.push(Line::raw(""));
        let (word, sev) = if fb.right {
            ("Right. ", Severity::Notice)
        } else {
            ("Not that. ", Severity::Warn)
        };
        lines.push(Line::from(vec![
            Span::styled(word, theme.severity(sev).add_modifier(Modifier::BOLD)),
            Span::raw(sanitize(&fb.text).into_owned()),
        ]));
    }
    if a.hints > 0 {
        lines.push(Line::raw(""));
        for h in l.hint.iter().take(a.hints) {
            lines.push(Line::styled(
                format!("hint: {}", sanitize(&h.text)),
                theme.muted(),
            ));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "j/k objective · m mark · Enter submit · 1-9 answer · H hint · g glossary · L close",
        theme.muted(),
    ));
    // Wide screens: the panel sits on the right half, the panes stay visible on the left.
    let (block, r) = if area.width >= 120 {
        let (w, h) = (area.width / 2, area.height.saturating_sub(4));
        let r = Rect::new(area.x + area.width - w - 1, area.y + 2, w, h);
        f.render_widget(ratatui::widgets::Clear, r);
        let block = ratatui::widgets::Block::bordered()
            .border_style(theme.block(true))
            .title(" Lesson (L) ");
        (block, r)
    } else {
        let size = (area.width.saturating_sub(2), area.height.saturating_sub(2));
        super::overlay(f, area, size, " Lesson (L) ", theme)
    };
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub fn draw_debrief(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(view) = &app.lesson else {
        return;
    };
    let a = &view.attempt;
    let mut lines = vec![
        Line::styled(
            format!(
                "Solved: {} — score {} (hints {}, wrong tries {}{})",
                sanitize(&a.lesson.title),
                a.finished.unwrap_or(0),
                a.hints,
                a.wrong,
                if a.revealed { ", findings shown" } else { "" }
            ),
            theme.title(true).add_modifier(Modifier::BOLD),
        ),
        Line::raw(""),
    ];
    wrap_text(&mut lines, &a.lesson.debrief);
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Any key goes back to the incident; q quits. `sitrep learn --list` shows your scores.",
        theme.muted(),
    ));
    let w = area.width.saturating_sub(6).min(100);
    let h = (lines.len() as u16 + 6).min(area.height);
    let (block, r) = super::overlay(f, area, (w, h), " Debrief ", theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub fn draw_glossary(f: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines = Vec::new();
    for (term, what, where_) in crate::learn::glossary::ENTRIES {
        lines.push(Line::styled(
            term.to_string(),
            theme.title(true).add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::raw(what.to_string()));
        lines.push(Line::styled(format!("In sitrep: {where_}"), theme.muted()));
    }
    let w = area.width.saturating_sub(4).min(110);
    let (block, r) = super::overlay(
        f,
        area,
        (w, area.height),
        " Glossary (any key closes) ",
        theme,
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
