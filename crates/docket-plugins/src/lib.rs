//! Every plug-in this server has, in one place: the step kinds (with their runners), the chat
//! surfaces and the web UI's section. The loader reads the files through [`plugins`]; the
//! engine runs steps with [`runners`]; [`Surfaces::from_config`] turns on each surface the
//! configuration names. Adding a step kind, a surface or an integration means adding it here
//! (and to this crate's manifest), nowhere else in the existing code.

mod log;
mod surfaces;

use std::sync::Arc;

use docket_app::StepRunner;
use docket_config::Config;
use docket_config::plugin::Plugins;

pub use log::{LOG_SECTION, LogFormat, LogSection, LogSettings};
pub use surfaces::{Surfaces, slack_settings, teams_settings};

/// Where a pod's service account and its cluster's API server are (see [`Host`]).
pub use docket_kubernetes::InCluster;

/// How step programs start, this host's step processes (the app's `Processes` port), and the
/// step supervisor the binary runs as `docket __supervise`.
pub use docket_process::{Launch, LocalProcesses, supervise as supervisor_main};

/// What step kinds learn from the host the server runs on, which only the binary reads (its
/// environment).
#[derive(Clone, Debug, Default)]
pub struct Host {
    /// Where a pod's service account and the cluster's API server are (`in_cluster: true`
    /// identities): `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, as Kubernetes sets
    /// them in every pod.
    pub kubernetes: docket_kubernetes::InCluster,
}

/// Why a plug-in could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// A step kind's runner could not start.
    #[error("starting the `{kind}` step runner: {detail}")]
    Runner {
        /// The kind.
        kind: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// A surface could not be built or attached.
    #[error("setting up {surface}: {detail}")]
    Surface {
        /// The surface.
        surface: &'static str,
        /// What went wrong.
        detail: String,
    },
}

/// What reads the files: every step kind's decoder and every section's reader.
pub fn plugins() -> Plugins {
    docket_steps::kinds()
        .with(docket_sql::plugins())
        .with(docket_terraform::plugins())
        .with(docket_audit::plugins())
        .with(docket_kubernetes::plugins())
        .with(docket_pipelines::plugins())
        .section(Arc::new(docket_slack::SlackSection))
        .section(Arc::new(docket_teams::TeamsSection))
        .section(Arc::new(docket_jira::JiraSection))
        .section(Arc::new(docket_servicenow::ServiceNowSection))
        .section(Arc::new(docket_web::WebSection))
        .section(Arc::new(LogSection))
}

/// A runner for every step kind [`plugins`] reads, set up from `config`; programs start as
/// `launch` says (a server supervises them, so they die with it).
pub fn runners(config: &Config, launch: Launch, host: &Host) -> Result<Vec<Arc<dyn StepRunner>>, PluginError> {
    let mut runners = docket_steps::default_runners(launch.clone())
        .map_err(|e| PluginError::Runner { kind: "http", detail: e.to_string() })?;
    runners.push(Arc::new(docket_sql::runner(config)));
    runners.push(Arc::new(docket_terraform::runner(config, launch)));
    runners.push(Arc::new(docket_kubernetes::runner(config).with_in_cluster(host.kubernetes.clone())));
    runners.push(Arc::new(docket_pipelines::runner(config)));
    runners.push(Arc::new(docket_pipelines::gitlab_runner(config)));
    Ok(runners)
}
