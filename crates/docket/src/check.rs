//! `docket check`: load the configuration and catalog exactly as the server would, and report.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::CheckArgs;

/// Loads `args.config`, prints every warning and error, and says what was loaded.
pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let env = |name: &str| std::env::var(name).ok();
    let mut out = std::io::stdout().lock();
    match docket_config::load(&args.config, &env) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                writeln!(out, "warning: {warning}")?;
            }
            writeln!(
                out,
                "{}: ok — {} workflows, {} people, {} policy rules",
                args.config.display(),
                loaded.catalog.len(),
                loaded.directory.people().count(),
                loaded.policies.rules.len(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            for diagnostic in diagnostics.errors() {
                writeln!(out, "{diagnostic}")?;
            }
            for warning in diagnostics.warnings() {
                writeln!(out, "warning: {warning}")?;
            }
            let n = diagnostics.len();
            writeln!(out, "{n} error{} in {}", if n == 1 { "" } else { "s" }, args.config.display())?;
            Ok(ExitCode::FAILURE)
        }
    }
}
