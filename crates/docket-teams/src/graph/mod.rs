//! A small Microsoft Graph reader: the messages the bot can read in a channel, a channel thread
//! or a chat (resource-specific consent, `ChannelMessage.Read.Group` and `ChatMessage.Read.Chat`,
//! granted when the app is installed there), with an app-only token per tenant cached like the
//! connector's. Only used to find a message an interrupted delivery may have posted; a page of
//! 50 at a time, at most [`MAX_PAGES`] pages.

mod message;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::client::ClientError;
use crate::client::token::TokenCache;
use crate::settings::{GRAPH_SCOPE, TeamsSettings};
pub(crate) use message::GraphMessage;

/// Pages read at most per look-up (50 messages each).
pub(crate) const MAX_PAGES: usize = 3;
/// Longest one Graph call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Why Graph could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph refused: most often the app has no consent to read this conversation (403), or
    /// Graph does not know it (404).
    #[error("Graph refused to read the conversation: HTTP {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error Graph gave.
        message: String,
    },
    /// Graph did not answer usefully (rate limits, outages, the network).
    #[error("Graph is unavailable: {0}")]
    Unavailable(String),
    /// No app-only token for Graph.
    #[error("could not get a Graph token: {0}")]
    Token(String),
    /// Neither the bot nor the conversation names a tenant to ask a token for.
    #[error("no tenant to ask a Graph token for")]
    NoTenant,
    /// A URL that cannot be called.
    #[error("invalid Graph URL: {0}")]
    BadUrl(String),
}

impl GraphError {
    /// Whether trying again later could help (otherwise Graph cannot be read here).
    pub fn is_transient(&self) -> bool {
        matches!(self, GraphError::Unavailable(_))
    }
}

/// Where to list messages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Place<'a> {
    /// A channel's top-level posts: `/teams/{team}/channels/{channel}/messages`.
    Channel { team: &'a str, channel: &'a str },
    /// The replies to one post: `…/messages/{parent}/replies`.
    Thread { team: &'a str, channel: &'a str, parent: &'a str },
    /// A group or 1:1 chat: `/chats/{chat}/messages`.
    Chat { chat: &'a str },
}

/// Reads Graph for the bot.
pub(crate) struct Graph {
    http: reqwest::Client,
    settings: Arc<TeamsSettings>,
    /// One token cache per tenant.
    tokens: Mutex<HashMap<String, Arc<TokenCache>>>,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph").field("graph_url", &self.settings.graph_url).finish_non_exhaustive()
    }
}

impl Graph {
    pub(crate) fn new(settings: Arc<TeamsSettings>, http: reqwest::Client) -> Self {
        Self { http, settings, tokens: Mutex::new(HashMap::new()) }
    }

    /// The messages at `place` created at or after `since`, newest pages first as Graph gives
    /// them, at most [`MAX_PAGES`] pages. `tenant` is the conversation's (the bot's own, when
    /// single-tenant, wins).
    pub(crate) async fn messages_since(
        &self,
        tenant: Option<&str>,
        place: Place<'_>,
        since: Timestamp,
    ) -> Result<Vec<GraphMessage>, GraphError> {
        let tenant = self.settings.tenant_id.as_deref().or(tenant).ok_or(GraphError::NoTenant)?;
        let tokens = self.tokens(tenant).await;
        let token = tokens.get().await.map_err(|e| match e {
            ClientError::Token(message) => GraphError::Token(message),
            other => GraphError::Token(other.to_string()),
        })?;
        let mut url = self.first_page(place)?;
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.page(&url, &token, &tokens).await?;
            let values = page.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
            found.extend(values.iter().filter_map(GraphMessage::parse).filter(|m| m.created >= since));
            let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) else { break };
            // The next page is followed only on Graph itself: the token goes nowhere else.
            if !next.starts_with(self.settings.graph_url.trim_end_matches('/')) {
                break;
            }
            url = url::Url::parse(next).map_err(|e| GraphError::BadUrl(e.to_string()))?;
        }
        Ok(found)
    }

    async fn tokens(&self, tenant: &str) -> Arc<TokenCache> {
        let mut tokens = self.tokens.lock().await;
        let cache = tokens.entry(tenant.to_owned()).or_insert_with(|| {
            let url = self.settings.graph_token_url.replace("{tenant_id}", tenant);
            Arc::new(TokenCache::for_scope(&self.settings, self.http.clone(), &url, GRAPH_SCOPE))
        });
        Arc::clone(cache)
    }

    fn first_page(&self, place: Place<'_>) -> Result<url::Url, GraphError> {
        let segments: Vec<&str> = match place {
            Place::Channel { team, channel } => vec!["v1.0", "teams", team, "channels", channel, "messages"],
            Place::Thread { team, channel, parent } => {
                vec!["v1.0", "teams", team, "channels", channel, "messages", parent, "replies"]
            }
            Place::Chat { chat } => vec!["v1.0", "chats", chat, "messages"],
        };
        let mut url = url::Url::parse(&self.settings.graph_url).map_err(|e| GraphError::BadUrl(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| GraphError::BadUrl("cannot take a path".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        url.query_pairs_mut().append_pair("$top", "50");
        Ok(url)
    }

    async fn page(&self, url: &url::Url, token: &str, tokens: &TokenCache) -> Result<Value, GraphError> {
        let sent = self.http.get(url.clone()).bearer_auth(token).timeout(CALL_TIMEOUT).send().await;
        let response = sent.map_err(|e| GraphError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| GraphError::Unavailable(format!("unreadable answer: {e}")));
        }
        let message = crate::client::error_message(&text);
        match status {
            StatusCode::UNAUTHORIZED => {
                tokens.invalidate().await;
                Err(GraphError::Unavailable(format!("HTTP 401: {message}")))
            }
            StatusCode::TOO_MANY_REQUESTS => Err(GraphError::Unavailable(format!("HTTP 429: {message}"))),
            s if s.is_server_error() => Err(GraphError::Unavailable(format!("HTTP {}: {message}", s.as_u16()))),
            s => Err(GraphError::Refused { status: s.as_u16(), message }),
        }
    }
}
