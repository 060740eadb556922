//! A step kind for tests that reports structured changes, as an infrastructure kind would: a
//! workflow step `changes: {}` is its own dry run, and when planned reports the changes the test
//! gave its runner. Chats, the web and the API show any kind's changes the same way, so their
//! tests need no Terraform.

use std::sync::Arc;

use async_trait::async_trait;
use docket_app::{StepJob, StepLog, StepRunner};
use docket_config::plugin::{Node, Plugins, StepContext, StepKind};
use docket_core::catalog::template::Template;
use docket_core::plan::{Change, ChangeAction};
use docket_core::ticket::StepOutcome;
use docket_core::{Action, ActionSpec, ActionView, Params, PlanFacts};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The kind's decoder, for [`crate::TestAppBuilder::plugins`].
pub fn plugins() -> Plugins {
    Plugins::new().step_kind(Arc::new(ChangesKind))
}

/// A runner reporting `changes` when planned (and succeeding when run).
pub fn runner(changes: Vec<Change>) -> Arc<dyn StepRunner> {
    Arc::new(ChangesRunner(changes))
}

/// `n` changes: every tenth from the fourth a destroy, every tenth from the seventh a replace,
/// the rest creates, each with a value after (and before, for the destroys and replaces).
pub fn many(n: usize) -> Vec<Change> {
    (0..n)
        .map(|i| {
            let action = match i % 10 {
                3 => ChangeAction::Delete,
                6 => ChangeAction::Replace,
                _ => ChangeAction::Create,
            };
            let before = if action == ChangeAction::Create { json!(null) } else { json!({"size": "small", "n": i}) };
            let after = if action == ChangeAction::Delete { json!(null) } else { json!({"size": "large", "n": i}) };
            Change { target: format!("module.fleet.aws_instance.web[{i}]"), action, before, after }
        })
        .collect()
}

#[derive(Debug)]
struct Changes;

impl ActionSpec for Changes {
    fn kind(&self) -> &'static str {
        "changes"
    }

    fn templates(&self) -> Vec<&Template> {
        Vec::new()
    }

    fn describe(&self, _: &Params) -> ActionView {
        ActionView { summary: "apply the planned changes".into(), details: Vec::new(), document: json!({}) }
    }

    fn plans_itself(&self) -> bool {
        true
    }
}

struct ChangesKind;

impl StepKind for ChangesKind {
    fn name(&self) -> &'static str {
        "changes"
    }

    fn decode(&self, _: &Node, _: &mut StepContext<'_>) -> Option<Action> {
        Some(Action::new(Changes))
    }
}

struct ChangesRunner(Vec<Change>);

#[async_trait]
impl StepRunner for ChangesRunner {
    fn kind(&self) -> &'static str {
        "changes"
    }

    async fn run(&self, _: StepJob<'_>, log: &dyn StepLog, _: CancellationToken) -> StepOutcome {
        log.facts(PlanFacts { changes: self.0.clone(), ..PlanFacts::default() });
        StepOutcome::Succeeded
    }
}
