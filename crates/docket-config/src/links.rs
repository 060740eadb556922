//! Checks that span files: workflow ids unique across the catalog, requesters and `sql`
//! databases that exist in `docket.yaml`, and policies that read parameters some workflow has.

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

/// Checks the workflows' references into the configuration: requesters and databases.
/// `config_name` is how messages name the configuration file.
pub(crate) fn references(config: &ConfigFile, workflows: &mut [Read], config_name: &str) {
    if !config.readable {
        return;
    }
    for read in workflows.iter_mut() {
        for (principal, at) in &read.file.requesters {
            config.people.check(principal, *at, &mut read.report);
        }
        for (database, at) in &read.file.databases {
            if config.databases.contains(database) {
                continue;
            }
            let hint = did_you_mean(database, config.databases.iter().map(String::as_str))
                .unwrap_or_else(|| format!("declare it under `databases` in {config_name}"));
            read.report.error_hint(*at, format!("unknown database `{database}`"), hint);
        }
    }
}

/// Reports `params.NAME` in a policy when no workflow declares `NAME`. Skipped when a workflow
/// file could not be read, since its parameters are unknown.
pub(crate) fn policy_params(config: &ConfigFile, config_report: &mut Report, workflows: &[Read]) {
    if workflows.iter().any(|w| !w.file.readable) {
        return;
    }
    let known: BTreeSet<&str> = workflows.iter().flat_map(|w| w.file.params.iter().map(String::as_str)).collect();
    for (name, at) in &config.policies.params {
        if known.contains(name.as_str()) {
            continue;
        }
        let hint = did_you_mean(name, known.iter().copied()).or_else(|| {
            Some(if known.is_empty() {
                "no workflow declares any parameters".to_owned()
            } else {
                format!("workflows declare: {}", known.iter().copied().collect::<Vec<_>>().join(", "))
            })
        });
        let message = format!("no workflow has a parameter `{name}`, so `params.{name}` never matches");
        config_report.error_maybe(*at, message, hint);
    }
}
