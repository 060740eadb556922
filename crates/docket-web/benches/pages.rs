//! How fast the web UI renders with a big store: fills a SQLite store with 100,000 tickets
//! (prod deploys awaiting approval, requested through the app by 32 tasks at once, plus one
//! that ran with its log), then renders the ticket page and the ticket list through the router
//! (`tower::ServiceExt::oneshot`, session cookie included) and prints p50 and p99.
//!
//! `cargo bench -p docket-web --bench pages` (`DOCKET_BENCH_TICKETS=N` for another size; the
//! target is ≤ 5 ms p99 for both pages).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark: a panic is a failed run"
)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use docket_core::ticket::Origin;
use docket_core::{Actor, TicketState, WorkflowId};
use docket_testkit::TestApp;
use docket_web::WebOptions;
use serde_json::json;
use tower::ServiceExt as _;

/// Renders measured per page.
const SAMPLES: usize = 2_000;
/// Requesters at once while filling.
const FILLERS: usize = 32;

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank].as_secs_f64() * 1000.0
}

async fn fill(kit: &TestApp, tickets: usize) {
    let per_task = tickets.div_ceil(FILLERS);
    let mut tasks = Vec::new();
    for task in 0..FILLERS {
        let app = kit.app.clone();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::person("alice");
            let workflow = WorkflowId::new("deploy");
            for i in 0..per_task {
                let params = json!({ "service": "api", "version": format!("1.{task}.{i}"), "env": "prod" });
                let raw = serde_json::from_value(params).unwrap();
                app.request(&actor, &workflow, raw, Origin { surface: "bench".to_owned(), ..Origin::default() })
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

async fn measure(router: &axum::Router, cookie: &str, path: &str) -> (f64, f64) {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES + 100 {
        let request = Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
        let started = Instant::now();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let elapsed = started.elapsed();
        assert!(body.len() > 1000);
        if i >= 100 {
            times.push(elapsed);
        }
    }
    times.sort();
    (quantile(&times, 0.5), quantile(&times, 0.99))
}

fn main() {
    let tickets: usize = std::env::var("DOCKET_BENCH_TICKETS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let kit = TestApp::start().await;
        let started = Instant::now();
        fill(&kit, tickets).await;
        let filled = kit.app.stats().await.unwrap();
        println!("filled {tickets} tickets in {:.1} s ({filled:?})", started.elapsed().as_secs_f64());

        // One ticket that ran, so its page has a run, approvals and a log.
        let actor = Actor::person("alice");
        let raw = serde_json::from_value(json!({ "service": "web", "version": "2.0.0", "env": "prod" })).unwrap();
        let ticket = kit.app.request(&actor, &WorkflowId::new("deploy"), raw, Origin::default()).await.unwrap();
        for who in ["bob", "carol"] {
            let digest = kit.app.ticket(&ticket.id).await.unwrap().digest.unwrap();
            kit.app.approve(&Actor::person(who), &ticket.id, digest, None).await.unwrap();
        }
        kit.wait_for_state(&ticket.id, TicketState::Succeeded).await;

        // Let the engine and the WAL checkpoint settle after the fill.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let router = docket_web::router(kit.app.clone(), WebOptions { demo: true, ..WebOptions::default() });
        let first = router.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
        let cookie = first.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();

        println!("{:<52} {:>8} {:>8}", "page (through the router, session included)", "p50 ms", "p99 ms");
        for (name, path) in [
            ("ticket page, a run with its log", format!("/tickets/{}", ticket.id)),
            ("ticket page, awaiting approval", format!("/tickets/DKT-{}", (tickets / 2).max(1))),
            ("ticket list, newest 50", "/tickets".to_owned()),
            ("ticket list, filtered by state", "/tickets?state=awaiting_approval&workflow=deploy".to_owned()),
        ] {
            let (p50, p99) = measure(&router, &cookie, &path).await;
            let verdict = if p99 <= 5.0 { "ok" } else { "MISSED (target p99 ≤ 5 ms)" };
            println!("{name:<52} {p50:>8.2} {p99:>8.2}  {verdict}");
        }
        kit.stop().await;
    });
}
