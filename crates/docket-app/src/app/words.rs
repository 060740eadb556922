//! A request in words for a person or an agent: core's matcher over the workflows they may
//! request, its answer owned, so any surface (the API, MCP's `request` with `text`) can keep
//! it past the catalog borrow and show it its own way.

use std::sync::Arc;

use docket_core::catalog::matcher::{Matched, RequestMatch, match_request};
use docket_core::{Actor, FieldError, RawParams, Workflow};

use super::App;

/// What the words ask for.
#[derive(Clone, Debug)]
pub enum WordsMatch {
    /// Clearly this workflow, with the values understood.
    Found(Understood),
    /// Not sure: the best candidates, best first, each with what was understood; empty when
    /// nothing in the words fits a workflow the caller may request.
    Unsure(Vec<Understood>),
}

/// A workflow and what the words said about its parameters.
#[derive(Clone, Debug)]
pub struct Understood {
    /// The workflow.
    pub workflow: Arc<Workflow>,
    /// The example the words follow most closely.
    pub example: Option<String>,
    /// The values understood, typed where they fit, as written where they do not.
    pub params: RawParams,
    /// Values that do not fit their parameter, in the words `validate_params` uses.
    pub problems: Vec<FieldError>,
    /// Words not understood, as written.
    pub not_understood: Vec<String>,
}

impl App {
    /// Reads `text` as a request by `actor`, against the workflows they may request.
    pub fn match_words(&self, actor: &Actor, text: &str) -> WordsMatch {
        let requestable = self.requestable(actor);
        let owned = |m: Matched<'_>| Understood {
            workflow: requestable
                .iter()
                .find(|w| w.id == m.workflow.id)
                .cloned()
                .unwrap_or_else(|| Arc::new(m.workflow.clone())),
            example: m.example.map(str::to_owned),
            params: m.params,
            problems: m.problems.into_iter().map(|(param, message)| FieldError { param, message }).collect(),
            not_understood: m.not_understood,
        };
        match match_request(requestable.iter().map(|w| &**w), text) {
            RequestMatch::Found(m) => WordsMatch::Found(owned(m)),
            RequestMatch::Unsure(candidates) => WordsMatch::Unsure(candidates.into_iter().map(owned).collect()),
        }
    }
}
