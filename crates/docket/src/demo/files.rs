//! The demo's data folder: its configuration and workflows (written on every start, so they
//! match this binary), and the API tokens of its sample people (made once, kept).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use docket_app::App;

const DOCKET_YAML: &str = include_str!("../../demo/docket.yaml");
const WORKFLOWS: [(&str, &str); 4] = [
    ("deploy.yaml", include_str!("../../demo/workflows/deploy.yaml")),
    ("restart-pipeline.yaml", include_str!("../../demo/workflows/restart-pipeline.yaml")),
    ("rotate-credential.yaml", include_str!("../../demo/workflows/rotate-credential.yaml")),
    ("resize-workers.yaml", include_str!("../../demo/workflows/resize-workers.yaml")),
];
/// The credentials file's name in the data folder.
pub(super) const CREDENTIALS: &str = "credentials.json";
/// The people who get tokens.
const PEOPLE: [&str; 4] = ["alice", "bob", "carol", "dana"];

/// Writes the configuration (saying it listens on `listen`, the address the demo bound) and
/// workflows into `data_dir`; returns the configuration's path.
pub(super) fn write(data_dir: &Path, exe: &Path, listen: SocketAddr) -> anyhow::Result<PathBuf> {
    let folder = data_dir.join("workflows");
    std::fs::create_dir_all(&folder)?;
    let exe = exe.to_str().context("the docket binary's path is not UTF-8")?;
    let data = data_dir.to_str().context("the data folder's path is not UTF-8")?;
    for (name, text) in WORKFLOWS {
        let text = text.replace("@DOCKET@", &yaml_escape(exe)).replace("@DATA@", &yaml_escape(data));
        std::fs::write(folder.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    // The Terraform stand-in: this binary under the name `terraform` (see `terraform.rs`).
    let bin = data_dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let stand_in = bin.join("terraform");
    let _ = std::fs::remove_file(&stand_in);
    std::os::unix::fs::symlink(exe, &stand_in).context("linking the demo's Terraform stand-in")?;
    std::fs::create_dir_all(data_dir.join("infrastructure"))?;
    let path = data_dir.join("docket.yaml");
    std::fs::write(&path, DOCKET_YAML.replace("@LISTEN@", &listen.to_string()))?;
    Ok(path)
}

/// Inside a double-quoted YAML string.
fn yaml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Makes tokens for the sample people the first time, and writes them with the URL to
/// `credentials.json` (readable by its owner only).
pub(super) async fn credentials(app: &App, data_dir: &Path, url: &str) -> anyhow::Result<()> {
    let path = data_dir.join(CREDENTIALS);
    let mut tokens = serde_json::Map::new();
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(existing) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(map) = existing.get("tokens").and_then(|t| t.as_object())
    {
        tokens = map.clone();
    }
    for person in PEOPLE {
        let valid = match tokens.get(person).and_then(|t| t.as_str()) {
            Some(token) => app.authenticate(token).await.is_ok(),
            None => false,
        };
        if !valid {
            let new = docket_app::NewToken {
                subject: docket_core::TokenSubject::Person(person.into()),
                name: "demo".to_owned(),
                lifetime: docket_app::TokenLifetime::Default,
            };
            let made = app.create_token(&docket_app::TokenAuthority::Operator("demo".to_owned()), new).await?;
            tokens.insert(person.to_owned(), made.secret.into());
        }
    }
    let doc = serde_json::json!({ "url": url, "tokens": tokens });
    std::fs::write(&path, serde_json::to_string_pretty(&doc)?)?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// The path as people would type it from where they started the demo.
pub(super) fn shown(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}
