//! A real app with an agent in its configuration, the MCP endpoint served on a loopback port
//! by the same HTTP server loop `docket serve` uses, and rmcp clients that record progress.

use std::sync::{Arc, Mutex};

use docket_testkit::TestApp;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation, ProgressNotificationParam,
    ProgressToken, ProtocolVersion, RequestMetaObject,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt as _, RoleClient, ServiceExt as _};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// alice develops; bob, carol and dave are SRE; `deploy-bot` acts for bob, who approves
/// production deploys, so his refusal is the owner rule and not a lack of rights.
pub(crate) const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: https://docket.example.com }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
people:
  - { id: alice, name: Alice Ng, groups: [dev] }
  - { id: bob, name: Bob Ruiz, groups: [sre] }
  - { id: carol, name: Carol Diaz, groups: [sre] }
  - { id: dave, name: Dave Admin, groups: [sre], admin: true }
agents:
  - { id: deploy-bot, owner: bob, may_request: [Deployments] }
  - { id: report-bot, owner: alice, may_request: [reports] }
policies:
  - name: agents-in-production
    when: requester.agent != "" && params.env == "prod"
    stages:
      - { name: sre, from: [group:sre], count: 1 }
  - name: production
    when: params.env == "prod"
    stages:
      - { name: sre, from: [group:sre], count: 1 }
  - name: everything-else
    when: "true"
    auto_approve: true
"#;

/// The workflow the agent asks for.
pub(crate) const DEPLOY_YAML: &str = r#"id: deploy
title: Deploy a service
description: Roll out a version of a service.
category: Deployments
risk: medium
examples:
  - deploy {service} {version} to {env}
params:
  - { name: service, type: choice, choices: [api, web], help: "Which service" }
  - { name: version, type: string, pattern: '^\d+\.\d+\.\d+$', help: "The version, e.g. 1.4.2" }
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: rollout
    exec: { argv: [echo, "deployed {{service}} {{version}} to {{env}}"] }
"#;

/// A workflow the agent may not request.
pub(crate) const REPORT_YAML: &str = r#"id: report
title: Run a report
category: Reports
steps:
  - { name: report, exec: [echo, report] }
"#;

/// The app and its MCP endpoint.
pub(crate) struct Served {
    pub(crate) kit: TestApp,
    /// `http://127.0.0.1:PORT`
    pub(crate) base: String,
    stop: CancellationToken,
    /// Cancelled when the test says the server begins to stop (`McpOptions::stopping`).
    pub(crate) stopping: CancellationToken,
}

/// A sales report the agent may request, whose one step leaves a table.
pub(crate) const SALES_YAML: &str =
    "id: sales\ntitle: Sales report\ncategory: Deployments\nsteps:\n  - { name: query, result: {} }\n";

impl Served {
    pub(crate) async fn start() -> Self {
        let builder = TestApp::builder()
            .config(DOCKET_YAML)
            .workflows(&[("deploy.yaml", DEPLOY_YAML), ("report.yaml", REPORT_YAML)]);
        Self::start_with(builder).await
    }

    /// Like [`Served::start`], but without the engine: nothing runs until the test starts it
    /// (`kit.app.start()`, and stops what that returns).
    pub(crate) async fn without_engine() -> Self {
        let builder = TestApp::builder()
            .config(DOCKET_YAML)
            .workflows(&[("deploy.yaml", DEPLOY_YAML), ("report.yaml", REPORT_YAML)])
            .without_engine();
        Self::start_with(builder).await
    }

    /// With a sales report whose step leaves `table`.
    pub(crate) async fn with_report(table: docket_core::result::Table) -> Self {
        let builder = TestApp::builder()
            .config(DOCKET_YAML)
            .workflows(&[("deploy.yaml", DEPLOY_YAML), ("report.yaml", REPORT_YAML), ("sales.yaml", SALES_YAML)])
            .plugins(docket_testkit::base_plugins().with(docket_testkit::results::plugins()))
            .runner(move |_| docket_testkit::results::runner(docket_core::StepResult::table(table.clone())));
        Self::start_with(builder).await
    }

    async fn start_with(builder: docket_testkit::TestAppBuilder) -> Self {
        let kit = builder.settings(|s| s.public_url = Some("https://docket.example.com".to_owned())).start().await;
        let stop = CancellationToken::new();
        let stopping = CancellationToken::new();
        let options = docket_mcp::McpOptions {
            public_url: Some("https://docket.example.com".to_owned()),
            shutdown: stop.clone(),
            stopping: stopping.clone(),
        };
        let router = docket_mcp::router(kit.app.clone(), options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let until = stop.clone();
        tokio::spawn(async move {
            let stopped = async move { until.cancelled().await };
            docket_http::serve(listener, router, docket_http::ServerOptions::default(), stopped).await.unwrap();
        });
        Self { kit, base, stop, stopping }
    }

    pub(crate) fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    pub(crate) async fn stop(self) {
        self.stop.cancel();
        self.kit.stop().await;
    }
}

/// A client that keeps every progress notification it hears.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    pub(crate) progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    protocol: Option<ProtocolVersion>,
}

impl ClientHandler for Recorder {
    fn get_info(&self) -> ClientConfig {
        let config = ClientConfig::new(ClientCapabilities::default(), Implementation::new("docket-tests", "0"));
        match &self.protocol {
            Some(version) => config.with_protocol_version(version.clone()),
            None => config,
        }
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(params);
    }
}

pub(crate) type Client = RunningService<RoleClient, Recorder>;

/// An rmcp client over streamable HTTP speaking `version`: the handshake (`initialize`) for
/// the older revisions, `server/discover` and per-request metadata for 2026-07-28.
pub(crate) async fn http_client(url: &str, token: &str, version: ProtocolVersion) -> Client {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token),
    );
    let lifecycle = if version == ProtocolVersion::V_2026_07_28 {
        ClientLifecycleMode::Discover { preferred_versions: vec![version.clone()] }
    } else {
        ClientLifecycleMode::Initialize
    };
    let recorder = Recorder { protocol: Some(version), ..Recorder::default() };
    recorder.serve_with_lifecycle(transport, lifecycle).await.expect("the client connects")
}

/// An rmcp client over stdio, in memory: `docket mcp`'s proxy on the other end of a pipe,
/// forwarding to `url` with `token`.
pub(crate) async fn stdio_client(url: &str, token: &str) -> Client {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (url, token) = (url.to_owned(), token.to_owned());
    tokio::spawn(async move {
        if let Err(error) = docket_mcp::proxy::run(&url, &token, tokio::io::split(theirs)).await {
            panic!("the stdio proxy failed: {error}");
        }
    });
    Recorder::default().serve(tokio::io::split(ours)).await.expect("the stdio client connects")
}

/// Calls `tool` with `arguments`, with a progress token when `progress` is set.
pub(crate) async fn call(client: &Client, tool: &str, arguments: Value, progress: Option<&str>) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    params.arguments = arguments.as_object().cloned();
    if let Some(token) = progress {
        let mut meta = RequestMetaObject::default();
        meta.set_progress_token(ProgressToken(rmcp::model::NumberOrString::String(token.to_owned().into())));
        params.meta = Some(meta);
    }
    client.call_tool(params).await.unwrap_or_else(|e| panic!("calling {tool}: {e}"))
}

/// The structured content of a successful call.
pub(crate) fn ok(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "a tool error: {}", text(result));
    result.structured_content.clone().unwrap_or_else(|| panic!("no structured content: {result:?}"))
}

/// Every text content block, joined.
pub(crate) fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

/// Valid deploy parameters for `env`.
pub(crate) fn deploy(env: &str) -> Value {
    json!({ "service": "api", "version": "1.4.2", "env": env })
}
