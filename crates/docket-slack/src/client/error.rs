//! What a Web API call can fail with, and how that maps to the outbox's retry decision.

use docket_app::NotifyError;

/// Slack error codes that a later attempt may not get.
const TRANSIENT: [&str; 6] =
    ["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"];

/// A failed Web API call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Slack answered `ok: false`.
    #[error("{method}: {error}")]
    Slack {
        /// The method called.
        method: String,
        /// Slack's error code (`channel_not_found`).
        error: String,
    },
    /// Still rate limited after every retry.
    #[error("{method}: rate limited")]
    RateLimited {
        /// The method called.
        method: String,
    },
    /// An HTTP status other than 200 or 429.
    #[error("{method}: HTTP {status}")]
    Status {
        /// The method called.
        method: String,
        /// The status.
        status: u16,
    },
    /// A modal's `trigger_id` expired (3 s after Slack sent it) before Docket's `views.open`
    /// budget or Slack's `Retry-After` let the call go out, so it was not sent.
    #[error("{method}: the trigger expired before the call could be sent")]
    TriggerExpired {
        /// The method called.
        method: String,
    },
    /// No answer (connection refused, reset, timed out) or an unreadable one.
    #[error("{method}: {detail}")]
    Network {
        /// The method called.
        method: String,
        /// What happened.
        detail: String,
    },
}

impl ApiError {
    /// Slack's error code, if Slack answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Slack { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether trying again later could help.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Slack { error, .. } => TRANSIENT.contains(&error.as_str()),
            ApiError::RateLimited { .. } | ApiError::Network { .. } => true,
            ApiError::Status { status, .. } => *status >= 500 || *status == 408,
            ApiError::TriggerExpired { .. } => false,
        }
    }
}

impl From<ApiError> for NotifyError {
    fn from(error: ApiError) -> Self {
        if error.is_transient() {
            NotifyError::Transient(error.to_string())
        } else {
            NotifyError::Permanent(error.to_string())
        }
    }
}
