//! Writing checkpoints: every `every` while the chain grows, and once more at shutdown (after
//! the engine's last records), each one into the store, the file and the URL the section names.
//! A file or URL that fails is logged and tried again with the next checkpoint, which covers
//! everything the missed one did.

use std::sync::Arc;

use docket_app::App;
use docket_core::checkpoint::{Checkpoint, SigningKey};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::section::AuditSettings;

/// How long a POST of a checkpoint may take.
const POST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Writes signed checkpoints of one app's audit chain.
#[derive(Clone)]
pub struct Anchoring(Arc<Inner>);

struct Inner {
    app: App,
    key: SigningKey,
    settings: AuditSettings,
    client: reqwest::Client,
    /// The head the last checkpoint named: no new one while it has not moved.
    last: Mutex<Option<(u64, String)>>,
}

impl std::fmt::Debug for Anchoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchoring").field("key", &self.0.key).field("every", &self.0.settings.every).finish()
    }
}

impl Anchoring {
    /// The writer for `app` as `settings` say; `None` when they name no signing key.
    pub fn new(app: App, settings: &AuditSettings) -> Option<Self> {
        let key = settings.signing_key.clone()?;
        let client = reqwest::Client::builder().timeout(POST_TIMEOUT).build().unwrap_or_default();
        Some(Self(Arc::new(Inner { app, key, settings: settings.clone(), client, last: Mutex::new(None) })))
    }

    /// Writes a checkpoint of the head now, unless the last one already named it. Returns the
    /// checkpoint written, if any. Only the store's copy is required; the file and the URL are
    /// logged when they fail.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, docket_app::AppError> {
        let inner = &self.0;
        let mut last = inner.last.lock().await;
        let Some(checkpoint) = inner.app.checkpoint_audit(&inner.key, last.as_ref()).await? else { return Ok(None) };
        *last = Some((checkpoint.seq, checkpoint.hash.clone()));
        drop(last);
        if let Some(path) = &inner.settings.checkpoints {
            let (path, copy) = (path.clone(), checkpoint.clone());
            let written = tokio::task::spawn_blocking(move || crate::file::append(&path, &copy)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "could not append the audit checkpoint to its file"),
                Err(error) => tracing::warn!(%error, "could not append the audit checkpoint to its file"),
            }
        }
        if let Some(url) = &inner.settings.post_to {
            self.post(url, &checkpoint).await;
        }
        tracing::debug!(seq = checkpoint.seq, "audit checkpoint written");
        Ok(Some(checkpoint))
    }

    async fn post(&self, url: &str, checkpoint: &Checkpoint) {
        match self.0.client.post(url).json(checkpoint).send().await {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::warn!(status = %response.status(), "the audit checkpoint collector refused the checkpoint");
            }
            Err(error) => tracing::warn!(error = %error.without_url(), "could not POST the audit checkpoint"),
        }
    }

    /// Writes a checkpoint every `every` until `shutdown`; the caller writes the last one after
    /// the engine has stopped ([`Anchoring::checkpoint`]).
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        let every = self.0.settings.every.to_std();
        tokio::spawn(async move {
            loop {
                if let Err(error) = this.checkpoint().await {
                    tracing::warn!(%error, "could not write an audit checkpoint");
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
            }
        })
    }
}
