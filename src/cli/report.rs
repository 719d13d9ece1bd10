//! `sitrep report BUNDLE... -o report.md`: the incident report of [`crate::report`], to a file
//! (written whole or not at all) or standard output.

use std::io::Write;
use std::path::PathBuf;

use super::{Failure, Input, load_input};
use crate::analysis::analyse;
use crate::analysis::checklist::Library;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: Input,
    /// Where to write the report (Markdown); `-` or none: standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args, out: &mut impl Write) -> Result<(), Failure> {
    let incident = load_input(&args.input)?;
    let library = Library::load(
        crate::config::dir().map(|d| d.join("runbooks")).as_deref(),
        &incident,
    );
    // What was written down in the console is found by the bundle's content key, a hash of
    // every file: worked out beside the rules.
    let (analysis, notes) = std::thread::scope(|scope| {
        let notes = scope.spawn(|| crate::report::notes(&incident));
        let analysis = analyse(&incident, library);
        let notes = notes
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (analysis, notes)
    });
    let paths: Vec<String> = args
        .input
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let text = crate::report::render(
        &incident,
        &analysis.diagnosis,
        &analysis.checklist,
        &notes,
        &paths,
    );
    match &args.output {
        Some(p) if p.as_os_str() != "-" => {
            crate::partial_file::write(p, text.as_bytes())
                .map_err(|e| Failure(format!("{}: cannot write the report ({e})", p.display())))?;
            writeln!(out, "wrote {}", p.display())?;
        }
        _ => out.write_all(text.as_bytes())?,
    }
    Ok(())
}
