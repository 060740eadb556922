//! The `log` section of `docket.yaml`: how the server writes its own log.
//!
//! ```yaml
//! log: { format: json }      # or text (the default)
//! ```
//!
//! `--log-format` on the command line wins over it; `RUST_LOG` chooses what is logged.

use docket_config::plugin::{Decoded, Fields, Node, Section, SectionContext, text};

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for people: colour only on a terminal, and never with `NO_COLOR`.
    #[default]
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/// The `log` section as read.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSettings {
    /// How log lines look.
    pub format: LogFormat,
}

/// The section's key.
pub const LOG_SECTION: &str = "log";

/// Reads the `log` section.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSection;

impl Section for LogSection {
    fn key(&self) -> &'static str {
        LOG_SECTION
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let report = cx.report();
        let Some(fields) = Fields::open(node, "the log section", &["format"], report) else {
            return Decoded::invalid();
        };
        let format = fields.opt("format", report, |node, report| match text(node, report)?.as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            other => {
                report.error_hint(node.pos, format!("`{other}` is not a log format"), "write text or json");
                None
            }
        });
        match format.or(LogFormat::Text) {
            Some(format) => Decoded::value(LogSettings { format }),
            None => Decoded::invalid(),
        }
    }
}
