//! Regression: slow clients held connections forever. An unfinished request head stayed open
//! ≥ 95 s; a request announcing a 100 MB body and sending 2 bytes was held ≥ 95 s with no
//! answer; idle sockets beyond the file limit made `/readyz` time out. Each case runs against
//! the real server loop on a loopback socket with short limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use docket_http::{ServerOptions, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const HEAD_TIMEOUT: Duration = Duration::from_secs(1);

async fn start(max_connections: usize) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let router = Router::new()
        .route("/readyz", get(|| async { "ready" }))
        .route("/echo", post(|body: String| async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let options = ServerOptions {
        max_connections,
        head_timeout: HEAD_TIMEOUT,
        min_body_rate: 1024,
        max_body_bytes: 64 * 1024,
        stop_grace: Duration::from_secs(1),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, router, options, async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Everything the server sends until it closes the connection (or `limit` passes), and how
/// long after `started` that was: taken before connecting, so a test task that stalls cannot
/// shorten the time measured.
async fn read_until_closed(stream: &mut TcpStream, started: Instant, limit: Duration) -> (String, Duration) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after {limit:?}; got {:?}", String::from_utf8_lossy(&out)),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
}

async fn get_readyz(address: SocketAddr) -> (u16, String) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    let response = client.get(format!("http://{address}/readyz")).send().await.expect("/readyz answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn an_unfinished_request_head_is_closed_after_a_few_seconds() {
    let (address, _stop) = start(16).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: docket\r\nX-Slow: ").await.unwrap();
    let (_, after) = read_until_closed(&mut stream, started, Duration::from_secs(5)).await;
    assert!(after >= HEAD_TIMEOUT - Duration::from_millis(100) && after < HEAD_TIMEOUT * 3, "closed after {after:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_head_timeout() {
    let (address, _stop) = start(16).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: docket\r\n\r\n").await.unwrap();
    let (text, after) = read_until_closed(&mut stream, started, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(after < HEAD_TIMEOUT * 3, "closed after {after:?}");
}

#[tokio::test]
async fn a_body_declared_far_larger_than_allowed_is_refused_at_once() {
    let (address, _stop) = start(16).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: docket\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\nab",
        )
        .await
        .unwrap();
    let (text, after) = read_until_closed(&mut stream, started, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains(r#""code":"body_too_large""#), "the JSON error shape: {text}");
    assert!(after < Duration::from_secs(2), "answered after {after:?}");
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_by_its_size_bound() {
    let (address, _stop) = start(16).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    // 1,000 bytes at 1,024 bytes a second: about one second, plus the head timeout.
    stream.write_all(b"POST /echo HTTP/1.1\r\nHost: docket\r\nContent-Length: 1000\r\n\r\nab").await.unwrap();
    let (text, after) = read_until_closed(&mut stream, started, Duration::from_secs(6)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""code":"body_timeout""#), "{text}");
    assert!(after >= Duration::from_millis(1800) && after < Duration::from_secs(4), "answered after {after:?}");
    // A body that arrives in time is served as usual.
    let client = reqwest::Client::new();
    let echoed = client.post(format!("http://{address}/echo")).body("hello").send().await.unwrap();
    assert_eq!(echoed.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn idle_sockets_beyond_the_cap_get_a_503_and_the_server_recovers() {
    let cap = 10;
    let (address, _stop) = start(cap).await;
    let mut idle = Vec::new();
    for _ in 0..cap {
        idle.push(TcpStream::connect(address).await.unwrap());
    }
    // Let the server accept them all before the next ones arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let mut extra = TcpStream::connect(address).await.unwrap();
        extra.write_all(b"GET /readyz HTTP/1.1\r\nHost: docket\r\n\r\n").await.unwrap();
        let (text, after) = read_until_closed(&mut extra, started, Duration::from_secs(2)).await;
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        assert!(text.contains(r#""code":"server_busy""#) && text.contains("retry-after: 1"), "{text}");
        assert!(after < Duration::from_secs(1), "refused after {after:?}");
        refused += 1;
    }
    assert_eq!(refused, 20);
    // One that says nothing is answered too, once it had half a second to send its request.
    let started = Instant::now();
    let mut silent = TcpStream::connect(address).await.unwrap();
    let (text, after) = read_until_closed(&mut silent, started, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 503") && after < Duration::from_secs(2), "{text} after {after:?}");
    // While they are held, /readyz is answered at once rather than timing out.
    let (status, _) = get_readyz(address).await;
    assert_eq!(status, 503);
    // The idle ones are closed after the head timeout; the server serves again.
    let started = Instant::now();
    loop {
        let (status, body) = get_readyz(address).await;
        if status == 200 {
            assert_eq!(body, "ready");
            break;
        }
        assert!(started.elapsed() < HEAD_TIMEOUT * 4, "not recovered after {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() <= HEAD_TIMEOUT + Duration::from_millis(500), "recovered after {:?}", started.elapsed());
    drop(idle);
}
