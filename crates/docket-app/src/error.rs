//! What the app's methods return when they do not succeed. Surfaces map these to their own
//! replies (HTTP statuses, ephemeral Slack messages); the message is always safe to show.

use docket_core::Refusal;

use crate::ports::store::StoreError;

/// Why an app call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Core's rules refused the command; the refusal says why in words a person can act on.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// No such ticket, workflow or run.
    #[error("{0} not found")]
    NotFound(String),
    /// The credentials presented do not identify anyone.
    #[error("unknown or revoked token")]
    Unauthenticated,
    /// A token Docket knows that no longer works: expired, revoked, or its person or agent
    /// is gone from the configuration.
    #[error("{0}")]
    TokenRefused(crate::app::TokenRefusal),
    /// Input that never reached the rules (an unknown person for a token, a bad filter).
    #[error("{0}")]
    Invalid(String),
    /// The store failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A configuration reload was refused; the running configuration stays.
    #[error(transparent)]
    ReloadRefused(#[from] crate::ports::reloader::ReloadRefused),
}

impl AppError {
    /// A stable machine-readable code (`own_ticket`, `not_found`, `storage_unavailable`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Refused(r) => r.code(),
            AppError::NotFound(_) => "not_found",
            AppError::Unauthenticated | AppError::TokenRefused(_) => "unauthenticated",
            AppError::Invalid(_) => "invalid_request",
            AppError::Store(StoreError::Conflict(_)) => "conflict",
            AppError::Store(StoreError::Delivered(_)) => "delivered_before",
            AppError::Store(_) => "storage_unavailable",
            AppError::ReloadRefused(_) => "reload_refused",
        }
    }
}
