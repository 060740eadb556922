//! Interactions: button clicks (`block_actions`), shortcuts (`shortcut`, `message_action`);
//! modal submissions are in `submissions`. Clicks are acknowledged at once; the work (opening a
//! modal with the trigger id, calling the app, answering with an ephemeral message) runs in a
//! task right after.

use docket_app::AppError;
use docket_core::{Digest, TicketId};
use serde_json::Value;

use super::{Ack, InboundError, Unseen};
use crate::Slack;
use crate::client::Trigger;
use crate::modals::Metadata;
use crate::modals::params::{Purpose, params_view};
use crate::modals::picker::picker_view;
use crate::modals::reason::reason_view;
use crate::render::ButtonValue;
use docket_http::warn_throttled;

/// Who clicked where.
#[derive(Clone, Debug)]
pub(crate) struct Click {
    pub(crate) user: String,
    pub(crate) channel: Option<String>,
    pub(crate) thread: Option<String>,
    pub(crate) trigger: Trigger,
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl Slack {
    /// An interaction; a delivery `unseen` yet is recorded before anything is done, or, for a
    /// submission, where `submission` says.
    pub(super) async fn interaction(&self, payload: Value, unseen: Option<Unseen>) -> Result<Ack, InboundError> {
        let kind = text(&payload, "/type");
        if kind.as_deref() == Some("view_submission") {
            let user = text(&payload, "/user/id");
            return self.submission(user.as_deref(), &payload, unseen).await;
        }
        self.see(unseen).await?;
        let kind = kind.ok_or(InboundError::Missing("type"))?;
        let user = text(&payload, "/user/id").ok_or(InboundError::Missing("user.id"))?;
        match kind.as_str() {
            "block_actions" => {
                let action = payload
                    .pointer("/actions/0")
                    .filter(|a| a.is_object())
                    .ok_or(InboundError::Missing("actions"))?
                    .clone();
                let action_id = text(&action, "/action_id").ok_or(InboundError::Missing("actions[0].action_id"))?;
                let value = text(&action, "/value").unwrap_or_default();
                let click = Click {
                    user,
                    channel: text(&payload, "/channel/id").or_else(|| text(&payload, "/container/channel_id")),
                    thread: text(&payload, "/message/thread_ts").or_else(|| text(&payload, "/container/message_ts")),
                    trigger: Trigger::received(text(&payload, "/trigger_id").unwrap_or_default()),
                };
                let slack = self.clone();
                self.app().after_answer(async move { slack.click(&action_id, &value, click).await });
                Ok(Ack::empty())
            }
            "shortcut" | "message_action" => {
                let trigger =
                    Trigger::received(text(&payload, "/trigger_id").ok_or(InboundError::Missing("trigger_id"))?);
                let mut meta = Metadata::default();
                if kind == "message_action" {
                    let channel = text(&payload, "/channel/id");
                    let ts = text(&payload, "/message/ts");
                    meta.thread = text(&payload, "/message/thread_ts").or_else(|| ts.clone());
                    meta.context = match (text(&payload, "/team/domain"), &channel, &ts) {
                        (Some(domain), Some(c), Some(ts)) => Some(permalink(&domain, c, ts, meta.thread.as_deref())),
                        _ => None,
                    };
                    meta.channel = channel;
                }
                let slack = self.clone();
                self.app().after_answer(async move {
                    let Some(actor) = slack.actor_or_explain(&user, "open a ticket from a shortcut").await else {
                        slack.tell(&user, meta.channel.as_deref(), None, &not_a_person()).await;
                        return;
                    };
                    let workflows = slack.app().requestable(&actor);
                    let view = picker_view(&workflows, &meta, None);
                    if let Err(error) = slack.client().open_view(&trigger, &view).await {
                        warn_throttled!(%error, "could not open the picker for a shortcut");
                    }
                });
                Ok(Ack::empty())
            }
            // Other interactions (view_closed, block_suggestion…) need no answer.
            _ => Ok(Ack::empty()),
        }
    }

    async fn click(&self, action_id: &str, value: &str, click: Click) {
        if action_id == "docket.open_form" {
            return self.open_saved_form(value, &click).await;
        }
        let Ok(button) = serde_json::from_str::<ButtonValue>(value) else {
            tracing::debug!(action_id, "a click with an unreadable value");
            return;
        };
        let Ok(id) = TicketId::parse(&button.ticket) else { return };
        match action_id {
            "docket.reject" | "docket.request_changes" | "docket.comment" => {
                let action = action_id.trim_start_matches("docket.");
                let title = match self.app().ticket(&id).await {
                    Ok(ticket) => self.app().summarize(&ticket).title,
                    Err(_) => {
                        return self
                            .tell(
                                &click.user,
                                click.channel.as_deref(),
                                click.thread.as_deref(),
                                &format!("There is no ticket {id}."),
                            )
                            .await;
                    }
                };
                let meta = Metadata {
                    ticket: Some(id.to_string()),
                    action: Some(action.to_owned()),
                    channel: click.channel.clone(),
                    thread: click.thread.clone(),
                    digest: button.digest.clone(),
                    ..Metadata::default()
                };
                let view = reason_view(action, &id.to_string(), &title, &meta);
                if let Err(error) = self.client().open_view(&click.trigger, &view).await {
                    warn_throttled!(%error, "could not open the reason form");
                }
            }
            "docket.amend" => {
                let Ok(ticket) = self.app().ticket(&id).await else { return };
                let Some(workflow) = self.app().workflow(&ticket.workflow) else { return };
                let meta = Metadata {
                    ticket: Some(id.to_string()),
                    workflow: Some(workflow.id.to_string()),
                    ..Metadata::default()
                };
                let view = params_view(&workflow, &docket_app::raw_params(&ticket), &meta, Purpose::Amend, &[]);
                if let Err(error) = self.client().open_view(&click.trigger, &view).await {
                    warn_throttled!(%error, "could not open the amend form");
                }
            }
            "docket.approve" | "docket.cancel" | "docket.retry" => {
                let what = format!("{} {id}", action_id.trim_start_matches("docket."));
                let Some(actor) = self.actor_or_explain(&click.user, &what).await else {
                    return self
                        .tell(&click.user, click.channel.as_deref(), click.thread.as_deref(), &not_a_person())
                        .await;
                };
                let result = match action_id {
                    "docket.approve" => match button.digest.as_deref().map(Digest::parse) {
                        Some(Ok(digest)) => self.app().approve(&actor, &id, digest, None).await,
                        _ => Err(AppError::Invalid("this button carries no plan digest".to_owned())),
                    },
                    "docket.cancel" => self.app().cancel(&actor, &id, None).await,
                    _ => self.app().retry(&actor, &id).await,
                };
                if let Err(error) = result {
                    let words = refusal_words(&error, &id);
                    self.tell(&click.user, click.channel.as_deref(), click.thread.as_deref(), &words).await;
                }
            }
            _ => tracing::debug!(action_id, "a click on an unknown action"),
        }
    }

    async fn open_saved_form(&self, value: &str, click: &Click) {
        let key = format!("form:{}", crate::render::blocks::cut(value, 100));
        let view = match self.app().recall(crate::SCOPE, &key).await {
            Ok(Some(view)) => view,
            _ => {
                return self
                    .tell(
                        &click.user,
                        click.channel.as_deref(),
                        click.thread.as_deref(),
                        "That form is no longer available; ask again.",
                    )
                    .await;
            }
        };
        let Ok(view) = serde_json::from_str::<Value>(&view) else { return };
        if let Err(error) = self.client().open_view(&click.trigger, &view).await {
            warn_throttled!(%error, "could not open a saved form");
        }
    }

    /// Tells `user` something only they see: in the channel (thread) where they acted, or by DM.
    pub(crate) async fn tell(&self, user: &str, channel: Option<&str>, thread: Option<&str>, words: &str) {
        let result = match channel {
            Some(channel) => self.client().post_ephemeral(channel, user, thread, words).await,
            None => match self.client().open_dm(user).await {
                Ok(dm) => self.client().post_ephemeral(&dm, user, None, words).await,
                Err(e) => Err(e),
            },
        };
        if let Err(error) = result {
            warn_throttled!(%error, "could not tell a Slack user why");
        }
    }
}

/// A refusal in the app's words, with the new digest when the plan changed.
pub(crate) fn refusal_words(error: &AppError, id: &TicketId) -> String {
    match error {
        AppError::Refused(docket_core::Refusal::StaleDigest { current }) => format!(
            "The plan of {id} changed since this message was posted: {error}. The new plan's digest is `{}`.",
            current.short()
        ),
        AppError::Refused(refusal) => format!("Docket refused: {refusal}."),
        AppError::NotFound(_) => format!("There is no ticket {id}."),
        other => format!("Docket could not do that: {other}."),
    }
}

pub(crate) fn not_a_person() -> String {
    "You are not in Docket's people, so Docket cannot act for you. Ask a Docket admin to add your Slack id or email to the directory.".to_owned()
}

/// A message's link, as Slack builds it (`https://team.slack.com/archives/C1/p1234567890123456`).
fn permalink(domain: &str, channel: &str, ts: &str, thread: Option<&str>) -> String {
    let mut link = format!("https://{domain}.slack.com/archives/{channel}/p{}", ts.replace('.', ""));
    if let Some(thread) = thread.filter(|t| *t != ts) {
        link.push_str(&format!("?thread_ts={thread}&cid={channel}"));
    }
    link
}
