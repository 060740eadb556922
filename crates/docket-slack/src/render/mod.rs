//! Block Kit: small builders that cut every text to its limit ([`blocks`]), the messages Docket
//! posts ([`ticket`], [`approval`], [`reply`]) and a checker of Slack's limits (`limits`) that
//! the tests run over every render. The checker is compiled for tests and the `test-support`
//! feature only, never into the server.

pub(crate) mod approval;
pub(crate) mod blocks;
#[cfg(any(test, feature = "test-support"))]
pub mod limits;
pub(crate) mod reply;
pub(crate) mod results;
#[cfg(test)]
mod tests;
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

impl Message {
    /// A message whose blocks fit Slack's total text cap: when they hold more, every text is
    /// cut in proportion (the web page shows everything).
    pub(crate) fn new(text: String, mut blocks: serde_json::Value) -> Self {
        let total = text_in(&blocks);
        if total > TEXT_BUDGET {
            shrink(&mut blocks, TEXT_BUDGET as f64 / total as f64);
        }
        Self { text, blocks }
    }
}

/// Characters of text in one message's blocks (Slack refuses somewhat above 11,000).
const TEXT_BUDGET: usize = 10_000;

fn text_in(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) if k == "text" => s.chars().count(),
                other => text_in(other),
            })
            .sum(),
        serde_json::Value::Array(items) => items.iter().map(text_in).sum(),
        _ => 0,
    }
}

fn shrink(value: &mut serde_json::Value, factor: f64) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    serde_json::Value::String(s) if k == "text" => {
                        let n = s.chars().count();
                        let keep = ((n as f64 * factor) as usize).max(20).min(n);
                        if keep < n {
                            *s = blocks::cut(s, keep.saturating_sub(1));
                        }
                    }
                    other => shrink(other, factor),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| shrink(v, factor)),
        _ => {}
    }
}

impl ButtonValue {
    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
