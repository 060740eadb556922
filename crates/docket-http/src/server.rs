//! The accept loop under the router. What a slow or hostile client can hold is bounded:
//!
//! - a request head must arrive within `head_timeout` (the same timer closes a keep-alive
//!   connection that stays idle that long);
//! - a body must arrive within `head_timeout` plus its size at `min_body_rate`; one declared
//!   larger than `max_body_bytes` is refused at once, before it is read;
//! - at most `max_connections` are open; a connection beyond that is answered 503 and closed;
//! - an accept error for lack of resources (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) waits a
//!   growing pause (10 ms up to 1 s) before accepting again, and is logged once per interval.
//!
//! Every connection gets `TCP_NODELAY`: answers and live events go out at once instead of
//! waiting for the client's delayed acknowledgement (Nagle's algorithm), which on a reused
//! connection costs ~40 ms per event.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::error::{error_body, error_response};
use crate::throttle::Throttle;

/// Connections refused at once that may still be given their 503 (beyond these they are
/// closed without one).
const REFUSALS_IN_FLIGHT: usize = 64;

/// The limits a server keeps.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Open connections at most; more are answered 503 and closed.
    pub max_connections: usize,
    /// Time for a request head to arrive (and for an idle keep-alive connection to be reused).
    pub head_timeout: Duration,
    /// The slowest a body may arrive, in bytes per second (its time limit is `head_timeout`
    /// plus its size at this rate).
    pub min_body_rate: u64,
    /// The largest body any route accepts; routes may accept less.
    pub max_body_bytes: usize,
    /// How long open connections get to finish after the stop signal.
    pub stop_grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_connections: crate::limits::connection_budget(),
            head_timeout: Duration::from_secs(5),
            min_body_rate: 64 * 1024,
            max_body_bytes: 1024 * 1024,
            stop_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` until `stop` completes, then lets open connections finish
/// their requests (up to `stop_grace`). Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServerOptions,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    let options = Arc::new(options);
    let open = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let refusing = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let graceful = GracefulShutdown::new();
    let mut pause = Pause::default();
    let accept_warnings = Throttle::new(Duration::from_secs(10));
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                pause.reset();
                accepted
            }
            Err(error) if is_per_connection(&error) => continue,
            Err(error) => {
                let wait = pause.next();
                if let Some(held) = accept_warnings.allow() {
                    tracing::warn!(%error, held_back = held, pause_ms = wait.as_millis() as u64,
                        "cannot accept connections; pausing");
                }
                tokio::select! {
                    () = &mut stop => break,
                    () = tokio::time::sleep(wait) => continue,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            refuse_busy(stream, &refusing);
            continue;
        };
        let service = connection_service(router.clone(), peer, Arc::clone(&options));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(options.head_timeout)
            .serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        metrics::gauge!("docket_http_connections").increment(1.0);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "a connection ended with an error");
            }
            metrics::gauge!("docket_http_connections").decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.stop_grace) => {
            tracing::warn!(grace_s = options.stop_grace.as_secs(), "connections still open after the grace; closing them");
        }
    }
    Ok(())
}

/// The router for one connection: the peer's address in the request, and the body read within
/// its limits before any handler runs.
fn connection_service(
    router: Router,
    peer: SocketAddr,
    options: Arc<ServerOptions>,
) -> impl tower::Service<Request<Incoming>, Response = Response, Error = Infallible, Future: Send> + Clone {
    tower::service_fn(move |mut request: Request<Incoming>| {
        let router = router.clone();
        let options = Arc::clone(&options);
        async move {
            request.extensions_mut().insert(ConnectInfo(peer));
            match read_body(request, &options).await {
                Ok(request) => router.oneshot(request).await,
                Err(refused) => Ok(refused),
            }
        }
    })
}

/// The request with its body read whole, or the answer that refuses it: 413 for a body larger
/// than `max_body_bytes` (declared or sent), 408 for one that did not arrive in time.
async fn read_body(request: Request<Incoming>, options: &ServerOptions) -> Result<Request<Body>, Response> {
    use hyper::body::Body as _;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if request.body().is_end_stream() || declared == Some(0) {
        return Ok(request.map(Body::new));
    }
    let max = options.max_body_bytes;
    if declared.is_some_and(|n| n > max as u64) {
        return Err(closing(too_large(max)));
    }
    let expected = declared.unwrap_or(max as u64);
    let time = options.head_timeout + Duration::from_secs_f64(expected as f64 / options.min_body_rate.max(1) as f64);
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(time, Limited::new(body, max).collect()).await {
        Ok(Ok(collected)) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Err(closing(too_large(max))),
        Ok(Err(_)) => {
            Err(closing(error_response(StatusCode::BAD_REQUEST, "invalid_body", "the request body could not be read")))
        }
        Err(_) => Err(closing(error_response(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive within {} s", time.as_secs()),
        ))),
    }
}

fn too_large(max: usize) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {max} bytes, the most this server accepts"),
    )
}

/// `response`, asking the client to close the connection (what is left of its body is unread).
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Answers a connection over the cap with 503 and closes it: its request head is read (for at
/// most half a second), the answer written, and the rest drained briefly so the answer is not
/// lost to a reset.
fn refuse_busy(mut stream: TcpStream, refusing: &Arc<Semaphore>) {
    metrics::counter!("docket_http_connections_refused_total").increment(1);
    let Ok(permit) = Arc::clone(refusing).try_acquire_owned() else { return };
    tokio::spawn(async move {
        let body = error_body(
            "server_busy",
            "the server has as many connections open as it allows; try again shortly",
            serde_json::json!({}),
        )
        .to_string();
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
             connection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        // The head first (briefly): a client that gets an answer before it sent its request
        // takes it for a broken connection, not for a 503.
        let mut head = Vec::with_capacity(1024);
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            let mut buf = [0u8; 1024];
            while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
                }
            }
        })
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(answer.as_bytes()).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        })
        .await;
        drop(permit);
    });
}

/// Accept errors that concern one connection only (it was reset before it was accepted): the
/// next accept can follow at once.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// The pause after an accept error: 10 ms, doubling up to 1 s, reset by a successful accept.
#[derive(Debug, Default)]
struct Pause {
    errors: u32,
}

impl Pause {
    fn next(&mut self) -> Duration {
        let wait = Duration::from_millis(10u64.saturating_mul(1u64 << self.errors.min(7))).min(Duration::from_secs(1));
        self.errors = self.errors.saturating_add(1);
        wait
    }

    fn reset(&mut self) {
        self.errors = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_grows_to_a_second_and_resets() {
        let mut pause = Pause::default();
        let waits: Vec<u64> = (0..10).map(|_| pause.next().as_millis() as u64).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        pause.reset();
        assert_eq!(pause.next(), Duration::from_millis(10));
    }
}
