//! Units as they were at the cursor time: failed first and in the error colour, then the rest.
//! Moving the cursor back before a crash shows the unit still running.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::analysis::state::UnitState;
use crate::model::severity::Severity;
use crate::text::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

fn style_of(u: &UnitState, theme: &Theme) -> ratatui::style::Style {
    if u.failed() {
        theme.severity(Severity::Error)
    } else if u.active == "activating" || u.active == "deactivating" {
        theme.severity(Severity::Warn)
    } else if u.active == "active" && u.in_snapshot {
        theme.severity(Severity::Info)
    } else {
        theme.muted()
    }
}

/// One line per unit: name, active/sub, and result or exit status when it failed.
/// Units of the stack sitrep is for, listed before other units.
const STACK: &[&str] = &[
    "nginx",
    "gunicorn",
    "uwsgi",
    "uvicorn",
    "celery",
    "postgresql",
    "redis",
];

/// Units worth a line: failed ones, and services, sockets and timers (mounts, slices, scopes,
/// devices and targets only when failed).
fn shown(u: &UnitState) -> bool {
    u.failed()
        || [".service", ".socket", ".timer"]
            .iter()
            .any(|suffix| u.unit.ends_with(suffix))
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let all = app.units.at(app.cursor);
    let failed = all.iter().filter(|u| u.failed()).count();
    // Failed first, then units the journal shows changing, then the web stack's, then the rest.
    let changed: std::collections::HashSet<(String, String)> = app
        .units
        .changes()
        .into_iter()
        .map(|(_, host, unit, _)| (host, unit))
        .collect();
    let rank = |u: &UnitState| {
        if u.failed() {
            0
        } else if changed.contains(&(u.host.clone(), u.unit.clone())) {
            1
        } else if STACK.iter().any(|n| u.unit.starts_with(n)) {
            2
        } else {
            3
        }
    };
    let multi_host = app.incident.hosts.len() > 1;
    let mut units: Vec<&UnitState> = all.iter().filter(|u| shown(u)).collect();
    // Several hosts: grouped by host (in load order), each group ranked.
    let host_rank = |u: &UnitState| {
        app.incident
            .hosts
            .iter()
            .position(|h| h.name == u.host)
            .filter(|_| multi_host)
            .unwrap_or(0)
    };
    units.sort_by_key(|u| (host_rank(u), rank(u)));
    let title = format!(
        " Units @{} · {failed} failed · {}/{} ",
        &super::list::clock(app.cursor)[..8],
        units.len(),
        all.len()
    );
    let block = Block::bordered()
        .border_style(theme.block(false))
        .title(Span::styled(title, theme.title(false)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = usize::from(inner.width);
    let mut groups: Vec<Vec<Line>> = Vec::new();
    let mut group: Option<&str> = None;
    for u in &units {
        if groups.is_empty() || multi_host && group != Some(u.host.as_str()) {
            group = Some(u.host.as_str());
            let mut g = Vec::new();
            if multi_host {
                g.push(super::host_heading(&u.host, inner.width, theme));
            }
            groups.push(g);
        }
        let Some(lines) = groups.last_mut() else {
            continue;
        };
        let name = u.unit.clone();
        let name: String = sanitize(&name).into_owned();
        let mut state = if u.active == u.sub {
            u.active.clone()
        } else {
            format!("{}/{}", u.active, u.sub)
        };
        if u.failed()
            && let Some(r) = &u.result
        {
            state.push_str(&format!(" ({r}"));
            if let Some(x) = &u.exit_status {
                state.push_str(&format!(", {x}"));
            }
            state.push(')');
        }
        let style = style_of(u, theme);
        let (nw, sw) = (crate::text::width(&name), crate::text::width(&state));
        if nw + 1 + sw <= w {
            let pad = w - nw - sw;
            lines.push(Line::from(vec![
                Span::styled(name, style),
                Span::raw(" ".repeat(pad)),
                Span::styled(state, style),
            ]));
        } else {
            // Too narrow for both: the state goes on a line of its own, indented.
            lines.push(Line::styled(crate::text::fit(&name, w).to_string(), style));
            lines.push(Line::styled(
                format!(
                    "  {}",
                    state.chars().take(w.saturating_sub(2)).collect::<String>()
                ),
                style,
            ));
        }
    }
    let lines = super::fit_groups(groups, usize::from(inner.height));
    if lines.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("no unit state in this bundle", theme.muted())),
            inner,
        );
        return;
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// The one-line summary small screens show: failed units by name.
pub fn summary(app: &App) -> String {
    let units = app.units.at(app.cursor);
    let failed: Vec<&str> = units
        .iter()
        .filter(|u| u.failed())
        .map(|u| u.unit.as_str())
        .collect();
    match failed.len() {
        0 if units.is_empty() => "units: none known".into(),
        0 => format!("units: {} known, none failed", units.len()),
        _ => format!("units failed: {}", failed.join(", ")),
    }
}
