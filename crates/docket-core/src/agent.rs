//! AI agents as identities: each acts for one person (its owner) and may request only the
//! workflows it is given. Agents request, read, comment and cancel their own requests; they
//! never decide (the state machine refuses that whatever the surface).

use crate::catalog::workflow::Workflow;
use crate::id::PersonId;

/// An agent declared in the configuration (`agents:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// The agent's id (`deploy-bot`); its tokens name it.
    pub id: String,
    /// How people see it (the id when not given).
    pub name: String,
    /// The person it acts for: its tickets count this person as the requester.
    pub owner: PersonId,
    /// The workflows it may request, by id or by category (case-insensitive). Empty: none.
    pub may_request: Vec<String>,
}

impl Agent {
    /// Whether the agent may request `workflow`: its id or its category is listed.
    pub fn may_request(&self, workflow: &Workflow) -> bool {
        self.may_request.iter().any(|entry| {
            entry == workflow.id.as_str()
                || (!workflow.category.is_empty() && entry.eq_ignore_ascii_case(&workflow.category))
        })
    }
}

/// How a ticket's requester reads everywhere: the person's name, or for an agent's request
/// "deploy-bot (agent of Alice Ng)". `agent` is the agent's name, `owner` the owner's.
pub fn requested_by_words(agent: Option<&str>, owner: &str) -> String {
    match agent {
        Some(agent) => format!("{agent} (agent of {owner})"),
        None => owner.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_name_the_agent_and_its_owner() {
        assert_eq!(requested_by_words(Some("deploy-bot"), "Alice Ng"), "deploy-bot (agent of Alice Ng)");
        assert_eq!(requested_by_words(None, "Alice Ng"), "Alice Ng");
    }
}
