//! `sitrep learn`: the lessons menu, one lesson, or the list with your best scores.

use std::io::Write;

use super::Failure;
use crate::learn::{Attempt, Scores, all, find, load, state_dir};
use crate::ui::app::{App, Options};
use crate::ui::lesson::LessonView;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lesson to start (`sitrep learn --list` shows them); none: a menu.
    pub id: Option<String>,
    /// List the lessons with your best scores, and start none.
    #[arg(long)]
    pub list: bool,
    /// Colours: default, light, high-contrast, or a theme file of the config directory.
    #[arg(long)]
    pub theme: Option<String>,
}

fn rows() -> Result<Vec<(String, String)>, Failure> {
    let scores = state_dir().map(|d| Scores::load(&d)).unwrap_or_default();
    Ok(all()
        .map_err(Failure)?
        .iter()
        .map(|l| {
            let best = scores
                .lessons
                .get(&l.id)
                .map_or("not solved yet".to_string(), |b| {
                    format!("best {} ({} solved)", b.best, b.solved)
                });
            (
                l.id.clone(),
                format!("{:<26} {:<12} {:<48} {best}", l.id, l.level.word(), l.title),
            )
        })
        .collect())
}

pub fn run(args: &Args, out: &mut impl Write) -> Result<(), Failure> {
    if args.list {
        writeln!(
            out,
            "{:<26} {:<12} {:<48} score",
            "lesson", "level", "title"
        )?;
        for (_, row) in rows()? {
            writeln!(out, "{row}")?;
        }
        return Ok(());
    }
    let id = match &args.id {
        Some(id) => id.clone(),
        None => {
            let rows = rows()?;
            let texts: Vec<String> = rows.iter().map(|(_, r)| r.clone()).collect();
            let theme = crate::ui::theme::Theme::resolve(
                args.theme.as_deref().unwrap_or("default"),
                crate::config::dir().as_deref(),
            )
            .map_err(Failure)?;
            use std::io::IsTerminal;
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                return Err(Failure(
                    "the lessons menu needs a terminal; `sitrep learn --list` prints them".into(),
                ));
            }
            match crate::ui::menu::pick(
                "sitrep learn: choose an incident to solve",
                &texts,
                &theme,
            )? {
                Some(i) => rows[i].0.clone(),
                None => return Ok(()),
            }
        }
    };
    start(&id, args.theme.as_deref())
}

/// Open lesson `id` in the console.
pub fn start(id: &str, theme: Option<&str>) -> Result<(), Failure> {
    let lesson = find(id).map_err(Failure)?;
    let incident = load(&lesson).map_err(Failure)?;
    let options = Options {
        runbooks: crate::config::dir().map(|d| d.join("runbooks")),
        state: None,
        progress_key: None,
    };
    let mut app = App::with(incident, &options);
    app.lesson = Some(LessonView::new(Attempt::new(lesson), state_dir()));
    super::run_console(app, theme)
}
