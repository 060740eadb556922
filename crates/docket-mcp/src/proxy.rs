//! `docket mcp`: MCP over stdio for agents on a person's machine, forwarded to a server's
//! `/mcp` with the agent's token. The server that owns the database does every call — one
//! writer for SQLite, the same policy and audit, steps run where they always run — and the
//! token is checked there on every call, so revoking it stops a running `docket mcp` at once.
//! Tool lists, results, errors and progress notifications pass through unchanged; the stdio
//! client may speak any revision Docket serves.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProtocolVersion, RequestMetaObject, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientHandler, ClientLifecycleMode, ClientServiceExt as _, ErrorData, Peer, RoleClient, RoleServer, ServerHandler,
    ServiceExt as _,
};

use crate::server::PROTOCOL_VERSIONS;

/// Why `docket mcp` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The server could not be reached, or refused the token.
    #[error("could not connect to Docket's MCP endpoint at {url}: {reason}")]
    Connect {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Serving stdio failed.
    #[error("MCP over stdio failed: {0}")]
    Stdio(String),
}

/// The downstream (stdio) peer progress notifications go to.
type Downstream = Arc<Mutex<Option<Peer<RoleServer>>>>;

/// The client side, toward the server: passes progress notifications on.
#[derive(Clone)]
struct Upstream {
    downstream: Downstream,
}

impl ClientHandler for Upstream {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("docket-mcp-stdio", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        let peer = self.downstream.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(peer) = peer
            && let Err(error) = peer.notify_progress(params).await
        {
            tracing::debug!(%error, "could not pass a progress notification on");
        }
    }
}

/// The server side, toward the agent on stdio.
struct Proxy {
    upstream: RunningService<RoleClient, Upstream>,
    downstream: Downstream,
    instructions: Option<String>,
}

impl ServerHandler for Proxy {
    fn get_info(&self) -> ServerConfig {
        let config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("docket", env!("CARGO_PKG_VERSION")).with_title("Docket"));
        match &self.instructions {
            Some(text) => config.with_instructions(text.clone()),
            None => config,
        }
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.upstream.list_tools(request).await.map_err(upstream_error)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        *self.downstream.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(context.peer.clone());
        let mut forwarded = CallToolRequestParams::new(request.name.clone());
        forwarded.arguments = request.arguments;
        if let Some(token) = context.meta.get_progress_token() {
            let mut meta = RequestMetaObject::default();
            meta.set_progress_token(token);
            forwarded.meta = Some(meta);
        }
        tokio::select! {
            result = self.upstream.call_tool(forwarded) => result.map(CallToolResponse::from).map_err(upstream_error),
            () = context.ct.cancelled() => Err(ErrorData::internal_error("the call was cancelled", None)),
        }
    }
}

/// A failure toward the server, as the agent's client sees it.
fn upstream_error(error: rmcp::ServiceError) -> ErrorData {
    match error {
        rmcp::ServiceError::McpError(error) => error,
        other => ErrorData::internal_error(format!("Docket's server did not answer: {other}"), None),
    }
}

/// Connects to `url` (a server's `/mcp`) with `token`, then serves MCP on stdin and stdout
/// until the agent's client closes them.
pub async fn run_stdio(url: &str, token: &str) -> Result<(), ProxyError> {
    run(url, token, rmcp::transport::stdio()).await
}

/// [`run_stdio`] over any transport (the tests use in-memory pipes).
pub async fn run<T, E, A>(url: &str, token: &str, transport: T) -> Result<(), ProxyError>
where
    T: rmcp::transport::IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let downstream: Downstream = Arc::default();
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token.to_owned());
    let connect = |reason: String| ProxyError::Connect { url: url.to_owned(), reason };
    let upstream = Upstream { downstream: downstream.clone() }
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
            ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] },
        )
        .await
        .map_err(|e| connect(e.to_string()))?;
    // Ask once before serving, so a refused token or a wrong URL is said at start, not at the
    // agent's first call.
    upstream.list_tools(None).await.map_err(|e| connect(e.to_string()))?;
    let instructions = upstream.peer_info().and_then(|info| info.instructions.clone());
    let proxy = Proxy { upstream, downstream, instructions };
    let running = proxy.serve(transport).await.map_err(|e| ProxyError::Stdio(e.to_string()))?;
    running.waiting().await.map_err(|e| ProxyError::Stdio(e.to_string()))?;
    Ok(())
}
