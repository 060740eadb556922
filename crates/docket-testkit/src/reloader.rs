//! Reloading a test app's configuration from its files, as `docket serve` does: the same
//! variables, plug-ins and runners it started with, compared with the configuration in force.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use docket_app::{ReloadRefused, Reloaded, Reloader, RuleBook, StepRunner};
use docket_config::plugin::Plugins;
use docket_config::{Config, InForce};

use crate::MakeRunner;

/// Reads a test app's files again.
pub(crate) struct TestReloader {
    pub(crate) path: PathBuf,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) plugins: Plugins,
    pub(crate) runners: Vec<MakeRunner>,
    /// The configuration in force and the one `load` read.
    pub(crate) in_force: InForce,
}

impl TestReloader {
    /// The runners a test app has for `config`: the basic step kinds and the test's own.
    pub(crate) fn runners(&self, config: &Config) -> Vec<Arc<dyn StepRunner>> {
        let mut runners = docket_steps::default_runners(docket_process::Launch::Direct).expect("the runners start");
        runners.extend(self.runners.iter().map(|make| make(config)));
        runners
    }
}

#[async_trait]
impl Reloader for TestReloader {
    async fn load(&self) -> Result<Reloaded, ReloadRefused> {
        let lookup = |name: &str| self.env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let loaded = docket_config::load(&self.path, &lookup, &self.plugins)
            .map_err(|d| ReloadRefused::Invalid(d.errors().iter().map(ToString::to_string).collect()))?;
        let restart = self.in_force.needs_restart(&loaded.config, &self.plugins);
        if !restart.is_empty() {
            return Err(ReloadRefused::NeedsRestart(restart));
        }
        let runners = self.runners(&loaded.config);
        let digest = docket_config::loaded_digest(&loaded);
        let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
        self.in_force.read(digest.clone(), loaded.config.clone());
        let rules = RuleBook {
            ticket_prefix: loaded.config.ticket_prefix.clone(),
            catalog: loaded.catalog,
            policies: loaded.policies,
            directory: loaded.directory,
            zone: loaded.zone,
            redactor: loaded.redactor,
        };
        Ok(Reloaded { rules, runners, digest, warnings })
    }

    fn taken(&self, digest: &str) {
        self.in_force.taken(digest);
    }

    fn running(&self) -> String {
        self.in_force.digest()
    }
}
