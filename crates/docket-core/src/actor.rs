//! Who is acting: a person, an AI agent acting for a person, or Docket itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::PersonId;

/// The author of a command, already resolved by the surface it came through.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Actor {
    /// A person from the directory.
    Person {
        /// Who.
        id: PersonId,
    },
    /// An AI agent (MCP) acting for a person. Agents may request and watch; never decide.
    Agent {
        /// The agent's name, as its token says.
        agent: String,
        /// The person whose token it uses.
        on_behalf_of: PersonId,
    },
    /// Docket itself: planning, the scheduler, the run engine.
    System,
}

impl Actor {
    /// A person.
    pub fn person(id: impl Into<PersonId>) -> Self {
        Actor::Person { id: id.into() }
    }

    /// The agent's id, for an agent; `None` for a person or Docket.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Actor::Agent { agent, .. } => Some(agent),
            _ => None,
        }
    }

    /// The person this actor is or acts for.
    pub fn person_id(&self) -> Option<&PersonId> {
        match self {
            Actor::Person { id } => Some(id),
            Actor::Agent { on_behalf_of, .. } => Some(on_behalf_of),
            Actor::System => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Person { id } => write!(f, "{id}"),
            Actor::Agent { agent, on_behalf_of } => write!(f, "agent:{agent} for {on_behalf_of}"),
            Actor::System => f.write_str("docket"),
        }
    }
}
