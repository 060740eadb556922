//! `docket check`: load the configuration and catalog exactly as the server would, and report.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::CheckArgs;

/// Loads `args.config`, prints every warning and error, and says what was loaded.
pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let env = |name: &str| std::env::var(name).ok();
    let mut out = std::io::stdout().lock();
    match docket_config::load(&args.config, &env, &docket_plugins::plugins()) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                writeln!(out, "warning: {warning}")?;
            }
            writeln!(
                out,
                "{}: ok — {}, {}, {}",
                args.config.display(),
                count(loaded.catalog.len(), "workflow", "workflows"),
                count(loaded.directory.people().count(), "person", "people"),
                count(loaded.policies.rules.len(), "policy rule", "policy rules"),
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
            let files = diagnostics.per_file();
            if files.len() > 1 {
                writeln!(out, "{}:", diagnostics.summary())?;
                for (path, n) in files {
                    writeln!(out, "  {} in {}", count(n, "error", "errors"), path.display())?;
                }
            } else {
                writeln!(out, "{}", diagnostics.summary())?;
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `n` and the noun for it: "1 workflow", "2 workflows".
pub(crate) fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}
