//! `docket.yaml` to a typed [`Config`], a directory of people and a policy set, plus what later
//! checks need: the catalog folder, the names plug-in sections declare and the parameters
//! policies read. Sections that belong to plug-ins (a surface, an integration, a step kind's
//! settings) are read by their plug-in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;

use crate::agents::{Agents, agents};
use crate::decode::{Fields, Opt, text};
use crate::diagnostic::{Pos, Report};
use crate::env::{self, Env};
use crate::model::Config;
use crate::people::{People, people};
use crate::plugin::{Plugins, SectionContext, Sections};
use crate::policy::{Policies, policies};
use crate::surface;
use crate::yaml;

/// The top-level keys of `docket.yaml` besides the plug-ins' sections.
pub(crate) const KEYS: &[&str] = &[
    "server",
    "storage",
    "catalog",
    "timezone",
    "ticket_prefix",
    "people",
    "groups",
    "oncall",
    "agents",
    "policies",
    "tokens",
    "run_as",
];

/// Every top-level key: [`KEYS`] and each plug-in section's.
pub(crate) fn keys(plugins: &Plugins) -> Vec<&'static str> {
    KEYS.iter().copied().chain(plugins.sections.iter().map(|s| s.key())).collect()
}

/// The catalog folder when `catalog` is not written.
pub(crate) const DEFAULT_CATALOG: &str = "./workflows";

/// What `docket.yaml` holds, as far as it could be read.
#[derive(Debug, Default)]
pub(crate) struct ConfigFile {
    /// Whether the YAML could be read at all (if not, nothing below is known).
    pub(crate) readable: bool,
    /// The catalog folder as written, and where; `None` when not written.
    pub(crate) catalog: Option<(String, Pos)>,
    /// Declared people, groups and rotations, and the directory when they are valid.
    pub(crate) people: People,
    /// Declared agents, and what their `may_request` lists name.
    pub(crate) agents: Agents,
    /// The rules, and the parameters they read.
    pub(crate) policies: Policies,
    /// The names each plug-in section declares (database names under `databases`), including
    /// those of invalid entries, by section.
    pub(crate) names: BTreeMap<&'static str, BTreeSet<String>>,
    /// The configured time zone, when valid.
    pub(crate) zone: Option<TimeZone>,
    /// The settings, when every section is valid.
    pub(crate) config: Option<Config>,
}

/// Reads `docket.yaml`'s `source`; `path` is where it was read from (relative paths in it are
/// resolved against its folder). Values read from the environment and secret settings go to
/// `secrets`.
pub(crate) fn config_file(
    path: &Path,
    source: &str,
    env: Env<'_>,
    plugins: &Plugins,
    secrets: &mut Vec<String>,
    report: &mut Report,
) -> ConfigFile {
    let mut file = ConfigFile::default();
    let Some(mut root) = yaml::parse(source, report) else { return file };
    file.readable = true;
    if root.is_null() {
        report.error(root.pos, "the file is empty");
        return file;
    }
    // The digest is of the file as written, so no secret read from the environment is in it;
    // the fingerprints are of the values read, so a rotated secret counts as a change.
    let digest = crate::reload::digest(&crate::reload::fingerprints(&root));
    env::apply(&mut root, env, report, secrets);
    let fingerprints = crate::reload::fingerprints(&root);
    let Some(fields) = Fields::open(&root, "the configuration", &keys(plugins), report) else { return file };
    let zone = surface::timezone(fields.get("timezone"), report);
    file.zone = zone.as_ref().map(|(_, z)| z.clone());
    file.people = people(
        fields.get("people"),
        fields.get("groups"),
        fields.get("oncall"),
        file.zone.as_ref(),
        &plugins.person_keys,
        report,
    );
    file.people.systems = plugins.approval_systems.clone();
    file.agents = agents(fields.get("agents"), &file.people, report);
    let notify: Vec<&'static str> = plugins.notify_keys.iter().copied().collect();
    file.policies = policies(fields.get("policies"), &file.people, &notify, report);
    let catalog = match fields.opt("catalog", report, text) {
        Opt::Given(dir) => {
            let at = fields.get("catalog").map_or(Pos::new(1, 1), |n| n.pos);
            file.catalog = Some((dir.clone(), at));
            Some(dir)
        }
        Opt::Absent => Some(DEFAULT_CATALOG.to_owned()),
        Opt::Invalid => None,
    };
    let server = surface::server(fields.get("server"), report);
    let storage = surface::storage(fields.get("storage"), report);
    let ticket_prefix = surface::ticket_prefix(fields.get("ticket_prefix"), report);
    let tokens = surface::tokens(fields.get("tokens"), report);
    let run_as = match fields.get("run_as") {
        None => Some(None),
        Some(node) => surface::user_name(node, report).map(Some),
    };
    let public_url = server.as_ref().and_then(|s| s.public_url.as_deref());
    let mut sections = Sections::default();
    let mut sections_valid = true;
    // Settings the sections call secret count once the whole file is valid (as values read
    // from the environment do from the start): until then they may be text that failed to read.
    let mut section_secrets = Vec::new();
    for section in &plugins.sections {
        let Some(node) = fields.get(section.key()) else { continue };
        let folder = path.parent().unwrap_or(Path::new(""));
        let mut cx = SectionContext { report, secrets: &mut section_secrets, public_url, folder };
        let decoded = section.decode(node, &mut cx);
        file.names.insert(section.key(), decoded.names);
        match decoded.value {
            Some(value) => {
                sections.values.insert(section.key(), value);
            }
            None => sections_valid = false,
        }
    }

    let parts = (server, storage, catalog, zone, ticket_prefix, tokens, run_as);
    let (Some(server), Some(storage), Some(catalog), Some((timezone, _)), Some(prefix), Some(tokens), Some(run_as)) =
        parts
    else {
        return file;
    };
    // Any error at all (a `${VAR}` that failed to read included) leaves the section secrets out:
    // they may be text that was never a secret.
    if !sections_valid || report.error_count() > 0 {
        return file;
    }
    secrets.extend(section_secrets);
    secrets.extend(surface::url_password(storage.url.expose()).map(str::to_owned));
    let folder = path.parent().unwrap_or(Path::new(""));
    file.config = Some(Config {
        path: path.to_path_buf(),
        server,
        storage,
        catalog: resolve(folder, &catalog),
        timezone,
        ticket_prefix: prefix,
        tokens,
        run_as,
        fingerprints,
        digest,
        sections,
    });
    file
}

/// `dir` resolved against `folder` (unchanged when absolute).
pub(crate) fn resolve(folder: &Path, dir: &str) -> PathBuf {
    let dir = Path::new(dir);
    if dir.is_absolute() {
        return dir.to_path_buf();
    }
    let joined = folder.join(dir);
    // `a/./workflows` reads better as `a/workflows`.
    let clean: PathBuf = joined.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect();
    if clean.as_os_str().is_empty() { PathBuf::from(".") } else { clean }
}
