//! Test support for Docket's crates (a dev-dependency only): [`TestApp`] is a real
//! [`docket_app::App`] over the SQLite store in a temporary folder, with the real runners and
//! the engine running, loaded from the fixture configuration in [`fixture`] or from files a test
//! passes; [`RecordingNotifier`] records deliveries; [`rsa`] makes RSA keys and RS256 tokens
//! for the fake identity providers.
//!
//! Setup failures panic: in a test, a failed setup is a failed test.

#![allow(clippy::expect_used, clippy::panic, reason = "test support: a failed setup is a failed test")]

pub mod changes;
pub mod fixture;
pub mod kubernetes;
mod logs;
mod notifier;
pub mod pipelines;
mod reloader;
pub mod results;
pub mod rsa;
pub mod slack;
pub mod teams;
pub mod terraform;
pub mod ticketing;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use docket_app::{App, AppParts, Clock, Engine, Notifier, Processes, RuleBook, Settings, Store, SystemClock};
use docket_config::plugin::Plugins;
use docket_core::{Ticket, TicketId, TicketState};
use tempfile::TempDir;

pub use logs::CapturedLogs;
pub use notifier::{Delivered, RecordingNotifier};

/// How long [`TestApp::wait_for_state`] waits.
const WAIT: Duration = Duration::from_secs(20);

/// Builds a [`TestApp`].
pub struct TestAppBuilder {
    docket_yaml: String,
    workflows: Vec<(String, String)>,
    settings: Settings,
    clock: Arc<dyn Clock>,
    notifiers: Vec<Arc<dyn Notifier>>,
    engine: bool,
    dir: Option<PathBuf>,
    env: Vec<(String, String)>,
    plugins: Plugins,
    runners: Vec<MakeRunner>,
}

/// Makes a step kind's runner from the loaded configuration (its section, say).
type MakeRunner = Box<dyn Fn(&docket_config::Config) -> Arc<dyn docket_app::StepRunner> + Send + Sync>;

impl std::fmt::Debug for TestAppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAppBuilder").field("workflows", &self.workflows.len()).finish_non_exhaustive()
    }
}

impl TestAppBuilder {
    /// Replaces `docket.yaml`.
    pub fn config(mut self, docket_yaml: &str) -> Self {
        self.docket_yaml = docket_yaml.to_owned();
        self
    }

    /// Replaces the catalog with these `(file name, contents)` workflow files.
    pub fn workflows(mut self, files: &[(&str, &str)]) -> Self {
        self.workflows = files.iter().map(|(n, c)| ((*n).to_owned(), (*c).to_owned())).collect();
        self
    }

    /// Adds a workflow file to the catalog.
    pub fn workflow(mut self, name: &str, contents: &str) -> Self {
        self.workflows.push((name.to_owned(), contents.to_owned()));
        self
    }

    /// Changes engine knobs.
    pub fn settings(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// Uses this clock (a [`docket_app::ManualClock`] for expiry tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds a notifier.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifiers.push(notifier);
        self
    }

    /// Sets an environment variable as the configuration sees it (`${NAME}` values, which are
    /// secrets and redacted everywhere).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds plug-ins the configuration needs (a surface's section, a step kind) besides the
    /// basic step kinds and the chat ids the fixture has.
    pub fn plugins(mut self, plugins: Plugins) -> Self {
        self.plugins = std::mem::take(&mut self.plugins).with(plugins);
        self
    }

    /// Adds a step kind's runner, made from the loaded configuration (add its decoder with
    /// [`TestAppBuilder::plugins`]).
    pub fn runner(
        mut self,
        make: impl Fn(&docket_config::Config) -> Arc<dyn docket_app::StepRunner> + Send + Sync + 'static,
    ) -> Self {
        self.runners.push(Box::new(make));
        self
    }

    /// Does not start the engine: nothing runs, expires or is delivered unless the test asks.
    pub fn without_engine(mut self) -> Self {
        self.engine = false;
        self
    }

    /// Keeps the data in `dir` (to open the same store again after a stop).
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Writes the files, loads them, opens the store and starts the engine.
    pub async fn start(self) -> TestApp {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = self.dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
        let config_path = write_files(&root, &self.docket_yaml, &self.workflows);
        let env = self.env.clone();
        let lookup = move |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let loaded = docket_config::load(&config_path, &lookup, &self.plugins).unwrap_or_else(|errors| {
            panic!("the test configuration does not load:\n{errors}");
        });
        // The app reloads its files as `docket serve` does (`App::reload`).
        let reloader = reloader::TestReloader {
            path: config_path.clone(),
            env: self.env.clone(),
            plugins: self.plugins.clone(),
            runners: self.runners,
            in_force: docket_config::InForce::new(docket_config::loaded_digest(&loaded), loaded.config.clone()),
        };
        let rules = RuleBook {
            catalog: loaded.catalog,
            policies: loaded.policies,
            directory: loaded.directory,
            zone: loaded.zone,
            redactor: loaded.redactor,
            ticket_prefix: loaded.config.ticket_prefix.clone(),
        };
        let db = root.join("docket.db");
        let store: Arc<dyn Store> =
            Arc::new(docket_store::SqliteStore::open(&db).await.expect("the SQLite store opens"));
        // Programs start directly (a test process has no supervisor mode); their groups are
        // still recorded, so the engine's start-up clean-up runs for real.
        let runners = reloader.runners(&loaded.config);
        let processes: Arc<dyn Processes> =
            Arc::new(docket_process::LocalProcesses::new().expect("this process in /proc"));
        let app = App::new(AppParts {
            rules,
            settings: self.settings,
            store: store.clone(),
            runners,
            notifiers: self.notifiers,
            clock: self.clock,
            processes: Some(processes.clone()),
            reloader: Some(Arc::new(reloader)),
            config_read: None,
        });
        let engine = if self.engine { Some(app.start().await.expect("the engine starts")) } else { None };
        TestApp { app, engine, store, processes, dir: root, _temp: temp }
    }
}

/// The basic step kinds, and the chat ids and `notify` targets the fixture names (a test that
/// runs a chat adds its section with [`TestAppBuilder::plugins`]).
pub fn base_plugins() -> Plugins {
    docket_steps::kinds()
        .person_key("slack", "Slack user")
        .person_key("teams", "Teams user")
        .notify_key("slack")
        .notify_key("teams")
}

fn write_files(root: &Path, docket_yaml: &str, workflows: &[(String, String)]) -> PathBuf {
    let folder = root.join("workflows");
    std::fs::create_dir_all(&folder).expect("the workflows folder");
    for (name, contents) in workflows {
        std::fs::write(folder.join(name), contents).expect("a workflow file");
    }
    let path = root.join("docket.yaml");
    std::fs::write(&path, docket_yaml).expect("docket.yaml");
    path
}

/// A running app for a test.
pub struct TestApp {
    /// The app.
    pub app: App,
    engine: Option<Engine>,
    store: Arc<dyn Store>,
    processes: Arc<dyn Processes>,
    dir: PathBuf,
    _temp: TempDir,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl TestApp {
    /// A builder with the fixture configuration, default settings (with short polls) and the
    /// system clock.
    pub fn builder() -> TestAppBuilder {
        let settings = Settings { poll: Duration::from_millis(50), ..Settings::default() };
        TestAppBuilder {
            docket_yaml: fixture::DOCKET_YAML.to_owned(),
            workflows: vec![("deploy.yaml".to_owned(), fixture::DEPLOY_YAML.to_owned())],
            settings,
            clock: Arc::new(SystemClock),
            notifiers: Vec::new(),
            engine: true,
            dir: None,
            env: Vec::new(),
            plugins: base_plugins(),
            runners: Vec::new(),
        }
    }

    /// The fixture app, running.
    pub async fn start() -> TestApp {
        Self::builder().start().await
    }

    /// The store under the app, for what a test sets up or checks beside it (the step
    /// process records a dead server would have left, say).
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// This host's step processes as the app sees them (this test process is the server).
    pub fn processes(&self) -> &dyn Processes {
        &*self.processes
    }

    /// The folder holding the configuration and the database.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A fresh API token for `person`.
    pub async fn token(&self, person: &str) -> String {
        self.make_token(docket_core::TokenSubject::Person(person.into())).await
    }

    /// A fresh API token for the agent `agent` (declared in the test's configuration).
    pub async fn agent_token(&self, agent: &str) -> String {
        self.make_token(docket_core::TokenSubject::Agent(agent.to_owned())).await
    }

    async fn make_token(&self, subject: docket_core::TokenSubject) -> String {
        let new =
            docket_app::NewToken { subject, name: "test".to_owned(), lifetime: docket_app::TokenLifetime::Default };
        let by = docket_app::TokenAuthority::Operator("operator:test".to_owned());
        self.app.create_token(&by, new).await.expect("a token").secret
    }

    /// Waits until ticket `id` is in `state`, and returns it; panics with the ticket's state
    /// if that takes longer than 20 s.
    pub async fn wait_for_state(&self, id: &TicketId, state: TicketState) -> Ticket {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ticket = self.app.ticket(id).await.expect("the ticket exists");
            if ticket.state == state {
                return ticket;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{id} is {} after {}s, not {state}: {ticket:#?}", ticket.state, WAIT.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the app keeps `wanted` (with `None`, any value) under (`scope`, `key`) in
    /// its surface state: what it records a moment after a side effect a test can see (an
    /// issue's link to its ticket, the plan an issue shows); panics after 20 s, saying `what`.
    pub async fn wait_for_kept(&self, scope: &str, key: &str, wanted: Option<&str>, what: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let kept = self.app.recall(scope, key).await.expect("the store answers");
            if kept.is_some() && (wanted.is_none() || kept.as_deref() == wanted) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {key} is {kept:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the engine (waiting up to 5 s for steps in progress).
    pub async fn stop(mut self) {
        self.stop_within(Duration::from_secs(5)).await;
    }

    /// Stops the engine, waiting up to `grace` for steps in progress; steps still running then
    /// are abandoned (their processes killed) and left open in the store, as a crash leaves
    /// them. The app and its store stay open.
    pub async fn stop_within(&mut self, grace: Duration) {
        if let Some(engine) = self.engine.take() {
            engine.stop(grace).await;
        }
    }
}
