//! The `wait` action: a pause of a fixed length.

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

/// `wait: 2m`.
#[derive(Clone, Copy, Debug)]
pub struct WaitAction(pub Duration);

impl ActionSpec for WaitAction {
    fn kind(&self) -> &'static str {
        "wait"
    }

    fn templates(&self) -> Vec<&Template> {
        Vec::new()
    }

    fn describe(&self, _params: &Params) -> ActionView {
        ActionView {
            summary: format!("wait {}", self.0),
            details: vec![Detail::text("Pause", self.0.to_string())],
            document: json!({ "duration": self.0.to_string() }),
        }
    }
}
