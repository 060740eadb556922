//! Checks that span files: workflow ids unique across the catalog, requesters and the names steps
//! use from plug-in sections (a `sql` step's database) that exist in `docket.yaml`, and policies
//! that read parameters some workflow has.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::config::ConfigFile;
use crate::diagnostic::{Pos, Report};
use crate::workflow::WorkflowFile;
use docket_core::text::did_you_mean;

/// One workflow file as read, with its problems so far.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) file: WorkflowFile,
    pub(crate) report: Report,
}

/// Reports a workflow id declared by two files, at the second, naming the first file relative
/// to `base` (the catalog folder).
pub(crate) fn unique_ids(workflows: &mut [Read], base: &Path) {
    let mut first: HashMap<String, (PathBuf, Pos)> = HashMap::new();
    for read in workflows {
        let Some((id, at)) = &read.file.id else { continue };
        match first.get(id) {
            Some((path, line)) => {
                let shown = path.strip_prefix(base).unwrap_or(path).display();
                let message = format!("duplicate workflow id `{id}` (first declared in {shown} at line {})", line.line);
                read.report.error(*at, message);
            }
            None => {
                first.insert(id.clone(), (read.report.path().to_path_buf(), *at));
            }
        }
    }
}

/// Checks the workflows' references into the configuration: requesters, and names that plug-in
/// sections declare. `config_name` is how messages name the configuration file.
pub(crate) fn references(config: &ConfigFile, workflows: &mut [Read], config_name: &str) {
    if !config.readable {
        return;
    }
    for read in workflows.iter_mut() {
        for (principal, at) in &read.file.requesters {
            config.people.check(principal, *at, &mut read.report);
        }
        for reference in &read.file.references {
            let declared = config.names.get(reference.section);
            if declared.is_some_and(|names| names.contains(&reference.name)) {
                continue;
            }
            let (name, section) = (&reference.name, reference.section);
            let hint = did_you_mean(name, declared.into_iter().flatten().map(String::as_str))
                .unwrap_or_else(|| format!("declare it under `{section}` in {config_name}"));
            read.report.error_hint(reference.at, format!("unknown {} `{name}`", reference.what), hint);
        }
    }
}

/// Reports `params.NAME` in a policy when no workflow declares `NAME`. Workflow files that could
/// not be read (`unread` of them, YAML syntax errors included) are left out: the check runs
/// against every workflow that was read, and its hint says some were not.
pub(crate) fn policy_params(config: &ConfigFile, config_report: &mut Report, workflows: &[Read], unread: usize) {
    let unread = unread + workflows.iter().filter(|w| !w.file.readable).count();
    let known: BTreeSet<&str> = workflows.iter().flat_map(|w| w.file.params.iter().map(String::as_str)).collect();
    for (name, at) in &config.policies.params {
        if known.contains(name.as_str()) {
            continue;
        }
        let mut hint = did_you_mean(name, known.iter().copied()).unwrap_or_else(|| {
            if known.is_empty() {
                "no workflow declares any parameters".to_owned()
            } else {
                format!("workflows declare: {}", known.iter().copied().collect::<Vec<_>>().join(", "))
            }
        });
        if unread > 0 {
            let (files, their) = match unread {
                1 => ("1 workflow file".to_owned(), "its"),
                n => (format!("{n} workflow files"), "their"),
            };
            let joint = if hint.ends_with('?') { " " } else { "; " };
            hint.push_str(&format!("{joint}{files} could not be read, so {their} parameters are not known"));
        }
        let message = format!("no workflow has a parameter `{name}`, so `params.{name}` never matches");
        config_report.error_hint(*at, message, hint);
    }
}

/// Reports an entry of an agent's `may_request` that names no workflow id and no category of
/// the workflows read (categories compared without case, as the request check does).
pub(crate) fn agents_may_request(config: &ConfigFile, config_report: &mut Report, workflows: &[Read], unread: usize) {
    let unread = unread + workflows.iter().filter(|w| !w.file.readable).count();
    let ids: BTreeSet<&str> = workflows.iter().filter_map(|w| w.file.id.as_ref().map(|(id, _)| id.as_str())).collect();
    let categories: BTreeSet<&str> = workflows.iter().filter_map(|w| w.file.category.as_deref()).collect();
    for (entry, at) in &config.agents.may_request {
        if ids.contains(entry.as_str()) || categories.iter().any(|c| c.eq_ignore_ascii_case(entry)) {
            continue;
        }
        let known = ids.iter().chain(&categories).copied();
        let mut hint = did_you_mean(entry, known).unwrap_or_else(|| {
            let list = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join(", ");
            format!("workflow ids: {}; categories: {}", list(&ids), list(&categories))
        });
        if unread > 0 {
            hint.push_str(&format!("; {unread} workflow file(s) could not be read"));
        }
        config_report.error_hint(*at, format!("`{entry}` is neither a workflow id nor a category"), hint);
    }
}
