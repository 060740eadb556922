//! The stand-in's `plan -out=FILE` and `show -json FILE`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Stand, VERSION, Wanted, error};

impl Stand {
    pub(crate) fn plan(&self, args: &[String]) -> i32 {
        let mut out = None;
        let mut vars = BTreeMap::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "-input=false" | "-no-color" => {}
                "-var" => {
                    let Some((name, value)) = rest.next().and_then(|v| v.split_once('=')) else {
                        return error("Invalid -var option", "The given -var option is not correctly specified.");
                    };
                    vars.insert(name.to_owned(), value.to_owned());
                }
                other => match other.strip_prefix("-out=") {
                    Some(file) => out = Some(file.to_owned()),
                    None => {
                        return error(
                            "Failed to parse command-line flags",
                            &format!("flag provided but not defined: {other}"),
                        );
                    }
                },
            }
        }
        if !self.initialized() {
            return error(
                "Backend initialization required, please run \"terraform init\"",
                "Reason: Initial configuration of the requested backend \"local\"",
            );
        }
        let wanted = match self.wanted() {
            Ok(w) => w,
            Err(e) => return error(&e, ""),
        };
        if let Some(name) = vars.keys().find(|n| !wanted.variables.contains(n)) {
            return error(
                "Value for undeclared variable",
                &format!(
                    "A variable named \"{name}\" was assigned on the command line, but the root module does not declare a variable of that name."
                ),
            );
        }
        let desired = match substitute(&wanted, &vars) {
            Ok(d) => d,
            Err(name) => {
                return error(
                    "No value for required variable",
                    &format!("The root module input variable \"{name}\" is not set."),
                );
            }
        };
        let state = self.state();
        let changes =
            diff(&wanted, &desired, state.get("resources").and_then(Value::as_object).cloned().unwrap_or_default());
        print_plan(&changes, &wanted);
        let plan = json!({
            "stand_in_plan": VERSION,
            "workspace": self.workspace,
            "serial": state.get("serial").cloned().unwrap_or(json!(0)),
            "lineage": state.get("lineage").cloned().unwrap_or(Value::Null),
            "format_version": wanted.format_version,
            "resource_changes": changes,
        });
        if let Some(file) = out {
            let path = if file.starts_with('/') { file.into() } else { self.dir.join(file) };
            if let Err(e) = std::fs::write(&path, serde_json::to_vec(&plan).unwrap_or_default()) {
                return error("Failed to write plan file", &e.to_string());
            }
            println!("\nSaved the plan to: {}", path.display());
        }
        0
    }

    pub(crate) fn show(&self, args: &[String]) -> i32 {
        let mut json_output = false;
        let mut file = None;
        for arg in args {
            match arg.as_str() {
                "-json" => json_output = true,
                "-no-color" => {}
                other if !other.starts_with('-') => file = Some(other.to_owned()),
                other => {
                    return error(
                        "Failed to parse command-line flags",
                        &format!("flag provided but not defined: {other}"),
                    );
                }
            }
        }
        let Some(file) = file else { return error("No plan file given", "") };
        let Some(plan) = std::fs::read(&file).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
            return error("Failed to read the given file as a state or plan file", &format!("{file}: not a plan file"));
        };
        if !json_output {
            return error("The stand-in shows plans only as JSON", "use show -json");
        }
        let doc = json!({
            "format_version": plan.get("format_version").cloned().unwrap_or(json!("1.2")),
            "terraform_version": "1.9.8",
            "planned_values": {"root_module": {}},
            "resource_changes": plan.get("resource_changes").cloned().unwrap_or(json!([])),
            "configuration": {"root_module": {}},
            "applyable": true,
            "complete": true,
            "errored": false,
        });
        println!("{doc}");
        0
    }
}

/// The wanted resources with `${var.NAME}` replaced; the name of a variable without a value.
fn substitute(wanted: &Wanted, vars: &BTreeMap<String, String>) -> Result<Map<String, Value>, String> {
    let text = serde_json::to_string(&wanted.resources).unwrap_or_default();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${var.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        let end = after.find('}').unwrap_or(after.len());
        let name = &after[..end];
        let value = vars.get(name).ok_or_else(|| name.to_owned())?;
        let quoted = serde_json::to_string(value).unwrap_or_default();
        out.push_str(&quoted[1..quoted.len() - 1]);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    serde_json::from_str(&out).map_err(|_| "a variable".to_owned())
}

/// The resource changes, in address order, as `show -json` lists them.
fn diff(wanted: &Wanted, desired: &Map<String, Value>, current: Map<String, Value>) -> Vec<Value> {
    let mut addresses: Vec<&String> = desired.keys().chain(current.keys()).collect();
    addresses.sort();
    addresses.dedup();
    let mut out = Vec::new();
    for address in addresses {
        let before = current.get(address).cloned().unwrap_or(Value::Null);
        let after = desired.get(address).cloned().unwrap_or(Value::Null);
        let actions: Vec<&str> = match (before.is_null(), after.is_null()) {
            (true, false) => vec!["create"],
            (false, true) => vec!["delete"],
            _ if before == after => vec!["no-op"],
            _ if forces_new(wanted, &before, &after) => vec!["delete", "create"],
            _ => vec!["update"],
        };
        let actions: Value = wanted.actions.get(address).cloned().unwrap_or_else(|| json!(actions));
        out.push(resource_change(wanted, address, actions, before, after, "managed"));
    }
    for address in &wanted.reads {
        out.push(resource_change(wanted, address, json!(["read"]), Value::Null, json!({}), "data"));
    }
    out
}

fn forces_new(wanted: &Wanted, before: &Value, after: &Value) -> bool {
    wanted.force_new.iter().any(|k| before.get(k) != after.get(k))
}

fn resource_change(wanted: &Wanted, address: &str, actions: Value, before: Value, after: Value, mode: &str) -> Value {
    let (kind, name) = address.rsplit_once('.').map_or((address, ""), |(t, n)| (t.rsplit('.').next().unwrap_or(t), n));
    let mask = |v: &Value| -> Value {
        let marks: Map<String, Value> = v
            .as_object()
            .map(|o| o.keys().filter(|k| wanted.sensitive.contains(k)).map(|k| (k.clone(), json!(true))).collect())
            .unwrap_or_default();
        Value::Object(marks)
    };
    let unknown = if before.is_null() && !after.is_null() { json!({"id": true}) } else { json!({}) };
    json!({
        "address": address,
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/stand-in",
        "change": {
            "actions": actions,
            "before": before,
            "after": if after.is_null() { Value::Null } else { after.clone() },
            "after_unknown": unknown,
            "before_sensitive": mask(&before),
            "after_sensitive": mask(&after),
        }
    })
}

fn print_plan(changes: &[Value], wanted: &Wanted) {
    let (mut add, mut change, mut destroy) = (0, 0, 0);
    let mut lines = Vec::new();
    for c in changes {
        let address = c["address"].as_str().unwrap_or("?");
        let actions: Vec<&str> =
            c["change"]["actions"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let (symbol, words) = match actions.as_slice() {
            ["create"] => {
                add += 1;
                ("+", "will be created")
            }
            ["update"] => {
                change += 1;
                ("~", "will be updated in-place")
            }
            ["delete"] => {
                destroy += 1;
                ("-", "will be destroyed")
            }
            ["delete", "create"] | ["create", "delete"] => {
                add += 1;
                destroy += 1;
                ("-/+", "must be replaced")
            }
            ["read"] => ("<=", "will be read during apply"),
            ["no-op"] => continue,
            _ => ("?", "has an action the stand-in does not describe"),
        };
        lines.push(format!("  # {address} {words}"));
        let values = if actions == ["delete"] { &c["change"]["before"] } else { &c["change"]["after"] };
        if let Some(fields) = values.as_object() {
            for (key, value) in fields {
                let shown =
                    if wanted.sensitive.contains(key) { "(sensitive value)".to_owned() } else { value.to_string() };
                lines.push(format!("  {symbol} {key} = {shown}"));
            }
        }
    }
    if add + change + destroy == 0 && lines.is_empty() {
        println!("No changes. Your infrastructure matches the configuration.");
        return;
    }
    println!("Terraform will perform the following actions:\n");
    for line in lines {
        println!("{line}");
    }
    println!("\nPlan: {add} to add, {change} to change, {destroy} to destroy.");
}
