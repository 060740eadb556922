//! What a configuration reload may change while the server runs, and what only a restart can:
//! each top-level key of `docket.yaml` has a fingerprint (a SHA-256 of its value once `${VAR}`s
//! are read, whatever its layout or comments), so a reload can name the keys that changed.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::model::Config;
use crate::node::{Node, Value};
use crate::plugin::Plugins;

/// The top-level keys a running server takes on at a reload: the rules every request is decided
/// by. Step kinds' sections (databases, clusters, pipelines) are taken on too, since their
/// runners are rebuilt. Everything else (the listen address, the store, chat connections,
/// sign-in, logs, the audit's key) is set up once at start and needs a restart.
const LIVE: &[&str] = &["people", "groups", "oncall", "agents", "policies", "timezone", "catalog", "run_as"];

/// Each top-level key's fingerprint, by key.
pub(crate) fn fingerprints(root: &Node) -> BTreeMap<String, String> {
    let Value::Map(entries) = &root.value else { return BTreeMap::new() };
    entries
        .iter()
        .filter_map(|(key, value)| {
            let key = key.scalar()?.text.clone();
            let mut hasher = Sha256::new();
            feed(value, &mut hasher);
            Some((key, hex::encode(hasher.finalize())))
        })
        .collect()
}

/// Feeds `node`'s value into `hasher` unambiguously: a tag and a length before every part.
fn feed(node: &Node, hasher: &mut Sha256) {
    match &node.value {
        Value::Scalar(scalar) => {
            hasher.update(b"s");
            hasher.update((scalar.text.len() as u64).to_be_bytes());
            hasher.update(scalar.text.as_bytes());
        }
        Value::Seq(items) => {
            hasher.update(b"l");
            hasher.update((items.len() as u64).to_be_bytes());
            for item in items {
                feed(item, hasher);
            }
        }
        Value::Map(entries) => {
            hasher.update(b"m");
            hasher.update((entries.len() as u64).to_be_bytes());
            for (key, value) in entries {
                feed(key, hasher);
                feed(value, hasher);
            }
        }
    }
}

/// The top-level keys whose change `running` cannot take on from `new` without a restart,
/// sorted: a key written, removed or changed that is neither a rule nor a step kind's section.
pub fn needs_restart(running: &Config, new: &Config, plugins: &Plugins) -> Vec<String> {
    let live = |key: &str| LIVE.contains(&key) || plugins.reloads(key);
    let keys: std::collections::BTreeSet<&String> =
        running.fingerprints.keys().chain(new.fingerprints.keys()).collect();
    keys.into_iter()
        .filter(|key| !live(key) && running.fingerprints.get(*key) != new.fingerprints.get(*key))
        .cloned()
        .collect()
}

/// A digest of a whole configuration as written: `docket.yaml` (before `${VAR}`s are read) and
/// each workflow's version (the hash of its file), so no secret is in it.
pub fn loaded_digest(loaded: &crate::Loaded) -> String {
    let mut hasher = Sha256::new();
    hasher.update(loaded.config.digest.as_bytes());
    let mut workflows: Vec<(&str, &str)> = loaded.catalog.iter().map(|w| (w.id.as_str(), w.version.as_str())).collect();
    workflows.sort_unstable();
    for (id, version) in workflows {
        hasher.update((id.len() as u64).to_be_bytes());
        hasher.update(id.as_bytes());
        hasher.update((version.len() as u64).to_be_bytes());
        hasher.update(version.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// One digest of every key's fingerprint, in order.
pub(crate) fn digest(fingerprints: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (key, fingerprint) in fingerprints {
        hasher.update((key.len() as u64).to_be_bytes());
        hasher.update(key.as_bytes());
        hasher.update(fingerprint.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::files::Source;
    use crate::node::Node;
    use crate::plugin::{Decoded, Section, SectionContext};

    /// A section that reads nothing; `live` says whether a reload takes it on.
    struct Stub {
        key: &'static str,
        live: bool,
    }

    impl Section for Stub {
        fn key(&self) -> &'static str {
            self.key
        }

        fn reloads(&self) -> bool {
            self.live
        }

        fn decode(&self, _node: &Node, _cx: &mut SectionContext<'_>) -> Decoded {
            Decoded::value(())
        }
    }

    fn plugins() -> Plugins {
        Plugins::new()
            .section(Arc::new(Stub { key: "slack", live: false }))
            .section(Arc::new(Stub { key: "databases", live: true }))
    }

    const BASE: &str = "server: { listen: 127.0.0.1:8080 }\n\
        people: [{ id: alice }]\n\
        slack: { bot_token: '${SLACK_BOT_TOKEN}' }\n\
        databases: { shop: 'postgres://db/shop' }\n";

    fn config(text: &str, token: &str) -> Config {
        let env = |name: &str| (name == "SLACK_BOT_TOKEN").then(|| token.to_owned());
        let loaded = crate::load::parse(&Source::new("docket.yaml", text), &[], &env, &plugins())
            .unwrap_or_else(|e| panic!("{e}"));
        loaded.config
    }

    #[test]
    fn a_reload_names_what_only_a_restart_takes_on() {
        let running = config(BASE, "xoxb-1");
        let same = config(&format!("# a comment\n{}", BASE.replace(": { ", ":  {  ")), "xoxb-1");
        assert_eq!(needs_restart(&running, &same, &plugins()), Vec::<String>::new());
        assert_eq!(running.digest, same.digest, "layout and comments are not a change");

        let rules = config(&BASE.replace("[{ id: alice }]", "[{ id: alice }, { id: bob }]"), "xoxb-1");
        let database = config(&BASE.replace("db/shop", "db2/shop"), "xoxb-1");
        for live in [&rules, &database] {
            assert_eq!(needs_restart(&running, live, &plugins()), Vec::<String>::new());
            assert_ne!(running.digest, live.digest);
        }

        let listen = config(&BASE.replace("8080", "9090"), "xoxb-1");
        assert_eq!(needs_restart(&running, &listen, &plugins()), ["server"]);
        let rotated = config(BASE, "xoxb-2");
        assert_eq!(needs_restart(&running, &rotated, &plugins()), ["slack"], "a new secret is a change");
        assert_eq!(running.digest, rotated.digest, "the digest holds no secret");
        let added = config(&format!("{BASE}ticket_prefix: OPS\n"), "xoxb-1");
        assert_eq!(needs_restart(&running, &added, &plugins()), ["ticket_prefix"]);
        let removed = config(&BASE.replace("slack: { bot_token: '${SLACK_BOT_TOKEN}' }\n", ""), "xoxb-1");
        assert_eq!(needs_restart(&running, &removed, &plugins()), ["slack"]);
    }
}
