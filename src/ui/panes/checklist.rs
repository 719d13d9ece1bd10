//! The checklist: the open runbook's steps with their states, and the chosen step's why,
//! commands and evidence. With `w` it takes the keys; `o` picks another runbook.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::analysis::checklist::StepState;
use crate::analysis::rules::Evidence;
use crate::model::severity::Severity;
use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;
use crate::ui::walk::effective;

fn state_style(state: StepState, theme: &Theme) -> Style {
    match state {
        StepState::Failed => theme.severity(Severity::Error),
        StepState::Unknown => theme.severity(Severity::Warn),
        StepState::Passed | StepState::Done => theme.severity(Severity::Notice),
        StepState::Todo | StepState::Skipped => theme.muted(),
    }
}

fn title(app: &App) -> String {
    match app.current_walk() {
        _ if app.pending.is_some() => " Checklist: working… ".into(),
        _ if app.findings_hidden() => " Checklist · w ".into(),
        None => " Checklist · w ".into(),
        Some(w) => {
            let rb = app.checklist.runbook(w);
            let from = match rb.origin {
                crate::analysis::checklist::runbook::Origin::Builtin => "",
                crate::analysis::checklist::runbook::Origin::User(_) => " (yours)",
                crate::analysis::checklist::runbook::Origin::Bundle(_) => " (from the bundle)",
            };
            format!(" Checklist: {}{from} · w, o: runbooks ", rb.id)
        }
    }
}

/// The checklist closed: the runbook and one mark per step, in a box of three rows.
pub fn draw_summary(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::bordered()
        .border_style(theme.block(false))
        .title(Span::styled(title(app), theme.title(false)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if app.findings_hidden() {
        f.render_widget(
            Paragraph::new(Line::styled("hidden during the lesson", theme.muted())),
            inner,
        );
        return;
    }
    let Some(w) = app.current_walk().filter(|_| app.pending.is_none()) else {
        return;
    };
    let rb = app.checklist.runbook(w);
    let mut spans = Vec::new();
    for (step, r) in rb.steps.iter().zip(&app.checklist.walks[w].steps) {
        let (state, _) = effective(r, &app.walk.progress.mark(&rb.id, &step.id));
        spans.push(Span::styled(state.mark(), state_style(state, theme)));
    }
    let first_bad = rb
        .steps
        .iter()
        .zip(&app.checklist.walks[w].steps)
        .position(|(s, r)| {
            effective(r, &app.walk.progress.mark(&rb.id, &s.id)).0 == StepState::Failed
        });
    spans.push(Span::raw(match first_bad {
        Some(i) => format!("  fails at {}: {}", i + 1, sanitize(&rb.steps[i].title)),
        None => format!("  {}", sanitize(&rb.title)),
    }));
    f.render_widget(Paragraph::new(Line::from(spans)), inner);
}

/// The checklist open: steps above, the chosen step below.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::bordered()
        .border_style(theme.block(true))
        .title(Span::styled(title(app), theme.title(true)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(w) = app.current_walk().filter(|_| app.pending.is_none()) else {
        let msg = if app.pending.is_some() {
            "the rules and runbooks are still being worked out…"
        } else {
            "no runbook is loaded"
        };
        f.render_widget(Paragraph::new(Line::styled(msg, theme.muted())), inner);
        return;
    };
    let rb = app.checklist.runbook(w);
    let walk = &app.checklist.walks[w];
    let n = rb.steps.len() as u16;
    let list_h = n.min(inner.height / 2).max(1);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(list_h), Constraint::Min(0)]).areas(inner);
    // One line per step: mark, number, title; the chosen one highlighted and kept in view.
    let skip = app.walk.step.saturating_sub(usize::from(list_h) - 1);
    let lines: Vec<Line> = rb
        .steps
        .iter()
        .zip(&walk.steps)
        .enumerate()
        .skip(skip)
        .map(|(i, (step, r))| {
            let (state, _) = effective(r, &app.walk.progress.mark(&rb.id, &step.id));
            let note = if app.walk.progress.mark(&rb.id, &step.id).note.is_empty() {
                ""
            } else {
                " ✎"
            };
            let line = Line::from(vec![
                Span::styled(format!(" {} ", state.mark()), state_style(state, theme)),
                Span::styled(format!("{:>2} ", i + 1), theme.muted()),
                Span::raw(format!("{}{note}", sanitize(&step.title))),
            ]);
            if i == app.walk.step {
                line.style(theme.selection())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), top);
    if bottom.height > 0 {
        f.render_widget(
            Paragraph::new(step_detail(app, theme))
                .wrap(Wrap { trim: false })
                .scroll((app.walk.scroll, 0)),
            bottom,
        );
    }
}

/// The chosen step: its state and why, the note, the commands, the evidence.
fn step_detail(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let Some(w) = app.current_walk() else {
        return Vec::new();
    };
    let rb = app.checklist.runbook(w);
    let Some(step) = rb.steps.get(app.walk.step) else {
        return Vec::new();
    };
    let Some((result, mark)) = app.current_step() else {
        return Vec::new();
    };
    let (state, reason) = effective(result, &mark);
    let head = theme.title(true).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {}", state.mark(), state.word()),
            state_style(state, theme),
        ),
        Span::raw(if reason.is_empty() {
            String::new()
        } else {
            format!(" — {}", sanitize(&reason))
        }),
    ])];
    if let Some(next) = &result.leads_to {
        lines.push(Line::styled(
            format!("→ then: runbook {} (o to open it)", sanitize(next)),
            theme.title(true),
        ));
    }
    if let Some(typing) = &app.walk.note {
        lines.push(Line::from(vec![
            Span::styled("note: ", head),
            Span::raw(sanitize(typing).into_owned()),
            Span::styled("▏ Enter save, Esc cancel", theme.muted()),
        ]));
    } else if !mark.note.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("note: ", head),
            Span::raw(sanitize(&mark.note).into_owned()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Why", head));
    lines.push(Line::raw(
        sanitize(&step.why.replace('\n', " ")).into_owned(),
    ));
    if !result.commands.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("Commands", head),
            Span::styled(
                "  h/l choose · c copy · r run (live only) · PgDn more",
                theme.muted(),
            ),
        ]));
        for (i, cmd) in result.commands.iter().enumerate() {
            let chosen = i == app.walk.command;
            let mut spans = vec![Span::styled(
                if chosen { "▶ $ " } else { "  $ " },
                theme.muted(),
            )];
            let coloured = theme
                .colours()
                .then(|| {
                    crate::ui::highlight::highlight(cmd, "Bourne Again Shell (bash)", theme.depth)
                })
                .flatten()
                .and_then(|mut l| l.drain(..).next());
            match coloured {
                Some(line) => spans.extend(line.spans),
                None => spans.push(Span::raw(sanitize(cmd).into_owned())),
            }
            let mut line = Line::from(spans);
            if chosen {
                line = line.style(Style::default().add_modifier(Modifier::BOLD));
            }
            lines.push(line);
        }
    }
    if !result.evidence.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("Evidence", head),
            Span::styled(
                "  Enter: align every pane to the next record",
                theme.muted(),
            ),
        ]));
        for e in &result.evidence {
            lines.push(evidence_line(app, e, theme));
        }
    }
    lines
}

fn evidence_line(app: &App, e: &Evidence, theme: &Theme) -> Line<'static> {
    match e {
        Evidence::Fact(text) => Line::raw(format!("• {}", sanitize(text))),
        Evidence::Line { source, line, text } => {
            let s = &app.incident.sources[*source];
            Line::from(vec![
                Span::styled(format!("{}:{line} ", sanitize(&s.file)), theme.muted()),
                Span::raw(sanitize(text).into_owned()),
            ])
        }
        Evidence::Record { source, row } => {
            let s = &app.incident.sources[*source];
            // The first line alone: the record may hold a million.
            let first = s.first_line(*row, 4096);
            let first = first.as_ref();
            Line::from(vec![
                Span::styled(
                    format!("{}:{} ", sanitize(&s.file), s.lines[*row]),
                    theme.muted(),
                ),
                Span::styled(sanitize(first).into_owned(), theme.severity(s.sev[*row])),
            ])
        }
    }
}

/// The runbook picker over the screen: type to filter (fuzzy), arrows choose, Enter opens.
pub fn draw_picker(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(p) = &app.walk.picker else {
        return;
    };
    let found = crate::ui::walk::matches(&app.checklist, &p.query);
    let h = (found.len() as u16 + 4).max(6);
    let (block, r) = super::overlay(f, area, (area.width.min(90), h), " Runbooks ", theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", theme.title(true)),
        Span::raw(sanitize(&p.query).into_owned()),
        Span::styled("▏ ↑/↓ choose, Enter open, Esc close", theme.muted()),
    ])];
    if found.is_empty() {
        lines.push(Line::styled("no runbook matches", theme.muted()));
    }
    for (row, w) in found.iter().enumerate() {
        let walk = &app.checklist.walks[*w];
        let rb = app.checklist.runbook(*w);
        let marks: String = walk.steps.iter().map(|s| s.state.mark()).collect();
        let applies = if walk.applies { "●" } else { " " };
        let mut line = Line::from(vec![
            Span::styled(format!("{applies} "), theme.title(true)),
            Span::raw(format!("{:<22} ", rb.id)),
            Span::styled(format!("{marks:<8} "), theme.muted()),
            Span::raw(sanitize(&rb.title).into_owned()),
        ]);
        if row == p.selected {
            line = line.style(theme.selection());
        }
        lines.push(line);
    }
    lines.push(Line::styled(
        "● suggested by the findings or the sources",
        theme.muted(),
    ));
    f.render_widget(Paragraph::new(lines), inner);
}

/// A command asked to run: the confirmation showing exactly what will run, then its output.
pub fn draw_run(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    use crate::ui::walk::RunView;
    let Some(run) = &app.walk.run else {
        return;
    };
    let w = area.width.saturating_sub(8).min(110);
    let (title, lines): (&'static str, Vec<Line>) = match run {
        RunView::Confirm {
            command,
            from_bundle,
        } => {
            let mut lines = vec![
                Line::raw("Run this on this host, as you, with sh -c?"),
                Line::raw(""),
                Line::styled(format!("$ {}", sanitize(command)), theme.title(true)),
                Line::raw(""),
            ];
            if *from_bundle {
                lines.push(Line::styled(
                    "It comes from the bundle's own runbook: read every word of it.",
                    theme.severity(Severity::Warn),
                ));
            }
            lines.push(Line::styled(
                format!(
                    "y runs it (stopped after {} s); any other key cancels",
                    crate::ui::runner::TIMEOUT.as_secs()
                ),
                theme.muted(),
            ));
            (" Run? ", lines)
        }
        RunView::Running(r) => (
            " Running ",
            vec![
                Line::styled(format!("$ {}", sanitize(&r.command)), theme.title(true)),
                Line::styled("running…", theme.muted()),
            ],
        ),
        RunView::Done(o) => {
            let mut lines = vec![Line::from(vec![
                Span::styled(format!("$ {}", sanitize(&o.command)), theme.title(true)),
                Span::styled(format!("  ({})", o.status), theme.muted()),
            ])];
            let room = usize::from(area.height.saturating_sub(6));
            let all: Vec<&str> = o.output.lines().collect();
            let skip = all.len().saturating_sub(room);
            if skip > 0 || o.cut {
                lines.push(Line::styled(
                    format!(
                        "… {skip} earlier line(s) not shown{}",
                        if o.cut { "; output cut at 64 KiB" } else { "" }
                    ),
                    theme.muted(),
                ));
            }
            lines.extend(
                all.iter()
                    .skip(skip)
                    .map(|l| Line::raw(sanitize(l).into_owned())),
            );
            (" Output (any key closes) ", lines)
        }
    };
    let h = (lines.len() as u16 + 2).min(area.height);
    let (block, r) = super::overlay(f, area, (w, h), title, theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
