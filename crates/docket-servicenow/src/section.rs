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

    /// `servicenow: {instance_url, username, password, client_id, client_secret, table,
    /// callback_secret}`: Basic auth with `username` and `password`; OAuth's password grant
    /// with all four; its client-credentials grant with `client_id` and `client_secret` alone
    /// (`username` then names the OAuth application's user, whose work notes are Docket's own).
    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let keys = ["instance_url", "username", "password", "client_id", "client_secret", "table", "callback_secret"];
        let Some(fields) = Fields::open(node, "servicenow section", &keys, cx.report()) else {
            return Decoded::invalid();
        };
        let instance = fields.req("instance_url", cx.report(), |n, r| url(n, &["https://", "http://"], r));
        let username = fields.opt("username", cx.report(), nonempty).optional();
        let password = fields.opt("password", cx.report(), secret).optional();
        let client_id = fields.opt("client_id", cx.report(), nonempty).optional();
        let client_secret = fields.opt("client_secret", cx.report(), secret).optional();
        let table = fields.opt("table", cx.report(), read_table).or(Table::ChangeRequest);
        let callback = fields.req("callback_secret", cx.report(), secret);
        let (
            Some(instance),
            Some(username),
            Some(password),
            Some(client_id),
            Some(client_secret),
            Some(table),
            Some(callback),
        ) = (instance, username, password, client_id, client_secret, table, callback)
        else {
            return Decoded::invalid();
        };
        let oauth = match (client_id, client_secret) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            (id, _) => {
                let (have, missing) =
                    if id.is_some() { ("client_id", "client_secret") } else { ("client_secret", "client_id") };
                let at = fields.get(have).map_or(fields.pos(), |n| n.pos);
                cx.report().error_hint(
                    at,
                    format!("the servicenow section has `{have}` but no `{missing}`"),
                    "OAuth needs both, from the instance's Application Registry",
                );
                return Decoded::invalid();
            }
        };
        let missing = match (&oauth, &username, &password) {
            (_, Some(_), Some(_)) | (Some(_), _, None) => None,
            (None, None, _) => Some("username"),
            (_, _, None) => Some("password"),
            (_, None, Some(_)) => Some("username"),
        };
        if let Some(missing) = missing {
            cx.report().error_hint(
                fields.pos(),
                format!("the servicenow section needs `{missing}`"),
                "sign in with `username` and `password` (Basic auth or OAuth's password grant), or with \
                 `client_id` and `client_secret` alone (OAuth client credentials)",
            );
            return Decoded::invalid();
        }
        if let Some(password) = &password {
            cx.secret(password);
        }
        cx.secret(&callback);
        let password = password.as_ref().map(|p| p.expose()).unwrap_or_default();
        let mut settings =
            ServiceNowSettings::new(&instance, username.as_deref().unwrap_or_default(), password, callback.expose());
        if let Some((id, secret)) = &oauth {
            cx.secret(secret);
            settings = settings.with_oauth(id, secret.expose());
        }
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
