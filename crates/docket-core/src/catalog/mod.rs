//! The workflow catalog as values: workflows, steps, typed parameters, templates, examples.

pub mod action;
pub mod example;
pub mod json_template;
pub mod matcher;
pub mod param;
pub mod template;
pub mod workflow;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::id::WorkflowId;
use workflow::Workflow;

/// Every workflow, by id.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    workflows: BTreeMap<WorkflowId, Arc<Workflow>>,
}

impl Catalog {
    /// A catalog of `workflows`. Ids are unique: the loader reports duplicates before this.
    pub fn new(workflows: impl IntoIterator<Item = Workflow>) -> Self {
        Self { workflows: workflows.into_iter().map(|w| (w.id.clone(), Arc::new(w))).collect() }
    }

    /// The workflow `id`.
    pub fn get(&self, id: &WorkflowId) -> Option<&Arc<Workflow>> {
        self.workflows.get(id)
    }

    /// Every workflow in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.workflows.values()
    }

    /// How many workflows there are.
    pub fn len(&self) -> usize {
        self.workflows.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.workflows.is_empty()
    }
}
