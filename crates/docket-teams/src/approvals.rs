//! Approval cards: one per stage in the policy's approvals channel and in a 1:1 chat with each
//! eligible approver (the on-call person first), each copy's activity id kept under
//! `approval:<ticket>:<round>:<stage>:<conversation>`; after every decision, every copy of the
//! ticket is replaced with its current state. Each card is tagged with its key, so a delivery
//! that may have posted it before keeping its id finds it ([`crate::earlier`]). An approver who blocked the bot is asked on
//! another surface (through [`App::relay`]), and the block is audited the first time.

use docket_app::{App, ApprovalView, NotifyError, OutboxMessage, Reached, Relay, RelayKind};
use docket_core::policy::Outcome;
use docket_core::{Actor, PersonId, Ticket, TicketState};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::activity::card_message;
use crate::client::ClientError;
use crate::conversations::{Conversations, SCOPE};
use crate::earlier::{self, Wanted, Whereabouts};
use crate::notifier::{DeliveryError, TeamsNotifier, audit_block, fingerprint, resumed};
use crate::render::ApprovalCards;

/// One posted copy of an approval card.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Copy {
    pub(crate) service_url: String,
    pub(crate) conversation_id: String,
    pub(crate) activity_id: String,
    /// The approver of a 1:1 copy, which shows their buttons.
    pub(crate) person: Option<PersonId>,
    pub(crate) round: u32,
    pub(crate) stage: String,
    /// The fingerprint of the card last sent, to skip edits that change nothing.
    #[serde(default)]
    pub(crate) hash: String,
}

/// Where a copy goes.
struct Target {
    service_url: String,
    conversation_id: String,
    person: Option<PersonId>,
}

/// Posts (or, on a retry, replaces) the cards asking for `stage` of `round`; approvers who
/// blocked the bot are asked on another surface instead, through the app.
pub(crate) async fn post(
    notifier: &TeamsNotifier,
    app: &App,
    message: &OutboxMessage,
    ticket: &Ticket,
    round: u32,
    stage: &str,
) -> Result<(), NotifyError> {
    if ticket.round != round || ticket.state != TicketState::AwaitingApproval {
        return Ok(());
    }
    let conversations = Conversations::new(app.clone());
    let cards = ApprovalCards::new(app, ticket).await.map_err(DeliveryError::from)?;
    let Targets { targets, mut blocked } = targets(notifier, &conversations, cards.view(), ticket, stage).await?;
    let summary = format!("Approval needed: {}", ticket.id);
    let mut failure: Option<DeliveryError> = None;
    for target in targets {
        let key = format!("approval:{}:{round}:{stage}:{}", ticket.id, target.conversation_id);
        let known: Option<Copy> =
            app.recall(SCOPE, &key).await.map_err(DeliveryError::from)?.and_then(|v| serde_json::from_str(&v).ok());
        let (activity_id, hash) = known.map(|k| (k.activity_id, k.hash)).unwrap_or_default();
        let copy = Copy {
            service_url: target.service_url.clone(),
            conversation_id: target.conversation_id.clone(),
            activity_id,
            person: target.person.clone(),
            round,
            stage: stage.to_owned(),
            hash,
        };
        match show(notifier, app, &cards, &key, copy, &summary, resumed(message)).await {
            Ok(()) => {}
            Err(DeliveryError::Client(ClientError::Blocked)) => {
                mark_blocked(&conversations, &target).await?;
                match target.person {
                    Some(person) => {
                        blocked.push(Unreachable { person, conversation: target.conversation_id, newly: true })
                    }
                    None => audit_block(app, ticket, None, &target.conversation_id, &Ok(Reached::Nobody)).await,
                }
            }
            Err(error) => {
                tracing::warn!(ticket = %ticket.id, conversation = %target.conversation_id, %error,
                    "could not post an approval card");
                failure.get_or_insert(error);
            }
        }
    }
    let kind = RelayKind::Approval { round, stage: stage.to_owned() };
    for unreachable in blocked {
        if let Err(error) = reach_elsewhere(app, message, ticket, &kind, &unreachable).await {
            failure.get_or_insert(DeliveryError::Relay(error));
        }
    }
    match failure {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// An approver the bot may not write to in Teams.
struct Unreachable {
    person: PersonId,
    /// Their 1:1 chat, or their `29:` id when no chat could be started.
    conversation: String,
    /// Blocked only now: the audit log gets a record.
    newly: bool,
}

/// Asks another surface to put the approval request in front of an approver who blocked the
/// bot in Teams; the first time, the block goes in the audit log with where the request went.
async fn reach_elsewhere(
    app: &App,
    message: &OutboxMessage,
    ticket: &Ticket,
    kind: &RelayKind,
    unreachable: &Unreachable,
) -> Result<(), NotifyError> {
    let person = &unreachable.person;
    let relayed = app.relay(&Relay { from: "teams", person, kind, message }, ticket).await;
    if unreachable.newly {
        audit_block(app, ticket, Some(person), &unreachable.conversation, &relayed).await;
    }
    relayed.map(drop)
}

/// Replaces every approval card of `ticket` with its current state.
pub(crate) async fn update_all(notifier: &TeamsNotifier, app: &App, ticket: &Ticket) -> Result<(), NotifyError> {
    let copies = app.recall_all(SCOPE, &format!("approval:{}:", ticket.id)).await.map_err(DeliveryError::from)?;
    let cards = ApprovalCards::new(app, ticket).await.map_err(DeliveryError::from)?;
    let summary = format!("Approval: {}", ticket.id);
    let mut failure: Option<DeliveryError> = None;
    for (key, value) in copies {
        let Ok(copy) = serde_json::from_str::<Copy>(&value) else { continue };
        let conversation = copy.conversation_id.clone();
        match show(notifier, app, &cards, &key, copy, &summary, None).await {
            Ok(()) => {}
            Err(DeliveryError::Client(ClientError::Blocked)) => {
                tracing::warn!(%conversation, "the bot is blocked here (MessageWritesBlocked)");
            }
            Err(error) => {
                failure.get_or_insert(error);
            }
        }
    }
    match failure {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Shows `copy` as the ticket is now: posted when it has no activity yet (an empty
/// `activity_id`; when `resumed`, the copy an earlier delivery may have posted since then is
/// looked for first), replaced when its card changed, left alone when it did not; what was sent
/// is kept under `key`.
async fn show(
    notifier: &TeamsNotifier,
    app: &App,
    cards: &ApprovalCards<'_>,
    key: &str,
    mut copy: Copy,
    summary: &str,
    resumed: Option<Timestamp>,
) -> Result<(), DeliveryError> {
    let viewer = copy.person.clone().map(|id| Actor::Person { id });
    let mut card = cards.card(copy.round, &copy.stage, viewer.as_ref(), None);
    earlier::tag(&mut card, key);
    let hash = fingerprint(&card);
    if hash == copy.hash {
        return Ok(());
    }
    let activity = card_message(card, summary);
    if copy.activity_id.is_empty()
        && let Some(since) = resumed
        && let Some(found) = find(notifier, app, &copy, key, since).await?
    {
        tracing::info!(%key, activity = %found, "found the approval card an earlier delivery posted; editing it");
        copy.activity_id = found;
    }
    let (service, conversation) = (&copy.service_url, &copy.conversation_id);
    if copy.activity_id.is_empty() {
        copy.activity_id = notifier.connector.send(service, conversation, &activity).await?;
    } else {
        notifier.connector.update(service, conversation, &copy.activity_id, &activity).await?;
    }
    copy.hash = hash;
    let value = serde_json::to_string(&copy).unwrap_or_default();
    Ok(app.remember(SCOPE, key, &value).await?)
}

/// The copy under `key` an earlier delivery posted since `since`, if Graph shows it.
async fn find(
    notifier: &TeamsNotifier,
    app: &App,
    copy: &Copy,
    key: &str,
    since: Timestamp,
) -> Result<Option<String>, DeliveryError> {
    let known = Conversations::new(app.clone()).conversation(&copy.conversation_id).await?;
    let at = Whereabouts {
        conversation: &copy.conversation_id,
        kind: known.as_ref().and_then(|k| k.conversation_type.as_deref()),
        team: known.as_ref().and_then(|k| k.team_id.as_deref()),
        tenant: known.as_ref().and_then(|k| k.tenant_id.as_deref()),
        parent: None,
    };
    earlier::find(notifier, at, Wanted::Card(key), since).await
}

/// Where the cards of one stage go, and the approvers who blocked the bot.
struct Targets {
    targets: Vec<Target>,
    blocked: Vec<Unreachable>,
}

/// The approvals channel, then each eligible approver of `stage` (on call first, as the view
/// orders them) whom the bot can reach in a 1:1 chat (started if needed); approvers who
/// blocked the bot apart.
async fn targets(
    notifier: &TeamsNotifier,
    conversations: &Conversations,
    view: &ApprovalView,
    ticket: &Ticket,
    stage: &str,
) -> Result<Targets, DeliveryError> {
    let mut out = Vec::new();
    let mut blocked = Vec::new();
    let channel = ticket
        .decision
        .as_ref()
        .and_then(|d| match &d.outcome {
            Outcome::Approvals(r) => r.notify.on(crate::SURFACE).map(str::to_owned),
            _ => None,
        })
        .or_else(|| notifier.settings.approvals_channel.clone());
    if let Some(channel) = channel {
        match conversations.conversation(&channel).await? {
            Some(c) if !c.blocked => {
                out.push(Target { service_url: c.service_url, conversation_id: c.conversation_id, person: None })
            }
            Some(_) => tracing::warn!(%channel, "the approvals channel blocks the bot; not posting there"),
            None => {
                tracing::warn!(%channel, "the bot has not been added to the approvals channel yet; not posting there")
            }
        }
    }
    let Some(stage) = view.stages.iter().find(|s| s.name == stage) else {
        return Ok(Targets { targets: out, blocked });
    };
    for person in &stage.eligible {
        let Some(mut reference) = conversations.person(person).await? else { continue };
        if reference.blocked {
            let conversation = reference.conversation_id.clone().unwrap_or(reference.user_id);
            blocked.push(Unreachable { person: person.clone(), conversation, newly: false });
            continue;
        }
        let conversation_id = match &reference.conversation_id {
            Some(id) => id.clone(),
            None => match notifier
                .connector
                .create_conversation(&reference.service_url, &reference.user_id, reference.tenant_id.as_deref())
                .await
            {
                Ok(id) => {
                    reference.conversation_id = Some(id.clone());
                    conversations.put_person(person, &reference).await?;
                    id
                }
                Err(ClientError::Blocked) => {
                    reference.blocked = true;
                    conversations.put_person(person, &reference).await?;
                    tracing::warn!(%person, "the bot is blocked by this approver (MessageWritesBlocked)");
                    let conversation = reference.user_id.clone();
                    blocked.push(Unreachable { person: person.clone(), conversation, newly: true });
                    continue;
                }
                Err(error) => return Err(error.into()),
            },
        };
        out.push(Target { service_url: reference.service_url, conversation_id, person: Some(person.clone()) });
    }
    Ok(Targets { targets: out, blocked })
}

async fn mark_blocked(conversations: &Conversations, target: &Target) -> Result<(), DeliveryError> {
    tracing::warn!(conversation = %target.conversation_id,
        "Teams blocks the bot's messages here (MessageWritesBlocked)");
    match &target.person {
        Some(person) => {
            if let Some(mut reference) = conversations.person(person).await? {
                reference.blocked = true;
                conversations.put_person(person, &reference).await?;
            }
        }
        None => {
            if let Some(mut reference) = conversations.conversation(&target.conversation_id).await? {
                reference.blocked = true;
                conversations.put_conversation(&reference).await?;
            }
        }
    }
    Ok(())
}
