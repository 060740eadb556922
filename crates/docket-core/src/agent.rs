//! AI agents as identities: each acts for one person (its owner) and may request only the
//! workflows it is given. Agents request, read, comment and cancel their own requests; they
//! never decide (the state machine refuses that whatever the surface).

use crate::actor::Actor;
use crate::catalog::workflow::Workflow;
use crate::directory::Directory;
use crate::id::PersonId;
use crate::ticket::Refusal;

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

/// Whom an API token acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSubject {
    /// A person.
    Person(PersonId),
    /// An agent, by id; it acts for its owner.
    Agent(String),
}

/// Whether `actor` may make, list or revoke (`action`) tokens of `subject`: a person their own
/// and their agents' tokens, an admin anyone's; an agent none, not even its own (a token
/// could otherwise outlive every revocation by minting the next). Docket itself never does.
pub fn may_manage_tokens(
    actor: &Actor,
    subject: &TokenSubject,
    directory: &Directory,
    action: &'static str,
) -> Result<(), Refusal> {
    let person = match actor {
        Actor::Person { id } => directory.person(id).ok_or_else(|| Refusal::UnknownPerson(id.clone()))?,
        Actor::Agent { .. } => return Err(Refusal::AgentsCannot { action }),
        Actor::System => return Err(Refusal::SystemOnly { action: "act for people" }),
    };
    let owner = match subject {
        TokenSubject::Person(id) => Some(id),
        TokenSubject::Agent(agent) => directory.agent(agent).map(|a| &a.owner),
    };
    if person.admin || owner == Some(&person.id) { Ok(()) } else { Err(Refusal::NotYourTokens { action }) }
}

/// Whether `actor` may make a server-wide change (`action`, such as reloading the
/// configuration): an admin may, and Docket itself (a `SIGHUP` from the operator); an agent
/// never, whoever owns it.
pub fn may_administer(actor: &Actor, directory: &Directory, action: &'static str) -> Result<(), Refusal> {
    match actor {
        Actor::System => Ok(()),
        Actor::Agent { .. } => Err(Refusal::AgentsCannot { action }),
        Actor::Person { id } => {
            let person = directory.person(id).ok_or_else(|| Refusal::UnknownPerson(id.clone()))?;
            if person.admin { Ok(()) } else { Err(Refusal::AdminsOnly { action }) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_manage_their_own_and_their_agents_tokens_admins_anyones() {
        let person = |id: &str, admin: bool| crate::directory::Person {
            id: PersonId::new(id),
            name: id.into(),
            email: None,
            ids: Default::default(),
            oidc_subject: None,
            groups: Default::default(),
            admin,
        };
        let directory = Directory::new(vec![person("alice", false), person("erin", true)], vec![], vec![], vec![])
            .with_agents(vec![Agent {
                id: "bot".into(),
                name: "bot".into(),
                owner: PersonId::new("alice"),
                may_request: vec![],
            }]);
        let alice = Actor::person("alice");
        let erin = Actor::person("erin");
        let mine = TokenSubject::Person(PersonId::new("alice"));
        let erins = TokenSubject::Person(PersonId::new("erin"));
        let bot = TokenSubject::Agent("bot".into());
        let check = |actor: &Actor, subject: &TokenSubject| {
            may_manage_tokens(actor, subject, &directory, "make").map_err(|r| r.code())
        };
        assert_eq!(check(&alice, &mine), Ok(()));
        assert_eq!(check(&alice, &bot), Ok(()));
        assert_eq!(check(&alice, &erins), Err("not_your_tokens"));
        assert_eq!(check(&alice, &TokenSubject::Agent("ghost".into())), Err("not_your_tokens"));
        assert_eq!(check(&erin, &mine), Ok(()));
        assert_eq!(check(&erin, &bot), Ok(()));
        let agent = Actor::Agent { agent: "bot".into(), on_behalf_of: PersonId::new("alice") };
        assert_eq!(check(&agent, &bot), Err("agents_cannot"));
        assert_eq!(check(&Actor::person("zed"), &mine), Err("unknown_person"));

        let administer = |actor: &Actor| may_administer(actor, &directory, "reload").map_err(|r| r.code());
        assert_eq!(administer(&erin), Ok(()));
        assert_eq!(administer(&Actor::System), Ok(()));
        assert_eq!(administer(&alice), Err("admin_only"));
        assert_eq!(administer(&agent), Err("agents_cannot"));
        assert_eq!(administer(&Actor::person("zed")), Err("unknown_person"));
    }

    #[test]
    fn words_name_the_agent_and_its_owner() {
        assert_eq!(requested_by_words(Some("deploy-bot"), "Alice Ng"), "deploy-bot (agent of Alice Ng)");
        assert_eq!(requested_by_words(None, "Alice Ng"), "Alice Ng");
    }
}
