//! MCP over streamable HTTP at `/mcp`: `Host` and `Origin` checked first (403: DNS rebinding
//! and other sites' pages are refused before anything is read), then the bearer token (401
//! with `WWW-Authenticate` pointing at the protected-resource document), then rmcp's
//! streamable HTTP service, stateless so any replica answers any request. The checked
//! credential travels in the request to the tools.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use docket_app::{App, AppError};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::server::DocketMcp;

/// Where the endpoint is served.
pub const MCP_PATH: &str = "/mcp";
/// The OAuth protected-resource metadata (RFC 9728) a 401 points to.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";
/// The largest request body read (a tool call is small; the rest of Docket's HTTP allows 1 MiB).
const MAX_BODY: usize = 1024 * 1024;

/// How the endpoint is reached.
#[derive(Clone, Debug, Default)]
pub struct McpOptions {
    /// `server.public_url`: its host is allowed in `Host`, its origin in `Origin`.
    pub public_url: Option<String>,
    /// Cancelled when the server stops: open streams end.
    pub shutdown: CancellationToken,
    /// Cancelled when the server begins to stop, before requests drain: a `wait_for_ticket` in
    /// progress answers at once, as if its timeout had come, instead of holding the stop.
    pub stopping: CancellationToken,
}

/// Who may reach the endpoint.
#[derive(Debug)]
struct Gate {
    app: App,
    /// Host names allowed in `Host` (any port): the public URL's and loopback.
    hosts: Vec<String>,
    /// Origins allowed in `Origin`: the public URL's; loopback origins on any port.
    origins: Vec<String>,
    /// The protected-resource document's URL, for `WWW-Authenticate`.
    resource_metadata: String,
    /// The resource's URL, for that document.
    resource: String,
}

/// The routes of the MCP endpoint over `app`, to merge into the server's router.
pub fn router(app: App, options: McpOptions) -> Router {
    let public = options.public_url.as_deref().and_then(|u| url::Url::parse(u).ok());
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let mut origins = Vec::new();
    if let Some(url) = &public {
        if let Some(host) = url.host_str() {
            hosts.push(host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase());
        }
        origins.push(url.origin().ascii_serialization());
    }
    let base = options.public_url.as_deref().unwrap_or("").trim_end_matches('/').to_owned();
    let gate = Arc::new(Gate {
        app: app.clone(),
        hosts: hosts.clone(),
        origins,
        resource_metadata: format!("{base}{RESOURCE_METADATA_PATH}"),
        resource: format!("{base}{MCP_PATH}"),
    });
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(Some(std::time::Duration::from_secs(15)))
        .with_max_request_body_bytes(MAX_BODY)
        .with_allowed_hosts(hosts)
        .with_cancellation_token(options.shutdown.child_token());
    let service: StreamableHttpService<DocketMcp, NeverSessionManager> = StreamableHttpService::new(
        move || Ok(DocketMcp::new(app.clone()).stopping_with(options.stopping.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let mcp = Router::new()
        .route_service(MCP_PATH, service)
        .layer(middleware::from_fn_with_state(gate.clone(), authenticate))
        .layer(middleware::from_fn_with_state(gate.clone(), check_origin));
    Router::new()
        .route(RESOURCE_METADATA_PATH, get(resource_metadata))
        .route(&format!("{RESOURCE_METADATA_PATH}{MCP_PATH}"), get(resource_metadata))
        .with_state(gate)
        .merge(mcp)
}

/// `Host` must name this server; `Origin`, when a browser sends one, this server's site.
async fn check_origin(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    if let Err(why) = gate.admits(request.headers()) {
        tracing::warn!(%why, "MCP request refused before reading it");
        return docket_http::error_response(StatusCode::FORBIDDEN, "forbidden", why);
    }
    next.run(request).await
}

impl Gate {
    fn admits(&self, headers: &HeaderMap) -> Result<(), String> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        let name = host_name(host);
        if !self.hosts.contains(&name) {
            return Err(format!("the Host `{host}` is not this server's"));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let loopback = url::Url::parse(origin)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .is_some_and(|h| matches!(h.as_str(), "localhost" | "127.0.0.1" | "[::1]"));
            if !loopback && !self.origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)) {
                return Err(format!("requests from pages at `{origin}` are not allowed"));
            }
        }
        Ok(())
    }
}

/// `example.com:8080` → `example.com`; `[::1]:8080` → `::1`.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host
            .rsplit_once(':')
            .map_or(host, |(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host }),
    };
    name.to_ascii_lowercase()
}

/// The bearer token, checked against the store on every request (a revoked token stops at once,
/// on every replica); the credential goes into the request for the tools.
async fn authenticate(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim().to_owned());
    let Some(token) = token else {
        return gate.unauthorized("this endpoint needs `Authorization: Bearer <token>` with a Docket API token");
    };
    let what = format!("{} {}", request.method(), request.uri().path());
    let peer = docket_http::peer(request.extensions());
    match gate.app.authenticate_presented(&token, "mcp", peer, &what).await {
        Ok(credential) => {
            request.extensions_mut().insert(credential);
            next.run(request).await
        }
        Err(AppError::Unauthenticated) => gate.unauthorized("unknown or revoked token"),
        Err(AppError::TokenRefused(why)) => gate.unauthorized(&why.to_string()),
        Err(error) => {
            tracing::error!(%error, "could not check an MCP token");
            docket_http::error_response(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "try again shortly")
        }
    }
}

impl Gate {
    fn unauthorized(&self, message: &str) -> Response {
        let mut response = docket_http::error_response(StatusCode::UNAUTHORIZED, "unauthenticated", message);
        let challenge = format!(r#"Bearer realm="docket", resource_metadata="{}""#, self.resource_metadata);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// What a client reads to learn how to authenticate: a Docket API token as a bearer token in
/// the `Authorization` header (made with `docket token create --agent ID`).
async fn resource_metadata(State(gate): State<Arc<Gate>>) -> Response {
    let body = json!({
        "resource": gate.resource,
        "resource_name": "Docket",
        "bearer_methods_supported": ["header"],
        "resource_documentation": "Make a token with `docket token create --agent ID` (or `--person ID`) and send it as `Authorization: Bearer dkt_…`.",
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Body::from(body.to_string())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_ports() {
        assert_eq!(host_name("Docket.Example.com:8443"), "docket.example.com");
        assert_eq!(host_name("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name(""), "");
    }
}
