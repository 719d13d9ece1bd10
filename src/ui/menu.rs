//! A one-screen menu (the lessons of `sitrep learn`): j/k or arrows choose, Enter picks,
//! q or Esc leaves. Uses the terminal the same way the console does, and gives it back.

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::theme::Theme;

/// Pick one of `rows` (already formatted); `None` when the user leaves.
pub fn pick(title: &str, rows: &[String], theme: &Theme) -> std::io::Result<Option<usize>> {
    let mut terminal = super::tui::enter()?;
    let _guard = super::tui::Guard;
    let mut sel = 0usize;
    loop {
        terminal.draw(|f| {
            let [head, body, foot] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(f.area());
            f.render_widget(
                Paragraph::new(Line::styled(format!(" {title}"), theme.header())),
                head,
            );
            let lines: Vec<Line> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let l = Line::raw(format!(" {r}"));
                    if i == sel {
                        l.style(theme.selection())
                    } else {
                        l
                    }
                })
                .collect();
            f.render_widget(
                Paragraph::new(lines).block(Block::bordered().border_style(theme.block(true))),
                body,
            );
            f.render_widget(
                Paragraph::new(Line::styled(
                    " j/k choose · Enter start · q leave",
                    theme.muted(),
                )),
                foot,
            );
        })?;
        if let Event::Key(k) = event::read()?
            && k.kind != KeyEventKind::Release
        {
            match k.code {
                KeyCode::Char('j') | KeyCode::Down => {
                    sel = (sel + 1).min(rows.len().saturating_sub(1))
                }
                KeyCode::Char('k') | KeyCode::Up => sel = sel.saturating_sub(1),
                KeyCode::Enter => return Ok(Some(sel)),
                KeyCode::Char('q') | KeyCode::Esc => return Ok(None),
                _ => {}
            }
        }
    }
}
