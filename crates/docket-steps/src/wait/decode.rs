//! Reading a `wait` action from a workflow file: `wait: 2m`. A pause cannot be a plan.

use docket_config::plugin::{Node, StepContext, StepKind, duration};
use docket_core::Action;

use super::action::WaitAction;

/// The `wait` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitKind;

impl StepKind for WaitKind {
    fn name(&self) -> &'static str {
        "wait"
    }

    fn plannable(&self) -> bool {
        false
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        duration(node, cx.report()).map(|d| Action::new(WaitAction(d)))
    }
}
