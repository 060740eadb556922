//! Identifiers of the things Docket talks about: people, groups, rotations, workflows, tickets.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id. Callers that read ids from files check their shape with
            /// [`is_valid_id`] first; ids that arrive at run time are only compared.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }
    };
}

string_id!(
    /// A person in the directory (`alice`), never a raw chat user id.
    PersonId
);
string_id!(
    /// A group of people (`sre`).
    GroupId
);
string_id!(
    /// An on-call rotation (`sre-primary`).
    RotationId
);
string_id!(
    /// A workflow in the catalog (`deploy-service`).
    WorkflowId
);

/// Whether `id` is a usable identifier: 1–64 characters of `a-z`, `A-Z`, `0-9`, `-`, `_`, `.`,
/// starting with a letter or digit. Keeps ids safe in URLs, button values and log lines.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    id.len() <= 64
        && first.is_ascii_alphanumeric()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A ticket's id: a configurable prefix and a sequence number, shown as `DKT-42`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TicketId {
    prefix: String,
    number: u64,
}

impl TicketId {
    /// A ticket id from its parts. The prefix is upper-case letters, checked when the
    /// configuration is loaded.
    pub fn new(prefix: impl Into<String>, number: u64) -> Self {
        Self { prefix: prefix.into(), number }
    }

    /// The prefix (`DKT`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The sequence number (`42`).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Parses `DKT-42` (case-insensitive prefix, as people type it in chat).
    pub fn parse(text: &str) -> Result<Self, InvalidTicketId> {
        let invalid = || InvalidTicketId(text.chars().take(40).collect());
        let (prefix, number) = text.trim().rsplit_once('-').ok_or_else(invalid)?;
        if prefix.is_empty() || prefix.len() > 16 || !prefix.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(invalid());
        }
        if number.is_empty() || number.len() > 19 || !number.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        let number = number.parse().map_err(|_| invalid())?;
        Ok(Self::new(prefix.to_ascii_uppercase(), number))
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.prefix, self.number)
    }
}

impl TryFrom<String> for TicketId {
    type Error = InvalidTicketId;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<TicketId> for String {
    fn from(id: TicketId) -> Self {
        id.to_string()
    }
}

/// A text that is not a ticket id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a ticket id (expected something like DKT-42)")]
pub struct InvalidTicketId(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_round_trip_and_reject_junk() {
        let id = TicketId::parse("dkt-42").unwrap();
        assert_eq!(id.to_string(), "DKT-42");
        for bad in ["", "DKT", "DKT-", "-42", "DKT-4x", "D1T-4", "DKT-99999999999999999999"] {
            assert!(TicketId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_shapes() {
        assert!(is_valid_id("deploy-service"));
        assert!(is_valid_id("sre.primary_2"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("-x"));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id(&"a".repeat(65)));
    }
}
