//! Interactions: button clicks (`block_actions`), modal submissions (`view_submission`) and
//! shortcuts (`shortcut`, `message_action`).

use super::{Ack, InboundError};
use crate::Slack;

impl Slack {
    pub(super) async fn interaction(&self, payload: serde_json::Value) -> Result<Ack, InboundError> {
        let _ = payload;
        Ok(Ack::empty())
    }
}
