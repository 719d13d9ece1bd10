//! The record lists: the merged timeline (with its histogram) and the per-kind panes, each
//! with columns laid out for its kind. Only visible rows are read and formatted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::time::{MICROS_PER_SEC, Micros};
use crate::text::sanitize;
use crate::ui::app::{App, ListKind, ListPane};
use crate::ui::theme::Theme;

/// Short tag of a source's format for the timeline's source column.
pub fn tag(f: FormatId) -> &'static str {
    match f {
        FormatId::NginxAccess => "access",
        FormatId::NginxError => "error",
        f if f.is_journal() => "journal",
        FormatId::Gunicorn => "gunicorn",
        FormatId::CfLogs => "cf",
        FormatId::PythonLogging => "app",
        FormatId::SystemctlStatus => "status",
        _ => "other",
    }
}

/// `11:24:04.123` of a UTC time.
pub fn clock(t: Micros) -> String {
    let secs = t.div_euclid(MICROS_PER_SEC);
    let ms = t.rem_euclid(MICROS_PER_SEC) / 1000;
    let sod = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// `s` cut to at most `width` terminal cells, by grapheme cluster ([`crate::text::fit`]: an
/// emoji joined by zero-width joiners is one glyph of two cells).
pub fn fit(s: &str, width: usize) -> String {
    crate::text::fit(s, width).to_string()
}

/// The first line of a record's text, made safe and cut to `width` cells.
fn first_line(text: &str, width: usize) -> String {
    let line = text
        .split('\n')
        .next()
        .unwrap_or_default()
        .replace('\t', "    ");
    fit(&sanitize(&line), width)
}

/// The first line of record `row`, read alone: a record may hold a million lines.
fn head(s: &crate::model::source::Source, row: usize, width: usize) -> String {
    s.first_line(row, width.max(1) * 4).into_owned()
}

fn field<'a>(fields: &'a [(String, String)], names: &[&str]) -> &'a str {
    names
        .iter()
        .find_map(|n| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()))
        .unwrap_or("-")
}

/// The columns of one row, by pane kind.
fn row_spans(
    app: &App,
    kind: ListKind,
    source: usize,
    row: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let inc: &Incident = &app.incident;
    let s = &inc.sources[source];
    let sev = s.sev[row];
    let mut time = Span::styled(clock(s.ts[row]), theme.muted());
    let sev_style = theme.severity(sev);
    let mut rest = width.saturating_sub(13);
    // Several files of a kind (rotations, hosts) merge in one pane: say which file.
    if kind != ListKind::Timeline
        && (inc.hosts.len() > 1 || app.lists.iter().any(|p| p.kind == kind && p.files > 1))
    {
        let name = s.file.rsplit('/').next().unwrap_or(&s.file);
        // Several hosts: the host first, so two hosts' access.log can be told apart.
        let (name, w) = if inc.hosts.len() > 1 {
            (format!("{} {name}", s.host), 20)
        } else {
            (name.to_string(), 14)
        };
        let tag = crate::text::pad(&sanitize(&name), w);
        rest = rest.saturating_sub(w + 1);
        time = Span::styled(format!("{} {tag}", clock(s.ts[row])), theme.muted());
    }
    match kind {
        ListKind::Timeline => {
            // Several hosts: the host, padded to the longest name so the columns line up.
            let host = if inc.hosts.len() > 1 {
                let w = inc
                    .hosts
                    .iter()
                    .map(|h| crate::text::width(&sanitize(&h.name)))
                    .max()
                    .unwrap_or(0)
                    .min(16);
                format!("{} ", crate::text::pad(&sanitize(&s.host), w))
            } else {
                String::new()
            };
            let t = format!("{host}{:<8} ", tag(s.format));
            let room = rest.saturating_sub(crate::text::width(&t));
            vec![
                time,
                Span::raw(" "),
                Span::styled(t, theme.muted()),
                Span::styled(first_line(&head(s, row, room), room), sev_style),
            ]
        }
        ListKind::Access => {
            let f = inc.fields(source, row);
            let request = field(&f, &["request"]);
            let mut parts = request.splitn(3, ' ');
            let method = parts.next().unwrap_or("-");
            let path = parts.next().unwrap_or("-");
            let status = field(&f, &["status"]);
            let upstream = field(
                &f,
                &["upstream_time", "upstream_response_time", "request_time"],
            );
            let client = field(&f, &["client", "remote_addr"]);
            let fixed = format!("{status:>3} {method:<6} ");
            let tail = format!(" {upstream:>7} {client}");
            let room = rest
                .saturating_sub(crate::text::width(&fixed) + crate::text::width(&tail))
                .max(8);
            let path = sanitize(path);
            vec![
                time,
                Span::raw(" "),
                Span::styled(fixed, sev_style),
                Span::raw(crate::text::pad(&path, room)),
                Span::styled(first_line(&tail, 40), theme.muted()),
            ]
        }
        ListKind::Error => {
            let f = inc.fields(source, row);
            let level = field(&f, &["level"]);
            let msg = field(&f, &["message"]);
            let up = field(&f, &["upstream"]);
            let text = if up == "-" {
                msg.to_string()
            } else {
                format!("{msg} -> {up}")
            };
            vec![
                time,
                Span::raw(" "),
                Span::styled(format!("{level:<6} "), sev_style),
                Span::styled(first_line(&text, rest.saturating_sub(7)), sev_style),
            ]
        }
        ListKind::Journal => {
            let f = inc.fields(source, row);
            let unit = field(&f, &["unit"]);
            let pid = field(&f, &["pid"]);
            let text = s.text(row);
            let msg = text.split_once(": ").map_or(text.as_ref(), |(_, m)| m);
            let unit = first_line(unit, 18);
            vec![
                time,
                Span::raw(" "),
                Span::styled(format!("{unit:<18} {pid:>7} "), theme.muted()),
                Span::styled(first_line(msg, rest.saturating_sub(27)), sev_style),
            ]
        }
    }
}

/// Records per bucket across `width` columns, errors separately: (all, errors).
fn histogram(pane: &ListPane, width: usize) -> (Vec<usize>, Vec<usize>, Micros, Micros) {
    let r = &pane.records;
    let (mut all, mut err) = (vec![0; width], vec![0; width]);
    if r.is_empty() || width == 0 {
        return (all, err, 0, 0);
    }
    let (t0, t1) = (r.time(0), r.time(r.len() - 1));
    let span = (t1 - t0).max(1);
    for b in 0..width {
        let lo = t0 + span * b as i64 / width as i64;
        let hi = if b + 1 == width {
            t1 + 1
        } else {
            t0 + span * (b as i64 + 1) / width as i64
        };
        let (i, j) = (r.seek(lo), r.seek(hi));
        all[b] = j - i;
        err[b] = pane.errors_in(i, j);
    }
    (all, err, t0, span)
}

fn histogram_line(pane: &ListPane, app: &App, width: usize, theme: &Theme) -> Line<'static> {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (all, err, t0, span) = histogram(pane, width);
    let max = all.iter().copied().max().unwrap_or(0).max(1);
    let cursor_bucket = (((app.cursor - t0) as i128 * width as i128) / span.max(1) as i128)
        .clamp(0, width.saturating_sub(1) as i128) as usize;
    let spans = (0..width)
        .map(|b| {
            let c = if all[b] == 0 {
                ' '
            } else {
                BARS[(all[b] * 7).div_ceil(max).min(7)]
            };
            let style = if b == cursor_bucket {
                theme.histogram(true)
            } else if err[b] > 0 {
                theme.severity(crate::model::severity::Severity::Error)
            } else {
                theme.histogram(false)
            };
            Span::styled(c.to_string(), style)
        })
        .collect::<Vec<_>>();
    Line::from(spans)
}

/// Where a list pane's rows landed on screen, for mouse clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub pane: usize,
    /// The pane's whole area (border included).
    pub area: Rect,
    /// Screen row of the first record row, and the record index shown there.
    pub first_row: u16,
    pub first_index: usize,
}

/// Draw list pane `index` of the app into `area`; returns where its rows are.
pub fn draw(f: &mut Frame, area: Rect, app: &App, index: usize, theme: &Theme) -> Hit {
    let pane = &app.lists[index];
    let focused = index == app.focus;
    let title = format!(
        " {} {} ({}) ",
        index + 1,
        pane.kind.title(),
        pane.records.len()
    );
    let block = Block::bordered()
        .border_style(theme.block(focused))
        .title(Span::styled(title, theme.title(focused)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut hit = Hit {
        pane: index,
        area,
        first_row: inner.y,
        first_index: 0,
    };
    if inner.height == 0 || inner.width == 0 {
        return hit;
    }
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    if pane.kind == ListKind::Timeline && inner.height > 3 {
        lines.push(histogram_line(pane, app, width, theme));
    }
    let rows = usize::from(inner.height) - lines.len();
    let n = app.visible_len(index);
    if n == 0 {
        lines.push(Line::styled("no records of this kind", theme.muted()));
    }
    // Keep the selection in view, a third from the top.
    let first = pane
        .selected
        .saturating_sub(rows / 3)
        .min(n.saturating_sub(rows));
    for i in first..(first + rows).min(n) {
        let e = pane.records.entries[i];
        let spans = row_spans(
            app,
            pane.kind,
            e.source as usize,
            e.row as usize,
            width,
            theme,
        );
        let mut spans = match &app.search {
            Some(re) => mark_matches(spans, re, theme.match_style()),
            None => spans,
        };
        // Evidence of the chosen finding: the time is shown in reverse video.
        if app.evidence.contains(&(e.source as usize, e.row as usize))
            && let Some(first) = spans.first_mut()
        {
            first.style = theme
                .title(true)
                .add_modifier(ratatui::style::Modifier::REVERSED);
        }
        let mut line = Line::from(spans);
        if i == pane.selected {
            let style = if focused {
                theme.selection()
            } else {
                theme.aligned()
            };
            line = line.style(style);
        }
        lines.push(line);
    }
    hit.first_row = inner.y + (usize::from(inner.height) - rows) as u16;
    hit.first_index = first;
    f.render_widget(Paragraph::new(lines).style(Style::default()), inner);
    hit
}

/// The search's matches in a row's text (not its time column) in the match style.
pub fn mark_matches(
    spans: Vec<Span<'static>>,
    re: &regex::Regex,
    style: Style,
) -> Vec<Span<'static>> {
    let mut out = Vec::with_capacity(spans.len());
    for (i, span) in spans.into_iter().enumerate() {
        let text = span.content.as_ref();
        if i == 0 || !re.is_match(text) {
            out.push(span);
            continue;
        }
        let mut at = 0;
        for m in re.find_iter(text) {
            if m.start() > at {
                out.push(Span::styled(text[at..m.start()].to_string(), span.style));
            }
            if m.end() > m.start() {
                out.push(Span::styled(
                    text[m.start()..m.end()].to_string(),
                    span.style.patch(style),
                ));
            }
            at = m.end();
        }
        if at < text.len() {
            out.push(Span::styled(text[at..].to_string(), span.style));
        }
    }
    out
}
