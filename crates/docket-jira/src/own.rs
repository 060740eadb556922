//! The account Docket calls Jira as (`GET /myself`), to know its own moves and comments when a
//! webhook leaves the email out. Asked in the background when the webhook route is built, and
//! again — at most every [`ASK_AGAIN`] — while it has not answered; a webhook never waits for
//! it, and until it is known, Docket's own is told by its email alone.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{Account, JiraClient};

/// The least time between two questions that went unanswered.
const ASK_AGAIN: Duration = Duration::from_secs(300);
/// How long one question may take, retries included.
const ASK_WITHIN: Duration = Duration::from_secs(10);

/// Docket's own account, once Jira has named it.
#[derive(Debug)]
pub(crate) struct OwnAccount {
    client: JiraClient,
    known: OnceLock<Account>,
    /// When it was last asked, while it is not known.
    asked: Mutex<Option<Instant>>,
}

impl OwnAccount {
    /// Asks Jira through `client` (none: it is never known), in the background if a runtime
    /// is running.
    pub(crate) fn new(client: JiraClient) -> Arc<Self> {
        let own = Arc::new(Self { client, known: OnceLock::new(), asked: Mutex::new(None) });
        if tokio::runtime::Handle::try_current().is_ok() {
            own.ask();
        }
        own
    }

    /// Whether `user` (a webhook's `user` or a comment's `author`) is Docket's own account, as
    /// far as it is known; asks again in the background when it is not known and the last
    /// question is old enough.
    pub(crate) fn is(self: &Arc<Self>, user: &Value) -> bool {
        match self.known.get() {
            Some(account) => account.is(&Account::of(user)),
            None => {
                self.ask();
                false
            }
        }
    }

    /// Asks Jira, in the background, unless it was asked within [`ASK_AGAIN`].
    fn ask(self: &Arc<Self>) {
        {
            let mut asked = self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if asked.is_some_and(|at| at.elapsed() < ASK_AGAIN) {
                return;
            }
            *asked = Some(Instant::now());
        }
        let client = self.client.clone();
        let own = Arc::clone(self);
        tokio::spawn(async move {
            match tokio::time::timeout(ASK_WITHIN, client.myself()).await {
                Ok(Ok(account)) => {
                    let _ = own.known.set(account);
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not ask Jira which account Docket calls it as; asking again later");
                }
                Err(_) => {
                    tracing::warn!("Jira did not say which account Docket calls it as in time; asking again later")
                }
            }
        });
    }
}
