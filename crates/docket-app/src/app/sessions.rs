//! Sign-ins and sign-outs (a surface's sessions starting and ending) in the audit log.

use docket_core::PersonId;
use docket_core::audit::AuditEntry;

use super::App;

/// What happened to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    /// A person signed in: `{surface}.signed_in`.
    SignedIn,
    /// A person signed out: `{surface}.signed_out`.
    SignedOut,
}

impl SessionChange {
    fn action(self) -> &'static str {
        match self {
            Self::SignedIn => "signed_in",
            Self::SignedOut => "signed_out",
        }
    }
}

impl App {
    /// Records that `person` signed in to or out of `surface`, with `details` (how: the
    /// sign-in method and what matched them; never a secret or a token). A failure to record
    /// is logged: the sign-in or sign-out itself goes on, as a failed authentication's does.
    pub async fn audit_session(
        &self,
        surface: &str,
        person: &PersonId,
        change: SessionChange,
        details: serde_json::Value,
    ) {
        let entry = AuditEntry {
            at: self.now(),
            actor: person.to_string(),
            action: format!("{surface}.{}", change.action()),
            ticket: None,
            details,
        };
        if let Err(error) = self.store().append_audit(vec![entry]).await {
            tracing::error!(%error, "could not record a sign-in or sign-out in the audit log");
        }
    }
}
