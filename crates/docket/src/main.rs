//! The `docket` binary: parses the command line and dispatches to one command module.

mod admin;
mod allocator;
mod anchors;
mod bench;
mod check;
mod cli;
mod client;
mod compose;
mod demo;
mod help;
mod logging;
mod mcp;
mod reload;
mod serve;
mod slack_manifest;
mod teams_manifest;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use cli::Command;

/// The hidden first argument that makes this process a server's step supervisor (see
/// `docket_plugins::supervisor_main`): checked before anything else runs, so the supervisor
/// reads no configuration and no environment (it takes every step from the server's socket).
const SUPERVISE: &str = "__supervise";

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|first| first == SUPERVISE) {
        return docket_plugins::supervisor_main(args.collect());
    }
    allocator::keep_off_huge_pages();
    // The demo links `bin/terraform` to this binary: its stand-in for Terraform.
    if demo::terraform::called_as_stand_in() {
        return demo::terraform::run();
    }
    let matches = help::command(cli::Cli::command()).get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::DemoStep { args } => demo::steps::run(&args),
        Command::Slack(command) => slack_manifest::run(&command),
        Command::Teams(command) => teams_manifest::run(&command),
        command => runtime().and_then(|rt| rt.block_on(async_main(command))),
    };
    match result {
        Ok(code) => code,
        // `docket audit export | head`: the reader has what it wanted, as with any Unix tool.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "the binary reports its own failures")]
            {
                eprintln!("docket: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` comes from writing to a closed pipe.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == BrokenPipe)
            || cause.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind) == Some(BrokenPipe)
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

async fn async_main(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check::run(&args),
        Command::DemoStep { args } => demo::steps::run(&args),
        Command::Slack(command) => slack_manifest::run(&command),
        Command::Teams(command) => teams_manifest::run(&command),
        Command::Serve(args) => serve::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Audit(command) => admin::audit(command).await,
        Command::Token(command) => admin::token(command).await,
        Command::Mcp(args) => mcp::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        client_command => client::run(client_command).await,
    }
}
