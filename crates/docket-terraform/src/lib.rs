//! The `terraform` step kind (Terraform or OpenTofu), everything about it in one place: the
//! action and how it reads (`action`), how it is read from a workflow file (`decode`), the
//! optional `terraform` section (`section`: where saved plans are kept, how long an interrupted
//! apply may take to stop), Terraform's JSON plan format read into structured changes
//! (`plan_json`), and the runner (`runner`).
//!
//! Planned, a step runs `init` (when the folder has not been initialized), `plan -out=FILE` and
//! `show -json FILE`: the changes go into the plan, the file is kept with the ticket and its
//! SHA-256 into the digest. Run, it applies exactly that file, after checking its hash.

mod action;
mod decode;
pub mod plan_json;
mod runner;
mod section;

use std::sync::Arc;

use docket_config::Config;
use docket_config::plugin::Plugins;

pub use action::{DEFAULT_BINARY, TerraformAction};
pub use decode::TerraformKind;
pub use runner::{STALE, TerraformRunner};
pub use section::{DEFAULT_INTERRUPT_GRACE, SECTION, Settings, TerraformSection};

/// The `terraform` kind's decoder and its section, for the configuration loader.
pub fn plugins() -> Plugins {
    Plugins::new().step_kind(Arc::new(TerraformKind)).section(Arc::new(TerraformSection))
}

/// The runner, with the `terraform` section's settings (or the defaults, beside `config`'s file).
pub fn runner(config: &Config) -> TerraformRunner {
    let settings = config.sections.get::<Settings>(SECTION).cloned().unwrap_or_else(|| Settings::beside(&config.path));
    TerraformRunner::new(settings)
}
