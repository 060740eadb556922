//! A stand-in for the `terraform` command line, for tests: no provider or cloud is reachable
//! here, so this plays Terraform's part over a small description of the wanted resources
//! (`stand-in.json` in the working folder) and a state file of its own, behaving like the real
//! CLI where Docket depends on it:
//!
//! - `init` makes `.terraform/`; `plan` without it fails as Terraform does;
//! - `plan -out=FILE [-var NAME=VALUE]…` diffs the wanted resources against the state (create,
//!   update, replace when a `force_new` attribute changes, delete, read for data sources) and
//!   prints the plan in words (`Plan: 1 to add, 0 to change, 1 to destroy.`), sensitive values
//!   as `(sensitive value)`; the file remembers the state's serial and lineage;
//! - `show -json FILE` prints the documented JSON plan format (`format_version` 1.2,
//!   `resource_changes[].change.{actions, before, after, after_unknown, before_sensitive,
//!   after_sensitive}`);
//! - `apply FILE` applies exactly that plan, resource by resource (`Creating...`, `Creation
//!   complete after 0s`), or fails with `Error: Saved plan is stale` when the state moved since;
//!   a resource listed under `fail` fails with its message; on `SIGINT` it finishes the resource
//!   in hand, saves the state and stops, as Terraform does;
//! - `TF_WORKSPACE` picks `terraform.tfstate.d/<workspace>/terraform.tfstate`.
//!
//! Every call is appended to `stand-in.calls`, so a test can tell which commands ran. The
//! binary is the test's own executable under the name `terraform` ([`install`]): a test harness
//! whose `main` hands such calls to [`main`].

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line stand-in prints, as the real one does")]

mod apply;
mod plan;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The stand-in's name for itself, in `version` and every plan.
pub const VERSION: &str = "Terraform v1.9.8 (Docket's test stand-in, not Terraform)";

/// Puts the running test executable in `folder` under the name `terraform`; returns its path.
pub fn install(folder: &Path) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let path = folder.join("terraform");
    let _ = std::fs::remove_file(&path);
    std::os::unix::fs::symlink(exe, &path).expect("link the stand-in");
    path
}

/// Whether argv[0] names the stand-in (a file named `terraform` or `tofu`).
pub fn is_called_as_stand_in(argv0: &str) -> bool {
    let name = Path::new(argv0).file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "terraform" || name == "tofu"
}

/// Runs the stand-in with `args` (argv without the program) in the current folder, with
/// `TF_WORKSPACE` as `workspace`; the exit code.
pub fn main(args: &[String], workspace: Option<&str>) -> i32 {
    let dir = std::env::current_dir().expect("a working folder");
    let stand = Stand { dir: dir.clone(), workspace: workspace.unwrap_or("default").to_owned() };
    stand.record(args);
    let Some((command, rest)) = args.split_first() else {
        eprintln!("Usage: terraform [global options] <subcommand> [args]");
        return 1;
    };
    match command.as_str() {
        "version" | "-version" => {
            println!("{VERSION}");
            0
        }
        "init" => stand.init(rest),
        "plan" => stand.plan(rest),
        "show" => stand.show(rest),
        "apply" => stand.apply(rest),
        other => error(&format!("Terraform has no command named \"{other}\"."), ""),
    }
}

/// What a call sees: its folder and workspace.
pub(crate) struct Stand {
    pub(crate) dir: PathBuf,
    pub(crate) workspace: String,
}

/// `stand-in.json`: the resources wanted, and how the stand-in should behave.
pub(crate) struct Wanted {
    pub(crate) resources: Map<String, Value>,
    pub(crate) variables: Vec<String>,
    pub(crate) sensitive: Vec<String>,
    pub(crate) force_new: Vec<String>,
    pub(crate) reads: Vec<String>,
    pub(crate) fail: Map<String, Value>,
    pub(crate) actions: Map<String, Value>,
    pub(crate) delay_ms: u64,
    pub(crate) format_version: String,
}

impl Stand {
    fn record(&self, args: &[String]) {
        use std::io::Write as _;
        if let Ok(mut file) =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("stand-in.calls"))
        {
            let _ = writeln!(file, "{}", args.join(" "));
        }
    }

    fn init(&self, args: &[String]) -> i32 {
        if let Some(bad) = args.iter().find(|a| !matches!(a.as_str(), "-input=false" | "-no-color")) {
            return error("Failed to parse command-line flags", &format!("flag provided but not defined: {bad}"));
        }
        if std::fs::create_dir_all(self.dir.join(".terraform")).is_err() {
            return error("Failed to initialize", "the working folder cannot be written");
        }
        let _ = std::fs::write(self.dir.join(".terraform.lock.hcl"), "# stand-in lock file\n");
        println!("Initializing the backend...\n\nTerraform has been successfully initialized!");
        0
    }

    pub(crate) fn initialized(&self) -> bool {
        self.dir.join(".terraform").is_dir()
    }

    pub(crate) fn wanted(&self) -> Result<Wanted, String> {
        let text = std::fs::read_to_string(self.dir.join("stand-in.json"))
            .map_err(|e| format!("No configuration files: stand-in.json cannot be read ({e})"))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("stand-in.json is not valid JSON: {e}"))?;
        let map = |k: &str| doc.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
        let list = |k: &str| -> Vec<String> {
            doc.get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        Ok(Wanted {
            resources: map("resources"),
            variables: list("variables"),
            sensitive: list("sensitive"),
            force_new: list("force_new"),
            reads: list("reads"),
            fail: map("fail"),
            actions: map("actions"),
            delay_ms: doc.get("apply_delay_ms").and_then(Value::as_u64).unwrap_or(0),
            format_version: doc.get("format_version").and_then(Value::as_str).unwrap_or("1.2").to_owned(),
        })
    }

    fn state_path(&self) -> PathBuf {
        if self.workspace == "default" {
            self.dir.join("terraform.tfstate")
        } else {
            self.dir.join("terraform.tfstate.d").join(&self.workspace).join("terraform.tfstate")
        }
    }

    /// The state: `{serial, lineage, resources}` (empty before the first apply).
    pub(crate) fn state(&self) -> Value {
        std::fs::read_to_string(self.state_path())
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| json!({"serial": 0, "lineage": format!("stand-in-{}", self.workspace), "resources": {}}))
    }

    pub(crate) fn save_state(&self, state: &Value) -> std::io::Result<()> {
        let path = self.state_path();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(state).unwrap_or_default())
    }
}

/// Prints a diagnostic the way `-no-color` Terraform does; the exit code 1.
pub(crate) fn error(summary: &str, detail: &str) -> i32 {
    eprintln!();
    eprintln!("Error: {summary}");
    if !detail.is_empty() {
        eprintln!();
        eprintln!("{detail}");
    }
    eprintln!();
    1
}
