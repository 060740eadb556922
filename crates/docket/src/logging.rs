//! The server's own log, on standard error: text for people (colour only on a terminal, never
//! with `NO_COLOR`) or one JSON object per line for a log pipeline, chosen by `--log-format`
//! or, failing that, the configuration's `log.format` (applied once it is read); `RUST_LOG`
//! chooses what is logged (default `info,sqlx=warn,tower_http=warn,rmcp=warn`).

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use docket_config::Config;
use docket_plugins::{LOG_SECTION, LogFormat, LogSettings};
use tracing_subscriber::layer::{Layered, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

type Base = Layered<EnvFilter, Registry>;
type Output = Box<dyn Layer<Base> + Send + Sync>;

/// The running log's format switch, and whether the command line chose the format.
static SWITCH: OnceLock<(reload::Handle<Output, Base>, bool)> = OnceLock::new();

/// Starts the log in `format` (from the command line), else as text until
/// [`apply_config`] reads the configuration's choice.
pub(crate) fn init(format: Option<LogFormat>) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn,rmcp=warn"));
    let (output, handle) = reload::Layer::new(output(format.unwrap_or_default()));
    // A second call (tests running commands in one process) keeps the first subscriber.
    if tracing_subscriber::registry().with(filter).with(output).try_init().is_ok() {
        let _ = SWITCH.set((handle, format.is_some()));
    }
}

/// Switches to the configuration's `log.format` unless the command line chose one.
pub(crate) fn apply_config(config: &Config) {
    let Some((handle, chosen)) = SWITCH.get() else { return };
    let Some(settings) = config.sections.get::<LogSettings>(LOG_SECTION) else { return };
    if !chosen && settings.format != LogFormat::Text {
        let _ = handle.reload(output(settings.format));
    }
}

fn output(format: LogFormat) -> Output {
    match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    }
}

/// The request id header: taken from the client (a load balancer's) when it is sane, made
/// here otherwise, and sent back.
const REQUEST_ID: &str = "x-request-id";

/// Runs each request inside a span with its id, method and path, so every line logged while
/// serving it (and JSON lines' `span` field) names the request.
pub(crate) async fn request_span(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument as _;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let given = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| {
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    let id = given.map_or_else(
        || format!("{:x}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
        str::to_owned,
    );
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, value.clone());
        let mut response = next.run(request).instrument(span).await;
        response.headers_mut().insert(REQUEST_ID, value);
        return response;
    }
    next.run(request).instrument(span).await
}
