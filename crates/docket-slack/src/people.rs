//! Slack users → people in Docket's directory: by the Slack id written in the directory, else
//! by the email `users.info` gives (cached for a while, including "nobody").

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use docket_app::App;
use docket_core::PersonId;
use tokio::time::Instant;

use crate::client::{ApiError, SlackClient};

/// How long an email lookup is trusted.
const CACHE_FOR: Duration = Duration::from_secs(600);
/// Most users cached; the cache is cleared when full.
const CACHE_MAX: usize = 10_000;

/// Resolves Slack users to people. Cheap to share.
pub struct People {
    client: SlackClient,
    /// Slack user id → (person by email, when looked up). A std mutex: never held across an
    /// await.
    cache: Mutex<HashMap<String, (Option<PersonId>, Instant)>>,
}

impl std::fmt::Debug for People {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("People").finish_non_exhaustive()
    }
}

impl People {
    /// A resolver asking Slack through `client`.
    pub fn new(client: SlackClient) -> Self {
        Self { client, cache: Mutex::new(HashMap::new()) }
    }

    /// The person behind Slack user `user`, or `None` if Docket does not know them.
    pub async fn resolve(&self, app: &App, user: &str) -> Result<Option<PersonId>, ApiError> {
        let directory = &app.rules().directory;
        if let Some(person) = directory.by_id_on(crate::SCOPE, user) {
            return Ok(Some(person.id.clone()));
        }
        if let Some((person, at)) = self.lock().get(user)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(person.clone());
        }
        let email = self.client.user_email(user).await?;
        let person = email.and_then(|e| directory.by_email(&e)).map(|p| p.id.clone());
        let mut cache = self.lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(user.to_owned(), (person.clone(), Instant::now()));
        Ok(person)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<PersonId>, Instant)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
