//! A ticket's record in a ticketing system: which system, its key there, where to open it.

use serde::{Deserialize, Serialize};

/// A ticket's record in a ticketing system (`jira`, `OPS-123`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLink {
    /// The system's name (`jira`, `servicenow`).
    pub system: String,
    /// The record's key there (`OPS-123`, `CHG0030001`).
    pub key: String,
    /// Where people open it, when known.
    pub url: Option<String>,
}
