//! The only place that touches terminal modes: raw mode and the alternate screen on entry,
//! restored on every exit and on panic (before the panic report is printed).

use std::io::{Stdout, Write, stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::app::App;
use super::theme::Theme;

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped, whatever way the loop ends.
pub(crate) struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

pub(crate) fn enter() -> std::io::Result<Terminal<CrosstermBackend<Stdout>>> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        hook(info);
    }));
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        crossterm::cursor::Hide
    )?;
    Terminal::new(CrosstermBackend::new(stdout()))
}

/// When the terminal goes away (the ssh connection drops, tmux is killed), reading it can
/// spin without returning (crossterm's reader loops on the hung-up tty's EOF), so the loop
/// would never see the stop flag. A watcher thread ends the process instead, once a stop
/// was asked for and not honoured within a second, or the terminal is no longer one; there
/// is no terminal left to restore then.
fn watchdog(stop: Arc<AtomicBool>) {
    use std::io::IsTerminal;
    std::thread::spawn(move || {
        let mut asked: Option<std::time::Instant> = None;
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let gone = !std::io::stdin().is_terminal();
            if stop.load(Ordering::Relaxed) {
                let since = *asked.get_or_insert_with(std::time::Instant::now);
                if gone || since.elapsed() > Duration::from_secs(1) {
                    std::process::exit(129);
                }
            } else if gone {
                std::process::exit(129);
            }
        }
    });
}

/// Run the console until the user quits, or SIGTERM/SIGHUP/SIGINT arrives (an ssh drop, a
/// kill): either way the loop ends and the guard restores the terminal. Draws only after
/// something changed. Returns the lesson to open next, when one was chosen.
pub fn run(mut app: App, theme: &Theme) -> std::io::Result<Option<String>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGTERM, SIGHUP, SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    watchdog(Arc::clone(&stop));
    let mut terminal = enter()?;
    let _guard = Guard;
    terminal.clear()?;
    let mut last = std::time::Instant::now();
    while !app.quit && !stop.load(Ordering::Relaxed) {
        if app.dirty {
            terminal.draw(|f| super::draw(f, &mut app, theme))?;
            app.dirty = false;
        }
        if let Some(text) = app.clipboard.take() {
            // OSC 52: the terminal (or tmux with set-clipboard on) puts it on the clipboard;
            // it travels over ssh because it is just output.
            let mut out = std::io::stdout();
            write!(
                out,
                "\x1b]52;c;{}\x07",
                super::walk::base64(text.as_bytes())
            )?;
            out.flush()?;
        }
        // Idle: wait for input. Playing: wake ten times a second to move the playhead.
        let wait = if app.playing { 100 } else { 250 };
        let ready = event::poll(Duration::from_millis(wait))?;
        let now = std::time::Instant::now();
        app.tick(now - last);
        app.poll_findings();
        app.poll_run();
        app.poll_live();
        last = now;
        if !ready {
            continue;
        }
        match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release && app.typing() => {
                app.text_key(k.code);
            }
            // In a lesson, g is the glossary (Home still goes to the top).
            Event::Key(k)
                if k.kind != KeyEventKind::Release
                    && app.lesson.is_some()
                    && k.code == crossterm::event::KeyCode::Char('g') =>
            {
                app.update(super::action::Action::Glossary);
            }
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                if let Some(a) = app.keymap.action_for(k) {
                    app.update(a);
                }
            }
            Event::Mouse(m) => match m.kind {
                MouseEventKind::Down(MouseButton::Left) => app.click(m.column, m.row),
                MouseEventKind::ScrollDown => app.scroll(m.column, m.row, 3),
                MouseEventKind::ScrollUp => app.scroll(m.column, m.row, -3),
                _ => {}
            },
            Event::Resize(_, _) => app.dirty = true,
            _ => {}
        }
    }
    // A lesson chosen in the palette opens once this console has closed.
    Ok(app.next_lesson.take())
}
