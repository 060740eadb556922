//! The settings sections of `docket.yaml`: `server`, `storage`, `timezone` and `ticket_prefix`,
//! and the readers of URLs and secrets that plug-ins use for theirs. Secrets are wrapped so
//! they never print.

use std::net::SocketAddr;

use jiff::tz::TimeZone;

use crate::decode::{Fields, duration, excerpt, int_in, nonempty, text};
use crate::diagnostic::Report;
use crate::model::{Secret, Server, Storage, TokenSettings};
use crate::node::Node;
use docket_core::text::did_you_mean;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
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

/// `tokens: {expires}`: how long an API token lives unless its maker says otherwise (`90d`
/// by default; `never` to make tokens that do not expire unless asked).
pub(crate) fn tokens(node: Option<&Node>, report: &mut Report) -> Option<TokenSettings> {
    let Some(node) = node else { return Some(TokenSettings::default()) };
    let fields = Fields::open(node, "tokens section", &["expires"], report)?;
    let expires = fields.opt("expires", report, |n, r| {
        if text(n, r)?.trim() == "never" {
            return Some(None);
        }
        let lifetime = duration(n, r)?;
        if lifetime.as_millis() == 0 {
            r.error_hint(n.pos, "tokens that expire at once are of no use", "write e.g. 90d, or never");
            return None;
        }
        Some(Some(lifetime))
    });
    Some(TokenSettings { expires: expires.or(TokenSettings::default().expires)? })
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

/// `run_as`: a user name as `useradd` takes them (a letter or `_`, then letters, digits, `_`
/// or `-`; at most 32). Whether the user exists is known only on the server's host, when a step
/// starts.
pub(crate) fn user_name(node: &Node, report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    let mut chars = value.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first && rest && value.len() <= 32 {
        return Some(value);
    }
    let message = format!("`{}` is not a user name", excerpt(&value));
    report.error_hint(
        node.pos,
        message,
        "a user on the server's host, such as docket-steps: lower-case letters, digits, `_` or `-`",
    );
    None
}

/// A secret setting: non-empty text, never shown.
pub fn secret(node: &Node, report: &mut Report) -> Option<Secret> {
    nonempty(node, report).map(Secret::new)
}

/// A URL starting with one of `schemes`.
pub fn url(node: &Node, schemes: &[&str], report: &mut Report) -> Option<String> {
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
