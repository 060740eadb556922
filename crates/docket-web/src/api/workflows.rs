//! `/workflows`: the catalog, so clients can build request forms — each parameter with its
//! type, label, help, default and constraints, and each step by name and kind.

use axum::Json;
use axum::extract::State;
use docket_core::catalog::param::ParamKind;
use docket_core::{ParamSpec, Workflow, WorkflowId};
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{Caller, IdPath};
use super::view::param_value;
use crate::Web;

/// A workflow in the list.
#[derive(Debug, Serialize)]
pub(crate) struct WorkflowSummary {
    id: String,
    title: String,
    description: String,
    category: String,
    risk: &'static str,
    params: Vec<ParamSummary>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ParamSummary {
    name: String,
    kind: &'static str,
    required: bool,
}

/// One workflow in full.
#[derive(Debug, Serialize)]
pub(crate) struct WorkflowDetail {
    id: String,
    version: String,
    title: String,
    description: String,
    category: String,
    risk: &'static str,
    params: Vec<ParamView>,
    steps: Vec<StepView>,
    examples: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ParamView {
    name: String,
    kind: &'static str,
    label: String,
    help: Option<String>,
    required: bool,
    default: Option<Value>,
    pattern: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    min: Option<i64>,
    max: Option<i64>,
    choices: Option<Vec<ChoiceView>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChoiceView {
    value: String,
    label: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct StepView {
    name: String,
    kind: &'static str,
    /// Whether the step has a dry run whose output approvers see.
    has_plan: bool,
}

impl From<&Workflow> for WorkflowSummary {
    fn from(w: &Workflow) -> Self {
        Self {
            id: w.id.to_string(),
            title: w.title.clone(),
            description: w.description.clone(),
            category: w.category.clone(),
            risk: w.risk.as_str(),
            params: w
                .params
                .iter()
                .map(|p| ParamSummary { name: p.name.clone(), kind: p.kind.type_name(), required: p.required })
                .collect(),
        }
    }
}

impl From<&Workflow> for WorkflowDetail {
    fn from(w: &Workflow) -> Self {
        Self {
            id: w.id.to_string(),
            version: w.version.clone(),
            title: w.title.clone(),
            description: w.description.clone(),
            category: w.category.clone(),
            risk: w.risk.as_str(),
            params: w.params.iter().map(ParamView::from).collect(),
            steps: w
                .steps
                .iter()
                .map(|s| StepView { name: s.name.clone(), kind: s.action.kind(), has_plan: s.plan.is_some() })
                .collect(),
            examples: w.examples.iter().map(|e| e.text().to_owned()).collect(),
        }
    }
}

impl From<&ParamSpec> for ParamView {
    fn from(p: &ParamSpec) -> Self {
        let mut view = ParamView {
            name: p.name.clone(),
            kind: p.kind.type_name(),
            label: p.label.clone(),
            help: p.help.clone(),
            required: p.required,
            default: p.default.as_ref().map(param_value),
            pattern: None,
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            choices: None,
        };
        match &p.kind {
            ParamKind::String { pattern, min_length, max_length } => {
                view.pattern = pattern.as_ref().map(|p| p.as_str().to_owned());
                view.min_length = *min_length;
                view.max_length = *max_length;
            }
            ParamKind::Text { min_length, max_length } => {
                view.min_length = *min_length;
                view.max_length = *max_length;
            }
            ParamKind::Integer { min, max } => {
                view.min = *min;
                view.max = *max;
            }
            ParamKind::Boolean => {}
            ParamKind::Choice { choices } => {
                view.choices = Some(
                    choices.iter().map(|c| ChoiceView { value: c.value.clone(), label: c.label.clone() }).collect(),
                );
            }
        }
        view
    }
}

/// `GET /workflows`
pub(crate) async fn list(State(web): State<Web>, _caller: Caller) -> Json<Value> {
    let workflows: Vec<WorkflowSummary> = web.app.workflows().iter().map(|w| WorkflowSummary::from(&**w)).collect();
    Json(serde_json::json!({ "workflows": workflows }))
}

/// `GET /workflows/{id}`
pub(crate) async fn get(
    State(web): State<Web>,
    _caller: Caller,
    IdPath(id): IdPath,
) -> Result<Json<WorkflowDetail>, ApiError> {
    let workflow = web
        .app
        .workflow(&WorkflowId::new(id.as_str()))
        .ok_or_else(|| ApiError::from(docket_core::Refusal::UnknownWorkflow(WorkflowId::new(id.as_str()))))?;
    Ok(Json(WorkflowDetail::from(&*workflow)))
}
