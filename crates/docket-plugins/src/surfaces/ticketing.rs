//! The ticketing systems, when `jira:` or `servicenow:` is configured: each a notifier the
//! outbox drives (before the app), and once the app runs, its signed inbound route
//! (`POST /jira/webhook`, `POST /servicenow/callback`).

use std::sync::Arc;

use docket_config::Config;
use docket_jira::{JiraClient, JiraNotifier, JiraSettings};
use docket_servicenow::{ServiceNowClient, ServiceNowNotifier, ServiceNowSettings};

use super::Surfaces;
use crate::PluginError;

/// Adds Jira and ServiceNow to `surfaces`, each if the configuration has its section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> Result<(), PluginError> {
    if let Some(settings) = config.sections.get::<JiraSettings>(docket_jira::SYSTEM).cloned() {
        let settings = Arc::new(settings);
        let client =
            JiraClient::new(settings).map_err(|e| PluginError::Surface { surface: "Jira", detail: e.to_string() })?;
        let answers = client.clone();
        surfaces.push(JiraNotifier::new(client), move |app, _shutdown| {
            tracing::info!(endpoint = docket_jira::WEBHOOK_PATH, "Jira: issues mirrored; webhooks on");
            Ok(docket_jira::router(app.clone(), answers))
        });
    }
    if let Some(settings) = config.sections.get::<ServiceNowSettings>(docket_servicenow::SYSTEM).cloned() {
        let settings = Arc::new(settings);
        let client = ServiceNowClient::new(settings)
            .map_err(|e| PluginError::Surface { surface: "ServiceNow", detail: e.to_string() })?;
        let answers = client.clone();
        surfaces.push(ServiceNowNotifier::new(client), move |app, _shutdown| {
            tracing::info!(endpoint = docket_servicenow::CALLBACK_PATH, "ServiceNow: records mirrored; callbacks on");
            Ok(docket_servicenow::router(app.clone(), answers))
        });
    }
    Ok(())
}
