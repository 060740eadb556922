//! The outbox dispatcher: delivers committed notifications to their notifiers, in order per
//! ticket, several tickets at once, retrying with exponential backoff and jitter (the outbound
//! toolkit's [`Backoff`], so many messages failing at once do not all come due at once), and
//! gives up after a bounded number of attempts (the message stays in the store with its last
//! error): `outbox_max_attempts` for chats, `outbox_mirror_max_attempts` for the ticketing
//! systems that keep the organisation's record of the change, which wait out a long outage.
//!
//! Replicas share the outbox: a ticket's due messages are delivered by the replica that claims
//! the ticket (a lease in the store, renewed while it delivers and released when it is done),
//! so no two replicas ever deliver the same message at once. A claim that lapses (its replica
//! died) is taken over; the messages then say that they may have been delivered already, and
//! the surface looks for its earlier copy before posting again.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use docket_core::{Ticket, TicketId};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::AppError;
use crate::outbound::Backoff;
use crate::ports::notifier::NotifyError;
use crate::ports::store::OutboxMessage;

/// Tickets claimed per pass of [`dispatch_due`].
const BATCH: u32 = 100;
/// Tickets whose messages are delivered at the same time.
const CONCURRENT_TICKETS: usize = 16;
/// Longest a notifier may take for one message.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn dispatcher_loop(app: App, shutdown: CancellationToken) {
    // Tickets being delivered now, each by a task of its own; their messages are left alone by
    // later passes until the task ends.
    let mut running: JoinSet<Delivered> = JoinSet::new();
    let mut busy: HashSet<TicketId> = HashSet::new();
    loop {
        if let Err(error) = start_due(&app, &mut running, &mut busy).await {
            tracing::warn!(%error, "could not read the outbox");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(done) = running.join_next(), if !running.is_empty() => finished(&app, done, &mut busy).await,
            () = app.inner.outbox.notified() => {}
            () = tokio::time::sleep(app.inner.settings.poll) => {}
        }
    }
    // Deliveries under way finish (the engine's grace bounds the wait); none start.
    while let Some(done) = running.join_next().await {
        finished(&app, done, &mut busy).await;
    }
}

/// How one ticket's delivery task ended: the ticket, the first store error, and whether this
/// replica still holds the claim (it is released once the task is known to be over, so a
/// later pass can never claim the ticket while its task is still running here).
type Delivered = (TicketId, Result<(), AppError>, bool);

/// Starts a delivery task for each ticket with due messages that has none running, up to
/// [`CONCURRENT_TICKETS`] tasks.
async fn start_due(app: &App, running: &mut JoinSet<Delivered>, busy: &mut HashSet<TicketId>) -> Result<(), AppError> {
    if running.len() >= CONCURRENT_TICKETS {
        return Ok(());
    }
    let room = u32::try_from(CONCURRENT_TICKETS - running.len()).unwrap_or(1);
    for (ticket, messages) in by_ticket(claim(app, room).await?) {
        // Still being delivered here under a claim that lapsed and was taken again: the task
        // in hand goes on, and releases the claim when it ends.
        if !busy.insert(ticket.clone()) {
            continue;
        }
        let app = app.clone();
        running.spawn(async move {
            let (result, held) = deliver_claimed(&app, &ticket, messages).await;
            (ticket, result, held)
        });
    }
    Ok(())
}

async fn finished(app: &App, done: Result<Delivered, tokio::task::JoinError>, busy: &mut HashSet<TicketId>) {
    match done {
        Ok((ticket, result, held)) => {
            if held {
                release(app, &ticket).await;
            }
            busy.remove(&ticket);
            if let Err(error) = result {
                tracing::warn!(%error, %ticket, "could not record a notification's delivery");
            }
        }
        // A task that panicked cannot name its ticket; forget them all rather than keep one
        // ticket's messages from ever being tried again (its claim lapses by itself).
        Err(error) => {
            tracing::error!(%error, "a notification delivery task failed");
            busy.clear();
        }
    }
}

/// Ends this replica's claim on a ticket's notifications.
async fn release(app: &App, ticket: &TicketId) {
    if let Err(error) = app.store().release_outbox(&app.inner.holder, ticket).await {
        // The claim lapses by itself; the ticket's next message waits until then.
        tracing::warn!(%error, %ticket, "could not release a claim on notifications");
    }
}

/// Due messages grouped by ticket, tickets in the order of their oldest message, messages in
/// commit order.
fn by_ticket(due: Vec<OutboxMessage>) -> Vec<(TicketId, Vec<OutboxMessage>)> {
    let mut tickets: Vec<(TicketId, Vec<OutboxMessage>)> = Vec::new();
    let mut index: HashMap<TicketId, usize> = HashMap::new();
    for message in due {
        match index.get(&message.message.ticket) {
            Some(&at) => tickets[at].1.push(message),
            None => {
                index.insert(message.message.ticket.clone(), tickets.len());
                tickets.push((message.message.ticket.clone(), vec![message]));
            }
        }
    }
    tickets
}

/// Claims up to `tickets` tickets with due messages for this replica.
async fn claim(app: &App, tickets: u32) -> Result<Vec<OutboxMessage>, AppError> {
    let now = app.now();
    let until = now.checked_add(app.inner.settings.lease).unwrap_or(now);
    Ok(app.store().claim_outbox(&app.inner.holder, now, until, tickets).await?)
}

/// One claimed ticket's due messages, one after another, renewing the claim every heartbeat
/// while they go out. If the claim is lost (this replica was too slow to renew it and another
/// took the ticket), no further message is started here. Returns the first store error and
/// whether the claim is still held (the caller releases it).
async fn deliver_claimed(app: &App, ticket: &TicketId, messages: Vec<OutboxMessage>) -> (Result<(), AppError>, bool) {
    let lost = CancellationToken::new();
    let delivering = async {
        for message in messages {
            if lost.is_cancelled() {
                break;
            }
            deliver_one(app, message).await?;
        }
        Ok::<(), AppError>(())
    };
    tokio::pin!(delivering);
    let result = loop {
        tokio::select! {
            result = &mut delivering => break result,
            () = tokio::time::sleep(app.inner.settings.heartbeat), if !lost.is_cancelled() => {
                let now = app.now();
                let until = now.checked_add(app.inner.settings.lease).unwrap_or(now);
                match app.store().renew_outbox(&app.inner.holder, ticket, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%ticket, "lost the claim on a ticket's notifications; leaving them to its new holder");
                        lost.cancel();
                    }
                    Err(error) => tracing::warn!(%error, %ticket, "could not renew a claim on notifications"),
                }
            }
        }
    };
    (result, !lost.is_cancelled())
}

/// Delivers every message that is due, and waits for them. Returns how many were attempted.
///
/// The store hands out only the oldest pending message of each (ticket, notifier), so order
/// within a thread holds by construction. Tickets are delivered concurrently (at most
/// [`CONCURRENT_TICKETS`] at once): a chat that paces or retries one conversation does not hold
/// up every other ticket's notifications. One ticket's messages for different notifiers go one
/// after another, in commit order, because a surface may relay to another one's copies of the
/// same ticket (`App::relay`).
pub(crate) async fn dispatch_due(app: &App) -> Result<usize, AppError> {
    let due = claim(app, BATCH).await?;
    let count = due.len();
    let mut running = JoinSet::new();
    let mut failure: Option<AppError> = None;
    for (ticket, messages) in by_ticket(due) {
        while running.len() >= CONCURRENT_TICKETS {
            note(running.join_next().await, &mut failure);
        }
        let app = app.clone();
        running.spawn(async move {
            let (result, held) = deliver_claimed(&app, &ticket, messages).await;
            if held {
                release(&app, &ticket).await;
            }
            result
        });
    }
    while let Some(done) = running.join_next().await {
        note(Some(done), &mut failure);
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(count),
    }
}

/// Keeps the first store error of a ticket's deliveries (the pass reports it; the messages
/// stay pending and are tried again).
fn note(done: Option<Result<Result<(), AppError>, tokio::task::JoinError>>, failure: &mut Option<AppError>) {
    match done {
        Some(Ok(Err(error))) => {
            failure.get_or_insert(error);
        }
        Some(Err(error)) => tracing::error!(%error, "a notification delivery task failed"),
        Some(Ok(Ok(()))) | None => {}
    }
}

/// Delivers one message and records the outcome: delivered, to be retried with backoff, or
/// given up.
async fn deliver_one(app: &App, message: OutboxMessage) -> Result<(), AppError> {
    let ticket = app.load(&message.message.ticket).await?.ticket;
    let result = deliver(app, &message, &ticket).await;
    let now = app.now();
    match result {
        Ok(()) => app.store().outbox_delivered(message.id, now).await?,
        Err(error) => {
            let attempts = message.attempts + 1;
            let permanent = matches!(error, NotifyError::Permanent(_));
            let error = app.rules().redactor.redact(&error.to_string());
            let notifier = &message.message.notifier;
            let settings = &app.inner.settings;
            let mirror = app.inner.notifiers.iter().any(|n| n.name() == notifier && n.mirrors());
            let limit = if mirror { settings.outbox_mirror_max_attempts } else { settings.outbox_max_attempts };
            let retry_at = if permanent || attempts >= limit {
                tracing::warn!(%notifier, ticket = %ticket.id, %error, attempts, "giving up on a notification");
                None
            } else {
                let wait = backoff(app, attempts);
                tracing::warn!(%notifier, ticket = %ticket.id, %error, attempts, retry_in_ms = wait.as_millis() as u64,
                    "a notification could not be delivered; it will be tried again");
                now.checked_add(wait).ok()
            };
            app.store().outbox_failed(message.id, &error, retry_at).await?;
        }
    }
    Ok(())
}

async fn deliver(app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
    let notifier = app.inner.notifiers.iter().find(|n| n.name() == message.message.notifier);
    let Some(notifier) = notifier else {
        return Err(NotifyError::Permanent(format!("no notifier named `{}` is configured", message.message.notifier)));
    };
    match tokio::time::timeout(DELIVERY_TIMEOUT, notifier.deliver(app, message, ticket)).await {
        Ok(result) => result,
        Err(_) => Err(NotifyError::Transient(format!("no answer within {}s", DELIVERY_TIMEOUT.as_secs()))),
    }
}

/// The wait after the `attempts`-th failure: from the upper half of `backoff × 2^(attempts-1)`,
/// at most `max_backoff`. The count is the message's, kept in the store, so the delay is
/// computed from it rather than from a sequence held here.
fn backoff(app: &App, attempts: u32) -> Duration {
    let settings = &app.inner.settings;
    Backoff { base: settings.outbox_backoff, max: settings.outbox_max_backoff }.delay(attempts.saturating_sub(1))
}
