//! Reading only the sections of `docket.yaml` a command needs. `docket audit` opens the database
//! and nothing else, so `${VAR}` is resolved in `storage` alone (Slack, Teams and sign-in secrets
//! need not be set) and the rest is not decoded; `docket token create` reads the people as well,
//! and `docket mcp` only `server`.
//! The file must still be YAML, and its top-level keys known: a misspelt `storage` would
//! otherwise open the default database without a word.

use std::path::{Path, PathBuf};

use docket_core::Directory;
use docket_core::redact::Redactor;

use crate::agents::agents;
use crate::config::keys;
use crate::decode::Fields;
use crate::diagnostic::{Diagnostic, Diagnostics, Report};
use crate::env::{self, Env};
use crate::files::{self, Source};
use crate::load::redacted;
use crate::model::{Server, Storage, TokenSettings};
use crate::node::{Node, Value};
use crate::people::people;
use crate::plugin::Plugins;
use crate::surface;
use crate::yaml;

/// What a command that works on the database directly needs.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// The configuration file; relative SQLite paths are relative to its folder.
    pub path: PathBuf,
    /// `storage`.
    pub storage: Storage,
    /// `tokens` (read with the people, for `docket token create`; the default otherwise).
    pub tokens: TokenSettings,
}

/// Reads `storage` from the configuration at `config_path`, resolving `${VAR}` only there.
/// `plugins` tell which other top-level sections exist.
pub fn load_storage(config_path: &Path, env: Env<'_>, plugins: &Plugins) -> Result<StoreSettings, Diagnostics> {
    storage_from(&files::read(config_path).map_err(|d| Diagnostics::new(vec![d], vec![]))?, env, plugins)
}

/// Reads `storage`, `tokens` and the directory (`people`, `groups`, `oncall`, `agents` and the
/// `timezone` rotations use), resolving `${VAR}` only in those sections.
pub fn load_people(
    config_path: &Path,
    env: Env<'_>,
    plugins: &Plugins,
) -> Result<(StoreSettings, Directory), Diagnostics> {
    people_from(&files::read(config_path).map_err(|d| Diagnostics::new(vec![d], vec![]))?, env, plugins)
}

/// Reads `server` alone (where the server listens and is reached), resolving `${VAR}` only
/// there: what `docket mcp` needs to find the server it forwards to.
pub fn load_server(config_path: &Path, env: Env<'_>, plugins: &Plugins) -> Result<Server, Diagnostics> {
    let source = files::read(config_path).map_err(|d| Diagnostics::new(vec![d], vec![]))?;
    let (_, server) =
        read(&source, env, plugins, &["server"], |fields, report| surface::server(fields.get("server"), report))?;
    Ok(server)
}

fn storage_from(source: &Source, env: Env<'_>, plugins: &Plugins) -> Result<StoreSettings, Diagnostics> {
    let (settings, ()) = read(source, env, plugins, &["storage"], |_, _| Some(()))?;
    Ok(settings)
}

fn people_from(source: &Source, env: Env<'_>, plugins: &Plugins) -> Result<(StoreSettings, Directory), Diagnostics> {
    let sections = ["storage", "people", "groups", "oncall", "agents", "timezone", "tokens"];
    let (mut settings, (directory, tokens)) = read(source, env, plugins, &sections, |fields, report| {
        let zone = surface::timezone(fields.get("timezone"), report).map(|(_, zone)| zone);
        let (people_node, groups, oncall) = (fields.get("people"), fields.get("groups"), fields.get("oncall"));
        let people = people(people_node, groups, oncall, zone.as_ref(), &plugins.person_keys, report);
        let agents = agents(fields.get("agents"), &people, report);
        let tokens = surface::tokens(fields.get("tokens"), report);
        Some((people.directory?.with_agents(agents.list?), tokens?))
    })?;
    settings.tokens = tokens;
    Ok((settings, directory))
}

/// Resolves `${VAR}` in `sections` of `source`, checks the top-level keys, and decodes `storage`
/// and whatever `more` reads.
fn read<T>(
    source: &Source,
    env: Env<'_>,
    plugins: &Plugins,
    sections: &[&str],
    more: impl FnOnce(&Fields<'_>, &mut Report) -> Option<T>,
) -> Result<(StoreSettings, T), Diagnostics> {
    let config_path = source.path.as_path();
    let mut report = Report::new(&source.path);
    let mut secrets = Vec::new();
    let decoded = decode(&source.text, env, &keys(plugins), sections, &mut secrets, &mut report, more);
    match decoded {
        Some((storage, more)) if report.errors.is_empty() => {
            Ok((StoreSettings { path: config_path.to_path_buf(), storage, tokens: TokenSettings::default() }, more))
        }
        _ => {
            if report.errors.is_empty() {
                // Every part that failed reported why; this guards against a silent failure.
                report.errors.push(Diagnostic::new(config_path, crate::Pos::FILE, "could not be loaded", None));
            }
            Err(redacted(report.errors, report.warnings, &Redactor::new(secrets)))
        }
    }
}

fn decode<T>(
    text: &str,
    env: Env<'_>,
    keys: &[&'static str],
    sections: &[&str],
    secrets: &mut Vec<String>,
    report: &mut Report,
    more: impl FnOnce(&Fields<'_>, &mut Report) -> Option<T>,
) -> Option<(Storage, T)> {
    let mut root = yaml::parse(text, report)?;
    if root.is_null() {
        report.error(root.pos, "the file is empty");
        return None;
    }
    let before = report.error_count();
    if let Value::Map(entries) = &mut root.value {
        for (key, value) in entries.iter_mut() {
            if key_is(key, sections) {
                env::apply(value, env, report, secrets);
            }
        }
    }
    // A variable that is not set is the one thing to say: the `${VAR}` left in its place would
    // only add "not a URL".
    if report.error_count() > before {
        return None;
    }
    let fields = Fields::open(&root, "the configuration", keys, report)?;
    let storage = surface::storage(fields.get("storage"), report);
    let more = more(&fields, report);
    Some((storage?, more?))
}

fn key_is(key: &Node, names: &[&str]) -> bool {
    key.scalar().is_some_and(|s| names.contains(&s.text.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "storage: { url: '${DATABASE_URL}' }\n\
        people: [{ id: alice, name: '${ALICE}' }]\n\
        slack: { signing_secret: '${SLACK_SIGNING_SECRET}', bot_token: '${SLACK_BOT_TOKEN}' }\n";

    /// The test's configuration has a `slack` section; nothing here reads it.
    fn plugins() -> Plugins {
        Plugins::new().section(std::sync::Arc::new(Unread("slack")))
    }

    struct Unread(&'static str);

    impl crate::plugin::Section for Unread {
        fn key(&self) -> &'static str {
            self.0
        }

        fn decode(&self, _node: &Node, _cx: &mut crate::plugin::SectionContext<'_>) -> crate::plugin::Decoded {
            panic!("only storage and people are read")
        }
    }

    fn source(text: &str) -> Source {
        Source::new("conf/docket.yaml", text)
    }

    #[test]
    fn reads_storage_without_the_other_secrets() {
        let env = |name: &str| (name == "DATABASE_URL").then(|| "sqlite://./audit.db".to_owned());
        let settings = storage_from(&source(CONFIG), &env, &plugins()).unwrap();
        assert_eq!(settings.storage.url.expose(), "sqlite://./audit.db");
        assert_eq!(settings.path, Path::new("conf/docket.yaml"));
        let missing = people_from(&source(CONFIG), &env, &plugins()).unwrap_err();
        assert_eq!(missing.len(), 1, "only the people's variable: {missing}");
        assert!(missing.to_string().contains("environment variable `ALICE` is not set"), "{missing}");
        let env = |name: &str| Some(if name == "DATABASE_URL" { "sqlite:x.db".to_owned() } else { format!("{name}!") });
        let (_, directory) = people_from(&source(CONFIG), &env, &plugins()).unwrap();
        assert_eq!(directory.people().count(), 1);
    }

    #[test]
    fn an_unset_variable_in_storage_is_named_where_it_is_written() {
        let err = storage_from(&source(CONFIG), &|_| None, &plugins()).unwrap_err();
        assert_eq!(err.len(), 1, "{err}");
        assert_eq!(err.errors()[0].pos(), crate::Pos::new(1, 18));
        assert_eq!(err.errors()[0].message, "environment variable `DATABASE_URL` is not set");
    }

    #[test]
    fn syntax_errors_and_misspelt_sections_are_still_reported() {
        let err = storage_from(&source("storage: { url: sqlite://x.db\n"), &|_| None, &plugins()).unwrap_err();
        assert!(err.to_string().contains("invalid YAML"), "{err}");
        let err = storage_from(&source("storag: { url: sqlite://x.db }\n"), &|_| None, &plugins()).unwrap_err();
        assert!(err.to_string().contains("unknown key `storag`"), "{err}");
        let err = storage_from(&source(""), &|_| None, &plugins()).unwrap_err();
        assert!(err.to_string().contains("the file is empty"), "{err}");
    }

    #[test]
    fn values_read_are_masked_in_messages() {
        let env = |_: &str| Some("not-a-url-s3cret".to_owned());
        let err = storage_from(&source("storage: { url: '${DATABASE_URL}' }\n"), &env, &plugins()).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
