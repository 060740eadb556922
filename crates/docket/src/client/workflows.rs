//! `docket workflows`: the catalog as a table, and `docket workflows show ID`: one workflow with
//! what each parameter takes (type, choices, default, constraints, help), its steps, the words
//! that ask for it, and the command that requests it.

use std::io::{self, Write};

use super::Outcome;
use super::http::{Api, parse};
use super::model::{Param, Workflow, WorkflowList};
use super::render::value_text;
use super::style::Ui;
use crate::cli::{WorkflowArgs, WorkflowsArgs, WorkflowsCommand};

/// `docket workflows [--json]` and `docket workflows show ID [--json]`.
pub(crate) async fn run(api: &Api, args: &WorkflowsArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    match &args.command {
        Some(WorkflowsCommand::Show(one)) => show(api, one, out, ui).await,
        None => {
            let raw = api.workflows_json().await?;
            if args.json {
                writeln!(out, "{}", raw.trim_end())?;
            } else {
                write_list(out, ui, &parse::<WorkflowList>(&raw)?)?;
            }
            Ok(Outcome::Success)
        }
    }
}

async fn show(api: &Api, args: &WorkflowArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let raw = api.workflow_json(&args.workflow).await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
    } else {
        write_workflow(out, ui, &parse::<Workflow>(&raw)?)?;
    }
    Ok(Outcome::Success)
}

/// The table: id, title, category, risk, parameters.
pub(crate) fn write_list(out: &mut dyn Write, ui: &Ui, list: &WorkflowList) -> io::Result<()> {
    if list.workflows.is_empty() {
        return writeln!(out, "no workflows");
    }
    let header = ["ID", "TITLE", "CATEGORY", "RISK", "PARAMETERS"];
    let rows: Vec<[String; 5]> = list
        .workflows
        .iter()
        .map(|w| {
            let params: Vec<&str> = w.params.iter().map(|p| p.name.as_str()).collect();
            [w.id.clone(), w.title.clone(), w.category.clone(), w.risk.clone(), params.join(", ")]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let [a, b, c, d, e] = cells;
        let [wa, wb, wc, wd, _] = widths;
        format!("{a:<wa$}  {b:<wb$}  {c:<wc$}  {d:<wd$}  {e}").trim_end().to_owned()
    };
    writeln!(out, "{}", ui.dim(&line(header)))?;
    for [id, title, category, risk, params] in &rows {
        writeln!(out, "{}", line([id, title, category, risk, params]))?;
    }
    writeln!(out, "{}", ui.dim("`docket workflows show ID` shows one with its parameters"))
}

/// What a parameter takes, in a few words: `choice: api | web`, `string matching ^\d+$`.
fn takes(param: &Param) -> String {
    let mut text = param.kind.clone();
    match param.kind.as_str() {
        "choice" => {
            let choices: Vec<String> = param
                .choices
                .iter()
                .flatten()
                .map(|c| {
                    if c.label.is_empty() || c.label == c.value {
                        c.value.clone()
                    } else {
                        format!("{} ({})", c.value, c.label)
                    }
                })
                .collect();
            text = format!("one of {}", choices.join(" | "));
        }
        "integer" => match (param.min, param.max) {
            (Some(min), Some(max)) => text.push_str(&format!(" from {min} to {max}")),
            (Some(min), None) => text.push_str(&format!(" of at least {min}")),
            (None, Some(max)) => text.push_str(&format!(" of at most {max}")),
            (None, None) => {}
        },
        _ => {
            if let Some(pattern) = &param.pattern {
                text.push_str(&format!(" matching {pattern}"));
            }
            match (param.min_length, param.max_length) {
                (Some(min), Some(max)) => text.push_str(&format!(", {min} to {max} characters")),
                (Some(min), None) => text.push_str(&format!(", at least {min} characters")),
                (None, Some(max)) => text.push_str(&format!(", at most {max} characters")),
                (None, None) => {}
            }
        }
    }
    text
}

/// One workflow in full.
pub(crate) fn write_workflow(out: &mut dyn Write, ui: &Ui, workflow: &Workflow) -> io::Result<()> {
    let about = [workflow.category.as_str(), &format!("risk {}", workflow.risk)]
        .into_iter()
        .filter(|s| !s.is_empty() && *s != "risk ")
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(out, "{}  {} {}", ui.bold(&workflow.id), workflow.title, ui.dim(&format!("({about})")))?;
    if !workflow.description.trim().is_empty() {
        writeln!(out, "{}", workflow.description.trim())?;
    }
    if !workflow.params.is_empty() {
        writeln!(out, "parameters")?;
        let width = workflow.params.iter().map(|p| p.name.chars().count()).max().unwrap_or(0);
        for param in &workflow.params {
            let mut line = format!("  {:<width$}  {}", param.name, takes(param));
            match &param.default {
                Some(default) => line.push_str(&format!("; default {}", value_text(default))),
                None if !param.required => line.push_str("; optional"),
                None => {}
            }
            if let Some(help) = param.help.as_deref().filter(|h| !h.trim().is_empty()) {
                line.push_str(&format!(" {}", ui.dim(&format!("— {}", help.trim()))));
            }
            writeln!(out, "{line}")?;
        }
    }
    if !workflow.steps.is_empty() {
        writeln!(out, "steps")?;
        for (n, step) in workflow.steps.iter().enumerate() {
            let plan = if step.has_plan { ", with a dry run approvers see" } else { "" };
            writeln!(out, "  {}. {} {}", n + 1, step.name, ui.dim(&format!("({}{plan})", step.kind)))?;
        }
    }
    if !workflow.examples.is_empty() {
        writeln!(out, "in words")?;
        for example in &workflow.examples {
            writeln!(out, "  docket request \"{example}\"")?;
        }
    }
    let mut command = format!("docket request {}", workflow.id);
    for param in workflow.params.iter().filter(|p| p.required && p.default.is_none()) {
        command.push_str(&format!(" {}=…", param.name));
    }
    writeln!(out, "request it")?;
    writeln!(out, "  {command}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOY: &str = r#"{"id": "deploy", "title": "Deploy a service", "description": "Rolls out a release.\n",
        "category": "Deployments", "risk": "medium",
        "params": [
          {"name": "service", "kind": "choice", "required": true, "default": null,
           "choices": [{"value": "api", "label": "api"}, {"value": "web", "label": "Web front end"}]},
          {"name": "version", "kind": "string", "required": true, "pattern": "^\\d+\\.\\d+\\.\\d+$", "help": "A release number such as 1.4.2"},
          {"name": "replicas", "kind": "integer", "required": true, "default": 2, "min": 1, "max": 10},
          {"name": "reason", "kind": "text", "required": false, "max_length": 500}],
        "steps": [{"name": "release", "kind": "exec", "has_plan": true}, {"name": "bake", "kind": "wait", "has_plan": false}],
        "examples": ["deploy {service} {version}"]}"#;

    #[test]
    fn one_workflow_says_what_each_parameter_takes() {
        let workflow: Workflow = serde_json::from_str(DEPLOY).unwrap();
        let mut out = Vec::new();
        write_workflow(&mut out, &Ui::plain("2026-01-05T10:47:30Z"), &workflow).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "deploy  Deploy a service (Deployments, risk medium)\n\
             Rolls out a release.\n\
             parameters\n  \
               service   one of api | web (Web front end)\n  \
               version   string matching ^\\d+\\.\\d+\\.\\d+$ — A release number such as 1.4.2\n  \
               replicas  integer from 1 to 10; default 2\n  \
               reason    text, at most 500 characters; optional\n\
             steps\n  \
               1. release (exec, with a dry run approvers see)\n  \
               2. bake (wait)\n\
             in words\n  \
               docket request \"deploy {service} {version}\"\n\
             request it\n  \
               docket request deploy service=… version=…\n"
        );
    }

    #[test]
    fn the_catalog_as_a_table() {
        let list: WorkflowList = serde_json::from_str(&format!(r#"{{"workflows": [{DEPLOY}]}}"#)).unwrap();
        let mut out = Vec::new();
        write_list(&mut out, &Ui::plain("2026-01-05T10:47:30Z"), &list).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID      TITLE             CATEGORY     RISK    PARAMETERS\n\
             deploy  Deploy a service  Deployments  medium  service, version, replicas, reason\n\
             `docket workflows show ID` shows one with its parameters\n"
        );
    }
}
