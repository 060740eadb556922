//! `POST /workflows/match`: a request in words (`deploy api 1.4.2 to prod`) read by the one
//! matcher every surface uses (core's `match_request`, through `App::match_words`), against the workflows the caller may
//! request. The answer pre-fills a request, or offers the best candidates when the matcher is
//! not sure; it opens no ticket.

use axum::Json;
use axum::extract::State;
use docket_app::WordsMatch;
use docket_core::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::schema::{BadRequest, ParamValues, PayloadTooLarge, Unauthenticated, Unavailable, UnsupportedMediaType};
use crate::Web;

/// The most characters of words the matcher reads.
const MAX_WORDS: usize = 1000;

/// Words to match.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Words, example = json!({ "text": "deploy api 1.4.2 to prod" }))]
pub(crate) struct WordsBody {
    /// What someone would type in chat: not blank, at most 1000 characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    text: String,
}

/// What the words ask for: a workflow and its parameters when the matcher is sure, else the
/// best candidates with what it understood for each.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequestMatch)]
pub(crate) struct MatchView {
    /// The workflow the words ask for; null when the matcher is not sure.
    workflow: Option<String>,
    /// The workflow's example the words follow most closely; null when none.
    example: Option<String>,
    /// The values understood, typed where they fit their parameter, as written where they do
    /// not (empty when the matcher is not sure).
    #[schema(value_type = ParamValues)]
    params: serde_json::Map<String, Value>,
    /// Values that do not fit their parameter, with the reason.
    problems: Vec<MatchProblem>,
    /// Words the matcher did not understand, as written.
    not_understood: Vec<String>,
    /// When the matcher is not sure: the best two or three workflows the caller may request,
    /// best first, each with what it understood; empty when nothing fits.
    candidates: Vec<Candidate>,
}

/// A value that does not fit its parameter.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MatchProblem {
    param: String,
    message: String,
}

/// A workflow the words may ask for, with what was understood for it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Candidate {
    /// The workflow's id.
    id: String,
    title: String,
    /// The example the words follow most closely, or the workflow's first; null when it has none.
    example: Option<String>,
    /// The values understood for it.
    #[schema(value_type = ParamValues)]
    params: serde_json::Map<String, Value>,
    /// Of those, the ones that do not fit, with the reason.
    problems: Vec<MatchProblem>,
}

fn problems(list: Vec<FieldError>) -> Vec<MatchProblem> {
    list.into_iter().map(|e| MatchProblem { param: e.param, message: e.message }).collect()
}

/// Reads a request in words as every chat does, against the workflows the caller may request.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/match",
    tag = "workflows",
    operation_id = "match_words",
    request_body = WordsBody,
    responses(
        (status = 200, description = "The workflow and parameters the words ask for, or the best candidates with what was understood for each.", body = MatchView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn words(
    State(web): State<Web>,
    caller: Caller,
    JsonBody(body): JsonBody<WordsBody>,
) -> Result<Json<MatchView>, ApiError> {
    let text = body.text.trim();
    if text.is_empty() || body.text.chars().count() > MAX_WORDS {
        let message = format!("`text` must be 1 to {MAX_WORDS} characters, not blank");
        return Err(ApiError::bad_request("bad_text", message)
            .with_details(serde_json::json!({ "field": "text", "max_chars": MAX_WORDS })));
    }
    let view = match web.app.match_words(&caller.actor, text) {
        WordsMatch::Found(found) => MatchView {
            workflow: Some(found.workflow.id.to_string()),
            example: found.example,
            params: found.params.into_iter().collect(),
            problems: problems(found.problems),
            not_understood: found.not_understood,
            candidates: Vec::new(),
        },
        WordsMatch::Unsure(candidates) => MatchView {
            workflow: None,
            example: None,
            params: serde_json::Map::new(),
            problems: Vec::new(),
            not_understood: Vec::new(),
            candidates: candidates
                .into_iter()
                .map(|m| Candidate {
                    id: m.workflow.id.to_string(),
                    title: m.workflow.title.clone(),
                    example: m.example.or_else(|| m.workflow.examples.first().map(|e| e.text().to_owned())),
                    params: m.params.into_iter().collect(),
                    problems: problems(m.problems),
                })
                .collect(),
        },
    };
    Ok(Json(view))
}
