//! `docket teams manifest`'s package: a zip with manifest.json for the configured app id and
//! both icons at the sizes Teams requires.

use std::io::Read as _;

use docket_teams::TeamsSettings;
use docket_teams::manifest::{ManifestError, package};

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()))
}

#[test]
fn the_package_has_the_manifest_and_both_icons() {
    let mut settings = TeamsSettings::new("11111111-2222-3333-4444-555555555555", "secret");
    settings.public_url = Some("https://docket.example.com".into());
    let bytes = package(&settings, "1.2.0").unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["color.png", "manifest.json", "outline.png"]);
    let read = |zip: &mut zip::ZipArchive<_>, name: &str| {
        let mut out = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut out).unwrap();
        out
    };
    let manifest: serde_json::Value = serde_json::from_slice(&read(&mut zip, "manifest.json")).unwrap();
    assert_eq!(manifest["manifestVersion"], "1.16");
    assert_eq!(manifest["id"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(manifest["version"], "1.2.0");
    assert_eq!(manifest["bots"][0]["botId"], manifest["id"]);
    assert_eq!(manifest["bots"][0]["scopes"], serde_json::json!(["personal", "team", "groupChat"]));
    assert!(manifest["bots"][0]["commandLists"][0]["commands"].as_array().unwrap().len() >= 3);
    assert_eq!(manifest["validDomains"], serde_json::json!(["docket.example.com"]));
    // Resource-specific consent to read messages where the app is installed (schema 1.12+).
    assert_eq!(manifest["webApplicationInfo"]["id"], manifest["id"]);
    assert_eq!(
        manifest["authorization"]["permissions"]["resourceSpecific"],
        serde_json::json!([
            { "name": "ChannelMessage.Read.Group", "type": "Application" },
            { "name": "ChatMessage.Read.Chat", "type": "Application" },
        ])
    );
    assert_eq!(manifest["icons"]["color"], "color.png");
    assert_eq!(png_size(&read(&mut zip, "color.png")), (192, 192));
    assert_eq!(png_size(&read(&mut zip, "outline.png")), (32, 32));
    assert!(!serde_json::to_string(&manifest).unwrap().contains("secret"));
}

#[test]
fn the_package_needs_a_public_url() {
    let settings = TeamsSettings::new("app", "secret");
    assert!(matches!(package(&settings, "1.0.0"), Err(ManifestError::NoPublicUrl)));
}
