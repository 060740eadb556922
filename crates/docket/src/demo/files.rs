//! The demo's data folder: its configuration and workflows (written on every start, so they
//! match this binary), and the API tokens of its sample people (made once, kept).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use docket_app::App;

const DOCKET_YAML: &str = include_str!("../../demo/docket.yaml");
const WORKFLOWS: [(&str, &str); 7] = [
    ("deploy.yaml", include_str!("../../demo/workflows/deploy.yaml")),
    ("deploy-to-cluster.yaml", include_str!("../../demo/workflows/deploy-to-cluster.yaml")),
    ("restart-pipeline.yaml", include_str!("../../demo/workflows/restart-pipeline.yaml")),
    ("rotate-credential.yaml", include_str!("../../demo/workflows/rotate-credential.yaml")),
    ("resize-workers.yaml", include_str!("../../demo/workflows/resize-workers.yaml")),
    ("sales-report.yaml", include_str!("../../demo/workflows/sales-report.yaml")),
    ("close-accounts.yaml", include_str!("../../demo/workflows/close-accounts.yaml")),
];
/// The shop database's tables and sample rows, made when the file is first created.
const SHOP: &str = "\
    CREATE TABLE sales (day TEXT NOT NULL, region TEXT NOT NULL, total REAL NOT NULL, note TEXT);
    INSERT INTO sales VALUES
      ('2026-11-23', 'emea', 1250.5, NULL), ('2026-11-23', 'amer', 2210.0, NULL),
      ('2026-11-24', 'emea', 1234.5, 'black friday, early'), ('2026-11-24', 'emea', 815.25, NULL),
      ('2026-11-24', 'amer', 3020.75, NULL), ('2026-11-24', 'apac', 640.0, 'holiday in \"JP\"'),
      ('2026-11-24', 'apac', 99.99, NULL), ('2026-11-25', 'amer', 1800.0, NULL);
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, status TEXT NOT NULL, note TEXT);
    INSERT INTO accounts (customer, status) VALUES
      ('acme', 'open'), ('acme', 'open'), ('globex', 'open'), ('globex', 'open'), ('globex', 'open'),
      ('initech', 'open'), ('initech', 'closed');";
/// The credentials file's name in the data folder.
pub(super) const CREDENTIALS: &str = "credentials.json";
/// The people who get tokens.
const PEOPLE: [&str; 4] = ["alice", "bob", "carol", "dana"];

/// Writes the configuration (saying it listens on `listen`, the address the demo bound),
/// workflows and the kubeconfig of the stand-in cluster at `cluster` into `data_dir`; returns the
/// configuration's path.
pub(super) fn write(data_dir: &Path, exe: &Path, listen: SocketAddr, cluster: &str) -> anyhow::Result<PathBuf> {
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
    std::fs::create_dir_all(data_dir.join("kube"))?;
    std::fs::write(data_dir.join("kube/demo.yaml"), super::cluster::kubeconfig(cluster))?;
    let path = data_dir.join("docket.yaml");
    std::fs::write(&path, DOCKET_YAML.replace("@LISTEN@", &listen.to_string()))?;
    Ok(path)
}

/// Makes the demo's shop database (`shop.db`, a SQLite file the `sql` sample workflows read and
/// change) with its sample rows, unless it exists: what earlier tickets changed is kept.
pub(super) async fn shop(data_dir: &Path) -> anyhow::Result<()> {
    let path = data_dir.join("shop.db");
    if path.exists() {
        return Ok(());
    }
    let fresh = data_dir.join("shop.db.new");
    let _ = std::fs::remove_file(&fresh);
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&fresh).create_if_missing(true);
    let mut conn = sqlx::ConnectOptions::connect(&options).await.context("creating the demo's shop database")?;
    sqlx::raw_sql(SHOP).execute(&mut conn).await.context("filling the demo's shop database")?;
    sqlx::Connection::close(conn).await?;
    std::fs::rename(&fresh, &path)?;
    Ok(())
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
