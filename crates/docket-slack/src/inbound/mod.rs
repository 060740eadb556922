//! What Slack sends, after authentication, and the immediate answer. HTTP mode (`routes`) and
//! Socket Mode both hand an [`Inbound`] to [`Slack::dispatch`], which answers within Slack's
//! three seconds and spawns anything slow after the answer.

mod events;
mod form;
mod interactions;
mod submissions;

use serde::{Deserialize, Serialize};

use crate::Slack;

/// What Slack sent, after authentication (an HTTP signature or the Socket Mode connection).
#[derive(Clone, Debug)]
pub enum Inbound {
    /// A slash command (form fields over HTTP; the same fields as JSON in Socket Mode).
    Command(CommandForm),
    /// An interaction: the JSON of the `payload` form field (HTTP) or the envelope's payload
    /// (Socket Mode).
    Interaction(serde_json::Value),
    /// An Events API body (`url_verification`, `event_callback`).
    Event(serde_json::Value),
}

/// The immediate answer: the HTTP 200 body, or the Socket Mode ack's `payload`
/// (`None` = an empty body / an ack without payload).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ack(pub Option<serde_json::Value>);

impl Ack {
    /// An empty answer.
    pub fn empty() -> Self {
        Self(None)
    }

    /// An answer with a JSON body.
    pub fn json(value: serde_json::Value) -> Self {
        Self(Some(value))
    }
}

/// Input that is authentic but malformed (HTTP 400), a replay (401), or a Socket Mode envelope
/// that could not be recorded as seen (left unacknowledged): nothing changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InboundError {
    /// The form body could not be read.
    #[error("malformed form body: {0}")]
    Form(String),
    /// A JSON payload could not be read.
    #[error("malformed payload: {0}")]
    Payload(String),
    /// A field Slack always sends is missing or has the wrong type.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// The request was delivered before (it is recorded as seen), and nothing was done: over
    /// HTTP refused like a forged one, in Socket Mode acknowledged again.
    #[error("request replayed (its signature was already used)")]
    Replayed,
    /// A Socket Mode envelope could not be recorded as seen (the store failed): nothing was
    /// done, and it is left unacknowledged so that Slack sends it again.
    #[error("the envelope could not be recorded as seen: {0}")]
    Unrecorded(String),
}

/// A delivery not yet recorded as seen (an HTTP request's signature, or a Socket Mode
/// envelope's id), carried to where it is recorded: with the ticket a request form opens, so
/// that a submission costs one write; anywhere else, before anything is done (see
/// [`Slack::see`]).
#[derive(Clone, Debug)]
pub(crate) struct Unseen {
    /// The key it is recorded under (`sig:{timestamp}:{signature}`, `envelope:{id}`).
    pub(crate) key: String,
    /// Where the request came from, for the audit record of a replay.
    pub(crate) peer: Option<std::net::IpAddr>,
    /// What was delivered.
    pub(crate) kind: DeliveryKind,
}

/// What a delivery is, which decides what its repeat is and what a store failure does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeliveryKind {
    /// A signed HTTP request: a repeat is a replay (refused and audited), and a request whose
    /// signature cannot be recorded is accepted (the signature was checked).
    Signed,
    /// A Socket Mode envelope: a repeat is Slack sending it again (acknowledged again, quietly),
    /// and one that cannot be recorded before anything is done is left unacknowledged, so Slack
    /// sends it again later (a request form whose ticket's commit fails says so in the form).
    Envelope,
}

/// A slash command's fields. Unknown fields are ignored; the ones Docket reads are required
/// except where Slack itself may leave them out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandForm {
    /// `/docket`.
    pub command: String,
    /// What followed the command.
    #[serde(default)]
    pub text: String,
    /// Who typed it.
    pub user_id: String,
    /// Where.
    #[serde(default)]
    pub channel_id: String,
    /// The workspace.
    #[serde(default)]
    pub team_id: String,
    /// Opens a modal once, within 3 s.
    #[serde(default)]
    pub trigger_id: String,
    /// Accepts up to 5 replies within 30 minutes.
    #[serde(default)]
    pub response_url: String,
    /// The app.
    #[serde(default)]
    pub api_app_id: String,
}

impl Inbound {
    /// Reads an interaction's form body (HTTP mode): the JSON object in its `payload` field.
    pub fn interaction_from_form(body: &[u8]) -> Result<Self, InboundError> {
        form::interaction_payload(body).map(Inbound::Interaction)
    }

    /// Reads an Events API body (HTTP mode).
    pub fn event_from_json(body: &[u8]) -> Result<Self, InboundError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| InboundError::Payload(e.to_string()))?;
        if !value.is_object() {
            return Err(InboundError::Payload("the body is not a JSON object".to_owned()));
        }
        Ok(Inbound::Event(value))
    }
}

impl CommandForm {
    /// Reads a form-encoded command body (HTTP mode): the fields Docket reads, straight into
    /// the form (a repeated field keeps its first value, others are skipped unread).
    pub fn from_form(body: &[u8]) -> Result<Self, InboundError> {
        let form = form::command_fields(body)?;
        if form.user_id.is_empty() {
            return Err(InboundError::Missing("user_id"));
        }
        Ok(form)
    }

    /// Reads a command payload given as JSON (Socket Mode's `slash_commands` envelopes).
    pub fn from_json(value: serde_json::Value) -> Result<Self, InboundError> {
        let form: CommandForm = serde_json::from_value(value).map_err(|e| InboundError::Payload(e.to_string()))?;
        if form.user_id.is_empty() {
            return Err(InboundError::Missing("user_id"));
        }
        Ok(form)
    }
}

impl Slack {
    /// Handles one authenticated inbound request and returns the immediate answer. Returns
    /// quickly (well within 3 s); slow work (opening modals, posting replies) is spawned.
    pub async fn dispatch(&self, inbound: Inbound) -> Result<Ack, InboundError> {
        self.dispatch_unseen(inbound, None).await
    }

    /// The same for a delivery `unseen` yet: it is recorded before anything is done, or, for a
    /// request form's submission, with the ticket it opens.
    pub(crate) async fn dispatch_unseen(&self, inbound: Inbound, unseen: Option<Unseen>) -> Result<Ack, InboundError> {
        match inbound {
            Inbound::Interaction(payload) => self.interaction(payload, unseen).await,
            Inbound::Command(form) => {
                self.see(unseen).await?;
                Ok(self.command(form).await)
            }
            Inbound::Event(body) => {
                self.see(unseen).await?;
                self.event(body).await
            }
        }
    }
}
