//! Modals: the workflow picker ([`picker`]), the parameter form built from the workflow's
//! parameter types ([`params`]) and the reason/comment form ([`reason`]). What a modal must
//! remember between opening and submission travels in its `private_metadata` ([`Metadata`]).

pub(crate) mod params;
pub(crate) mod picker;
pub(crate) mod reason;

use std::collections::BTreeMap;

use docket_core::RawParams;
use serde::{Deserialize, Serialize};

use crate::render::blocks::cut;

/// Callback ids.
pub(crate) const PICK: &str = "docket.pick";
pub(crate) const REQUEST: &str = "docket.request";
pub(crate) const AMEND: &str = "docket.amend";
pub(crate) const REASON: &str = "docket.reason";

/// Slack's limit on `private_metadata`.
const METADATA_MAX: usize = 3_000;

/// What a modal carries from opening to submission.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Metadata {
    /// The workflow (parameter form).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "w")]
    pub(crate) workflow: Option<String>,
    /// Where the request was made (a channel id; none for a global shortcut).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "c")]
    pub(crate) channel: Option<String>,
    /// The thread it was made in.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "t")]
    pub(crate) thread: Option<String>,
    /// A link to the message it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "x")]
    pub(crate) context: Option<String>,
    /// The ticket (amend, reason).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "k")]
    pub(crate) ticket: Option<String>,
    /// The action (reason: `reject`, `request_changes`, `comment`).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "a")]
    pub(crate) action: Option<String>,
    /// The plan digest the reason was given on.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "d")]
    pub(crate) digest: Option<String>,
    /// The picker after words the matcher was not sure about: what it understood for each
    /// candidate workflow, to pre-fill the form of the one picked.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "p")]
    pub(crate) prefill: Option<BTreeMap<String, RawParams>>,
}

impl Metadata {
    /// As `private_metadata`: JSON within Slack's 3,000 characters (the values to pre-fill are
    /// dropped first, then the context link is cut, then dropped).
    pub(crate) fn encode(&self) -> String {
        let mut me = self.clone();
        let mut text = serde_json::to_string(&me).unwrap_or_default();
        if text.chars().count() > METADATA_MAX {
            me.prefill = None;
            text = serde_json::to_string(&me).unwrap_or_default();
        }
        if text.chars().count() > METADATA_MAX {
            me.context = me.context.map(|c| cut(&c, 1_000));
            text = serde_json::to_string(&me).unwrap_or_default();
        }
        if text.chars().count() > METADATA_MAX {
            me.context = None;
            text = serde_json::to_string(&me).unwrap_or_default();
        }
        text
    }

    /// Reads `private_metadata`; anything unreadable is empty metadata.
    pub(crate) fn decode(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }
}
