//! The entry points: load `docket.yaml` and its catalog from disk, or parse text already in
//! memory. Every file is checked even when another one is broken; all errors come back at once.

use std::path::Path;

use docket_core::redact::Redactor;
use docket_core::{Catalog, Directory, PolicySet, Workflow};
use jiff::tz::TimeZone;

use crate::config::{ConfigFile, DEFAULT_CATALOG, config_file, resolve};
use crate::diagnostic::{Diagnostic, Diagnostics, Report};
use crate::env::Env;
use crate::files::{self, Source};
use crate::links::{self, Read};
use crate::model::Config;
use crate::plugin::Plugins;
use crate::workflow::workflow_file;

/// Everything Docket needs from its files.
pub struct Loaded {
    /// The settings.
    pub config: Config,
    /// Every workflow.
    pub catalog: Catalog,
    /// People, groups and rotations.
    pub directory: Directory,
    /// The policy rules, in order.
    pub policies: PolicySet,
    /// The configured time zone.
    pub zone: TimeZone,
    /// Masks every value read from the environment and every secret setting.
    pub redactor: Redactor,
    /// Things that load but look wrong.
    pub warnings: Vec<Diagnostic>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The redactor holds the secrets themselves: never print it.
        f.debug_struct("Loaded")
            .field("config", &self.config)
            .field("catalog", &self.catalog)
            .field("directory", &self.directory)
            .field("policies", &self.policies)
            .field("zone", &self.zone)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// Loads `docket.yaml` at `config_path` and every workflow file in its catalog folder. `env`
/// looks up the variables `${VAR}` refers to; `plugins` read the step kinds and sections.
pub fn load(config_path: &Path, env: Env<'_>, plugins: &Plugins) -> Result<Loaded, Diagnostics> {
    let source = files::read(config_path).map_err(|d| Diagnostics::new(vec![d], vec![]))?;
    let mut stage = Stage::config(&source, env, plugins);
    let folder = config_path.parent().unwrap_or(Path::new(""));
    let (shown, written) = match &stage.file.catalog {
        Some((dir, at)) => (dir.clone(), Some(*at)),
        None => (DEFAULT_CATALOG.to_owned(), None),
    };
    let dir = resolve(folder, &shown);
    let mut workflows = Vec::new();
    match files::workflow_files(&dir) {
        Ok(paths) => {
            for path in paths {
                match files::read(&path) {
                    Ok(source) => workflows.push(source),
                    Err(d) => {
                        stage.io_errors.push(d);
                        stage.unread += 1;
                    }
                }
            }
            if workflows.is_empty() && stage.io_errors.is_empty() {
                let message = format!("the catalog folder `{shown}` has no workflow files (*.yaml)");
                stage.report.warning(written.unwrap_or(crate::Pos::FILE), message, None);
            }
        }
        // Without a readable configuration, the default folder is only a guess: stay quiet.
        Err(_) if !stage.file.readable => stage.catalog_unread = true,
        Err(d) => {
            stage.catalog_unread = true;
            let message = format!("the catalog folder `{shown}` {}", d.message);
            let hint = Some("`catalog` is resolved against the folder docket.yaml is in".to_owned());
            stage.io_errors.push(Diagnostic::new(config_path, written.unwrap_or(crate::Pos::FILE), message, hint));
        }
    }
    stage.finish(&workflows, env, plugins, true, &dir)
}

/// Parses a configuration and its workflow files from memory: [`load`] without the disk.
pub fn parse(config: &Source, workflows: &[Source], env: Env<'_>, plugins: &Plugins) -> Result<Loaded, Diagnostics> {
    let stage = Stage::config(config, env, plugins);
    let base = stage.file.config.as_ref().map(|c| c.catalog.clone()).unwrap_or_default();
    stage.finish(workflows, env, plugins, true, &base)
}

/// Parses a configuration alone, with an empty catalog. With no workflows to compare against,
/// the parameters policies read (`params.NAME`) are not checked.
pub fn parse_config_str(
    name: impl AsRef<Path>,
    text: &str,
    env: Env<'_>,
    plugins: &Plugins,
) -> Result<Loaded, Diagnostics> {
    Stage::config(&Source::new(name.as_ref(), text), env, plugins).finish(&[], env, plugins, false, Path::new(""))
}

/// Parses one workflow file's text; `name` is the path shown in messages. Requesters and
/// databases are not checked, since that needs the configuration.
pub fn parse_workflow_str(
    name: impl AsRef<Path>,
    text: &str,
    env: Env<'_>,
    plugins: &Plugins,
) -> Result<Workflow, Diagnostics> {
    let mut report = Report::new(name.as_ref());
    let mut secrets = Vec::new();
    let file = workflow_file(text, env, plugins, &mut secrets, &mut report);
    match file.workflow {
        Some(workflow) if report.errors.is_empty() => Ok(workflow),
        _ => Err(redacted(report.errors, report.warnings, &Redactor::new(secrets))),
    }
}

/// Loads every workflow file under `dir` without a configuration: ids are checked for
/// uniqueness, but requesters and databases are not.
pub fn load_catalog(dir: &Path, env: Env<'_>, plugins: &Plugins) -> Result<Catalog, Diagnostics> {
    let paths = files::workflow_files(dir).map_err(|d| Diagnostics::new(vec![d], vec![]))?;
    let mut errors = Vec::new();
    let mut sources = Vec::new();
    for path in paths {
        match files::read(&path) {
            Ok(source) => sources.push(source),
            Err(d) => errors.push(d),
        }
    }
    let mut secrets = Vec::new();
    let mut reads = read_workflows(&sources, env, plugins, &mut secrets);
    links::unique_ids(&mut reads, dir);
    let mut warnings = Vec::new();
    let mut catalog = Vec::new();
    for read in reads {
        errors.extend(read.report.errors);
        warnings.extend(read.report.warnings);
        catalog.extend(read.file.workflow);
    }
    if errors.is_empty() { Ok(Catalog::new(catalog)) } else { Err(redacted(errors, warnings, &Redactor::new(secrets))) }
}

/// Problems ready to show: a value read from the environment may be quoted in a message, so
/// every secret is masked.
pub(crate) fn redacted(mut errors: Vec<Diagnostic>, mut warnings: Vec<Diagnostic>, redactor: &Redactor) -> Diagnostics {
    for d in errors.iter_mut().chain(warnings.iter_mut()) {
        d.message = redactor.redact(&d.message);
        d.hint = d.hint.as_deref().map(|h| redactor.redact(h));
    }
    Diagnostics::new(errors, warnings)
}

fn read_workflows(sources: &[Source], env: Env<'_>, plugins: &Plugins, secrets: &mut Vec<String>) -> Vec<Read> {
    sources
        .iter()
        .map(|source| {
            let mut report = Report::new(&source.path);
            let file = workflow_file(&source.text, env, plugins, secrets, &mut report);
            Read { file, report }
        })
        .collect()
}

/// The configuration read, waiting for its workflows.
struct Stage {
    file: ConfigFile,
    report: Report,
    secrets: Vec<String>,
    io_errors: Vec<Diagnostic>,
    /// Workflow files that could not be read from disk.
    unread: usize,
    /// Whether the catalog folder itself could not be read (then no parameter is known).
    catalog_unread: bool,
}

impl Stage {
    fn config(source: &Source, env: Env<'_>, plugins: &Plugins) -> Self {
        let mut report = Report::new(&source.path);
        let mut secrets = Vec::new();
        let file = config_file(&source.path, &source.text, env, plugins, &mut secrets, &mut report);
        Self { file, report, secrets, io_errors: Vec::new(), unread: 0, catalog_unread: false }
    }

    /// Reads the workflows, runs the checks that span files, and builds the result.
    fn finish(
        mut self,
        sources: &[Source],
        env: Env<'_>,
        plugins: &Plugins,
        check_params: bool,
        base: &Path,
    ) -> Result<Loaded, Diagnostics> {
        let mut reads = read_workflows(sources, env, plugins, &mut self.secrets);
        links::unique_ids(&mut reads, base);
        let config_path = self.report.path().to_path_buf();
        let config_name = config_path.file_name().map_or("the configuration".into(), |n| n.to_string_lossy());
        links::references(&self.file, &mut reads, &config_name);
        if check_params && !self.catalog_unread {
            links::policy_params(&self.file, &mut self.report, &reads, self.unread);
            links::agents_may_request(&self.file, &mut self.report, &reads, self.unread);
        }
        let mut errors = self.io_errors;
        let mut warnings = Vec::new();
        let mut catalog = Vec::new();
        for read in reads.into_iter().chain(std::iter::once(Read { file: Default::default(), report: self.report })) {
            errors.extend(read.report.errors);
            warnings.extend(read.report.warnings);
            catalog.extend(read.file.workflow);
        }
        let file = self.file;
        let directory = file.people.directory.zip(file.agents.list).map(|(d, agents)| d.with_agents(agents));
        let built = match (file.config, directory, file.policies.set, file.zone) {
            (Some(config), Some(directory), Some(policies), Some(zone)) if errors.is_empty() => {
                Some((config, directory, policies, zone))
            }
            _ => None,
        };
        let Some((config, directory, policies, zone)) = built else {
            if errors.is_empty() {
                // Every part that failed reported why; this guards against a silent failure.
                errors.push(Diagnostic::new(&config_path, crate::Pos::FILE, "could not be loaded", None));
            }
            return Err(redacted(errors, warnings, &Redactor::new(self.secrets)));
        };
        for workflow in &mut catalog {
            if workflow.run_as.is_none() {
                workflow.run_as.clone_from(&config.run_as);
            }
        }
        let redactor = Redactor::new(self.secrets);
        let warnings = redacted(Vec::new(), warnings, &redactor).warnings().to_vec();
        Ok(Loaded { config, catalog: Catalog::new(catalog), directory, policies, zone, redactor, warnings })
    }
}
