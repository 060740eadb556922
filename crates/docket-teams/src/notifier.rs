//! The Teams `Notifier`: the messages a change causes (the app's rules for every chat: the
//! ticket card, a reply, the approval cards of a round) delivered through the connector.
//! Activity ids are kept in surface state, so a retried delivery edits what it posted before
//! instead of posting twice; a delivery that may have posted without keeping the id looks for
//! its message first ([`crate::earlier`]). A chat that blocks the bot (`MessageWritesBlocked`)
//! is marked, audited once, and its person is reached through [`App::relay`].

use std::sync::Arc;

use async_trait::async_trait;
use docket_app::{
    App, AppError, ApprovalNotice, Blocked, ChatMessage, Notifier, NotifyError, OutboxMessage, Reached, Relay,
    RelayKind, StoredResult, chat_messages,
};
use docket_core::{Event, PersonId, Ticket};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::activity::{card_message, text_message};
use crate::approvals;
use crate::cards;
use crate::cards::ticket::happenings_text;
use crate::client::{ClientError, Connector};
use crate::conversations::{ConversationRef, Conversations, SCOPE};
use crate::earlier::{self, Wanted, Whereabouts};
use crate::graph::{Graph, GraphError};
use crate::settings::TeamsSettings;

/// Tells Teams about tickets.
#[derive(Debug)]
pub struct TeamsNotifier {
    pub(crate) connector: Arc<Connector>,
    pub(crate) settings: Arc<TeamsSettings>,
    pub(crate) graph: Arc<Graph>,
}

impl TeamsNotifier {
    /// A notifier sending through `connector` (and reading Graph with a client of its own).
    pub fn new(connector: Arc<Connector>, settings: Arc<TeamsSettings>) -> Self {
        let graph = Arc::new(Graph::new(Arc::clone(&settings), reqwest::Client::new()));
        Self { connector, settings, graph }
    }

    pub(crate) fn with_graph(connector: Arc<Connector>, settings: Arc<TeamsSettings>, graph: Arc<Graph>) -> Self {
        Self { connector, settings, graph }
    }
}

#[async_trait]
impl Notifier for TeamsNotifier {
    fn name(&self) -> &str {
        "teams"
    }

    /// The app's rules for every chat; a ticket message needs the conversation it was asked in.
    fn wants(&self, ticket: &Ticket, events: &[Event]) -> Vec<String> {
        let reachable = ticket.origin.channel.is_some();
        chat_messages(crate::SURFACE, ticket, events)
            .iter()
            .filter(|m| reachable || !matches!(m, ChatMessage::Ticket | ChatMessage::Reply))
            .map(ChatMessage::key)
            .collect()
    }

    async fn deliver(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
        let key = message.message.key.as_str();
        match ChatMessage::parse(key) {
            Some(ChatMessage::Ticket) => self.card(app, message, ticket).await,
            Some(ChatMessage::Reply) => self.reply(app, message, ticket).await,
            // Every copy is brought up to date (edits that change nothing are skipped), then
            // the stage's own requests go out.
            Some(ChatMessage::Approval(ApprovalNotice::Opened { round, stage })) => {
                approvals::update_all(self, app, ticket).await?;
                approvals::post(self, app, message, ticket, round, &stage).await
            }
            // Every copy shows the ticket as it is now, whichever round closed.
            Some(ChatMessage::Approval(ApprovalNotice::Closed { .. })) => {
                approvals::update_all(self, app, ticket).await
            }
            None => Err(NotifyError::Permanent(format!("unknown message key `{key}`"))),
        }
    }
}

/// Why a delivery failed, before it becomes a [`NotifyError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeliveryError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("{0}")]
    Missing(String),
    /// Graph could not be read for now.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Another surface failed to carry a message Teams could not deliver.
    #[error("relaying to another surface failed: {0}")]
    Relay(NotifyError),
}

impl From<DeliveryError> for NotifyError {
    fn from(error: DeliveryError) -> Self {
        match &error {
            DeliveryError::Client(c) if c.is_transient() => NotifyError::Transient(error.to_string()),
            DeliveryError::Graph(g) if g.is_transient() => NotifyError::Transient(error.to_string()),
            DeliveryError::App(AppError::Store(_)) | DeliveryError::Relay(NotifyError::Transient(_)) => {
                NotifyError::Transient(error.to_string())
            }
            _ => NotifyError::Permanent(error.to_string()),
        }
    }
}

impl TeamsNotifier {
    /// The ticket card in the conversation where it was asked: the form it was asked with
    /// becomes the card, later changes replace it.
    async fn card(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
        // The card shows the ticket as it is now (the key events go in replies), so when the
        // outbox runs behind, later messages render the same card and are skipped.
        let summary = app.summarize(ticket);
        let key = format!("card:{}", ticket.id);
        let mut card = cards::ticket::ticket_card(&summary, &[]);
        earlier::tag(&mut card, &key);
        let hash = fingerprint(&card);
        let stored = posted_card(app, ticket).await?;
        if stored.as_ref().is_some_and(|c| c.hash == hash) {
            return Ok(());
        }
        let conversations = Conversations::new(app.clone());
        let (conversation, conv) = origin_conversation(&conversations, ticket).await?;
        let elsewhere = Elsewhere { app, message, ticket, conversation: &conversation, kind: RelayKind::Ticket };
        if conversation.blocked {
            return elsewhere.reach(false).await;
        }
        let activity = card_message(card, &format!("{} {}", ticket.id, summary.headline));
        let service = &conversation.service_url;
        let mut known = stored.map(|c| c.activity_id).or_else(|| ticket.origin.thread.clone());
        if known.is_none()
            && let Some(since) = resumed(message)
        {
            let at = whereabouts(&conversation, conv, None);
            known = earlier::find(self, at, Wanted::Card(&key), since).await?;
            if let Some(id) = &known {
                tracing::info!(ticket = %ticket.id, activity = %id, "found the card an earlier delivery posted; editing it");
            }
        }
        let result = match known {
            Some(id) => self.connector.update(service, conv, &id, &activity).await.map(|()| id),
            None => self.connector.send(service, conv, &activity).await,
        };
        let Some(activity_id) = blocked_check(&conversations, &conversation, result).await? else {
            return elsewhere.reach(true).await;
        };
        let posted = serde_json::to_string(&PostedCard { activity_id, hash }).unwrap_or_default();
        app.remember(SCOPE, &key, &posted).await.map_err(DeliveryError::from)?;
        Ok(())
    }

    /// The key events of one change as a reply under the ticket card, once per change.
    async fn reply(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
        let version = message.message.payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let key = format!("reply:{}:{version}", ticket.id);
        if app.recall(SCOPE, &key).await.map_err(DeliveryError::from)?.is_some() {
            return Ok(());
        }
        let happenings = app.happenings(message, ticket).await.map_err(DeliveryError::from)?;
        if happenings.is_empty() {
            return Ok(());
        }
        let conversations = Conversations::new(app.clone());
        let (conversation, conv) = origin_conversation(&conversations, ticket).await?;
        let elsewhere = Elsewhere { app, message, ticket, conversation: &conversation, kind: RelayKind::Happenings };
        if conversation.blocked {
            return elsewhere.reach(false).await;
        }
        let text = happenings_text(&ticket.id.to_string(), &happenings);
        let results = app.results_of_change(message, ticket).await.map_err(DeliveryError::from)?;
        let (activity, wanted) = if results.is_empty() {
            (text_message(&text), Wanted::Text(&text))
        } else {
            let named: Vec<(String, &StoredResult)> = results
                .iter()
                .map(|r| {
                    let name = ticket.plan.as_ref().and_then(|p| p.steps.get(r.step)).map(|s| s.name.clone());
                    (name.unwrap_or_default(), r)
                })
                .collect();
            let url = app.ticket_url(&ticket.id);
            let mut card = cards::results::results_card(&text, &named, url.as_deref());
            earlier::tag(&mut card, &key);
            (card_message(card, &text), Wanted::Card(&key))
        };
        let card_id = posted_card(app, ticket).await?.map(|c| c.activity_id);
        let parent = card_id.or_else(|| ticket.origin.thread.clone());
        let service = &conversation.service_url;
        let found = match resumed(message) {
            Some(since) => {
                let at = whereabouts(&conversation, conv, parent.as_deref());
                earlier::find(self, at, wanted, since).await?
            }
            None => None,
        };
        let result = match (found, parent) {
            (Some(id), _) => {
                tracing::info!(ticket = %ticket.id, activity = %id, "found the reply an earlier delivery posted; editing it");
                self.connector.update(service, conv, &id, &activity).await.map(|()| id)
            }
            (None, Some(parent)) => self.connector.reply(service, conv, &parent, &activity).await,
            (None, None) => self.connector.send(service, conv, &activity).await,
        };
        let Some(id) = blocked_check(&conversations, &conversation, result).await? else {
            return elsewhere.reach(true).await;
        };
        app.remember(SCOPE, &key, &id).await.map_err(DeliveryError::from)?;
        Ok(())
    }
}

/// When the message was committed, if an earlier delivery may have posted it.
pub(crate) fn resumed(message: &OutboxMessage) -> Option<Timestamp> {
    message.may_have_been_delivered().then_some(message.created_at)
}

/// Where a message to `conversation` (written to as `conv`, under `parent`) would be.
pub(crate) fn whereabouts<'a>(
    conversation: &'a ConversationRef,
    conv: &'a str,
    parent: Option<&'a str>,
) -> Whereabouts<'a> {
    Whereabouts {
        conversation: conv,
        kind: conversation.conversation_type.as_deref(),
        team: conversation.team_id.as_deref(),
        tenant: conversation.tenant_id.as_deref(),
        parent,
    }
}

/// Records a block seen for the first time in the audit log, with where the message went
/// (or why handing it on failed this time).
pub(crate) async fn audit_block(
    app: &App,
    ticket: &Ticket,
    person: Option<&PersonId>,
    conversation: &str,
    relayed: &Result<Reached, NotifyError>,
) {
    let (reached, error) = match relayed {
        Ok(reached) => (reached.clone(), None),
        Err(error) => (Reached::Nobody, Some(error.to_string())),
    };
    let relay_error = error.as_deref();
    let blocked =
        Blocked { surface: "teams", person, conversation, ticket: &ticket.id, reached: &reached, relay_error };
    app.audit_blocked(&blocked).await;
}

/// Marks a conversation blocked when Teams says the bot may not write there (the kept
/// reference, so a blocked thread marks its channel); `None` then, the result otherwise.
async fn blocked_check<T>(
    conversations: &Conversations,
    conversation: &ConversationRef,
    result: Result<T, ClientError>,
) -> Result<Option<T>, DeliveryError> {
    match result {
        Err(ClientError::Blocked) => {
            tracing::warn!(conversation = %conversation.conversation_id,
                "Teams blocks the bot's messages in this conversation (MessageWritesBlocked)");
            let mut blocked = conversation.clone();
            blocked.blocked = true;
            conversations.put_conversation(&blocked).await?;
            Ok(None)
        }
        other => Ok(Some(other?)),
    }
}

/// A ticket message its conversation refuses, to be carried by another surface.
struct Elsewhere<'a> {
    app: &'a App,
    message: &'a OutboxMessage,
    ticket: &'a Ticket,
    conversation: &'a ConversationRef,
    kind: RelayKind,
}

impl Elsewhere<'_> {
    /// Hands the message to another surface when the conversation is the requester's own 1:1
    /// chat (a channel or group chat is nobody's to reach elsewhere), and records the block in
    /// the audit log the first time it is seen (`newly`). Delivered when another surface
    /// reached the requester; given up with the reason otherwise.
    async fn reach(&self, newly: bool) -> Result<(), NotifyError> {
        let ticket = self.ticket;
        let personal = self.conversation.conversation_type.as_deref() == Some("personal");
        let person = personal.then_some(&ticket.requester);
        let relayed = match person {
            Some(person) => {
                let relay = Relay { from: "teams", person, kind: &self.kind, message: self.message };
                self.app.relay(&relay, ticket).await
            }
            None => Ok(Reached::Nobody),
        };
        let conversation = self.conversation.conversation_id.as_str();
        if newly {
            audit_block(self.app, ticket, person, conversation, &relayed).await;
        }
        match (relayed?, person) {
            (Reached::By(_), _) => Ok(()),
            (Reached::Nobody, Some(person)) => Err(NotifyError::Permanent(format!(
                "{person} blocked the bot in Teams (MessageWritesBlocked) and no other surface can reach them"
            ))),
            (Reached::Nobody, None) => Err(NotifyError::Permanent(format!(
                "Teams blocks the bot's messages in {conversation} (MessageWritesBlocked)"
            ))),
        }
    }
}

/// The ticket card as posted, kept under `card:<ticket>`.
#[derive(Serialize, Deserialize)]
struct PostedCard {
    /// Its activity, which later changes replace and replies go under.
    activity_id: String,
    /// The fingerprint of what it shows, to skip edits that change nothing.
    hash: String,
}

/// The ticket card posted for `ticket`, if any.
async fn posted_card(app: &App, ticket: &Ticket) -> Result<Option<PostedCard>, DeliveryError> {
    let kept = app.recall(SCOPE, &format!("card:{}", ticket.id)).await?;
    Ok(kept.and_then(|v| serde_json::from_str(&v).ok()))
}

/// The conversation a ticket was asked in, as kept (a channel thread is kept as its channel, and
/// may be marked blocked), and where in it to write: in a channel, the thread itself
/// (`19:…;messageid=…`).
async fn origin_conversation<'t>(
    conversations: &Conversations,
    ticket: &'t Ticket,
) -> Result<(ConversationRef, &'t str), DeliveryError> {
    let id = ticket.origin.channel.as_deref().unwrap_or_default();
    let conversation = conversations
        .conversation(id)
        .await?
        .ok_or_else(|| DeliveryError::Missing(format!("no Teams conversation reference for `{id}`")))?;
    Ok((conversation, id))
}

/// A short fingerprint of a card, to skip edits that change nothing.
pub(crate) fn fingerprint(card: &serde_json::Value) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    card.to_string().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
