//! `/tickets/{id}/events`: a ticket as server-sent events. First a `ticket` event with the
//! current view, then the stored log lines after `Last-Event-ID` (or `?after=`), then live
//! `log` and `ticket` events until the ticket is finished, when an `end` event closes the
//! stream. A `result` event says a step left a result (a report's table, the rows a write
//! changed): each kept result once per stream, the ones kept before it opened first.
//!
//! Another replica's run reaches this one's readers as wake-ups (`Logged`, `Ticket`, `Resync`)
//! that send the follower to the store.
//!
//! Live events are best effort (a slow reader misses some), the store is the record: log lines
//! go out in `seq` order exactly once, each with `id: seq`. A line that arrives ahead of its
//! turn waits briefly for the ones before it; after a lag, or on every ticket change, the
//! store is read again from the last line sent, so nothing is lost or repeated.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use docket_app::{App, AppError, LiveEvent, LogLine};
use docket_core::{Ticket, TicketId};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, QueryPairs, TicketPath, whole_number};
use super::schema::{BadRequest, MAX_SEQ, NotFound, StateName, Unauthenticated, Unavailable};
use super::tickets::TicketIdParam;
use super::view::{LogLineView, TicketView};
use crate::{KEEP_ALIVE, Web};

/// Log lines read from the store per call.
const PAGE: u32 = 1000;
/// How long a line that arrived ahead of its turn waits for the lines before it, before the
/// store is asked for them; also how long after a lag the store is read once more (the engine
/// writes step output to the store every 100 ms).
const GAP_WAIT: Duration = Duration::from_millis(400);
/// Events buffered for a slow reader before the follower waits for it.
const BUFFER: usize = 64;

/// The query of the event stream.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Start after the log line with this `seq` (`Last-Event-ID`, when sent, wins).
    #[param(required = false, minimum = 0, maximum = 9_223_372_036_854_775_807_i64, default = 0)]
    after: u64,
}

/// The `Last-Event-ID` header a reconnecting reader sends.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct LastEventId {
    /// The `seq` of the last log line received; the stream goes on after it.
    #[param(rename = "Last-Event-ID", required = false, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    #[allow(dead_code, reason = "describes the header EventsQuery::read reads")]
    last_event_id: u64,
}

/// A step left a result; read it from `/api/v1/tickets/{id}/results`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResultEvent {
    /// The run, from 1.
    run: u32,
    /// The step, from 0 (as in `log` events).
    step: usize,
}

/// The last event of a stream: the ticket is finished.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndEvent {
    /// The state it finished in.
    state: StateName,
}

/// One server-sent event, as a client reads it: the `event` name, and `data` holding JSON of
/// the schema that name says. `ticket` comes first and again after every change, `log` for each
/// line in `seq` order (its `id` is the `seq`, for `Last-Event-ID`), `result` once for each
/// result a step kept, `end` last when the ticket is finished, `error` last when the store
/// failed (reconnect with `Last-Event-ID`).
#[derive(Debug)]
pub(crate) struct TicketEvent;

impl PartialSchema for TicketEvent {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(event_schema("ticket", TicketView::name().as_ref(), false))
            .item(event_schema("log", LogLineView::name().as_ref(), true))
            .item(event_schema("result", ResultEvent::name().as_ref(), false))
            .item(event_schema("end", EndEvent::name().as_ref(), false))
            .item(event_schema("error", ErrorBody::name().as_ref(), false))
            .description(Some(
                "A server-sent event; `data` is JSON of the schema its `event` names. Keep-alive \
                 comments come every 15 seconds.",
            ))
            .into()
    }
}

impl ToSchema for TicketEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((EndEvent::name().into_owned(), EndEvent::schema()));
        EndEvent::schemas(schemas);
        schemas.push((ResultEvent::name().into_owned(), ResultEvent::schema()));
        ResultEvent::schemas(schemas);
    }
}

/// The event named `name` whose data is JSON of component `data`; `id` is a log line's `seq`
/// (readers carry the last one over to later events).
fn event_schema(name: &str, data: &str, with_id: bool) -> Schema {
    let data = ObjectBuilder::new()
        .schema_type(Type::String)
        .content_media_type("application/json")
        .content_schema(Some(Ref::from_schema_name(data)));
    let id = ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[0-9]{1,19}$"));
    let mut event = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("event", ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name])))
        .required("event")
        .property("data", data)
        .required("data")
        .property("id", id);
    if with_id {
        event = event.required("id");
    }
    event.build().into()
}

/// Follows a ticket: its view, its stored log lines after `Last-Event-ID` (or `after`), then
/// live changes and lines until it is finished.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/events",
    tag = "tickets",
    operation_id = "ticket_events",
    params(
        TicketIdParam,
        EventsQuery,
        LastEventId,
    ),
    responses(
        (status = 200, description = "Server-sent events, until the ticket is finished.", body = TicketEvent,
            content_type = "text/event-stream"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn stream(
    State(web): State<Web>,
    _caller: Caller,
    TicketPath(id): TicketPath,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let EventsQuery { after } = EventsQuery::read(&query, &headers)?;
    open(&web, id, after).await
}

impl EventsQuery {
    /// Where to start: `Last-Event-ID` if sent, else `after`; either must be a `seq`.
    fn read(query: &QueryPairs, headers: &HeaderMap) -> Result<Self, ApiError> {
        // `after` is checked even when the header wins: a bad query is refused either way.
        let after = query.only(&["after"])?.number("after", 0, 0..=MAX_SEQ)?;
        let Some(value) = headers.get("last-event-id") else { return Ok(Self { after }) };
        let after = value.to_str().ok().and_then(|v| whole_number(v.trim(), 0..=MAX_SEQ).ok()).ok_or_else(|| {
            ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be the seq of a log line")
        })?;
        Ok(Self { after })
    }
}

/// The event stream of ticket `id` from the log line after `after`, for whoever the caller
/// authenticated (the API by token, the web UI by its session cookie).
/// The stream ends when the server begins to stop.
pub(crate) async fn open(
    web: &Web,
    id: TicketId,
    after: u64,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    let app = &web.app;
    // Subscribe before reading, so nothing that happens in between is missed.
    let live = app.subscribe();
    let (ticket, version) = app.ticket_with_version(&id).await?;
    let (sender, receiver) = mpsc::channel(BUFFER);
    let follower = Follower {
        app: app.clone(),
        id,
        sender,
        version: 0,
        next: after.saturating_add(1),
        pending: BTreeMap::new(),
        finished: 0,
        announced: BTreeSet::new(),
    };
    tokio::spawn(follower.run(ticket, version, live));
    let until_stop =
        futures_util::StreamExt::take_until(ReceiverStream::new(receiver), web.stopping.clone().cancelled_owned());
    let events = until_stop.map(Ok);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// Why following stopped early.
enum Stop {
    /// The reader went away.
    Gone,
    /// The store failed; the reader is told and may reconnect with `Last-Event-ID`.
    Failed(AppError),
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Self {
        Stop::Failed(error)
    }
}

/// What woke the follower up.
enum Wake {
    /// The reader went away.
    Gone,
    /// Lines waited too long for the ones before them.
    Gap,
    /// Something was published, or the subscription lagged or closed.
    Live(Result<LiveEvent, broadcast::error::RecvError>),
}

/// When [`Follower::show_with`] reads the stored log lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    /// Always: the first look, and after events may have been missed.
    Read,
    /// On a change this replica committed, which it heard in order with the lines published
    /// since: only when a step ended (its last lines are stored with its end), the ticket is
    /// finished, or lines wait for earlier ones.
    IfStepEnded,
}

/// Follows one ticket for one reader.
struct Follower {
    app: App,
    id: TicketId,
    sender: mpsc::Sender<Event>,
    /// The version of the last ticket view sent.
    version: u64,
    /// The seq of the next log line to send.
    next: u64,
    /// Lines that arrived ahead of their turn.
    pending: BTreeMap<u64, LogLine>,
    /// Steps finished in the last ticket view sent, over all runs.
    finished: usize,
    /// The results announced, as (run, step).
    announced: BTreeSet<(u32, usize)>,
}

impl Follower {
    async fn run(mut self, ticket: Ticket, version: u64, live: broadcast::Receiver<LiveEvent>) {
        let outcome = self.follow(ticket, version, live).await;
        if let Err(Stop::Failed(error)) = outcome {
            tracing::warn!(%error, ticket = %self.id, "stopped streaming a ticket's events");
            let body = serde_json::to_string(&ApiError::from(error).body()).unwrap_or_default();
            let _ = self.sender.send(Event::default().event("error").data(body)).await;
        }
    }

    async fn follow(
        &mut self,
        ticket: Ticket,
        version: u64,
        mut live: broadcast::Receiver<LiveEvent>,
    ) -> Result<(), Stop> {
        if self.show(&ticket, version).await? {
            return Ok(());
        }
        let mut gap_deadline: Option<Instant> = None;
        loop {
            let gap = async {
                match gap_deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            let wake = tokio::select! {
                () = self.sender.closed() => Wake::Gone,
                () = gap => Wake::Gap,
                received = live.recv() => Wake::Live(received),
            };
            let received = match wake {
                Wake::Gone => return Err(Stop::Gone),
                Wake::Gap => {
                    gap_deadline = None;
                    self.catch_up().await?;
                    self.skip_gaps().await?;
                    continue;
                }
                Wake::Live(received) => received,
            };
            match received {
                Ok(LiveEvent::Log(line)) if line.ticket == self.id => {
                    if line.seq >= self.next {
                        self.pending.insert(line.seq, line);
                        self.drain().await?;
                    }
                }
                Ok(LiveEvent::Ticket { ticket, version, committed, .. })
                    if ticket == self.id && version > self.version =>
                {
                    // Committed here: the ticket as committed, without reading it back.
                    let ended = match committed {
                        Some(committed) => self.show_with(&committed, version, Lines::IfStepEnded).await?,
                        None => self.refresh().await?,
                    };
                    if ended {
                        return Ok(());
                    }
                }
                // Stored by another replica: read from the store.
                Ok(LiveEvent::Logged { ticket, seq }) if ticket == self.id && seq >= self.next => {
                    self.catch_up().await?;
                }
                Ok(LiveEvent::Resync) => {
                    if self.refresh().await? {
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, ticket = %self.id, "event stream lagged; reading the store again");
                    if self.refresh().await? {
                        return Ok(());
                    }
                    // Lines missed may not be stored yet: look again once they are.
                    gap_deadline.get_or_insert_with(|| Instant::now() + GAP_WAIT);
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            }
            if self.pending.is_empty() {
                gap_deadline = None;
            } else if gap_deadline.is_none() {
                gap_deadline = Some(Instant::now() + GAP_WAIT);
            }
        }
    }

    /// Reads the ticket and its stored logs again and sends what is new. Returns whether the
    /// stream has ended.
    async fn refresh(&mut self) -> Result<bool, Stop> {
        let (ticket, version) = self.app.ticket_with_version(&self.id).await?;
        self.show(&ticket, version).await
    }

    /// Sends the ticket if it is newer than the last sent, then its stored logs; ends the
    /// stream if the ticket is finished. Returns whether it ended.
    async fn show(&mut self, ticket: &Ticket, version: u64) -> Result<bool, Stop> {
        self.show_with(ticket, version, Lines::Read).await
    }

    /// [`Follower::show`], reading the stored lines as `lines` says.
    async fn show_with(&mut self, ticket: &Ticket, version: u64, lines: Lines) -> Result<bool, Stop> {
        let finished_before = self.finished;
        if version > self.version {
            self.version = version;
            self.send("ticket", &TicketView::new(ticket, &self.app), None).await?;
            self.announce(ticket).await?;
        }
        let run_in_progress = ticket.last_run().is_some_and(|run| run.finished_at.is_none());
        let finished = ticket.state.is_terminal() && !run_in_progress;
        // A step's end commit stores its last lines; lines waiting for earlier ones are looked
        // for in the store too.
        let may_have_new = self.finished > finished_before || !self.pending.is_empty() || finished;
        if lines == Lines::Read || may_have_new {
            self.catch_up().await?;
        }
        if finished {
            self.skip_gaps().await?;
            self.send("end", &EndEvent { state: StateName(ticket.state) }, None).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Announces the results not announced yet, when more steps have finished than at the last
    /// look (a step's result is kept before the step is recorded finished, so the view that
    /// shows it finished finds its result stored).
    async fn announce(&mut self, ticket: &Ticket) -> Result<(), Stop> {
        let finished = ticket.runs.iter().flat_map(|r| &r.steps).filter(|s| s.outcome.is_some()).count();
        if finished <= self.finished {
            return Ok(());
        }
        self.finished = finished;
        for kept in self.app.results(&self.id).await? {
            if self.announced.insert((kept.run, kept.step)) {
                self.send("result", &ResultEvent { run: kept.run, step: kept.step }, None).await?;
            }
        }
        Ok(())
    }

    /// Reads stored lines from the next one to send on, and sends what is now in order.
    async fn catch_up(&mut self) -> Result<(), Stop> {
        let mut after = self.next.saturating_sub(1);
        loop {
            let lines = self.app.logs(&self.id, after, PAGE).await?;
            let Some(last) = lines.last() else { break };
            after = last.seq;
            let full = lines.len() >= PAGE as usize;
            for line in lines.into_iter().filter(|l| l.seq >= self.next) {
                self.pending.insert(line.seq, line);
            }
            self.drain().await?;
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// Sends pending lines while they are next in order.
    async fn drain(&mut self) -> Result<(), Stop> {
        while let Some(line) = self.pending.remove(&self.next) {
            self.send("log", &LogLineView::from(&line), Some(line.seq)).await?;
            self.next = line.seq.saturating_add(1);
        }
        Ok(())
    }

    /// Gives up on lines that neither arrived nor were stored, and sends the rest in order.
    async fn skip_gaps(&mut self) -> Result<(), Stop> {
        while let Some(&first) = self.pending.keys().next() {
            self.next = first;
            self.drain().await?;
        }
        Ok(())
    }

    async fn send(&self, name: &str, data: &impl Serialize, id: Option<u64>) -> Result<(), Stop> {
        let data = serde_json::to_string(data).map_err(|e| Stop::Failed(AppError::Invalid(e.to_string())))?;
        let mut event = Event::default().event(name).data(data);
        if let Some(id) = id {
            event = event.id(id.to_string());
        }
        self.sender.send(event).await.map_err(|_| Stop::Gone)
    }
}
