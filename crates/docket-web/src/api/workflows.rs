//! `/workflows`: the catalog, so clients can build request forms — each parameter with its
//! type, label, help, default and constraints, and each step by name and kind.

use axum::Json;
use axum::extract::State;
use docket_core::catalog::param::ParamKind;
use docket_core::catalog::workflow::Risk;
use docket_core::{ParamSpec, Workflow, WorkflowId};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::{Caller, IdPath};
use super::schema::{BadRequest, NotFound, ParamValueSchema, Unauthenticated, Unavailable};
use super::view::param_value;
use crate::Web;

/// `GET /workflows`
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WorkflowList)]
pub(crate) struct WorkflowList {
    workflows: Vec<WorkflowSummary>,
}

/// A workflow in the list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WorkflowSummary {
    #[schema(example = "deploy")]
    id: String,
    title: String,
    description: String,
    category: String,
    risk: RiskName,
    params: Vec<ParamSummary>,
}

/// A parameter in the list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ParamSummary {
    name: String,
    kind: ParamType,
    required: bool,
}

/// One workflow in full.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Workflow)]
pub(crate) struct WorkflowDetail {
    id: String,
    /// Changes whenever the workflow's file does.
    version: String,
    title: String,
    description: String,
    category: String,
    risk: RiskName,
    params: Vec<ParamView>,
    steps: Vec<StepView>,
    /// How people ask for it in chat.
    examples: Vec<String>,
}

/// How much harm a workflow can do.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Risk)]
pub(crate) enum RiskName {
    Low,
    Medium,
    High,
}

impl From<Risk> for RiskName {
    fn from(risk: Risk) -> Self {
        match risk {
            Risk::Low => RiskName::Low,
            Risk::Medium => RiskName::Medium,
            Risk::High => RiskName::High,
        }
    }
}

/// A parameter's type.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ParamKind)]
pub(crate) enum ParamType {
    /// One line of text.
    String,
    /// Several lines of text.
    Text,
    /// A whole number.
    Integer,
    /// Yes or no.
    Boolean,
    /// One of `choices`.
    Choice,
}

impl From<&ParamKind> for ParamType {
    fn from(kind: &ParamKind) -> Self {
        match kind {
            ParamKind::String { .. } => ParamType::String,
            ParamKind::Text { .. } => ParamType::Text,
            ParamKind::Integer { .. } => ParamType::Integer,
            ParamKind::Boolean => ParamType::Boolean,
            ParamKind::Choice { .. } => ParamType::Choice,
        }
    }
}

/// A parameter in full: everything a request form needs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Param)]
pub(crate) struct ParamView {
    name: String,
    kind: ParamType,
    label: String,
    help: Option<String>,
    /// Whether a value must be given (a default counts as given).
    required: bool,
    #[schema(schema_with = nullable_param_value)]
    default: Option<Value>,
    /// Regular expression a `string` value must match (searched, so anchored with `^…$` where
    /// the whole value must match).
    pattern: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    min: Option<i64>,
    max: Option<i64>,
    /// The values of a `choice`, in display order.
    choices: Option<Vec<ChoiceView>>,
}

/// One value of a `choice` parameter.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Choice)]
pub(crate) struct ChoiceView {
    value: String,
    label: String,
}

/// One step of a workflow.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Step)]
pub(crate) struct StepView {
    name: String,
    /// The kind of step (`exec`, `http`, …). Kinds come from plug-ins, so this is any name.
    kind: &'static str,
    /// Whether the step has a dry run whose output approvers see.
    has_plan: bool,
}

/// A parameter's default: a parameter value, or null.
fn nullable_param_value() -> utoipa::openapi::schema::Schema {
    use utoipa::PartialSchema as _;
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ParamValueSchema::schema())
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("The value used when none is given."))
        .build()
        .into()
}

/// `{id}` of `/workflows/{id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct WorkflowIdParam {
    /// A workflow's id, as `GET /workflows` lists them; any other is answered with 404.
    #[param(example = "deploy")]
    #[allow(dead_code, reason = "describes the path parameter IdPath reads")]
    id: String,
}

impl From<&Workflow> for WorkflowSummary {
    fn from(w: &Workflow) -> Self {
        Self {
            id: w.id.to_string(),
            title: w.title.clone(),
            description: w.description.clone(),
            category: w.category.clone(),
            risk: RiskName::from(w.risk),
            params: w
                .params
                .iter()
                .map(|p| ParamSummary { name: p.name.clone(), kind: ParamType::from(&p.kind), required: p.required })
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
            risk: RiskName::from(w.risk),
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
            kind: ParamType::from(&p.kind),
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

/// The workflows the caller can see, for building request forms.
#[utoipa::path(
    get,
    path = "/api/v1/workflows",
    tag = "workflows",
    operation_id = "list_workflows",
    responses(
        (status = 200, description = "Every workflow in the catalog.", body = WorkflowList),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn list(State(web): State<Web>, _caller: Caller) -> Json<WorkflowList> {
    let workflows: Vec<WorkflowSummary> = web.app.workflows().iter().map(|w| WorkflowSummary::from(&**w)).collect();
    Json(WorkflowList { workflows })
}

/// One workflow with its parameters' types, constraints and defaults, and its steps.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}",
    tag = "workflows",
    operation_id = "get_workflow",
    params(WorkflowIdParam),
    responses(
        (status = 200, description = "The workflow.", body = WorkflowDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
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
