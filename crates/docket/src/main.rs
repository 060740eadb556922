//! The `docket` binary: parses the command line and dispatches to one command module.

mod check;
mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Check(args) => check::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "the binary reports its own failures")]
            {
                eprintln!("docket: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}
