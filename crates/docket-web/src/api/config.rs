//! `/config/reload`: reads the configuration again and, if it is good, puts it in force on the
//! server that answers (admins). A configuration with any error, or with a change only a
//! restart takes on, is refused with every reason, and the running one stays.

use axum::Json;
use docket_app::ReloadOutcome;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::Caller;
use super::schema::{Forbidden, Unauthenticated, Unavailable, Unprocessable};

/// What a reload put in force.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Reload)]
pub(crate) struct ReloadView {
    /// SHA-256 of the configuration as written (`docket.yaml` before `${VAR}`s are read, and each
    /// workflow file), as the audit record of the reload has it.
    #[schema(example = "9f2c4e0b5a7d31c8e6f4a2b0d9c7e5f3a1b8d6c4e2f0a9b7c5d3e1f0a2b4c6d8")]
    digest: String,
    /// Workflows in the catalog now.
    workflows: usize,
    /// People in the directory now.
    people: usize,
    /// Policy rules now.
    policies: usize,
    /// Workflows new in the catalog.
    added: Vec<String>,
    /// Workflows whose file changed: new tickets get the new version; tickets already open keep
    /// the one they were opened with.
    changed: Vec<String>,
    /// Workflows no longer in the catalog.
    removed: Vec<String>,
    /// Things that load but look wrong, as `docket check` says them.
    warnings: Vec<String>,
}

impl From<ReloadOutcome> for ReloadView {
    fn from(o: ReloadOutcome) -> Self {
        Self {
            digest: o.digest,
            workflows: o.workflows,
            people: o.people,
            policies: o.policies,
            added: o.added,
            changed: o.changed,
            removed: o.removed,
            warnings: o.warnings,
        }
    }
}

/// Reads the configuration and catalog again and puts them in force on this server: new
/// requests see the new workflows, people and policies; open tickets keep the workflow version
/// they were opened with; no connection drops. Admins only; audited, taken or refused.
#[utoipa::path(
    post,
    path = "/api/v1/config/reload",
    tag = "config",
    operation_id = "reload_config",
    responses(
        (status = 200, description = "The new configuration is in force.", body = ReloadView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn reload(caller: Caller) -> Result<Json<ReloadView>, ApiError> {
    let outcome = caller.app.reload(&caller.actor).await?;
    Ok(Json(outcome.into()))
}
