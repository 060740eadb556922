//! Block Kit: small builders that cut every text to its limit ([`blocks`]), the messages Docket
//! posts ([`ticket`], [`approval`], [`reply`]) and a checker of Slack's limits ([`limits`]) that
//! the tests run over every render.

pub(crate) mod approval;
pub(crate) mod blocks;
pub mod limits;
pub(crate) mod reply;
pub(crate) mod ticket;

use serde::{Deserialize, Serialize};

/// A message: the notification text (always sent with blocks) and the blocks.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Message {
    pub(crate) text: String,
    pub(crate) blocks: serde_json::Value,
}

/// What a button carries: the ticket and the plan digest it was shown with. Never authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ButtonValue {
    pub(crate) ticket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) digest: Option<String>,
}

impl ButtonValue {
    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
