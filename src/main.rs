use std::process::ExitCode;

fn main() -> ExitCode {
    sitrep::cli::main()
}
