//! Teams' part of `docket.yaml`, read by Teams itself: the `teams` section (into
//! [`TeamsSettings`]), a person's Entra object id (`people[].teams`), and a policy's
//! `notify.teams` conversation.

use docket_config::plugin::{Decoded, Fields, Node, Section, SectionContext, nonempty, secret, url};

use crate::TeamsSettings;

/// The `teams` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct TeamsSection;

impl Section for TeamsSection {
    fn key(&self) -> &'static str {
        crate::SURFACE
    }

    fn person_key(&self) -> Option<(&'static str, &'static str)> {
        Some((crate::SURFACE, "Teams user"))
    }

    fn notifies(&self) -> bool {
        true
    }

    /// `teams: {app_id, app_password, tenant_id, openid_metadata_url, token_url, issuer,
    /// approvals_channel, graph_url, graph_token_url}`; `{tenant_id}` in `token_url` is replaced
    /// by the tenant id (in `graph_token_url`, when a token is fetched, by the conversation's
    /// tenant if the bot has none).
    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let keys = [
            "app_id",
            "app_password",
            "tenant_id",
            "openid_metadata_url",
            "token_url",
            "issuer",
            "approvals_channel",
            "graph_url",
            "graph_token_url",
        ];
        let Some(fields) = Fields::open(node, "teams section", &keys, cx.report()) else { return Decoded::invalid() };
        let defaults = TeamsSettings::new("", "");
        let https = ["https://", "http://"];
        let app_id = fields.req("app_id", cx.report(), nonempty);
        let app_password = fields.req("app_password", cx.report(), secret);
        let tenant_id = fields.opt("tenant_id", cx.report(), nonempty).optional();
        let metadata = fields.opt("openid_metadata_url", cx.report(), |n, r| url(n, &https, r));
        let token_url = fields.opt("token_url", cx.report(), |n, r| url(n, &https, r));
        let issuer = fields.opt("issuer", cx.report(), nonempty);
        let approvals_channel = fields.opt("approvals_channel", cx.report(), nonempty).optional();
        let graph_url = fields.opt("graph_url", cx.report(), |n, r| url(n, &https, r)).or(defaults.graph_url.clone());
        let graph_token_url =
            fields.opt("graph_token_url", cx.report(), |n, r| url(n, &https, r)).or(defaults.graph_token_url.clone());
        let (Some(graph_url), Some(graph_token_url)) = (graph_url, graph_token_url) else {
            return Decoded::invalid();
        };
        let parts = (
            app_id,
            app_password,
            tenant_id,
            metadata.or(defaults.openid_metadata_url),
            token_url.or(defaults.token_url),
            issuer.or(defaults.issuer),
            approvals_channel,
        );
        let (
            Some(app_id),
            Some(password),
            Some(tenant_id),
            Some(metadata),
            Some(mut token_url),
            Some(issuer),
            Some(channel),
        ) = parts
        else {
            return Decoded::invalid();
        };
        if token_url.contains("{tenant_id}") {
            match &tenant_id {
                Some(tenant) => token_url = token_url.replace("{tenant_id}", tenant),
                None => {
                    let at = fields.get("token_url").map_or(fields.pos(), |n| n.pos);
                    cx.report().error(at, "`token_url` uses {tenant_id}, but `tenant_id` is not set");
                    return Decoded::invalid();
                }
            }
        }
        cx.secret(&password);
        let mut settings = TeamsSettings::new(app_id, password.expose());
        settings.tenant_id = tenant_id;
        settings.openid_metadata_url = metadata;
        settings.token_url = token_url;
        settings.issuer = issuer;
        settings.approvals_channel = channel;
        settings.graph_url = graph_url;
        settings.graph_token_url = graph_token_url;
        settings.public_url = cx.public_url().map(str::to_owned);
        Decoded::value(settings)
    }
}
