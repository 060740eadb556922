//! The `http` runner: one request with a templated URL, headers and JSON body, checked against
//! the statuses the workflow expects.

mod action;
mod decode;
mod request;

use std::error::Error as _;
use std::time::Instant;

use async_trait::async_trait;
use docket_app::{LogStream, StepJob, StepLog, StepRunner};
use docket_core::ticket::StepOutcome;
use reqwest::{Client, Response};
use tokio_util::sync::CancellationToken;

pub use self::action::HttpAction;
pub use self::decode::HttpKind;
use self::request::{Prepared, prepare, shown};
use crate::outcome::{fail, show, wrong_kind};

/// How much of a response body is copied into the log.
const EXCERPT_BYTES: usize = 2 * 1024;

/// Runs `http` steps.
///
/// - Method, URL (http and https only), headers and JSON body are rendered from the ticket's
///   parameters; `Idempotency-Key` carries the job's key unless the workflow sets that header.
/// - The whole exchange is bounded by the step's timeout (else the job's default) and aborted
///   when the run is cancelled.
/// - The log gets `POST http://… → 201 Created (12 ms)` and the first 2 KiB of the body.
/// - Success is a status in `expect`, or any 2xx when `expect` is empty. Redirects are not
///   followed: a 3xx is a status like any other.
///
/// An `http` action used as a `plan` is sent too: it is the dry-run endpoint the workflow
/// author chose.
#[derive(Clone, Debug)]
pub struct HttpRunner {
    client: Client,
}

/// The HTTP client could not be built (its TLS backend failed to initialise).
#[derive(Debug, thiserror::Error)]
#[error("the HTTP client for `http` steps could not be built")]
pub struct HttpSetupError(#[from] reqwest::Error);

impl HttpRunner {
    /// A runner with Docket's client: no redirects, no proxy taken from the server's
    /// environment, user agent `docket/<version>`.
    pub fn new() -> Result<Self, HttpSetupError> {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("docket/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    /// A runner that sends through `client` (for a proxy or extra root certificates). Its own
    /// timeouts and redirect policy apply besides the step's.
    pub fn with_client(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl StepRunner for HttpRunner {
    fn kind(&self) -> &'static str {
        "http"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(http) = job.action.spec::<HttpAction>() else {
            return wrong_kind(log, "http", job.action);
        };
        let request = match prepare(http, &job) {
            Ok(request) => request,
            Err(message) => return fail(log, message),
        };
        let label = format!("{} {}", request.method, shown(&request.url));
        let time_limit = http.timeout.map_or(job.default_timeout, |t| t.to_std());
        tokio::select! {
            outcome = self.exchange(request, http, &label, log) => outcome,
            () = tokio::time::sleep(time_limit) => {
                fail(log, format!("{label} timed out after {}", show(time_limit)))
            }
            () = cancel.cancelled() => fail(log, format!("cancelled; {label} aborted")),
        }
    }
}

impl HttpRunner {
    /// Sends the request, logs the status and a body excerpt, and judges the status.
    async fn exchange(&self, request: Prepared, http: &HttpAction, label: &str, log: &dyn StepLog) -> StepOutcome {
        let Prepared { method, url, headers, body } = request;
        let mut builder = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let started = Instant::now();
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return fail(log, format!("{label} failed: {}", error_chain(&e))),
        };
        let status = response.status();
        log.line(LogStream::System, &format!("{label} → {status} ({} ms)", started.elapsed().as_millis()));
        log_excerpt(response, log).await;

        let expected =
            if http.expect.is_empty() { status.is_success() } else { http.expect.contains(&status.as_u16()) };
        if expected {
            StepOutcome::Succeeded
        } else {
            fail(log, format!("{label} answered {status}, expected {}", describe_expected(&http.expect)))
        }
    }
}

/// Copies the first [`EXCERPT_BYTES`] of the body to the log, as lines on stdout, and stops
/// reading there.
async fn log_excerpt(mut response: Response, log: &dyn StepLog) {
    // Read before the body: it is what is left to read, not the whole.
    let total = response.content_length();
    let mut excerpt = Vec::new();
    let mut cut = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = EXCERPT_BYTES - excerpt.len();
                excerpt.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                if chunk.len() > room {
                    cut = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                log.line(LogStream::System, &format!("reading the response body failed: {}", error_chain(&e)));
                break;
            }
        }
    }
    for line in String::from_utf8_lossy(&excerpt).lines() {
        log.line(LogStream::Stdout, line);
    }
    if cut {
        let total = total.map_or_else(String::new, |n| format!(" of {n}"));
        log.line(LogStream::System, &format!("response body cut after {EXCERPT_BYTES}{total} bytes"));
    }
}

fn describe_expected(expect: &[u16]) -> String {
    match expect {
        [] => "a 2xx status".to_owned(),
        [only] => only.to_string(),
        many => many.iter().map(u16::to_string).collect::<Vec<_>>().join(" or "),
    }
}

/// An error and its causes on one line (`error sending request: … : Connection refused`).
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_statuses_read_naturally() {
        assert_eq!(describe_expected(&[]), "a 2xx status");
        assert_eq!(describe_expected(&[201]), "201");
        assert_eq!(describe_expected(&[200, 204]), "200 or 204");
        assert!(reqwest::StatusCode::from_u16(204).is_ok_and(|s| s.is_success()));
    }
}
