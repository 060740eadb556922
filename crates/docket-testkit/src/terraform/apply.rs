//! The stand-in's `apply FILE`: exactly the saved plan, or "Saved plan is stale".

use std::time::Duration;

use serde_json::{Value, json};

use super::{Stand, error};

impl Stand {
    pub(crate) fn apply(&self, args: &[String]) -> i32 {
        let mut file = None;
        for arg in args {
            match arg.as_str() {
                "-input=false" | "-no-color" | "-auto-approve" => {}
                "-var" => {
                    return error(
                        "Can't set variables when applying a saved plan",
                        "The -var and -var-file options cannot be used when applying a saved plan file.",
                    );
                }
                other if !other.starts_with('-') => file = Some(other.to_owned()),
                other => {
                    return error(
                        "Failed to parse command-line flags",
                        &format!("flag provided but not defined: {other}"),
                    );
                }
            }
        }
        let Some(file) = file else {
            return error("The stand-in applies saved plans only", "give the plan file");
        };
        let Some(plan) = std::fs::read(&file).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
            return error("Failed to load the saved plan", &format!("{file} is not a saved plan"));
        };
        if !self.initialized() {
            return error("Backend initialization required, please run \"terraform init\"", "");
        }
        let mut state = self.state();
        if plan.get("serial") != state.get("serial") || plan.get("lineage") != state.get("lineage") {
            return error(
                "Saved plan is stale",
                "The given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
            );
        }
        let wanted = match self.wanted() {
            Ok(w) => w,
            Err(e) => return error(&e, ""),
        };
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => return error("Cannot start", &e.to_string()),
        };
        let changes = plan.get("resource_changes").and_then(Value::as_array).cloned().unwrap_or_default();
        runtime.block_on(async {
            let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
            let (mut added, mut changed, mut destroyed) = (0, 0, 0);
            let mut stopped = false;
            for c in &changes {
                let address = c["address"].as_str().unwrap_or("?").to_owned();
                let actions: Vec<&str> =
                    c["change"]["actions"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                let (doing, done) = match actions.as_slice() {
                    ["create"] => ("Creating...", "Creation complete"),
                    ["update"] => ("Modifying...", "Modifications complete"),
                    ["delete"] => ("Destroying...", "Destruction complete"),
                    ["delete", "create"] | ["create", "delete"] => ("Replacing...", "Replacement complete"),
                    _ => continue,
                };
                println!("{address}: {doing}");
                let pause = tokio::time::sleep(Duration::from_millis(wanted.delay_ms));
                tokio::pin!(pause);
                if let Some(signal) = interrupt.as_mut() {
                    tokio::select! {
                        () = &mut pause => {}
                        _ = signal.recv() => {
                            println!("Interrupt received.\nPlease wait for Terraform to exit or data loss may occur.\nGracefully shutting down...");
                            stopped = true;
                            // The resource in hand is finished, soon: a long pause stands
                            // for one still being made when the interrupt came.
                            let soon = tokio::time::sleep(Duration::from_millis(100));
                            tokio::select! { () = &mut pause => {} () = soon => {} }
                        }
                    }
                } else {
                    pause.await;
                }
                if let Some(message) = wanted.fail.get(&address).and_then(Value::as_str) {
                    bump(&mut state);
                    let _ = self.save_state(&state);
                    return error(message, &format!("  with {address},\n  on main.tf line 1"));
                }
                let resources = state["resources"].as_object_mut();
                if let Some(resources) = resources {
                    if actions == ["delete"] {
                        resources.remove(&address);
                        destroyed += 1;
                    } else {
                        resources.insert(address.clone(), c["change"]["after"].clone());
                        if actions == ["update"] { changed += 1 } else { added += 1 }
                        if actions.len() == 2 {
                            destroyed += 1;
                        }
                    }
                }
                println!("{address}: {done} after 0s [id=stand-in-{}]", address.len());
                if stopped {
                    bump(&mut state);
                    let _ = self.save_state(&state);
                    return error("execution halted", "");
                }
            }
            bump(&mut state);
            if let Err(e) = self.save_state(&state) {
                return error("Failed to save state", &e.to_string());
            }
            println!("\nApply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed.");
            0
        })
    }
}

fn bump(state: &mut Value) {
    let serial = state.get("serial").and_then(Value::as_u64).unwrap_or(0);
    state["serial"] = json!(serial + 1);
}
