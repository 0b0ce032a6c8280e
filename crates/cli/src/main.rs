//! `evalgap`: the command line. Thin by design: it parses flags, builds the pieces from the
//! library crates, and maps errors to exit codes (0 done, 1 error, 2 usage error, 130 interrupted).

mod args;
mod commands;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse(); // exits 2 on a usage error, 0 on --help/--version
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
