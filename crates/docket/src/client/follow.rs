//! Following a ticket over its event stream: log lines as they are written, one status line
//! each time what the ticket is doing changes, and a reconnect with `Last-Event-ID` (a bounded
//! number of times) when the connection drops before the `end` event.

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;

use super::http::{Api, ClientError};
use super::model::{End, LogLine, Ticket};
use super::render::progress;
use super::sse::{Event, Parser};
use super::style::Ui;

/// Stored log lines read per call when catching up.
pub(crate) const PAGE: u32 = 1000;
/// Reconnects in a row without anything new before giving up.
const MAX_RETRIES: u32 = 5;
/// The first wait before reconnecting; it doubles each time, up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(8);

/// Prints log lines as `HH:MM:SS step │ text`, with step names from the ticket's plan.
#[derive(Debug)]
pub(crate) struct LogPrinter {
    ui: Ui,
    steps: Vec<String>,
    width: usize,
}

impl LogPrinter {
    pub(crate) fn new(ui: &Ui) -> Self {
        Self { ui: ui.clone(), steps: Vec::new(), width: 0 }
    }

    /// Takes the step names from `ticket`'s plan.
    pub(crate) fn learn(&mut self, ticket: &Ticket) {
        if let Some(plan) = &ticket.plan {
            self.steps = plan.steps.iter().map(|s| s.name.clone()).collect();
            self.width = self.steps.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        }
    }

    /// One line, rendered: stderr lines are marked with `!`, system lines dimmed (colour only
    /// on a terminal).
    pub(crate) fn line(&self, line: &LogLine) -> String {
        let name = self.steps.get(line.step).cloned().unwrap_or_else(|| format!("step {}", line.step + 1));
        let width = self.width;
        let time = self.ui.time(&line.at);
        let text = line.text.trim_end_matches(['\n', '\r']);
        match line.stream.as_str() {
            "stderr" => format!("{time} {name:<width$} {} {text}", self.ui.red("!")),
            "system" => self.ui.dim(&format!("{time} {name:<width$} │ {text}")),
            _ => format!("{time} {name:<width$} │ {text}"),
        }
    }

    pub(crate) fn write(&self, out: &mut dyn Write, line: &LogLine) -> std::io::Result<()> {
        writeln!(out, "{}", self.line(line))
    }
}

/// How following ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The ticket is done, in this state.
    Finished(String),
    /// The ticket waits for approval (only when asked to stop there).
    AwaitingApproval,
}

/// Where following writes.
pub(crate) struct Sinks<'a> {
    /// Log lines.
    pub(crate) logs: &'a mut dyn Write,
    /// Status lines; `None` writes them with the log lines.
    pub(crate) status: Option<&'a mut dyn Write>,
}

impl Sinks<'_> {
    fn status(&mut self) -> &mut dyn Write {
        match &mut self.status {
            Some(status) => &mut **status,
            None => &mut *self.logs,
        }
    }
}

impl std::fmt::Debug for Sinks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sinks")
    }
}

/// Follows one ticket's events.
#[derive(Debug)]
pub(crate) struct Follower {
    printer: LogPrinter,
    ui: Ui,
    last_status: String,
    /// The seq of the last log line printed, sent as `Last-Event-ID` on reconnect.
    last_id: Option<String>,
    stop_at_approval: bool,
}

impl Follower {
    pub(crate) fn new(ui: &Ui, stop_at_approval: bool) -> Self {
        Self {
            printer: LogPrinter::new(ui),
            ui: ui.clone(),
            last_status: String::new(),
            last_id: None,
            stop_at_approval,
        }
    }

    /// Takes the step names of `ticket`, for the lines printed before its first event.
    pub(crate) fn learn(&mut self, ticket: &Ticket) {
        self.printer.learn(ticket);
    }

    /// Prints the stored lines after the last one printed, a page at a time. Done before the
    /// stream opens, so a follower that starts mid-run prints the run in its own order: step 1's
    /// lines, then "running step 2/2", not the status first and the lines after it.
    pub(crate) async fn catch_up(&mut self, api: &Api, id: &str, sinks: &mut Sinks<'_>) -> anyhow::Result<()> {
        let mut after: u64 = self.last_id.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
        loop {
            let page = api.logs(id, after, PAGE).await?;
            for line in &page.lines {
                self.printer.write(sinks.logs, line)?;
                after = after.max(line.seq);
                self.last_id = Some(after.to_string());
            }
            if page.lines.len() < PAGE as usize {
                break;
            }
        }
        sinks.logs.flush()?;
        Ok(())
    }

    /// Takes `ticket` as already shown: its status line is not printed again.
    pub(crate) fn shown(&mut self, ticket: &Ticket) {
        self.printer.learn(ticket);
        self.last_status = progress(ticket);
    }

    /// Prints the status line for `ticket` if it says something new. Returns whether it did.
    pub(crate) fn status(&mut self, out: &mut dyn Write, ticket: &Ticket) -> std::io::Result<bool> {
        self.printer.learn(ticket);
        let line = progress(ticket);
        if line == self.last_status {
            return Ok(false);
        }
        writeln!(out, "{}", self.ui.dim(&format!("{} ▸ {line}", self.ui.time(&ticket.updated_at))))?;
        out.flush()?;
        self.last_status = line;
        Ok(true)
    }

    /// Handles one event. Returns how following ended, if it did, and whether the event was
    /// news (a log line or a new status).
    pub(crate) fn handle(&mut self, event: &Event, sinks: &mut Sinks<'_>) -> anyhow::Result<(Option<Ended>, bool)> {
        match event.name.as_str() {
            "ticket" => {
                let ticket: Ticket =
                    serde_json::from_str(&event.data).context("a ticket event the client cannot read")?;
                let news = self.status(sinks.status(), &ticket)?;
                let waiting = self.stop_at_approval && ticket.state == "awaiting_approval";
                Ok((waiting.then_some(Ended::AwaitingApproval), news))
            }
            "log" => {
                let line: LogLine = serde_json::from_str(&event.data).context("a log event the client cannot read")?;
                self.printer.write(sinks.logs, &line)?;
                self.last_id = Some(event.id.clone().unwrap_or_else(|| line.seq.to_string()));
                Ok((None, true))
            }
            "end" => {
                let end: End = serde_json::from_str(&event.data).unwrap_or_default();
                sinks.logs.flush()?;
                Ok((Some(Ended::Finished(end.state)), true))
            }
            _ => Ok((None, false)),
        }
    }

    /// Follows `id` until its `end` event (or approval, when asked to stop there).
    pub(crate) async fn run(&mut self, api: &Api, id: &str, sinks: &mut Sinks<'_>) -> anyhow::Result<Ended> {
        let mut failures = 0u32;
        let mut retry: Option<Duration> = None;
        loop {
            let cause = match api.events(id, self.last_id.as_deref()).await {
                Err(error @ ClientError::Api(_)) => return Err(error.into()),
                Err(error) => error.into(),
                Ok(response) => {
                    let mut parser = Parser::new();
                    let mut body = response.bytes_stream();
                    let mut cause = anyhow::anyhow!("the server closed the event stream of {id} before it ended");
                    while let Some(chunk) = body.next().await {
                        let bytes = match chunk {
                            Ok(bytes) => bytes,
                            Err(error) => {
                                cause = api.stream_error(error).into();
                                break;
                            }
                        };
                        for event in parser.feed(&bytes) {
                            if event.name == "error" {
                                cause = anyhow::anyhow!(
                                    "the server stopped streaming {id}: {}",
                                    error_message(&event.data)
                                );
                                continue;
                            }
                            let (ended, news) = self.handle(&event, sinks)?;
                            if let Some(ended) = ended {
                                return Ok(ended);
                            }
                            if news {
                                failures = 0;
                            }
                        }
                    }
                    retry = parser.retry().or(retry);
                    cause
                }
            };
            failures += 1;
            if failures > MAX_RETRIES {
                return Err(cause.context(format!("gave up following {id} after {MAX_RETRIES} reconnects")));
            }
            tokio::time::sleep(retry.unwrap_or_else(|| backoff(failures))).await;
        }
    }
}

/// The wait before reconnect number `attempt` (from 1).
fn backoff(attempt: u32) -> Duration {
    FIRST_DELAY.saturating_mul(1 << attempt.saturating_sub(1).min(5)).min(MAX_DELAY)
}

/// The message of an `error` event's API error body.
fn error_message(data: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    value
        .pointer("/error/message")
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| data.chars().take(200).collect(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(step: usize, stream: &str, text: &str) -> LogLine {
        LogLine {
            seq: 1,
            run: 1,
            step,
            stream: stream.to_owned(),
            text: text.to_owned(),
            at: "2026-01-05T10:42:01.123Z".to_owned(),
        }
    }

    fn printer(ui: &Ui) -> LogPrinter {
        let ticket: Ticket = serde_json::from_str(
            r#"{"plan": {"steps": [{"name": "rollout", "kind": "exec"}, {"name": "bake", "kind": "wait"}]}}"#,
        )
        .unwrap();
        let mut printer = LogPrinter::new(ui);
        printer.learn(&ticket);
        printer
    }

    #[test]
    fn log_lines_are_aligned_and_stderr_is_marked() {
        let printer = printer(&Ui::plain("2026-01-05T10:47:30Z"));
        assert_eq!(printer.line(&line(1, "stdout", "baking\n")), "10:42:01 bake    │ baking");
        assert_eq!(printer.line(&line(0, "stderr", "warning: x")), "10:42:01 rollout ! warning: x");
        assert_eq!(printer.line(&line(0, "system", "started")), "10:42:01 rollout │ started");
        assert_eq!(printer.line(&line(5, "stdout", "?")), "10:42:01 step 6  │ ?");
    }

    #[test]
    fn system_lines_are_dimmed_only_on_a_terminal() {
        let mut ui = Ui::plain("2026-01-05T10:47:30Z");
        ui.color = true;
        assert_eq!(printer(&ui).line(&line(0, "system", "started")), "\x1b[2m10:42:01 rollout │ started\x1b[0m");
    }

    #[test]
    fn status_lines_are_printed_once_per_change_and_logs_remember_their_seq() {
        let mut follower = Follower::new(&Ui::plain("2026-01-05T10:47:30Z"), true);
        let (mut logs, mut status) = (Vec::new(), Vec::new());
        let mut sinks = Sinks { logs: &mut logs, status: Some(&mut status) };
        let queued = r#"{"state": "queued", "updated_at": "2026-01-05T10:42:00Z"}"#;
        let event = |name: &str, data: &str, id: Option<&str>| Event {
            name: name.to_owned(),
            data: data.to_owned(),
            id: id.map(str::to_owned),
        };
        assert_eq!(follower.handle(&event("ticket", queued, None), &mut sinks).unwrap(), (None, true));
        assert_eq!(follower.handle(&event("ticket", queued, None), &mut sinks).unwrap(), (None, false));
        let log = r#"{"seq": 4, "step": 0, "stream": "stdout", "text": "hi", "at": "2026-01-05T10:42:01Z"}"#;
        assert_eq!(follower.handle(&event("log", log, Some("4")), &mut sinks).unwrap(), (None, true));
        assert_eq!(follower.last_id.as_deref(), Some("4"));
        let waiting = r#"{"state": "awaiting_approval", "updated_at": "2026-01-05T10:42:02Z"}"#;
        let (ended, _) = follower.handle(&event("ticket", waiting, None), &mut sinks).unwrap();
        assert_eq!(ended, Some(Ended::AwaitingApproval));
        let (ended, _) = follower.handle(&event("end", r#"{"state": "failed"}"#, None), &mut sinks).unwrap();
        assert_eq!(ended, Some(Ended::Finished("failed".to_owned())));
        assert_eq!(String::from_utf8(logs).unwrap(), "10:42:01 step 1 │ hi\n");
        assert_eq!(String::from_utf8(status).unwrap(), "10:42:00 ▸ queued…\n10:42:02 ▸ waiting for approval…\n");
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(5), Duration::from_secs(8));
        assert_eq!(backoff(50), Duration::from_secs(8));
    }

    #[test]
    fn error_events_show_the_api_message() {
        assert_eq!(error_message(r#"{"error": {"code": "x", "message": "storage down"}}"#), "storage down");
        assert_eq!(error_message("plain"), "plain");
    }
}
