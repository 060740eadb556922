//! Reading the configuration again for a reload (`SIGHUP`, `docket reload`): every file loaded
//! and checked as at start, then compared with the configuration in force, so settings only a
//! restart takes on (the listen address, the store, chat connections) are named, not ignored.

use std::path::PathBuf;

use async_trait::async_trait;
use docket_app::{ReloadRefused, Reloaded, Reloader};
use docket_config::{Config, InForce};
use docket_plugins::{Launch, plugins};

/// Reads the configuration at one path again.
pub(crate) struct FileReloader {
    path: PathBuf,
    launch: Launch,
    /// The configuration in force, which a reload is compared with, and the one `load` read.
    in_force: InForce,
}

impl FileReloader {
    /// A reloader for the configuration `running` (whose digest is `digest`) was loaded from;
    /// steps of the new configuration start as `launch` says.
    pub(crate) fn new(running: Config, digest: String, launch: Launch) -> Self {
        Self { path: running.path.clone(), launch, in_force: InForce::new(digest, running) }
    }
}

#[async_trait]
impl Reloader for FileReloader {
    async fn load(&self) -> Result<Reloaded, ReloadRefused> {
        let path = self.path.clone();
        let plugins = plugins();
        // Loading reads files and compiles policies: off the threads that serve requests.
        let reading = plugins.clone();
        let loaded = tokio::task::spawn_blocking(move || docket_config::load(&path, &crate::compose::env, &reading))
            .await
            .map_err(|error| ReloadRefused::Failed(format!("reading the configuration stopped: {error}")))?
            .map_err(|diagnostics| {
                ReloadRefused::Invalid(diagnostics.errors().iter().map(ToString::to_string).collect())
            })?;
        let restart = self.in_force.needs_restart(&loaded.config, &plugins);
        if !restart.is_empty() {
            return Err(ReloadRefused::NeedsRestart(restart));
        }
        let runners = docket_plugins::runners(&loaded.config, self.launch.clone(), &crate::compose::host())
            .map_err(|error| ReloadRefused::Failed(error.to_string()))?;
        let digest = docket_config::loaded_digest(&loaded);
        let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
        self.in_force.read(digest.clone(), loaded.config.clone());
        Ok(Reloaded { rules: crate::compose::rule_book(loaded), runners, digest, warnings })
    }

    fn taken(&self, digest: &str) {
        self.in_force.taken(digest);
    }

    fn running(&self) -> String {
        self.in_force.digest()
    }
}
