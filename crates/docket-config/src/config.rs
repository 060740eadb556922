//! `docket.yaml` to a typed [`Config`], a directory of people and a policy set, plus what later
//! checks need: the catalog folder, database names and the parameters policies read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;

use crate::decode::{Fields, Opt, text};
use crate::diagnostic::{Pos, Report};
use crate::env::{self, Env};
use crate::model::{Config, Secret, Web};
use crate::people::{People, people};
use crate::policy::{Policies, policies};
use crate::surface;
use crate::yaml;

/// The top-level keys of `docket.yaml`.
pub(crate) const KEYS: &[&str] = &[
    "server",
    "storage",
    "catalog",
    "timezone",
    "ticket_prefix",
    "people",
    "groups",
    "oncall",
    "databases",
    "policies",
    "slack",
    "teams",
    "web",
];

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
    /// The rules, and the parameters they read.
    pub(crate) policies: Policies,
    /// Names under `databases`, including invalid entries' names.
    pub(crate) databases: BTreeSet<String>,
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
    env::apply(&mut root, env, report, secrets);
    let Some(fields) = Fields::open(&root, "the configuration", KEYS, report) else { return file };
    let before = report.error_count();

    let zone = surface::timezone(fields.get("timezone"), report);
    file.zone = zone.as_ref().map(|(_, z)| z.clone());
    file.people = people(fields.get("people"), fields.get("groups"), fields.get("oncall"), file.zone.as_ref(), report);
    file.policies = policies(fields.get("policies"), &file.people, report);
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
    let (names, databases) = surface::databases(fields.get("databases"), report);
    file.databases = names;
    let slack = fields.get("slack").map_or(Some(None), |n| surface::slack(n, report).map(Some));
    let teams = fields.get("teams").map_or(Some(None), |n| surface::teams(n, report).map(Some));
    let public_url = server.as_ref().and_then(|s| s.public_url.as_deref());
    let web = fields.get("web").map_or(Some(Web::default()), |n| crate::web::web(n, public_url, report));

    let parts = (server, storage, catalog, zone, ticket_prefix, databases, slack, teams, web);
    let (
        Some(server),
        Some(storage),
        Some(catalog),
        Some((timezone, _)),
        Some(prefix),
        Some(databases),
        Some(slack),
        Some(teams),
        Some(web),
    ) = parts
    else {
        return file;
    };
    if report.error_count() > before {
        return file;
    }
    let mut found: Vec<&Secret> = vec![];
    if let Some(slack) = &slack {
        found.extend([&slack.signing_secret, &slack.bot_token]);
        found.extend(&slack.app_token);
    }
    if let Some(teams) = &teams {
        found.push(&teams.app_password);
    }
    if let Some(oidc) = &web.oidc {
        found.push(&oidc.client_secret);
    }
    secrets.extend(found.into_iter().map(|s| s.expose().to_owned()));
    for url in std::iter::once(&storage.url).chain(databases.values()) {
        secrets.extend(surface::url_password(url.expose()).map(str::to_owned));
    }
    let folder = path.parent().unwrap_or(Path::new(""));
    file.config = Some(Config {
        path: path.to_path_buf(),
        server,
        storage,
        catalog: resolve(folder, &catalog),
        timezone,
        ticket_prefix: prefix,
        databases,
        slack,
        teams,
        web,
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
