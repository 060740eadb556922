//! The optional `terraform` section of `docket.yaml`:
//!
//! ```yaml
//! terraform:
//!   plans: /var/lib/docket/terraform-plans   # where saved plan files are kept (relative: to docket.yaml)
//!   interrupt_grace: 60s                     # after an interrupt, how long before the process is killed
//! ```
//!
//! Without it, plans are kept in `terraform-plans` beside `docket.yaml`. With several replicas
//! the folder must be shared: a replica that cannot find a ticket's plan file applies nothing.

use std::path::{Path, PathBuf};

use docket_config::plugin::{Decoded, Fields, Node, Report, Section, SectionContext, duration, nonempty};
use docket_core::Duration;

/// The section's key.
pub const SECTION: &str = "terraform";
/// How long an interrupted Terraform gets to stop by itself (it finishes the operations in
/// flight and writes its state) before it is killed.
pub const DEFAULT_INTERRUPT_GRACE: Duration = Duration::from_secs(60);
/// The folder plans are kept in when the section names none, beside `docket.yaml`.
const DEFAULT_FOLDER: &str = "terraform-plans";

/// The runner's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Where saved plan files are kept, one folder per ticket.
    pub plans: PathBuf,
    /// How long after `SIGINT` before `SIGKILL`.
    pub interrupt_grace: Duration,
}

impl Settings {
    /// The defaults for a configuration file at `config_file`.
    pub fn beside(config_file: &Path) -> Self {
        let folder = config_file.parent().unwrap_or_else(|| Path::new("."));
        Self { plans: folder.join(DEFAULT_FOLDER), interrupt_grace: DEFAULT_INTERRUPT_GRACE }
    }
}

/// The `terraform` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct TerraformSection;

impl Section for TerraformSection {
    fn key(&self) -> &'static str {
        SECTION
    }

    fn reloads(&self) -> bool {
        true
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let folder = cx.folder().to_path_buf();
        let report = cx.report();
        let Some(fields) = Fields::open(node, "terraform settings", &["plans", "interrupt_grace"], report) else {
            return Decoded::invalid();
        };
        let plans = fields.opt("plans", report, nonempty).or(DEFAULT_FOLDER.to_owned());
        let grace = fields.opt("interrupt_grace", report, positive).or(DEFAULT_INTERRUPT_GRACE);
        match (plans, grace) {
            (Some(plans), Some(interrupt_grace)) => {
                let plans = PathBuf::from(plans);
                let plans = if plans.is_absolute() { plans } else { folder.join(plans) };
                Decoded::value(Settings { plans, interrupt_grace })
            }
            _ => Decoded::invalid(),
        }
    }
}

fn positive(node: &Node, report: &mut Report) -> Option<Duration> {
    let value = duration(node, report)?;
    if value.as_millis() == 0 {
        report.error(node.pos, "must be longer than 0s");
        return None;
    }
    Some(value)
}
