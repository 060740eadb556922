//! A closed-loop driver for throughput: `connections` kept-alive connections, each sending its
//! next request as soon as the last one is answered, for a fixed time. Request `n` (counted
//! across all connections) is made by a function of `n`, so every request can be unique.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::wire::Connection;

/// What a run achieved.
#[derive(Debug, Default)]
pub(crate) struct Driven {
    /// Answered with the expected status.
    pub(crate) ok: u64,
    /// Answered otherwise, or not at all.
    pub(crate) errors: u64,
    /// The first error, in words.
    pub(crate) first_error: Option<String>,
    /// From the first request to the last answer.
    pub(crate) elapsed: Duration,
}

impl Driven {
    /// Answers as expected per second.
    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Drives `addr` over `connections` connections for `duration`; `make(n)` is request `n` whole,
/// answered as expected by `expect` (a status).
pub(crate) async fn closed_loop(
    addr: &str,
    connections: usize,
    duration: Duration,
    expect: u16,
    make: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
) -> Driven {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections.max(1) {
        let (addr, next, make) = (addr.to_owned(), Arc::clone(&next), Arc::clone(&make));
        tasks.push(tokio::spawn(async move {
            let mut driven = Driven::default();
            let mut connection = None;
            while Instant::now() < until {
                let mut open = match connection.take() {
                    Some(open) => open,
                    None => match Connection::open(&addr).await {
                        Ok(open) => open,
                        Err(error) => {
                            failed(&mut driven, format!("connecting: {error}"));
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                let request = (*make)(next.fetch_add(1, Ordering::Relaxed));
                match open.send(&request).await {
                    Ok(answer) if answer.status == expect => {
                        driven.ok += 1;
                        connection = Some(open);
                    }
                    Ok(answer) => {
                        let body: String = String::from_utf8_lossy(&answer.body).chars().take(200).collect();
                        failed(&mut driven, format!("HTTP {}: {body}", answer.status));
                        connection = Some(open);
                    }
                    Err(error) => failed(&mut driven, error.to_string()),
                }
            }
            driven
        }));
    }
    let mut total = Driven::default();
    for task in tasks {
        let driven = task.await.unwrap_or_else(|error| Driven {
            errors: 1,
            first_error: Some(format!("a driver task failed: {error}")),
            ..Driven::default()
        });
        total.ok += driven.ok;
        total.errors += driven.errors;
        total.first_error = total.first_error.or(driven.first_error);
    }
    total.elapsed = started.elapsed();
    total
}

fn failed(driven: &mut Driven, error: String) {
    driven.errors += 1;
    driven.first_error.get_or_insert(error);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A server answering every request on a connection 200, except request bodies `bad`.
    async fn server() -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
                        let answer: &[u8] = if text.ends_with("bad") {
                            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"
                        } else {
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                        };
                        if socket.write_all(answer).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Ok(addr)
    }

    #[tokio::test]
    async fn counts_answers_and_errors_over_every_connection() -> std::io::Result<()> {
        let addr = server().await?;
        let make = |n: u64| {
            let body: &[u8] = if n % 4 == 3 { b"bad" } else { b"ok" };
            super::super::wire::request("POST", "/", "x", &[], body)
        };
        let driven = closed_loop(&addr, 4, Duration::from_millis(200), 200, Arc::new(make)).await;
        let sent = driven.ok + driven.errors;
        assert!(driven.ok > 10, "{driven:?}");
        // One in four is refused (give or take the requests in flight at the end).
        assert!(driven.errors * 4 >= sent - 8 && driven.errors * 4 <= sent + 8, "{driven:?}");
        assert_eq!(driven.first_error.as_deref(), Some("HTTP 401: "));
        Ok(())
    }
}
