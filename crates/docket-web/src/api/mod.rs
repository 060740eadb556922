//! The REST API under `/api/v1`: one module per resource, one table of routes. The table is
//! what the router serves and what the OpenAPI document is checked against, so the two cannot
//! drift apart.
//!
//! Every route but `/openapi.json` needs `Authorization: Bearer <token>`. Every error, from a
//! refused approval to an unknown route, is `{"error": {"code", "message", "details"}}`.

pub(crate) mod audit;
mod catalog;
mod config;
mod error;
pub(crate) mod events;
mod extract;
mod idempotency;
mod logs;
mod matching;
mod me;
mod openapi;
pub(crate) mod results;
mod schema;
mod tickets;
mod tokens;
mod view;
mod workflows;

use axum::Router;
use axum::extract::OriginalUri;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

pub(crate) use error::ApiError;
pub(crate) use schema::{NotFound, Unavailable};

use crate::Web;

/// An HTTP method the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
}

impl Verb {
    /// The method's name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
        }
    }
}

/// One row of the route table.
pub(crate) struct Route {
    /// The method.
    pub(crate) verb: Verb,
    /// The path (below `/api/v1` for API routes), with `{id}` for parameters.
    pub(crate) path: &'static str,
    handler: MethodRouter<Web>,
}

/// A row of the route table.
pub(crate) fn route<H, T>(verb: Verb, path: &'static str, handler: H) -> Route
where
    H: Handler<T, Web>,
    T: 'static,
{
    Route { verb, path, handler: on(verb.filter(), handler) }
}

/// Every route of the API.
pub(crate) fn routes() -> Vec<Route> {
    use Verb::{Get, Post};
    vec![
        route(Get, "/openapi.json", openapi::document),
        route(Get, "/me", me::me),
        route(Get, "/me/waiting", me::waiting),
        route(Get, "/workflows", workflows::list),
        route(Post, "/workflows/match", matching::words),
        route(Get, "/workflows/{id}", workflows::get),
        route(Post, "/tickets", tickets::create),
        route(Get, "/tickets", tickets::list),
        route(Get, "/tickets/{id}", tickets::get),
        route(Post, "/tickets/{id}/approve", tickets::approve),
        route(Post, "/tickets/{id}/reject", tickets::reject),
        route(Post, "/tickets/{id}/request-changes", tickets::request_changes),
        route(Post, "/tickets/{id}/amend", tickets::amend),
        route(Post, "/tickets/{id}/comment", tickets::comment),
        route(Post, "/tickets/{id}/cancel", tickets::cancel),
        route(Post, "/tickets/{id}/retry", tickets::retry),
        route(Get, "/tickets/{id}/logs", logs::list),
        route(Get, "/tickets/{id}/results", results::list),
        route(Get, "/tickets/{id}/results.csv", results::csv),
        route(Get, "/tickets/{id}/events", events::stream),
        route(Post, "/tokens", tokens::create),
        route(Get, "/tokens", tokens::list),
        route(Post, "/tokens/{id}/revoke", tokens::revoke),
        route(Get, "/audit", audit::records),
        route(Get, "/audit/verify", audit::verify),
        route(Post, "/config/reload", config::reload),
    ]
}

/// The API's router, to be nested at `/api/v1`.
pub(crate) fn router() -> Router<Web> {
    table_router(routes()).fallback(no_route).method_not_allowed_fallback(wrong_method)
}

/// A router serving exactly the rows of `table`.
pub(crate) fn table_router(table: Vec<Route>) -> Router<Web> {
    table.into_iter().fold(Router::new(), |router, Route { path, handler, .. }| router.route(path, handler))
}

/// 404 for any path under `/api/v1` that is not a route.
pub(crate) async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("there is no API route {method} {}", uri.path()))
}

async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take {method}", uri.path()),
    )
}
