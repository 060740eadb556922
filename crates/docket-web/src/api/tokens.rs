//! `/tokens`: API tokens — make one (for yourself or your agent; admins for anyone), list the
//! ones you may see, revoke one. What each caller may do is core's rule, applied by the app;
//! the secret is in the answer to the request that made it and nowhere else.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use docket_app::{ApiToken, NewToken, TokenAuthority, TokenLifetime};
use docket_core::{PersonId, TokenSubject};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::{Caller, IdPath, JsonBody, QueryPairs};
use super::schema::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthenticated, Unavailable, UnsupportedMediaType,
};
use crate::Web;

/// A token to make. With neither `person` nor `agent`, it is the caller's own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewToken, example = json!({ "name": "laptop", "expires": "30d" }))]
pub(crate) struct NewTokenBody {
    /// The person it acts as (admins only, for anyone but the caller).
    #[serde(default)]
    person: Option<String>,
    /// The agent it acts as (its owner, or an admin).
    #[serde(default)]
    agent: Option<String>,
    /// A label to tell tokens apart.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// How long it lives: a duration such as `90d`, `12h` or `1w`, or `never`. Leaving it out
    /// means the server's default (`tokens.expires`, 90 days unless set).
    #[serde(default)]
    expires: Option<String>,
}

/// A token's record; never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub(crate) struct TokenView {
    /// Its id, named in the audit record of everything done with it.
    #[schema(example = "tok_3f1c2a9b8d7e6f50")]
    id: String,
    /// The person it acts as (for an agent's token, the agent's owner).
    person: String,
    /// The agent it acts as; null for a person's token.
    agent: Option<String>,
    /// Its label.
    name: String,
    /// Who made it, as the audit names them.
    created_by: String,
    #[schema(format = DateTime)]
    created_at: String,
    /// Null: it was made to never expire.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
    /// Who revoked it.
    revoked_by: Option<String>,
    /// `active`, `expired` or `revoked`.
    #[schema(example = "active")]
    status: &'static str,
}

impl TokenView {
    pub(crate) fn new(token: &ApiToken, now: jiff::Timestamp) -> Self {
        let status = if token.revoked.is_some() {
            "revoked"
        } else if token.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: token.id.clone(),
            person: token.person.to_string(),
            agent: token.agent.clone(),
            name: token.name.clone(),
            created_by: token.created_by.clone(),
            created_at: token.created_at.to_string(),
            expires_at: token.expires_at.map(|t| t.to_string()),
            last_used_at: token.last_used_at.map(|t| t.to_string()),
            revoked_at: token.revoked.as_ref().map(|r| r.at.to_string()),
            revoked_by: token.revoked.as_ref().map(|r| r.by.clone()),
            status,
        }
    }
}

/// A token just made: the secret, shown this once, and its record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MadeToken)]
pub(crate) struct MadeTokenView {
    /// The token itself (`dkt_…`): keep it now, it cannot be shown again.
    secret: String,
    token: TokenView,
}

/// `GET /tokens`
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenList)]
pub(crate) struct TokenList {
    /// Newest first.
    tokens: Vec<TokenView>,
}

/// The query `GET /tokens` takes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TokenQuery {
    /// Only this person's tokens (and their agents'). Admins may name anyone.
    #[allow(dead_code, reason = "describes the query QueryPairs reads")]
    person: Option<String>,
}

/// `{id}` of a token.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TokenIdParam {
    /// The token's id.
    #[param(example = "tok_3f1c2a9b8d7e6f50")]
    #[allow(dead_code, reason = "describes the path parameter IdPath reads")]
    id: String,
}

/// `90d`, `never`, or absent, as a lifetime.
fn lifetime(expires: Option<&str>) -> Result<TokenLifetime, ApiError> {
    match expires.map(str::trim) {
        None => Ok(TokenLifetime::Default),
        Some("never") => Ok(TokenLifetime::Never),
        Some(text) => match docket_core::Duration::parse(text) {
            Ok(d) if d.as_millis() > 0 => Ok(TokenLifetime::For(d.to_std())),
            _ => Err(ApiError::bad_request(
                "invalid_request",
                format!("`expires` must be a duration such as 90d, 12h or 1w, or `never` (not `{text}`)"),
            )),
        },
    }
}

/// Makes a token. For yourself unless `person` or `agent` names someone else: your own agent,
/// or (admins) anyone.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    operation_id = "create_token",
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "The token, shown this once.", body = MadeTokenView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn create(
    State(web): State<Web>,
    caller: Caller,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> Result<Response, ApiError> {
    let subject = match (body.person, body.agent) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("invalid_request", "name a `person` or an `agent`, not both"));
        }
        (None, Some(agent)) => TokenSubject::Agent(agent),
        (person, None) => TokenSubject::Person(person.map_or_else(|| caller.person.clone(), PersonId::new)),
    };
    let new = NewToken { subject, name: body.name, lifetime: lifetime(body.expires.as_deref())? };
    let made = caller.app.create_token(&TokenAuthority::Actor(caller.actor.clone()), new).await?;
    let view = MadeTokenView { secret: made.secret, token: TokenView::new(&made.record, web.app.clock_now()) };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// The tokens the caller may see: their own and their agents'; an admin's, everyone's.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    operation_id = "list_tokens",
    params(TokenQuery),
    responses(
        (status = 200, description = "The tokens, newest first; never a secret.", body = TokenList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn list(
    State(web): State<Web>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<TokenList>, ApiError> {
    let person = query.only(&["person"])?.get("person").map(PersonId::new);
    let tokens = caller.app.tokens(&TokenAuthority::Actor(caller.actor.clone()), person.as_ref()).await?;
    let now = web.app.clock_now();
    Ok(Json(TokenList { tokens: tokens.iter().map(|t| TokenView::new(t, now)).collect() }))
}

/// Revokes a token, at once, on every replica: yours or your agent's; an admin, anyone's.
/// Revoking a revoked token changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/revoke",
    tag = "tokens",
    operation_id = "revoke_token",
    params(TokenIdParam),
    responses(
        (status = 200, description = "The token, revoked.", body = TokenView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn revoke(
    State(web): State<Web>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<Json<TokenView>, ApiError> {
    let token = caller.app.revoke_token(&TokenAuthority::Actor(caller.actor.clone()), &id).await?;
    Ok(Json(TokenView::new(&token, web.app.clock_now())))
}
