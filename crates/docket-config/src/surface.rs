//! The settings sections of `docket.yaml`: `server`, `storage`, `timezone`, `ticket_prefix`,
//! `databases`, `slack` and `teams`. Secrets are wrapped so they never print.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use jiff::tz::TimeZone;

use crate::decode::{Fields, excerpt, ident, int_in, nonempty, open_map, text};
use crate::diagnostic::Report;
use crate::model::{Secret, Server, Slack, Storage, Teams};
use crate::node::Node;
use docket_core::text::did_you_mean;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const BOT_FRAMEWORK_METADATA: &str = "https://login.botframework.com/v1/.well-known/openidconfiguration";
const BOT_FRAMEWORK_TOKEN: &str = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";
const STORE_SCHEMES: [&str; 3] = ["sqlite:", "postgres://", "postgresql://"];

/// `server: {listen, public_url}`.
pub(crate) fn server(node: Option<&Node>, report: &mut Report) -> Option<Server> {
    let default = SocketAddr::from(([127, 0, 0, 1], 8080));
    let Some(node) = node else { return Some(Server { listen: default, public_url: None, max_connections: None }) };
    let fields = Fields::open(node, "server section", &["listen", "public_url", "max_connections"], report)?;
    let listen = fields.opt("listen", report, listen).or(default);
    let public_url = fields.opt("public_url", report, |n, r| url(n, &["https://", "http://"], r)).optional();
    let max_connections = fields.opt("max_connections", report, |n, r| int_in(n, 1, 1_000_000, r)).optional();
    let public_url = public_url?.map(|u| u.trim_end_matches('/').to_owned());
    Some(Server { listen: listen?, public_url, max_connections: max_connections? })
}

fn listen(node: &Node, report: &mut Report) -> Option<SocketAddr> {
    let value = text(node, report)?;
    let message = format!("`{}` is not an address and port", excerpt(&value));
    value
        .parse()
        .map_err(|_| report.error_hint(node.pos, message, format!("write e.g. {DEFAULT_LISTEN} or [::]:8080")))
        .ok()
}

/// `storage: {url}`.
pub(crate) fn storage(node: Option<&Node>, report: &mut Report) -> Option<Storage> {
    let default = Storage { url: Secret::new("sqlite://./docket.db") };
    let Some(node) = node else { return Some(default) };
    let fields = Fields::open(node, "storage section", &["url"], report)?;
    let url = fields.opt("url", report, |n, r| url(n, &STORE_SCHEMES, r)).optional()?;
    Some(url.map_or(default, |u| Storage { url: Secret::new(u) }))
}

/// `databases: {name: url}`: every name written (valid or not, for checking `sql` steps), and
/// the databases when all are valid.
pub(crate) fn databases(
    node: Option<&Node>,
    report: &mut Report,
) -> (BTreeSet<String>, Option<BTreeMap<String, Secret>>) {
    let Some(node) = node else { return (BTreeSet::new(), Some(BTreeMap::new())) };
    let before = report.error_count();
    let Some(entries) = open_map(node, "database names to URLs", report) else { return (BTreeSet::new(), None) };
    let mut names = BTreeSet::new();
    let mut out = BTreeMap::new();
    for (written, key, value) in entries {
        names.insert(written.to_owned());
        let name = ident(key, report);
        let url = url(value, &STORE_SCHEMES, report);
        if let (Some(name), Some(url)) = (name, url) {
            out.insert(name, Secret::new(url));
        }
    }
    (names, (report.error_count() == before).then_some(out))
}

/// `timezone`: an IANA name such as `Europe/Berlin`.
pub(crate) fn timezone(node: Option<&Node>, report: &mut Report) -> Option<(String, TimeZone)> {
    let Some(node) = node else { return Some(("UTC".to_owned(), TimeZone::UTC)) };
    let name = text(node, report)?;
    match TimeZone::get(&name) {
        Ok(zone) => Some((name, zone)),
        Err(_) => {
            let names: Vec<String> = jiff::tz::db().available().map(|n| n.as_str().to_owned()).collect();
            let hint = did_you_mean(&name, names.iter().map(String::as_str))
                .unwrap_or_else(|| "use an IANA name such as Europe/Berlin, America/New_York or UTC".to_owned());
            report.error_hint(node.pos, format!("unknown time zone `{}`", excerpt(&name)), hint);
            None
        }
    }
}

/// `ticket_prefix`: 1–16 upper-case ASCII letters.
pub(crate) fn ticket_prefix(node: Option<&Node>, report: &mut Report) -> Option<String> {
    let Some(node) = node else { return Some("DKT".to_owned()) };
    let value = text(node, report)?;
    let letters = value.chars().all(|c| c.is_ascii_alphabetic());
    if letters && (1..=16).contains(&value.len()) && value.chars().all(|c| c.is_ascii_uppercase()) {
        return Some(value);
    }
    let message = format!("`{}` is not a ticket prefix", excerpt(&value));
    let hint = if letters && (1..=16).contains(&value.len()) {
        format!("use upper-case letters: `{}`", value.to_ascii_uppercase())
    } else {
        "use 1 to 16 upper-case letters A-Z, like DKT".to_owned()
    };
    report.error_hint(node.pos, message, hint);
    None
}

/// `slack: {signing_secret, bot_token, app_token, api_url, command, approvals_channel}`.
pub(crate) fn slack(node: &Node, report: &mut Report) -> Option<Slack> {
    let keys = ["signing_secret", "bot_token", "app_token", "api_url", "command", "approvals_channel"];
    let fields = Fields::open(node, "slack section", &keys, report)?;
    let signing_secret = fields.req("signing_secret", report, secret);
    let bot_token = fields.req("bot_token", report, secret);
    let app_token = fields.opt("app_token", report, secret).optional();
    let api_url = fields.opt("api_url", report, |n, r| url(n, &["https://", "http://"], r));
    let command = fields.opt("command", report, command).or("/docket".to_owned());
    let approvals_channel = fields.opt("approvals_channel", report, nonempty).optional();
    Some(Slack {
        signing_secret: signing_secret?,
        bot_token: bot_token?,
        app_token: app_token?,
        api_url: api_url.or("https://slack.com/api".to_owned())?.trim_end_matches('/').to_owned(),
        command: command?,
        approvals_channel: approvals_channel?,
    })
}

fn command(node: &Node, report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    if value.len() > 1 && value.starts_with('/') && !value.contains(char::is_whitespace) {
        return Some(value);
    }
    report.error_hint(node.pos, format!("`{}` is not a slash command", excerpt(&value)), "write e.g. /docket");
    None
}

/// `teams: {app_id, app_password, tenant_id, openid_metadata_url, token_url, issuer, approvals_channel}`.
pub(crate) fn teams(node: &Node, report: &mut Report) -> Option<Teams> {
    let keys =
        ["app_id", "app_password", "tenant_id", "openid_metadata_url", "token_url", "issuer", "approvals_channel"];
    let fields = Fields::open(node, "teams section", &keys, report)?;
    let app_id = fields.req("app_id", report, nonempty);
    let app_password = fields.req("app_password", report, secret);
    let tenant_id = fields.opt("tenant_id", report, nonempty).optional();
    let https = ["https://", "http://"];
    let metadata = fields.opt("openid_metadata_url", report, |n, r| url(n, &https, r));
    let token_url = fields.opt("token_url", report, |n, r| url(n, &https, r)).or(BOT_FRAMEWORK_TOKEN.to_owned());
    let issuer = fields.opt("issuer", report, nonempty).or(BOT_FRAMEWORK_ISSUER.to_owned());
    let approvals_channel = fields.opt("approvals_channel", report, nonempty).optional();
    let (tenant_id, mut token_url) = (tenant_id?, token_url?);
    if token_url.contains("{tenant_id}") {
        match &tenant_id {
            Some(tenant) => token_url = token_url.replace("{tenant_id}", tenant),
            None => {
                let at = fields.get("token_url").map_or(fields.pos(), |n| n.pos);
                report.error(at, "`token_url` uses {tenant_id}, but `tenant_id` is not set");
                return None;
            }
        }
    }
    Some(Teams {
        app_id: app_id?,
        app_password: app_password?,
        tenant_id,
        openid_metadata_url: metadata.or(BOT_FRAMEWORK_METADATA.to_owned())?,
        token_url,
        issuer: issuer?,
        approvals_channel: approvals_channel?,
    })
}

fn secret(node: &Node, report: &mut Report) -> Option<Secret> {
    nonempty(node, report).map(Secret::new)
}

/// A URL starting with one of `schemes`.
fn url(node: &Node, schemes: &[&str], report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    if schemes.iter().any(|s| value.len() > s.len() && value.starts_with(s)) {
        return Some(value);
    }
    let message = format!("`{}` is not a URL starting with {}", excerpt(&value), schemes.join(" or "));
    report.error(node.pos, message);
    None
}

/// The password in `scheme://user:password@host/…`, to redact it wherever it shows up.
pub(crate) fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_passwords_in_urls() {
        assert_eq!(url_password("postgres://docket:s3cret@db/docket"), Some("s3cret"));
        assert_eq!(url_password("postgres://docket@db/docket"), None);
        assert_eq!(url_password("sqlite://./docket.db"), None);
    }
}
