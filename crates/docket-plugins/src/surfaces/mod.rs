//! The chat surfaces and ticketing systems the configuration turns on (Slack, Teams, Jira,
//! ServiceNow). Each gives a notifier, which the
//! app is built with, and — once the app exists — routes to merge into the HTTP server and
//! background tasks (Socket Mode) that stop with it. One file per surface says how it is built.

mod slack;
mod teams;
mod ticketing;

pub use slack::settings as slack_settings;
pub use teams::settings as teams_settings;

use std::sync::Arc;

use axum::Router;
use docket_app::{App, Notifier};
use docket_config::Config;
use tokio_util::sync::CancellationToken;

use crate::PluginError;

/// Attaches a surface to the running app: its routes, after starting any background task.
type Attach = Box<dyn FnOnce(&App, &CancellationToken) -> Result<Router, PluginError> + Send>;

/// The surfaces a configuration turns on.
#[derive(Default)]
pub struct Surfaces {
    notifiers: Vec<Arc<dyn Notifier>>,
    attach: Vec<Attach>,
}

impl std::fmt::Debug for Surfaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Surfaces").field("notifiers", &self.notifiers.len()).finish_non_exhaustive()
    }
}

impl Surfaces {
    /// Builds every configured surface (none when `slack` and `teams` are absent).
    pub fn from_config(config: &Config) -> Result<Self, PluginError> {
        let mut surfaces = Self::default();
        slack::add(config, &mut surfaces)?;
        teams::add(config, &mut surfaces)?;
        ticketing::add(config, &mut surfaces)?;
        Ok(surfaces)
    }

    /// Adds a surface: its notifier and how to attach it once the app runs.
    pub(crate) fn push(
        &mut self,
        notifier: Arc<dyn Notifier>,
        attach: impl FnOnce(&App, &CancellationToken) -> Result<Router, PluginError> + Send + 'static,
    ) {
        self.notifiers.push(notifier);
        self.attach.push(Box::new(attach));
    }

    /// The surfaces' notifiers, for the app.
    pub fn notifiers(&self) -> Vec<Arc<dyn Notifier>> {
        self.notifiers.clone()
    }

    /// Starts the surfaces' background tasks (stopped by `shutdown`) and returns their routes.
    pub fn attach(self, app: &App, shutdown: &CancellationToken) -> Result<Router, PluginError> {
        let mut router = Router::new();
        for attach in self.attach {
            router = router.merge(attach(app, shutdown)?);
        }
        Ok(router)
    }
}
