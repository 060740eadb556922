//! The web UI's part of `docket.yaml`, read by the web surface itself: how people sign in,
//! `web: { oidc: { issuer, client_id, client_secret, scopes } }`.

use docket_config::plugin::{Decoded, Fields, Node, Report, Section, SectionContext, list_of, nonempty, secret};

use crate::OidcOptions;

/// The `web` section as read.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// OpenID Connect sign-in, when configured.
    pub oidc: Option<OidcOptions>,
}

/// The `web` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebSection;

impl Section for WebSection {
    fn key(&self) -> &'static str {
        "web"
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let public_url = cx.public_url().map(str::to_owned);
        match web(node, public_url.as_deref(), cx.report()) {
            Some(web) => {
                if let Some(oidc) = &web.oidc {
                    cx.secret(&docket_config::Secret::new(oidc.client_secret.clone()));
                }
                Decoded::value(web)
            }
            None => Decoded::invalid(),
        }
    }
}

/// Scopes asked for when `scopes` is not written.
const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// `web: {oidc}`. `public_url` is `server.public_url`, which sign-in needs (the provider sends
/// browsers back to `{public_url}/auth/callback`).
fn web(node: &Node, public_url: Option<&str>, report: &mut Report) -> Option<WebConfig> {
    let fields = Fields::open(node, "web section", &["oidc"], report)?;
    let oidc = fields.opt("oidc", report, oidc).optional();
    if let Some(at) = fields.get("oidc").map(|n| n.pos)
        && public_url.is_none()
    {
        report.error_hint(
            at,
            "web sign-in needs `server.public_url`",
            "set server.public_url to the address people reach Docket at; the provider sends them back to {public_url}/auth/callback",
        );
        return None;
    }
    Some(WebConfig { oidc: oidc? })
}

/// `oidc: {issuer, client_id, client_secret, scopes}`.
fn oidc(node: &Node, report: &mut Report) -> Option<OidcOptions> {
    let keys = ["issuer", "client_id", "client_secret", "scopes"];
    let fields = Fields::open(node, "oidc section", &keys, report)?;
    let issuer = fields.req("issuer", report, issuer);
    let client_id = fields.req("client_id", report, nonempty);
    let client_secret = fields.req("client_secret", report, secret);
    let default: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let scopes = fields.opt("scopes", report, |n, r| list_of(n, "scopes", r, scope)).or(default);
    Some(OidcOptions {
        issuer: issuer?.trim_end_matches('/').to_owned(),
        client_id: client_id?,
        client_secret: client_secret?.expose().to_owned(),
        scopes: scopes?,
    })
}

/// An issuer: an https URL (http only for a provider on this machine).
fn issuer(node: &Node, report: &mut Report) -> Option<String> {
    let value = nonempty(node, report)?;
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| value.starts_with(p));
    if value.starts_with("https://") && value.len() > "https://".len() || local {
        return Some(value);
    }
    report.error_hint(
        node.pos,
        format!("`{value}` is not an issuer URL"),
        "write the provider's https URL, e.g. https://accounts.google.com or https://slack.com",
    );
    None
}

/// One scope: a single word.
fn scope(node: &Node, report: &mut Report) -> Option<String> {
    let value = nonempty(node, report)?;
    if value.contains(char::is_whitespace) {
        report.error_hint(node.pos, format!("`{value}` is not one scope"), "write each scope as its own list item");
        return None;
    }
    Some(value)
}
