//! The Teams app package `docket teams manifest` writes: `manifest.json` (schema 1.16, one
//! bot in personal, team and group chat scopes with its commands, and the resource-specific
//! consent to read the messages where it is installed) and the two icons, in a zip that people
//! upload to Teams.

use std::io::Write as _;

use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

use crate::png;
use crate::settings::TeamsSettings;

/// The manifest schema version written.
pub const MANIFEST_VERSION: &str = "1.16";

/// The resource-specific consent the app asks for: read a team's channel messages, read a
/// chat's messages (application permissions, granted per team or chat at install).
pub const RSC_PERMISSIONS: [&str; 2] = ["ChannelMessage.Read.Group", "ChatMessage.Read.Chat"];

/// Why no package could be made.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A public URL is needed: Teams links to it and allows its domain.
    #[error("the manifest needs `server.public_url` (an https:// URL where people reach Docket)")]
    NoPublicUrl,
    /// The public URL does not parse.
    #[error("`server.public_url` is not a URL: {0}")]
    BadUrl(String),
    /// Writing the zip failed.
    #[error("could not write the package: {0}")]
    Zip(String),
}

/// `manifest.json` for `settings`' bot, at app version `version`.
pub fn manifest(settings: &TeamsSettings, version: &str) -> Result<Value, ManifestError> {
    let public = settings.public_url.as_deref().ok_or(ManifestError::NoPublicUrl)?;
    let parsed = url::Url::parse(public).map_err(|e| ManifestError::BadUrl(e.to_string()))?;
    let host = parsed.host_str().ok_or_else(|| ManifestError::BadUrl("no host".to_owned()))?.to_owned();
    let commands = json!([
        { "title": "help", "description": "What Docket can do for you" },
        { "title": "list", "description": "Your latest tickets" },
        { "title": "status", "description": "Where a ticket stands: status DKT-42" },
    ]);
    let rsc: Vec<Value> = RSC_PERMISSIONS.iter().map(|name| json!({ "name": name, "type": "Application" })).collect();
    Ok(json!({
        "$schema": format!("https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"),
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": settings.app_id,
        "developer": {
            "name": "Docket",
            "websiteUrl": public,
            "privacyUrl": public,
            "termsOfUseUrl": public,
        },
        "name": { "short": "Docket", "full": "Docket: approved workflows from chat" },
        "description": {
            "short": "Request, approve and watch pre-approved workflows.",
            "full": "Docket turns a request in words into a ticket that runs one pre-approved, parameterized workflow. Approvers see the exact plan and decide on the card; the run is reported on the same card.",
        },
        "icons": { "color": "color.png", "outline": "outline.png" },
        "accentColor": "#2563EB",
        "bots": [{
            "botId": settings.app_id,
            "scopes": ["personal", "team", "groupChat"],
            "supportsFiles": false,
            "isNotificationOnly": false,
            "commandLists": [
                { "scopes": ["personal"], "commands": commands },
                { "scopes": ["team", "groupChat"], "commands": commands },
            ],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        // Granted by whoever installs the app in a team or chat (schema 1.12 and later): Graph
        // then lets the bot read messages there, to find one an interrupted delivery posted.
        "webApplicationInfo": { "id": settings.app_id },
        "authorization": { "permissions": { "resourceSpecific": rsc } },
        "validDomains": [host],
    }))
}

/// The app package: a zip with `manifest.json`, `color.png` and `outline.png`.
pub fn package(settings: &TeamsSettings, version: &str) -> Result<Vec<u8>, ManifestError> {
    let manifest = manifest(settings, version)?;
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| ManifestError::Zip(e.to_string()))?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let files = [("manifest.json", text), ("color.png", png::color_icon()), ("outline.png", png::outline_icon())];
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(|e| ManifestError::Zip(e.to_string()))?;
        zip.write_all(&bytes).map_err(|e| ManifestError::Zip(e.to_string()))?;
    }
    let cursor = zip.finish().map_err(|e| ManifestError::Zip(e.to_string()))?;
    Ok(cursor.into_inner())
}
