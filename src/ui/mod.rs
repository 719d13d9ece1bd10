//! The terminal console: state and update in [`app`], keys in [`action`], panes in [`panes`],
//! terminal modes in [`tui`]. Drawing reads the state; the panes it draws decode the fields of
//! the records on screen (through [`crate::model::Incident::fields`]), nothing more.

pub mod action;
pub mod app;
pub mod filter;
pub mod highlight;
pub mod keymap;
pub mod lesson;
pub mod live;
pub mod menu;
pub mod notes;
pub mod palette;
pub mod panes;
pub mod runner;
pub mod screenshots;
pub mod svg;
pub mod theme;
pub mod tui;
pub mod walk;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use app::App;
use theme::Theme;

/// Below this the console cannot show anything useful.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

fn header(app: &App, theme: &Theme, width: u16) -> Line<'static> {
    let hosts: Vec<String> = app
        .incident
        .hosts
        .iter()
        .map(|h| {
            if h.skew == 0 {
                h.name.clone()
            } else {
                format!("{} (skew {:+} s)", h.name, h.skew as f64 / 1e6)
            }
        })
        .collect();
    let mode = match app.playhead {
        Some(t) => format!(
            "replay {} {} UTC {}x",
            if app.playing { "▶" } else { "⏸" },
            panes::list::clock(t),
            app.speed
        ),
        None => match &app.feed {
            Some(l) if l.paused => format!("live ⏸ paused, {} new (Space)", l.waiting),
            Some(l) if !l.problems.is_empty() => {
                format!("live ● {} problem(s): S", l.problems.len())
            }
            Some(_) => "live ●".to_string(),
            None => "replay".to_string(),
        },
    };
    Line::from(vec![
        Span::raw(format!(" sitrep │ {} │ {mode} │ ", hosts.join(", "))),
        // Narrow terminals get the cursor to the millisecond, so the counts still fit.
        Span::raw(if width < 110 {
            format!("cursor {} UTC", panes::list::clock(app.cursor))
        } else {
            format!("cursor {} UTC", crate::model::time::format_utc(app.cursor))
        }),
        Span::raw(format!(" │ {} errors │ ", app.errors)),
        Span::styled(
            if app.findings_hidden() {
                "findings hidden (f) │ L lesson ".to_string()
            } else if app.pending.is_some() {
                format!(
                    "findings: rules {}/{}… ",
                    app.rules_done(),
                    crate::analysis::rules::RULES.len()
                )
            } else {
                format!("{} findings (f) ", app.diagnosis.findings.len())
            },
            if app.diagnosis.findings.is_empty() {
                theme.header()
            } else {
                theme.header().add_modifier(ratatui::style::Modifier::BOLD)
            },
        ),
    ])
    .style(theme.header())
}

/// The checklist's keys, shown in the footer while it is open.
const CHECKLIST_KEYS: &[(action::Action, &str)] = &[
    (action::Action::Pin, "evidence"),
    (action::Action::Tick, "done"),
    (action::Action::SkipStep, "skip"),
    (action::Action::Note, "note"),
    (action::Action::CopyCommand, "copy"),
    (action::Action::RunCommand, "run"),
    (action::Action::PickRunbook, "runbooks"),
    (action::Action::Checklist, "close"),
];

fn footer(app: &App, theme: &Theme) -> Line<'static> {
    let mut spans = vec![];
    let entries = app.keymap.entries();
    if app.walk.open {
        for (action, word) in CHECKLIST_KEYS {
            if let Some(e) = entries
                .iter()
                .find(|e| e.action == *action && !e.keys.is_empty())
            {
                spans.push(Span::styled(format!(" {} ", e.label()), theme.title(true)));
                spans.push(Span::styled(format!("{word} "), theme.muted()));
            }
        }
        return Line::from(spans);
    }
    for b in entries.iter().filter(|b| b.footer && !b.keys.is_empty()) {
        spans.push(Span::styled(format!(" {} ", b.label()), theme.title(true)));
        spans.push(Span::styled(format!("{} ", b.help), theme.muted()));
    }
    Line::from(spans)
}

/// Draw the whole screen.
pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "sitrep needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. Enlarge it, or press q.",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(header(app, theme, area.width)), head);
    let foot_line = match (&app.prompt, &app.status) {
        (None, _) if app.walk.note.is_some() => Line::from(vec![Span::styled(
            " note: type it, Enter saves, Esc cancels",
            theme.title(true),
        )]),
        (None, _) if app.record_note.is_some() => Line::from(vec![
            Span::styled(" note on this record: ", theme.title(true)),
            Span::raw(
                crate::text::sanitize(app.record_note.as_deref().unwrap_or_default()).into_owned(),
            ),
            Span::styled("▏ Enter keep, Esc cancel", theme.muted()),
        ]),
        (Some(p), _) => Line::from(vec![
            Span::styled(
                match app.prompt_kind {
                    app::PromptKind::Search => " search: /",
                    app::PromptKind::FilterIn => " keep (regex, or a query like status>=500): ",
                    app::PromptKind::FilterOut => " drop (regex or query): ",
                },
                theme.title(true),
            ),
            Span::raw(crate::text::sanitize(p).into_owned()),
            Span::styled("▏ Enter search, Esc cancel", theme.muted()),
        ]),
        (None, Some(s)) => Line::from(vec![
            Span::styled(format!(" {} ", crate::text::sanitize(s)), theme.title(true)),
            Span::styled("n/N next/previous match ", theme.muted()),
        ]),
        (None, None) if !app.filters.list.is_empty() => Line::from(vec![
            Span::styled(" filters ", theme.title(true)),
            Span::raw(format!(
                " {} → {} pass ",
                crate::text::sanitize(&app.filters.label()),
                app.lists[0].records.len()
            )),
            Span::styled("Alt-N on/off · u remove last · U clear", theme.muted()),
        ]),
        (None, None) => footer(app, theme),
    };
    f.render_widget(Paragraph::new(foot_line), foot);
    app.page = usize::from(body.height.saturating_sub(4)).max(1);
    app.wide = !app.zoom && area.width >= 160 && area.height >= 40;
    app.refresh_detail();
    if theme.colours() {
        app.refresh_highlight(theme.depth);
    }
    app.hits = if app.zoom {
        vec![panes::list::draw(f, body, app, app.focus, theme)]
    } else if area.width >= 160 && area.height >= 40 {
        grid(f, body, app, theme)
    } else {
        compact(f, body, app, theme)
    };
    if app.explain_open {
        panes::explain::draw(f, area, app, theme);
    }
    if let Some(view) = &app.lesson {
        if view.open {
            panes::lesson::draw(f, area, app, theme);
        }
        if view.debrief {
            panes::lesson::draw_debrief(f, area, app, theme);
        }
    }
    if app.notes_open {
        panes::notes::draw(f, area, app, theme);
    }
    if app.glossary_open {
        panes::lesson::draw_glossary(f, area, theme);
    }
    if app.palette.is_some() {
        panes::palette::draw(f, area, app, theme);
    }
    if app.sources_open {
        panes::sources::draw(f, area, app, theme);
    }
    if app.walk.picker.is_some() {
        panes::checklist::draw_picker(f, area, app, theme);
    }
    if app.walk.run.is_some() {
        panes::checklist::draw_run(f, area, app, theme);
    }
    if app.help {
        panes::help::draw(f, area, app, theme);
    }
}

/// Wide screens: units and sockets, the timeline and the detail side by side, the per-kind
/// panes below.
fn grid(f: &mut Frame, body: Rect, app: &App, theme: &Theme) -> Vec<panes::list::Hit> {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(body);
    let [state, timeline, detail] = Layout::horizontal([
        Constraint::Percentage(22),
        Constraint::Percentage(48),
        Constraint::Percentage(30),
    ])
    .areas(top);
    let [units, sockets] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(state);
    panes::units::draw(f, units, app, theme);
    panes::sockets::draw(f, sockets, app, theme);
    let mut hits = vec![panes::list::draw(f, timeline, app, 0, theme)];
    let n = app.diagnosis.findings.len() as u16;
    let want = if app.findings_open {
        detail.height * 2 / 3
    } else if app.walk.open {
        3
    } else {
        (n + 2).max(3)
    };
    let [findings, detail] = Layout::vertical([
        Constraint::Length(want.min(detail.height / 2).max(3).min(detail.height)),
        Constraint::Min(3),
    ])
    .areas(detail);
    panes::findings::draw(f, findings, app, theme);
    if app.walk.open {
        panes::checklist::draw(f, detail, app, theme);
    } else {
        let [checklist, detail] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(detail);
        panes::checklist::draw_summary(f, checklist, app, theme);
        panes::detail::draw(f, detail, app, theme);
    }
    let others = app.lists.len() - 1;
    if others > 0 {
        let cols =
            Layout::horizontal(vec![Constraint::Ratio(1, others as u32); others]).split(bottom);
        for (i, r) in cols.iter().enumerate() {
            hits.push(panes::list::draw(f, *r, app, i + 1, theme));
        }
    }
    hits
}

/// Small screens: tabs, the focused pane, and the detail of its record below.
fn compact(f: &mut Frame, body: Rect, app: &App, theme: &Theme) -> Vec<panes::list::Hit> {
    let [tabs, summary, main, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(body.height / 3),
    ])
    .areas(body);
    let failed = app.units.at(app.cursor).iter().any(|u| u.failed());
    let style = if failed {
        theme.severity(crate::model::severity::Severity::Error)
    } else {
        theme.muted()
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {}", panes::units::summary(app)), style),
            Span::styled(
                format!(" │ {}", panes::sockets::summary(app)),
                theme.muted(),
            ),
        ])),
        summary,
    );
    let titles: Vec<String> = app
        .lists
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{} {}", i + 1, p.kind.title()))
        .collect();
    f.render_widget(
        Tabs::new(titles)
            .select(app.focus)
            .highlight_style(theme.selection())
            .style(theme.muted()),
        tabs,
    );
    if app.findings_open {
        panes::findings::draw(f, main, app, theme);
        panes::detail::draw(f, detail, app, theme);
        return Vec::new();
    }
    if app.walk.open {
        panes::checklist::draw(f, main.union(detail), app, theme);
        return Vec::new();
    }
    let hit = panes::list::draw(f, main, app, app.focus, theme);
    panes::detail::draw(f, detail, app, theme);
    vec![hit]
}
