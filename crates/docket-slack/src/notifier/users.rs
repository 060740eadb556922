//! People → Slack users, to DM them: the Slack id written in the directory, else the Slack
//! user with the person's email (`users.lookupByEmail`), cached for a while, including
//! "nobody" (the outbound toolkit's [`TtlCache`]), so a busy ticket does not ask Slack again
//! for every message.

use std::time::Duration;

use docket_app::outbound::TtlCache;
use docket_app::{App, NotifyError};
use docket_core::PersonId;

use crate::client::SlackClient;

/// How long a lookup is trusted.
const CACHE_FOR: Duration = Duration::from_secs(600);
/// Most people cached.
const CACHE_MAX: u64 = 10_000;

/// Finds the Slack user of a person. Shared by the notifier's deliveries.
#[derive(Debug)]
pub(super) struct SlackUsers {
    /// Person → their Slack user, or nobody.
    cache: TtlCache<PersonId, Option<String>>,
}

impl Default for SlackUsers {
    fn default() -> Self {
        Self { cache: TtlCache::new(CACHE_FOR, CACHE_MAX) }
    }
}

impl SlackUsers {
    /// The Slack user id of `person`, or `None` when neither the directory nor Slack knows one.
    pub(super) async fn find(
        &self,
        app: &App,
        client: &SlackClient,
        person: &PersonId,
    ) -> Result<Option<String>, NotifyError> {
        let rules = app.rules();
        let Some(known) = rules.directory.person(person) else { return Ok(None) };
        if let Some(id) = known.id_on(crate::SCOPE) {
            return Ok(Some(id.to_owned()));
        }
        let Some(email) = known.email.as_deref() else { return Ok(None) };
        Ok(self.cache.get_or_try_insert_with(person.clone(), client.user_by_email(email)).await?)
    }
}
