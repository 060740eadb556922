//! The Slack surface as Socket Mode's [`EnvelopeHandler`]: payloads turned into the same
//! [`Inbound`] values HTTP mode builds and answered by the same dispatch, the envelope id
//! de-duplicated with the other deliveries (`seen`) as HTTP mode's signatures are: with the
//! ticket a request form opens, before anything is done otherwise.

use serde_json::Value;

use super::frame::{Envelope, EnvelopeKind};
use super::{EnvelopeHandler, Handled, HandlerError};
use crate::inbound::{DeliveryKind, Unseen};
use crate::{CommandForm, Inbound, InboundError, Slack};

/// The surface-state key of an envelope id.
pub(crate) fn envelope_key(envelope_id: &str) -> String {
    format!("envelope:{envelope_id}")
}

/// An envelope as what HTTP mode would have received.
pub(crate) fn inbound(envelope: Envelope) -> Result<Inbound, crate::InboundError> {
    let payload = Value::Object(envelope.payload);
    Ok(match envelope.kind {
        EnvelopeKind::SlashCommands => Inbound::Command(CommandForm::from_json(payload)?),
        EnvelopeKind::Interactive => Inbound::Interaction(payload),
        EnvelopeKind::EventsApi => Inbound::Event(payload),
    })
}

#[async_trait::async_trait]
impl EnvelopeHandler for Slack {
    async fn handle(&self, envelope: Envelope) -> Result<Handled, HandlerError> {
        let unseen = Unseen { key: envelope_key(&envelope.id), peer: None, kind: DeliveryKind::Envelope };
        // An unreadable payload changes nothing, and its repeat is refused the same way.
        let inbound = inbound(envelope).map_err(|e| HandlerError(e.to_string()))?;
        match self.dispatch_unseen(inbound, Some(unseen)).await {
            Ok(ack) => Ok(Handled::Answered(ack.0)),
            Err(InboundError::Replayed) => Ok(Handled::Repeat),
            Err(InboundError::Unrecorded(why)) => Ok(Handled::Unrecorded(why)),
            Err(other) => Err(HandlerError(other.to_string())),
        }
    }

    fn start(&self, handling: super::Handling) -> tokio::task::JoinHandle<Result<Handled, HandlerError>> {
        self.app().after_answer(handling)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

    use serde_json::json;

    use super::*;
    use crate::socket::frame::{Frame, parse};

    fn envelope(kind: &str, payload: Value) -> Envelope {
        let text = json!({"envelope_id": "e1", "type": kind, "payload": payload}).to_string();
        match parse(&text) {
            Ok(Frame::Envelope(envelope)) => envelope,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn slash_command_payloads_are_the_form_fields() {
        let payload = json!({
            "token": "x", "team_id": "T1", "channel_id": "C1", "user_id": "U0ALICE", "command": "/docket",
            "text": "deploy api 1.4.2 to prod", "trigger_id": "t.1", "response_url": "https://hooks.slack.com/x",
            "api_app_id": "A1", "is_enterprise_install": "false"
        });
        let Ok(Inbound::Command(form)) = inbound(envelope("slash_commands", payload)) else { panic!("not a command") };
        assert_eq!(
            (form.user_id.as_str(), form.text.as_str(), form.trigger_id.as_str()),
            ("U0ALICE", "deploy api 1.4.2 to prod", "t.1")
        );
    }

    #[test]
    fn a_command_without_a_user_is_refused() {
        assert!(inbound(envelope("slash_commands", json!({"command": "/docket", "text": ""}))).is_err());
        assert!(inbound(envelope("slash_commands", json!({"command": 5, "user_id": "U1"}))).is_err());
    }

    #[test]
    fn interactions_and_events_pass_through() {
        let click = json!({"type": "block_actions", "user": {"id": "U0BOB"}, "actions": []});
        let Ok(Inbound::Interaction(value)) = inbound(envelope("interactive", click.clone())) else { panic!() };
        assert_eq!(value, click);
        let event = json!({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}});
        let Ok(Inbound::Event(value)) = inbound(envelope("events_api", event.clone())) else { panic!() };
        assert_eq!(value, event);
    }

    #[test]
    fn envelope_ids_share_the_slack_scope_with_their_own_prefix() {
        assert_eq!(envelope_key("abc-1"), "envelope:abc-1");
    }
}
