//! Request → succeeded over one reused (kept-alive) connection, as browsers, the CLI and chat
//! platforms use them, against a real `docket serve` (a child process, SQLite on disk): each
//! ticket, for an auto-approved one-step workflow (`wait: 0s`), is created with `POST
//! /api/v1/tickets` and followed with `GET /api/v1/tickets/{id}/events` on the same connection
//! until its `end` event, one ticket at a time. The same is measured with a new connection per
//! ticket (its two requests share it), for comparison: without `TCP_NODELAY` on the server, a
//! reused connection's small writes wait for the client's delayed acknowledgement (~40 ms).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use docket_app::{NewToken, TokenAuthority, TokenLifetime};
use docket_core::TokenSubject;

use super::wire::{Connection, request};
use super::{Figure, Target, quantile_ms, startup};
use crate::compose::{self, Needs};

const CONFIG: &str = "server: { listen: 127.0.0.1:0 }\nstorage: { url: sqlite://./docket.db }\ncatalog: ./workflows\n\
people: [{ id: alice, name: Alice }]\npolicies: [{ name: all, when: \"true\", auto_approve: true }]\n";
const WORKFLOW: &str = "id: noop\ntitle: No-op\nsteps:\n  - name: nothing\n    wait: 0s\n";

/// Tickets per way of connecting.
const TICKETS: usize = 1000;

pub(crate) async fn measure() -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("workflows"))?;
    std::fs::write(dir.path().join("workflows/noop.yaml"), WORKFLOW)?;
    let config = dir.path().join("docket.yaml");
    std::fs::write(&config, CONFIG)?;
    let token = token(&config).await?;
    let (mut server, addr) = startup::serve(&config, dir.path()).await?;

    let mut reused = Vec::with_capacity(TICKETS);
    let mut connection = Connection::open(&addr).await?;
    for _ in 0..TICKETS {
        reused.push(one_ticket(&mut connection, &addr, &token).await?);
    }
    drop(connection);
    let mut fresh = Vec::with_capacity(TICKETS);
    for _ in 0..TICKETS {
        let mut connection = Connection::open(&addr).await?;
        fresh.push(one_ticket(&mut connection, &addr, &token).await?);
    }
    server.kill().await.context("stopping docket serve")?;
    reused.sort();
    fresh.sort();
    Ok(vec![
        Figure::new("request → succeeded, reused connection p50", quantile_ms(&reused, 0.5), "ms", Target::None),
        Figure::new(
            "request → succeeded, reused connection p99",
            quantile_ms(&reused, 0.99),
            "ms",
            Target::AtMost(5.0),
        ),
        Figure::new("request → succeeded, new connection p50", quantile_ms(&fresh, 0.5), "ms", Target::None),
        Figure::new("request → succeeded, new connection p99", quantile_ms(&fresh, 0.99), "ms", Target::None),
    ])
}

/// Creates a ticket on `connection` and follows its events there until it ends: the time from
/// the request's first byte to the `end` event.
async fn one_ticket(connection: &mut Connection, addr: &str, token: &str) -> anyhow::Result<Duration> {
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    let started = Instant::now();
    let created = connection
        .send(&request("POST", "/api/v1/tickets", addr, &headers, br#"{"workflow":"noop"}"#))
        .await
        .context("creating a ticket")?;
    anyhow::ensure!(created.status == 201, "creating a ticket answered HTTP {}", created.status);
    let body: serde_json::Value = serde_json::from_slice(&created.body)?;
    let id = body.get("id").and_then(serde_json::Value::as_str).context("the new ticket's id")?;
    let mut ended = None;
    let events = request("GET", &format!("/api/v1/tickets/{id}/events"), addr, &headers[..1], b"");
    let stream = connection
        .send_watching(&events, |so_far| {
            if ended.is_none() && contains(so_far, b"event: end") {
                ended = Some(started.elapsed());
            }
        })
        .await
        .context("following the ticket's events")?;
    anyhow::ensure!(stream.status == 200, "the events answered HTTP {}", stream.status);
    anyhow::ensure!(contains(&stream.body, b"succeeded"), "ticket {id} did not succeed");
    ended.with_context(|| format!("ticket {id}'s events had no end"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An API token for Alice, made in the store before the server starts.
async fn token(config: &Path) -> anyhow::Result<String> {
    let app = compose::store_app(config, Needs::People).await?;
    let new = NewToken {
        subject: TokenSubject::Person("alice".into()),
        name: "bench".to_owned(),
        lifetime: TokenLifetime::Default,
    };
    let made = app.create_token(&TokenAuthority::Operator("operator:bench".to_owned()), new).await?;
    app.close().await?;
    Ok(made.secret)
}
