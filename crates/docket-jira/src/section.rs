//! The `jira` section of `docket.yaml`, read by Jira itself, and a person's Jira account id
//! (`people[].jira`). Every problem is reported at its line; a ticket state the `statuses` map
//! leaves out is a warning (the issue then gets a comment instead of a transition).

use std::collections::BTreeMap;

use docket_config::plugin::{Decoded, Fields, Node, Section, SectionContext, nonempty, open_map, secret, url};
use docket_core::TicketState;

use crate::settings::{Api, JiraSettings};

/// The ticket states an issue is moved for, when the map names a status for them.
pub const MIRRORED_STATES: [TicketState; 7] = [
    TicketState::AwaitingApproval,
    TicketState::Approved,
    TicketState::Running,
    TicketState::Succeeded,
    TicketState::Failed,
    TicketState::Rejected,
    TicketState::Cancelled,
];

/// The `jira` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct JiraSection;

impl Section for JiraSection {
    fn key(&self) -> &'static str {
        crate::SYSTEM
    }

    /// A stage may say `from: [jira]`: the approval given there counts.
    fn approves(&self) -> bool {
        true
    }

    fn person_key(&self) -> Option<(&'static str, &'static str)> {
        Some((crate::SYSTEM, "Jira account id"))
    }

    /// `jira: {url, api, email, api_token, project, issue_type, webhook_secret, statuses}`.
    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let keys = ["url", "api", "email", "api_token", "project", "issue_type", "webhook_secret", "statuses"];
        let Some(fields) = Fields::open(node, "jira section", &keys, cx.report()) else { return Decoded::invalid() };
        let site = fields.req("url", cx.report(), |n, r| url(n, &["https://", "http://"], r));
        let api = fields.opt("api", cx.report(), read_api).or(Api::Cloud);
        let email = fields.opt("email", cx.report(), nonempty).optional();
        let token = fields.req("api_token", cx.report(), secret);
        let project = fields.req("project", cx.report(), nonempty);
        let issue_type = fields.opt("issue_type", cx.report(), nonempty).or("Task".to_owned());
        let webhook_secret = fields.req("webhook_secret", cx.report(), secret);
        let statuses = match fields.get("statuses") {
            Some(node) => read_statuses(node, cx),
            None => Some(BTreeMap::new()),
        };
        if let Some(statuses) = &statuses {
            let at = fields.get("statuses").map_or(fields.pos(), |n| n.pos);
            let missing: Vec<&str> =
                MIRRORED_STATES.iter().map(|s| s.as_str()).filter(|s| !statuses.contains_key(*s)).collect();
            if !missing.is_empty() {
                cx.report().warning(
                    at,
                    format!("jira.statuses names no Jira status for {}", missing.join(", ")),
                    Some("issues get a comment instead of a transition for those states".to_owned()),
                );
            }
        }
        let (Some(site), Some(api), Some(email), Some(token), Some(project), Some(issue_type), Some(hook), Some(map)) =
            (site, api, email, token, project, issue_type, webhook_secret, statuses)
        else {
            return Decoded::invalid();
        };
        if api == Api::Cloud && email.is_none() {
            cx.report().error_hint(
                fields.pos(),
                "the jira section needs `email` for Jira Cloud",
                "Cloud signs in with the account's email and an API token; for Data Center set `api: v2`",
            );
            return Decoded::invalid();
        }
        cx.secret(&token);
        cx.secret(&hook);
        let mut settings = JiraSettings::new(&site, "", token.expose(), &project, hook.expose());
        settings.api = api;
        settings.email = email;
        settings.issue_type = issue_type;
        settings.statuses = map;
        settings.public_url = cx.public_url().map(str::to_owned);
        Decoded::value(settings)
    }
}

fn read_api(node: &Node, report: &mut docket_config::plugin::Report) -> Option<Api> {
    match nonempty(node, report)?.as_str() {
        "v3" | "cloud" => Some(Api::Cloud),
        "v2" | "data_center" => Some(Api::DataCenter),
        other => {
            report.error_hint(node.pos, format!("`{other}` is not a Jira API"), "use v3 (Cloud) or v2 (Data Center)");
            None
        }
    }
}

fn read_statuses(node: &Node, cx: &mut SectionContext<'_>) -> Option<BTreeMap<String, String>> {
    let entries = open_map(node, "ticket states to Jira statuses", cx.report())?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (state, key, value) in entries {
        if TicketState::parse(state).is_none() {
            let names: Vec<&str> = MIRRORED_STATES.iter().map(|s| s.as_str()).collect();
            cx.report().error_hint(
                key.pos,
                format!("`{state}` is not a ticket state"),
                format!("use {}", names.join(", ")),
            );
            ok = false;
            continue;
        }
        match nonempty(value, cx.report()) {
            Some(status) => {
                out.insert(state.to_owned(), status);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
