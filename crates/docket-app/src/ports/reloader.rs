//! Reloading the configuration: the composition root reads and checks every file again and
//! hands the app the new rules and runners, or every reason it cannot. The app decides who may
//! reload, records it, and swaps.

use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::runner::StepRunner;
use crate::settings::RuleBook;

/// A configuration read again and found good: what the app takes on.
pub struct Reloaded {
    /// The new rules (catalog, policies, people, zone, secrets).
    pub rules: RuleBook,
    /// A runner per step kind, set up from the new configuration.
    pub runners: Vec<Arc<dyn StepRunner>>,
    /// A digest of the configuration as written (no secret is in it), for the audit record.
    pub digest: String,
    /// Things that load but look wrong, as `docket check` says them.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Reloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloaded").field("digest", &self.digest).finish_non_exhaustive()
    }
}

/// Why a reload was refused: the running configuration stays.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReloadRefused {
    /// The files have errors; each is `file:line:column: message`, as `docket check` says it.
    #[error("the configuration has {} error(s); the running one stays:\n  {}", .0.len(), .0.join("\n  "))]
    Invalid(Vec<String>),
    /// Settings changed that only a restart takes on, by top-level key.
    #[error(
        "{} changed, which only a restart takes on; the running configuration stays (undo the change to reload the rest)",
        keys(.0)
    )]
    NeedsRestart(Vec<String>),
    /// Something the new configuration needs could not be set up (a step kind's runner).
    #[error("{0}; the running configuration stays")]
    Failed(String),
    /// This server was started without a configuration file to read again.
    #[error("this server cannot reload its configuration")]
    Unsupported,
}

/// `server`, `storage` and `slack` as words: "`server`, `storage` and `slack`".
fn keys(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        None => "nothing".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Reads the configuration again.
#[async_trait]
pub trait Reloader: Send + Sync {
    /// Reads and checks every file again, against the configuration in force: anything wrong,
    /// or changed that cannot change while running, refuses the reload.
    async fn load(&self) -> Result<Reloaded, ReloadRefused>;

    /// The configuration `load` returned with `digest` is now the one in force (the next
    /// reload compares against it).
    fn taken(&self, digest: &str);

    /// The digest of the configuration in force: the one the server started with until a
    /// reload is taken.
    fn running(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_keys_in_words() {
        let one = ReloadRefused::NeedsRestart(vec!["server".into()]);
        assert!(one.to_string().starts_with("`server` changed, which only a restart takes on"));
        let three = ReloadRefused::NeedsRestart(vec!["server".into(), "slack".into(), "storage".into()]);
        assert!(three.to_string().starts_with("`server`, `slack` and `storage` changed"));
        let invalid = ReloadRefused::Invalid(vec!["a.yaml:3:1: bad".into(), "b.yaml:1:1: worse".into()]);
        assert_eq!(
            invalid.to_string(),
            "the configuration has 2 error(s); the running one stays:\n  a.yaml:3:1: bad\n  b.yaml:1:1: worse"
        );
    }
}
