//! Slack's part of `docket.yaml`, read by Slack itself: the `slack` section (into
//! [`SlackSettings`]), a person's Slack user id (`people[].slack`), and a policy's
//! `notify.slack` channel.

use docket_config::plugin::{
    Decoded, Fields, Node, Report, Section, SectionContext, excerpt, nonempty, secret, text, url,
};

use crate::SlackSettings;

/// The `slack` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct SlackSection;

impl Section for SlackSection {
    fn key(&self) -> &'static str {
        crate::SCOPE
    }

    fn person_key(&self) -> Option<(&'static str, &'static str)> {
        Some((crate::SCOPE, "Slack user"))
    }

    fn notifies(&self) -> bool {
        true
    }

    /// `slack: {signing_secret, bot_token, app_token, api_url, command, approvals_channel}`.
    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let keys = ["signing_secret", "bot_token", "app_token", "api_url", "command", "approvals_channel"];
        let Some(fields) = Fields::open(node, "slack section", &keys, cx.report()) else { return Decoded::invalid() };
        let signing_secret = fields.req("signing_secret", cx.report(), secret);
        let bot_token = fields.req("bot_token", cx.report(), secret);
        let app_token = fields.opt("app_token", cx.report(), secret).optional();
        let api_url = fields.opt("api_url", cx.report(), |n, r| url(n, &["https://", "http://"], r));
        let command = fields.opt("command", cx.report(), command).or("/docket".to_owned());
        let approvals_channel = fields.opt("approvals_channel", cx.report(), nonempty).optional();
        let (Some(signing_secret), Some(bot_token), Some(app_token), Some(api_url), Some(command), Some(channel)) = (
            signing_secret,
            bot_token,
            app_token,
            api_url.or("https://slack.com/api".to_owned()),
            command,
            approvals_channel,
        ) else {
            return Decoded::invalid();
        };
        for value in [&signing_secret, &bot_token].into_iter().chain(&app_token) {
            cx.secret(value);
        }
        let mut settings = SlackSettings::new(signing_secret.expose(), bot_token.expose());
        settings.app_token = app_token.map(|t| t.expose().to_owned());
        settings.api_url = api_url.trim_end_matches('/').to_owned();
        settings.command = command;
        settings.approvals_channel = channel;
        settings.public_url = cx.public_url().map(str::to_owned);
        Decoded::value(settings)
    }
}

fn command(node: &Node, report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    if value.len() > 1 && value.starts_with('/') && !value.contains(char::is_whitespace) {
        return Some(value);
    }
    report.error_hint(node.pos, format!("`{}` is not a slash command", excerpt(&value)), "write e.g. /docket");
    None
}
