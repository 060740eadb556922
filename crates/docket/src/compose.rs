//! The composition root: configuration in, a ready [`App`] out. The only place that knows
//! every crate, and (with the CLI) the only one that reads the environment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use docket_app::{App, AppParts, Notifier, RuleBook, Settings, Store, SystemClock};
use docket_config::{Config, Loaded, Storage};
use docket_core::redact::Redactor;
use docket_core::{Catalog, Directory, PolicySet};
use jiff::tz::TimeZone;

use docket_plugins::{Launch, LocalProcesses, Surfaces, plugins};

/// The running binary, even after it was replaced on disk (an upgrade): step supervisors are
/// this same program.
const SELF_EXE: &str = "/proc/self/exe";

/// A loaded configuration and the app built from it.
pub(crate) struct Composed {
    pub(crate) app: App,
    pub(crate) config: Config,
    pub(crate) warnings: Vec<String>,
    /// The chat surfaces it turns on, to attach once the app runs.
    pub(crate) surfaces: Surfaces,
}

/// Looks up `${VAR}` in the process's environment.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads the configuration at `path`, or says every error in it.
pub(crate) fn load(path: &Path) -> anyhow::Result<Loaded> {
    docket_config::load(path, &env, &plugins()).map_err(|diagnostics| refused(path, &diagnostics))
}

/// The `server` section alone, for `docket mcp`.
pub(crate) fn load_server(path: &Path) -> anyhow::Result<docket_config::Server> {
    docket_config::load_server(path, &env, &plugins()).map_err(|diagnostics| refused(path, &diagnostics))
}

/// What a command that works on the database directly needs from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Needs {
    /// `storage` alone (`docket audit`).
    Storage,
    /// `storage` and the people (`docket token create`).
    People,
}

/// An app over the store alone, for commands that read or write the database directly: only
/// the sections `needs` names are read (so `${VAR}` elsewhere, such as chat or sign-in secrets,
/// need not be set), and the app has no workflows, no policies, no runners and no notifiers.
pub(crate) async fn store_app(path: &Path, needs: Needs) -> anyhow::Result<App> {
    let (settings, directory) = match needs {
        Needs::Storage => (docket_config::load_storage(path, &env, &plugins()), Directory::default()),
        Needs::People => match docket_config::load_people(path, &env, &plugins()) {
            Ok((settings, directory)) => (Ok(settings), directory),
            Err(diagnostics) => (Err(diagnostics), Directory::default()),
        },
    };
    let settings = settings.map_err(|diagnostics| refused(path, &diagnostics))?;
    let token_lifetime = lifetime(settings.tokens.expires);
    let (store, exclusive) = open_storage(&settings.storage, &settings.path).await?;
    let rules = RuleBook {
        catalog: Catalog::default(),
        policies: PolicySet::default(),
        directory,
        zone: TimeZone::UTC,
        redactor: Redactor::new(Vec::new()),
        ticket_prefix: "DKT".to_owned(),
    };
    let settings = Settings { exclusive, token_lifetime, ..Settings::default() };
    let clock = Arc::new(SystemClock);
    let parts = AppParts {
        rules,
        settings,
        store,
        runners: Vec::new(),
        notifiers: Vec::new(),
        clock,
        processes: None,
        reloader: None,
        config_read: None,
    };
    Ok(App::new(parts))
}

/// `tokens.expires` as the app's lifetime of new tokens.
fn lifetime(expires: Option<docket_core::Duration>) -> Option<std::time::Duration> {
    expires.map(docket_core::Duration::to_std)
}

/// Every error that stops the configuration at `path` from loading, and how many in which files.
fn refused(path: &Path, diagnostics: &docket_config::Diagnostics) -> anyhow::Error {
    let errors = diagnostics.errors().iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n");
    anyhow::anyhow!("{} cannot be loaded ({}):\n{errors}", path.display(), diagnostics.summary())
}

/// Opens the store the configuration names. Relative SQLite paths are relative to the
/// configuration file's folder, wherever Docket is started from.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<(Arc<dyn Store>, bool)> {
    open_storage(&config.storage, &config.path).await
}

async fn open_storage(storage: &Storage, config_path: &Path) -> anyhow::Result<(Arc<dyn Store>, bool)> {
    let url = storage.url.expose();
    if let Some(path) = sqlite_path(url, config_path) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let store = docket_store::SqliteStore::open(&path)
            .await
            .with_context(|| format!("opening the SQLite database {}", path.display()))?;
        return Ok((Arc::new(store), true));
    }
    let store = docket_store::open(url).await.context("opening the database")?;
    Ok((store, false))
}

fn sqlite_path(url: &str, config_path: &Path) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    if rest.starts_with(":memory:") {
        return None;
    }
    let rest = rest.split('?').next().unwrap_or(rest);
    let path = Path::new(rest);
    if path.is_absolute() {
        return Some(path.to_path_buf());
    }
    let folder = config_path.parent().unwrap_or(Path::new("."));
    Some(folder.join(path))
}

/// Builds the app for the configuration at `path` (not started), with `notifiers` besides those
/// of the chat surfaces the configuration turns on.
pub(crate) async fn compose(path: &Path, mut notifiers: Vec<Arc<dyn Notifier>>) -> anyhow::Result<Composed> {
    // Before the files are opened: a reload another replica takes from here on is newer than
    // what this one reads (opening the store can wait a while, for another replica's migration).
    let config_read = jiff::Timestamp::now();
    let loaded = load(path)?;
    let surfaces = Surfaces::from_config(&loaded.config)?;
    notifiers.extend(surfaces.notifiers());
    let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
    let (store, exclusive) = open_store(&loaded.config).await?;
    let public_url = loaded.config.server.public_url.clone();
    let token_lifetime = lifetime(loaded.config.tokens.expires);
    let settings = Settings { exclusive, base_env: base_env(), public_url, token_lifetime, ..Settings::default() }
        .sharing(!exclusive);
    // Every step's program is started by this server's step supervisor (this binary, `docket
    // __supervise`, started when the first step needs it), so its process group dies with this
    // server; and this host's step processes are recorded, so a
    // restart ends whatever a dead server left before any run resumes.
    let launch = Launch::supervised(SELF_EXE);
    let runners = docket_plugins::runners(&loaded.config, launch.clone(), &host())?;
    let processes = LocalProcesses::new().context("reading this process's identity in /proc")?;
    let config = loaded.config.clone();
    let digest = docket_config::loaded_digest(&loaded);
    let reloader = crate::reload::FileReloader::new(loaded.config.clone(), digest, launch);
    let app = App::new(AppParts {
        rules: rule_book(loaded),
        settings,
        store,
        runners,
        notifiers,
        clock: Arc::new(SystemClock),
        processes: Some(Arc::new(processes)),
        reloader: Some(Arc::new(reloader)),
        config_read: Some(config_read),
    });
    Ok(Composed { app, config, warnings, surfaces })
}

/// What step kinds learn from this host's environment: in a pod, where the cluster's API server
/// is.
pub(crate) fn host() -> docket_plugins::Host {
    let kubernetes = docket_plugins::InCluster {
        host: env("KUBERNETES_SERVICE_HOST"),
        port: env("KUBERNETES_SERVICE_PORT"),
        ..docket_plugins::InCluster::default()
    };
    docket_plugins::Host { kubernetes }
}

/// The rules a loaded configuration decides by.
pub(crate) fn rule_book(loaded: Loaded) -> RuleBook {
    RuleBook {
        ticket_prefix: loaded.config.ticket_prefix.clone(),
        catalog: loaded.catalog,
        policies: loaded.policies,
        directory: loaded.directory,
        zone: loaded.zone,
        redactor: loaded.redactor,
    }
}

/// What every step's environment starts from: a fixed `PATH` (the server's own `PATH` would
/// make steps depend on how the server was started), and a `LANG` so tools print UTF-8.
fn base_env() -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        ("PATH".to_owned(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
    ])
}
