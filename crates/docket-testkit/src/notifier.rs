//! A notifier that records what it is asked to deliver, and can be told to fail first.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use docket_app::{Notifier, NotifyError, OutboxMessage};
use docket_core::{Event, Ticket, TicketState};

/// One delivery, as the notifier saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The ticket.
    pub ticket: String,
    /// The message key.
    pub key: String,
    /// The ticket's state at delivery.
    pub state: TicketState,
    /// The outbox row's id.
    pub outbox_id: u64,
    /// The key events of the change, in words, as chat surfaces show them.
    pub happenings: Vec<String>,
}

/// Records deliveries; fails the first `fail_first` attempts with a transient error.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    fail_first: AtomicU32,
    attempts: AtomicU32,
    /// Whether it stands for a ticketing system's mirror (`Notifier::mirrors`).
    mirror: bool,
    // A std mutex: held only to push or copy.
    delivered: Mutex<Vec<Delivered>>,
}

impl RecordingNotifier {
    /// A notifier that fails its first `fail_first` attempts.
    pub fn failing_first(fail_first: u32) -> Self {
        Self { fail_first: AtomicU32::new(fail_first), ..Self::default() }
    }

    /// The same, standing for a ticketing system's mirror (Jira, ServiceNow).
    pub fn as_mirror(mut self) -> Self {
        self.mirror = true;
        self
    }

    /// Every successful delivery so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Every attempt so far, failed or not.
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    fn name(&self) -> &str {
        "recorder"
    }

    fn mirrors(&self) -> bool {
        self.mirror
    }

    fn wants(&self, _ticket: &Ticket, events: &[Event]) -> Vec<String> {
        // One status message per ticket, edited as it changes; run events are too chatty.
        if events.iter().all(|e| matches!(e, Event::StepStarted { .. } | Event::StepFinished { .. })) {
            return Vec::new();
        }
        vec!["status".to_owned()]
    }

    async fn deliver(
        &self,
        app: &docket_app::App,
        message: &OutboxMessage,
        ticket: &Ticket,
    ) -> Result<(), NotifyError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let left = self.fail_first.load(Ordering::SeqCst);
        if left > 0 {
            self.fail_first.store(left - 1, Ordering::SeqCst);
            return Err(NotifyError::Transient("the chat service is unavailable (test)".to_owned()));
        }
        let happenings = app.happenings(message, ticket).await.map_err(|e| NotifyError::Transient(e.to_string()))?;
        let happenings = happenings.into_iter().map(|h| h.text).collect();
        self.delivered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Delivered {
            happenings,
            ticket: ticket.id.to_string(),
            key: message.message.key.clone(),
            state: ticket.state,
            outbox_id: message.id,
        });
        Ok(())
    }
}
