//! People → Slack users, to DM them: the Slack id written in the directory, else the Slack
//! user with the person's email (`users.lookupByEmail`), cached for a while, including
//! "nobody", so a busy ticket does not ask Slack again for every message.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use docket_app::{App, NotifyError};
use docket_core::PersonId;
use tokio::time::Instant;

use crate::client::SlackClient;

/// How long a lookup is trusted.
const CACHE_FOR: Duration = Duration::from_secs(600);
/// Most people cached; the cache is cleared when full.
const CACHE_MAX: usize = 10_000;

/// Finds the Slack user of a person. Shared by the notifier's deliveries.
#[derive(Debug, Default)]
pub(super) struct SlackUsers {
    /// Person → (Slack user, when looked up). A std mutex: never held across an await.
    cache: Mutex<HashMap<PersonId, (Option<String>, Instant)>>,
}

impl SlackUsers {
    /// The Slack user id of `person`, or `None` when neither the directory nor Slack knows one.
    pub(super) async fn find(
        &self,
        app: &App,
        client: &SlackClient,
        person: &PersonId,
    ) -> Result<Option<String>, NotifyError> {
        let Some(known) = app.rules().directory.person(person) else { return Ok(None) };
        if let Some(id) = known.id_on(crate::SCOPE) {
            return Ok(Some(id.to_owned()));
        }
        let Some(email) = known.email.as_deref() else { return Ok(None) };
        if let Some((user, at)) = self.lock().get(person)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(user.clone());
        }
        let user = client.user_by_email(email).await?;
        let mut cache = self.lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(person.clone(), (user.clone(), Instant::now()));
        Ok(user)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PersonId, (Option<String>, Instant)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
