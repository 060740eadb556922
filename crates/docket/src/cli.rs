//! The command line: every subcommand and its flags, with the help text people read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Docket: pre-approved, parameterized workflows, requested and approved from chat.
#[derive(Debug, Parser)]
#[command(name = "docket", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate a configuration and its workflow catalog, printing every error at once.
    ///
    /// Exits 0 when everything loads, 1 when anything is wrong. Each problem is printed as
    /// `file:line:column: what is wrong (hint)`.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: PathBuf,
}
