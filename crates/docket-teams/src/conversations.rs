//! Where the bot can write: conversation references learned from installs and messages, kept
//! in surface state (scope `teams`) so every replica can message people and channels later.
//! `conv:<conversation id>` holds a conversation; `person:<person id>` a person's 1:1 chat.

use docket_app::{App, AppError};
use docket_core::PersonId;
use serde::{Deserialize, Serialize};

use crate::activity::{Activity, base_conversation_id};

/// The surface-state scope of Teams.
pub const SCOPE: &str = "teams";

/// A conversation Docket can post to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRef {
    /// The connector to call.
    pub service_url: String,
    /// The conversation (a channel's base id, without `;messageid=`).
    pub conversation_id: String,
    /// The tenant.
    pub tenant_id: Option<String>,
    /// `personal`, `channel` or `groupChat`.
    pub conversation_type: Option<String>,
    /// A channel's team as Graph names it (its Microsoft 365 group id), once an activity said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The bot may no longer write here (403 `MessageWritesBlocked`).
    #[serde(default)]
    pub blocked: bool,
}

/// How to reach one person in a 1:1 chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    /// The connector to call.
    pub service_url: String,
    /// Their `29:…` id (unique per bot).
    pub user_id: String,
    /// Their Entra object id.
    pub aad_object_id: Option<String>,
    /// The tenant.
    pub tenant_id: Option<String>,
    /// The 1:1 conversation, once known or created.
    pub conversation_id: Option<String>,
    /// The person blocked the bot (403 `MessageWritesBlocked`).
    #[serde(default)]
    pub blocked: bool,
}

/// Reads and writes references.
#[derive(Clone, Debug)]
pub struct Conversations {
    app: App,
}

impl Conversations {
    /// References kept through `app`'s surface state.
    pub fn new(app: App) -> Self {
        Self { app }
    }

    /// Learns what `activity` tells about where the bot is: its conversation, and the 1:1
    /// chat or `29:` id of the people in it who are in the directory.
    pub async fn learn(&self, activity: &Activity) -> Result<(), AppError> {
        let Some(conversation) = &activity.conversation else { return Ok(()) };
        let tenant = activity.tenant_id().map(str::to_owned);
        let team = activity.channel_data.as_ref().and_then(|d| d.team.as_ref()?.aad_group_id.clone());
        let mut ids = vec![base_conversation_id(&conversation.id).to_owned()];
        if let Some(channel) = activity.channel_data.as_ref().and_then(|d| d.channel.as_ref()) {
            ids.push(channel.id.clone());
        }
        ids.dedup();
        for id in ids {
            // Not every activity names the team's group: one learned before is kept.
            let team_id = match &team {
                Some(team) => Some(team.clone()),
                None => self.conversation(&id).await?.and_then(|k| k.team_id),
            };
            let reference = ConversationRef {
                service_url: activity.service_url.clone(),
                conversation_id: id.clone(),
                tenant_id: tenant.clone(),
                conversation_type: conversation.conversation_type.clone(),
                team_id,
                blocked: false,
            };
            self.put_conversation(&reference).await?;
        }
        let personal = activity.is_personal();
        let mut people: Vec<_> = activity.members_added.iter().collect();
        people.extend(activity.from.iter());
        for account in people {
            if !account.id.starts_with("29:") {
                continue;
            }
            let Some(aad) = account.aad_object_id.as_deref() else { continue };
            let rules = self.app.rules();
            let Some(person) = rules.directory.by_id_on(crate::SURFACE, aad).map(|p| p.id.clone()) else { continue };
            let known = self.person(&person).await?;
            let conversation_id = if personal {
                Some(conversation.id.clone())
            } else {
                known.as_ref().and_then(|k| k.conversation_id.clone())
            };
            let reference = PersonRef {
                service_url: activity.service_url.clone(),
                user_id: account.id.clone(),
                aad_object_id: Some(aad.to_owned()),
                tenant_id: tenant.clone(),
                conversation_id,
                blocked: known.as_ref().is_some_and(|k| k.blocked && !personal),
            };
            if known.as_ref() != Some(&reference) {
                self.put_person(&person, &reference).await?;
            }
        }
        Ok(())
    }

    /// A conversation by id.
    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationRef>, AppError> {
        let key = format!("conv:{}", base_conversation_id(id));
        Ok(self.app.recall(SCOPE, &key).await?.and_then(|v| serde_json::from_str(&v).ok()))
    }

    /// A person's 1:1 reference.
    pub async fn person(&self, id: &PersonId) -> Result<Option<PersonRef>, AppError> {
        Ok(self.app.recall(SCOPE, &format!("person:{id}")).await?.and_then(|v| serde_json::from_str(&v).ok()))
    }

    /// Keeps a conversation.
    pub async fn put_conversation(&self, reference: &ConversationRef) -> Result<(), AppError> {
        let key = format!("conv:{}", reference.conversation_id);
        if self.conversation(&reference.conversation_id).await?.as_ref() == Some(reference) {
            return Ok(());
        }
        self.app.remember(SCOPE, &key, &to_json(reference)).await
    }

    /// Keeps a person's reference.
    pub async fn put_person(&self, id: &PersonId, reference: &PersonRef) -> Result<(), AppError> {
        self.app.remember(SCOPE, &format!("person:{id}"), &to_json(reference)).await
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
