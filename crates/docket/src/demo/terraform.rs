//! The demo's stand-in for Terraform: `docket` run under the name `terraform` (the demo links
//! `bin/terraform` in its data folder to this binary). It is not Terraform and says so in every
//! plan: it plans and applies a pool of worker nodes kept as JSON in the demo's
//! `infrastructure/` folder, so the demo shows a structured plan — creates, replaces, destroys,
//! a sensitive value — without any tool installed. It speaks the part of Terraform's command
//! line Docket uses: `init`, `plan -out=FILE -var NAME=VALUE`, `show -json FILE` (the documented
//! JSON plan format) and `apply FILE`, which fails with "Saved plan is stale" when the state
//! moved since the plan.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// Whether this process was started as the stand-in.
pub(crate) fn called_as_stand_in() -> bool {
    std::env::args_os().next().and_then(|a| Path::new(&a).file_name().map(|n| n == "terraform")).unwrap_or(false)
}

/// Runs the stand-in with the process's arguments.
pub(crate) fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workspace = std::env::var("TF_WORKSPACE").unwrap_or_else(|_| "default".to_owned());
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let stand = Stand { state: dir.join("terraform.tfstate.d").join(&workspace).join("state.json"), dir };
    let result = match args.first().map(String::as_str) {
        Some("init") => stand.init(),
        Some("plan") => stand.plan(&args[1..]),
        Some("show") => stand.show(&args[1..]),
        Some("apply") => stand.apply(&args[1..]),
        Some("version") => {
            say("Docket demo stand-in for Terraform (not Terraform)");
            Ok(())
        }
        _ => Err(("the demo stand-in knows init, plan, show and apply only".to_owned(), String::new())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((summary, detail)) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "\nError: {summary}\n\n{detail}");
            ExitCode::FAILURE
        }
    }
}

type Outcome = Result<(), (String, String)>;

struct Stand {
    dir: PathBuf,
    state: PathBuf,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

fn fail(summary: &str, detail: &str) -> Outcome {
    Err((summary.to_owned(), detail.to_owned()))
}

impl Stand {
    fn init(&self) -> Outcome {
        std::fs::create_dir_all(self.dir.join(".terraform"))
            .map_err(|e| ("cannot initialize".to_owned(), e.to_string()))?;
        say("Docket demo stand-in for Terraform: initialized (nothing to download).");
        Ok(())
    }

    fn read_state(&self) -> Value {
        std::fs::read(&self.state)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| json!({"serial": 0, "resources": {}}))
    }

    fn plan(&self, args: &[String]) -> Outcome {
        if !self.dir.join(".terraform").is_dir() {
            return fail("Backend initialization required, please run \"terraform init\"", "");
        }
        let mut vars = BTreeMap::new();
        let mut out = None;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if arg == "-var" {
                if let Some((k, v)) = rest.next().and_then(|v| v.split_once('=')) {
                    vars.insert(k.to_owned(), v.to_owned());
                }
            } else if let Some(file) = arg.strip_prefix("-out=") {
                out = Some(PathBuf::from(file));
            }
        }
        let workers: usize = vars.get("workers").and_then(|w| w.parse().ok()).unwrap_or(3).min(50);
        let machine = vars.get("machine").cloned().unwrap_or_else(|| "small".to_owned());
        let mut wanted = Map::new();
        wanted.insert("demo_pool.workers".into(), json!({"size": workers, "join_token": "demo-join-token"}));
        for i in 0..workers {
            wanted.insert(format!("demo_node.worker[{i}]"), json!({"name": format!("worker-{i}"), "machine": machine}));
        }
        let state = self.read_state();
        let current = state["resources"].as_object().cloned().unwrap_or_default();
        let mut addresses: Vec<&String> = wanted.keys().chain(current.keys()).collect();
        addresses.sort();
        addresses.dedup();
        let mut changes = Vec::new();
        let (mut add, mut change, mut destroy) = (0, 0, 0);
        say("Docket demo stand-in for Terraform — not Terraform: it changes only files in the demo's data folder.\n");
        for address in addresses {
            let before = current.get(address).cloned().unwrap_or(Value::Null);
            let after = wanted.get(address).cloned().unwrap_or(Value::Null);
            let actions = match (before.is_null(), after.is_null()) {
                (true, _) => vec!["create"],
                (_, true) => vec!["delete"],
                _ if before == after => vec!["no-op"],
                _ if before.get("machine") != after.get("machine") => vec!["delete", "create"],
                _ => vec!["update"],
            };
            let words = match actions.as_slice() {
                ["create"] => Some(("+", "will be created", (1, 0, 0))),
                ["delete"] => Some(("-", "will be destroyed", (0, 0, 1))),
                ["update"] => Some(("~", "will be updated in-place", (0, 1, 0))),
                ["delete", "create"] => Some(("-/+", "must be replaced", (1, 0, 1))),
                _ => None,
            };
            if let Some((symbol, text, (a, c, d))) = words {
                say(&format!("  # {address} {text}"));
                say(&format!("  {symbol} {}", if after.is_null() { &before } else { &after })
                    .replace("demo-join-token", "(sensitive value)"));
                (add, change, destroy) = (add + a, change + c, destroy + d);
            }
            let sensitive =
                |v: &Value| if v.get("join_token").is_some() { json!({"join_token": true}) } else { json!({}) };
            changes.push(json!({
                "address": address, "mode": "managed",
                "change": {"actions": actions, "before": before, "after": after,
                           "before_sensitive": sensitive(&before), "after_sensitive": sensitive(&after),
                           "after_unknown": if before.is_null() { json!({"id": true}) } else { json!({}) }}
            }));
        }
        if add + change + destroy == 0 {
            say("No changes. Your infrastructure matches the configuration.");
        } else {
            say(&format!("\nPlan: {add} to add, {change} to change, {destroy} to destroy."));
        }
        let plan =
            json!({"demo_stand_in": true, "serial": state["serial"], "wanted": wanted, "resource_changes": changes});
        if let Some(out) = out {
            std::fs::write(&out, plan.to_string()).map_err(|e| ("cannot write the plan".to_owned(), e.to_string()))?;
        }
        Ok(())
    }

    fn load(args: &[String]) -> Result<Value, (String, String)> {
        let file = args.iter().find(|a| !a.starts_with('-')).ok_or(("no plan file given".to_owned(), String::new()))?;
        std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(("Failed to read the given file as a plan file".to_owned(), file.clone()))
    }

    fn show(&self, args: &[String]) -> Outcome {
        let plan = Self::load(args)?;
        let doc = json!({"format_version": "1.2", "terraform_version": "demo-stand-in",
                         "resource_changes": plan["resource_changes"], "applyable": true, "complete": true, "errored": false});
        say(&doc.to_string());
        Ok(())
    }

    fn apply(&self, args: &[String]) -> Outcome {
        let plan = Self::load(args)?;
        let state = self.read_state();
        if plan["serial"] != state["serial"] {
            return fail(
                "Saved plan is stale",
                "The given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
            );
        }
        for change in plan["resource_changes"].as_array().into_iter().flatten() {
            let verb = match change["change"]["actions"].as_array().map(Vec::len) {
                Some(2) => "Replacing",
                _ => match change["change"]["actions"][0].as_str() {
                    Some("create") => "Creating",
                    Some("delete") => "Destroying",
                    Some("update") => "Modifying",
                    _ => continue,
                },
            };
            say(&format!("{}: {verb}... (demo stand-in: a JSON file only)", change["address"].as_str().unwrap_or("?")));
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
        let serial = state["serial"].as_u64().unwrap_or(0) + 1;
        let next = json!({"serial": serial, "resources": plan["wanted"]});
        if let Some(parent) = self.state.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ("cannot save state".to_owned(), e.to_string()))?;
        }
        std::fs::write(&self.state, serde_json::to_vec_pretty(&next).unwrap_or_default())
            .map_err(|e| ("cannot save state".to_owned(), e.to_string()))?;
        say("\nApply complete! (Docket demo stand-in: the pool is a file in infrastructure/terraform.tfstate.d/)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stand_in_is_found_by_its_name_only() {
        assert!(!super::called_as_stand_in(), "the test binary is not named terraform");
    }
}
