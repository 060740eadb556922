//! `POST /workflows/match`: a request in words (`deploy api 1.4.2 to prod`) read by the one
//! matcher every surface uses (core's `match_request`), against the workflows the caller may
//! request. The answer pre-fills a request; it opens no ticket.

use axum::Json;
use axum::extract::State;
use docket_core::catalog::matcher::{RequestMatch, match_request};
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

/// What the words matched.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequestMatch)]
pub(crate) struct MatchView {
    /// The workflow an example of which matched; null when none did.
    workflow: Option<String>,
    /// That example, as the workflow writes it; null when none matched.
    example: Option<String>,
    /// The values the example captured, typed where they passed their parameter's check, as
    /// text where they did not (empty when nothing matched).
    #[schema(value_type = ParamValues)]
    params: serde_json::Map<String, Value>,
    /// Captured values that fail their parameter's check, with the reason.
    problems: Vec<MatchProblem>,
    /// When nothing matched: the closest workflows the caller may request, best first.
    closest: Vec<Suggestion>,
}

/// A captured value that fails its parameter's check.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MatchProblem {
    param: String,
    message: String,
}

/// A workflow offered when nothing matched.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Suggestion {
    id: String,
    title: String,
    /// How to ask for it in words; null when it has no example.
    example: Option<String>,
}

/// Reads a request in words as every chat does, against the workflows the caller may request.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/match",
    tag = "workflows",
    operation_id = "match_words",
    request_body = WordsBody,
    responses(
        (status = 200, description = "The workflow and parameters the words ask for, or the closest workflows.", body = MatchView),
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
    let requestable = web.app.requestable(&caller.actor);
    let view = match match_request(requestable.iter().map(|w| &**w), text) {
        RequestMatch::Found(found) => MatchView {
            workflow: Some(found.workflow.id.to_string()),
            example: Some(found.example.to_owned()),
            params: found.params.into_iter().collect(),
            problems: found.problems.into_iter().map(|(param, message)| MatchProblem { param, message }).collect(),
            closest: Vec::new(),
        },
        RequestMatch::Closest(closest) => MatchView {
            workflow: None,
            example: None,
            params: serde_json::Map::new(),
            problems: Vec::new(),
            closest: closest
                .into_iter()
                .map(|w| Suggestion {
                    id: w.id.to_string(),
                    title: w.title.clone(),
                    example: w.examples.first().map(|e| e.text().to_owned()),
                })
                .collect(),
        },
    };
    Ok(Json(view))
}
