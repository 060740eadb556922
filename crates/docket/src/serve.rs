//! `docket serve`: the engine and the HTTP server, until Ctrl-C or SIGTERM, then a clean stop:
//! no new requests, work begun after an answer (a click, a webhook) and steps in progress given
//! time to finish, the database closed.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::compose::{self, Composed};

/// How long a stop waits for steps in progress.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long a stop waits, before that, for work begun after an answer (see `App::settle`).
const SETTLE_GRACE: Duration = Duration::from_secs(10);

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    crate::logging::init(args.log_format.map(Into::into));
    let composed = compose::compose(&args.config, Vec::new()).await?;
    crate::logging::apply_config(&composed.config);
    for warning in &composed.warnings {
        tracing::warn!("{warning}");
    }
    let listen = args.listen.unwrap_or(composed.config.server.listen);
    let listener = bind(listen).await?;
    serve(composed, listener, started, Site::Server, |addr| {
        tracing::info!(%addr, "docket is ready");
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Which server this is: the web UI's act-as switch exists only in the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// `docket serve`: people sign in (OpenID Connect, when configured).
    Server,
    /// `docket demo`: visitors act as any sample person, under a banner.
    Demo,
}

/// Binds `listen`, or says in words that the address is taken and what to do.
pub(crate) async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            let mut other = listen;
            other.set_port(listen.port().wrapping_add(1).max(1));
            anyhow::bail!(
                "{listen} is already in use (another Docket, or another server?): stop it, or choose another \
                 address with --listen {other}"
            )
        }
        Err(error) => Err(error).with_context(|| format!("listening on {listen}")),
    }
}

/// Serves the composed app on `listener` until a stop signal; `ready` is told the bound address
/// once the engine runs and the socket accepts.
pub(crate) async fn serve(
    composed: Composed,
    listener: tokio::net::TcpListener,
    started: Instant,
    site: Site,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let Composed { app, surfaces, config, .. } = composed;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    let engine = app.start().await.context("starting the engine")?;
    let shutdown = CancellationToken::new();
    let reloads = tokio::spawn(reload_on_hangup(app.clone(), shutdown.clone()));
    let chat = surfaces.attach(&app, &shutdown)?;
    let anchoring = crate::anchors::start(&app, &config, &shutdown);
    let oidc = config.sections.get::<docket_web::WebConfig>("web").and_then(|web| web.oidc.clone());
    // Cancelled at the stop signal, before requests drain: live event streams and MCP waits end
    // on it. The rest (Socket Mode, other MCP calls in progress, reloads) stops once they have
    // drained.
    let stopping = CancellationToken::new();
    let demo = site == Site::Demo;
    let options = docket_web::WebOptions { metrics, oidc, demo, stopping: stopping.clone(), ..Default::default() };
    let mcp_options = docket_mcp::McpOptions {
        public_url: config.server.public_url.clone(),
        shutdown: shutdown.clone(),
        stopping: stopping.clone(),
    };
    let router = docket_web::router(app.clone(), options)
        .merge(chat)
        .merge(docket_mcp::router(app.clone(), mcp_options))
        .layer(axum::middleware::from_fn(crate::logging::request_span));
    let addr = listener.local_addr()?;
    let fd_limit = docket_http::raise_fd_limit();
    let mut http = docket_http::ServerOptions::default();
    if let Some(configured) = config.server.max_connections {
        if configured > http.max_connections {
            tracing::warn!(
                configured,
                fd_limit,
                "server.max_connections is more than the open-file limit leaves room for; accepting may pause when it runs out"
            );
        }
        http.max_connections = configured;
    }
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        max_connections = http.max_connections,
        fd_limit,
        "started"
    );
    ready(addr);
    let stop = async move {
        stop_signal().await;
        stopping.cancel();
    };
    docket_http::serve(listener, router, http, stop).await.context("serving HTTP")?;
    shutdown.cancel();
    let _ = reloads.await;
    app.settle(SETTLE_GRACE).await;
    tracing::info!("stopping: waiting for steps in progress");
    engine.stop(STOP_GRACE).await;
    crate::anchors::finish(anchoring).await;
    if let Err(error) = app.close().await {
        tracing::warn!(%error, "could not give back unused ticket numbers; the next ticket skips them");
    }
    Ok(())
}

/// Each SIGHUP reloads the configuration (as `docket reload` does): a configuration that is
/// wrong, or changes what only a restart takes on, is refused with every reason in the log, and
/// the running one stays. Never a stop.
async fn reload_on_hangup(app: docket_app::App, shutdown: CancellationToken) {
    let mut hangups = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP; reload with `docket reload` instead");
            return;
        }
    };
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            received = hangups.recv() => {
                if received.is_none() {
                    return;
                }
                tracing::info!("SIGHUP received: reloading the configuration");
                // The app logs and audits the outcome, taken or refused.
                let _ = app.reload(&docket_core::Actor::System).await;
            }
        }
    }
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
