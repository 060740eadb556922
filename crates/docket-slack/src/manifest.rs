//! `docket slack manifest`: a Slack app manifest (YAML-compatible JSON) with the scopes Docket
//! needs, the slash command, shortcuts, and the interactivity and event URLs under
//! `server.public_url` — or Socket Mode, which needs no public URL.

use serde_json::{Value, json};

/// What the manifest depends on.
#[derive(Clone, Debug)]
pub struct ManifestOptions {
    /// The app's display name.
    pub name: String,
    /// The slash command (`/docket`).
    pub command: String,
    /// Where Slack reaches Docket (`server.public_url`); required unless Socket Mode is on.
    pub public_url: Option<String>,
    /// Socket Mode instead of request URLs.
    pub socket_mode: bool,
}

/// Bot scopes Docket uses, each for a reason.
pub const BOT_SCOPES: [&str; 11] = [
    "commands",          // the slash command and shortcuts
    "chat:write",        // ticket messages, replies, approval requests
    "chat:write.public", // post in public channels without being invited first
    "app_mentions:read", // @Docket in a channel or thread
    "im:write",          // open DMs to approvers (conversations.open)
    "users:read",        // users.info, users.lookupByEmail
    "users:read.email",  // match Slack users to people by email, both ways
    "channels:history",  // find a message a delivery cut short may have posted, before posting again
    "groups:history",    // … in a private channel
    "im:history",        // … in a DM
    "files:write",       // a report's whole result as a CSV file in its ticket's thread
];

/// The manifest, or why it cannot be made.
pub fn manifest(options: &ManifestOptions) -> Result<Value, String> {
    let base = options.public_url.as_deref().map(|u| u.trim_end_matches('/').to_owned());
    if !options.socket_mode && base.is_none() {
        return Err(
            "set server.public_url (Slack must reach Docket over HTTPS) or slack.app_token (Socket Mode)".to_owned()
        );
    }
    let url = |path: &str| base.as_ref().map(|b| format!("{b}{path}"));
    let mut command = json!({
        "command": options.command,
        "description": "Open a Docket ticket, or see yours",
        "usage_hint": "[deploy api 1.4.2 to prod | list | status DKT-42 | help]",
        "should_escape": false,
    });
    let mut interactivity = json!({ "is_enabled": true });
    let mut events = json!({ "bot_events": ["app_mention"] });
    if !options.socket_mode {
        command["url"] = json!(url("/slack/commands"));
        interactivity["request_url"] = json!(url("/slack/interactions"));
        events["request_url"] = json!(url("/slack/events"));
    }
    Ok(json!({
        "display_information": {
            "name": options.name,
            "description": "Open tickets, approve plans and watch runs without leaving Slack.",
        },
        "features": {
            "bot_user": { "display_name": options.name, "always_online": true },
            "slash_commands": [command],
            "shortcuts": [
                { "name": "Open a Docket ticket", "type": "message", "callback_id": "docket.open_from_message", "description": "Open a ticket about this message" },
                { "name": "Open a Docket ticket", "type": "global", "callback_id": "docket.open", "description": "Pick a workflow and fill in its form" },
            ],
        },
        "oauth_config": { "scopes": { "bot": BOT_SCOPES } },
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": false,
            "socket_mode_enabled": options.socket_mode,
            "token_rotation_enabled": false,
        },
    }))
}
