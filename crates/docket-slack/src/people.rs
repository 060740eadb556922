//! Slack users → people in Docket's directory: by the Slack id written in the directory, else
//! by the email `users.info` gives (cached for a while, including "nobody", in the outbound
//! toolkit's [`TtlCache`]).

use std::time::Duration;

use docket_app::App;
use docket_app::outbound::TtlCache;
use docket_core::PersonId;

use crate::client::{ApiError, SlackClient};

/// How long an email lookup is trusted.
const CACHE_FOR: Duration = Duration::from_secs(600);
/// Most users cached.
const CACHE_MAX: u64 = 10_000;

/// Resolves Slack users to people. Cheap to share.
pub struct People {
    client: SlackClient,
    /// Slack user id → the person with that user's email, or nobody.
    cache: TtlCache<String, Option<PersonId>>,
}

impl std::fmt::Debug for People {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("People").finish_non_exhaustive()
    }
}

impl People {
    /// A resolver asking Slack through `client`.
    pub fn new(client: SlackClient) -> Self {
        Self { client, cache: TtlCache::new(CACHE_FOR, CACHE_MAX) }
    }

    /// The person behind Slack user `user`, or `None` if Docket does not know them.
    pub async fn resolve(&self, app: &App, user: &str) -> Result<Option<PersonId>, ApiError> {
        let directory = &app.rules().directory;
        if let Some(person) = directory.by_id_on(crate::SCOPE, user) {
            return Ok(Some(person.id.clone()));
        }
        let lookup = async {
            let email = self.client.user_email(user).await?;
            Ok(email.and_then(|e| directory.by_email(&e)).map(|p| p.id.clone()))
        };
        self.cache.get_or_try_insert_with(user.to_owned(), lookup).await
    }
}
