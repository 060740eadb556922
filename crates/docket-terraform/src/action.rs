//! The `terraform` action: a Terraform (or OpenTofu) configuration folder, planned into a saved
//! plan file and applied from exactly that file.

use std::collections::BTreeMap;

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

/// The program run when a step names none.
pub const DEFAULT_BINARY: &str = "terraform";

/// `terraform: {binary, dir, workspace, vars, env, timeout}`.
#[derive(Clone, Debug)]
pub struct TerraformAction {
    /// The program: `terraform` (the default), `tofu`, or a path.
    pub binary: String,
    /// The configuration's folder.
    pub dir: Template,
    /// The workspace (passed as `TF_WORKSPACE`), if not the default one.
    pub workspace: Option<Template>,
    /// Input variables, each passed as `-var NAME=VALUE` when planning.
    pub vars: BTreeMap<String, Template>,
    /// Environment variables (credentials): shown by name only.
    pub env: BTreeMap<String, Template>,
    /// How long planning or applying may take.
    pub timeout: Option<Duration>,
}

impl TerraformAction {
    /// The variables rendered with `params`.
    pub fn render_vars(&self, params: &Params) -> BTreeMap<String, String> {
        self.vars.iter().map(|(name, value)| (name.clone(), value.render(params))).collect()
    }
}

impl ActionSpec for TerraformAction {
    fn kind(&self) -> &'static str {
        "terraform"
    }

    fn templates(&self) -> Vec<&Template> {
        std::iter::once(&self.dir).chain(&self.workspace).chain(self.vars.values()).chain(self.env.values()).collect()
    }

    /// The folder, workspace and variables as they will be used; environment variables by name.
    fn describe(&self, params: &Params) -> ActionView {
        let dir = self.dir.render(params);
        let workspace = self.workspace.as_ref().map(|w| w.render(params));
        let vars = self.render_vars(params);
        let names: Vec<&str> = self.env.keys().map(String::as_str).collect();
        let mut summary = format!("{} apply in {dir}", self.binary);
        if let Some(workspace) = &workspace {
            summary.push_str(&format!(" (workspace {workspace})"));
        }
        let mut details = vec![Detail::code("Program", &self.binary), Detail::code("Folder", &dir)];
        if let Some(workspace) = &workspace {
            details.push(Detail::text("Workspace", workspace));
        }
        if !vars.is_empty() {
            let shown: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
            details.push(Detail::code("Variables", shown.join("\n")));
        }
        if !names.is_empty() {
            details.push(Detail::text("Environment", names.join(", ")));
        }
        if let Some(timeout) = self.timeout {
            details.push(Detail::text("Time limit", timeout.to_string()));
        }
        let document = json!({
            "binary": self.binary,
            "dir": dir,
            "workspace": workspace,
            "vars": vars,
            "env": names,
        });
        ActionView { summary, details, document }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// A Terraform step is its own dry run: `plan -out` computes the diff and saves the file the
    /// run applies.
    fn plans_itself(&self) -> bool {
        true
    }
}
