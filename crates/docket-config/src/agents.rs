//! `agents`: AI agents as identities, each `{id, name, owner, may_request}`. The owner must be
//! a declared person; `may_request` names workflows by id or category, checked against the
//! catalog once it is read (`links::agents_may_request`).

use docket_core::{Agent, PersonId, Principal};

use crate::decode::{Fields, Seen, ident, list, nonempty};
use crate::diagnostic::{Pos, Report};
use crate::node::Node;
use crate::people::People;

const KEYS: &[&str] = &["id", "name", "owner", "may_request"];

/// The agents declared, and what their `may_request` lists name, for the catalog check.
#[derive(Debug, Default)]
pub(crate) struct Agents {
    /// Every agent, when the section has no errors.
    pub(crate) list: Option<Vec<Agent>>,
    /// Each `may_request` entry and where it is written.
    pub(crate) may_request: Vec<(String, Pos)>,
}

/// Reads `agents`, a list; owners are checked against `people`.
pub(crate) fn agents(node: Option<&Node>, people: &People, report: &mut Report) -> Agents {
    let mut out = Agents::default();
    let Some(node) = node else {
        out.list = Some(Vec::new());
        return out;
    };
    let before = report.error_count();
    let mut seen = Seen::default();
    let mut agents = Vec::new();
    for item in list(node, "agents", report).unwrap_or_default() {
        let Some(fields) = Fields::open(item, "agent", KEYS, report) else { continue };
        let id = fields.req("id", report, ident);
        if let (Some(id), Some(at)) = (&id, fields.get("id")) {
            if !seen.first(id, at.pos, "agent", report) {
                continue;
            }
            if people.has_person(id) {
                let hint = "an agent needs an id of its own, so records never confuse it with a person";
                report.error_hint(at.pos, format!("`{id}` is already a person's id"), hint);
            }
        }
        let name = fields.opt("name", report, nonempty).optional();
        let owner = fields.req("owner", report, ident);
        if let (Some(owner), Some(at)) = (&owner, fields.get("owner")) {
            people.check(&Principal::Person(PersonId::new(owner)), at.pos, report);
        }
        let may_request = fields.req("may_request", report, |n, r| may_request(n, &mut out.may_request, r));
        if let (Some(id), Some(name), Some(owner), Some(may_request)) = (id, name, owner, may_request) {
            agents.push(Agent {
                name: name.unwrap_or_else(|| id.clone()),
                id,
                owner: PersonId::new(owner),
                may_request,
            });
        }
    }
    if report.error_count() == before {
        out.list = Some(agents);
    }
    out
}

fn may_request(node: &Node, found: &mut Vec<(String, Pos)>, report: &mut Report) -> Option<Vec<String>> {
    let items = list(node, "workflow ids or categories", report)?;
    if items.is_empty() {
        let hint = "list workflow ids or categories, e.g. [deploy-service, Reports]";
        report.error_hint(node.pos, "an empty `may_request` lets the agent request nothing", hint);
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        match nonempty(item, report) {
            Some(entry) => {
                found.push((entry.clone(), item.pos));
                out.push(entry);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
