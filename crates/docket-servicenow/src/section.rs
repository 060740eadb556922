//! The `servicenow` section of `docket.yaml`, read by ServiceNow itself, and a person's
//! ServiceNow user name (`people[].servicenow`).

use docket_config::plugin::{Decoded, Fields, Node, Report, Section, SectionContext, nonempty, secret, url};

use crate::settings::{ServiceNowSettings, Table};

/// The `servicenow` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceNowSection;

impl Section for ServiceNowSection {
    fn key(&self) -> &'static str {
        crate::SYSTEM
    }

    /// A stage may say `from: [servicenow]`: the approval given there counts.
    fn approves(&self) -> bool {
        true
    }

    fn person_key(&self) -> Option<(&'static str, &'static str)> {
        Some((crate::SYSTEM, "ServiceNow user name"))
    }

    /// `servicenow: {instance_url, username, password, table, callback_secret}`.
    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let keys = ["instance_url", "username", "password", "table", "callback_secret"];
        let Some(fields) = Fields::open(node, "servicenow section", &keys, cx.report()) else {
            return Decoded::invalid();
        };
        let instance = fields.req("instance_url", cx.report(), |n, r| url(n, &["https://", "http://"], r));
        let username = fields.req("username", cx.report(), nonempty);
        let password = fields.req("password", cx.report(), secret);
        let table = fields.opt("table", cx.report(), read_table).or(Table::ChangeRequest);
        let callback = fields.req("callback_secret", cx.report(), secret);
        let (Some(instance), Some(username), Some(password), Some(table), Some(callback)) =
            (instance, username, password, table, callback)
        else {
            return Decoded::invalid();
        };
        cx.secret(&password);
        cx.secret(&callback);
        let mut settings = ServiceNowSettings::new(&instance, &username, password.expose(), callback.expose());
        settings.table = table;
        settings.public_url = cx.public_url().map(str::to_owned);
        Decoded::value(settings)
    }
}

fn read_table(node: &Node, report: &mut Report) -> Option<Table> {
    match nonempty(node, report)?.as_str() {
        "change_request" => Some(Table::ChangeRequest),
        "incident" => Some(Table::Incident),
        other => {
            report.error_hint(
                node.pos,
                format!("`{other}` is not a table Docket writes"),
                "use change_request or incident",
            );
            None
        }
    }
}
