//! What both backends' group commit hands each caller: a write's own result, held until its
//! batch's `COMMIT` has succeeded or failed, then sent.

use docket_app::StoreError;
use tokio::sync::oneshot;

/// A write's result, waiting for the batch's `COMMIT`.
pub(crate) trait Settle: Send {
    /// Tells the caller: its own result if the batch committed or the write failed anyway, the
    /// batch's error otherwise.
    fn settle(self: Box<Self>, batch: Result<(), &StoreError>);
}

/// A caller's answer channel and the result its write had in the batch.
pub(crate) struct Pending<T> {
    pub(crate) reply: oneshot::Sender<Result<T, StoreError>>,
    pub(crate) result: Result<T, StoreError>,
}

impl<T: Send> Settle for Pending<T> {
    fn settle(self: Box<Self>, batch: Result<(), &StoreError>) {
        let result = match (self.result, batch) {
            (Ok(_), Err(error)) => Err(same(error)),
            (result, _) => result,
        };
        // The caller may have stopped waiting; the write stands either way.
        let _ = self.reply.send(result);
    }
}

/// A copy of an error, for each caller of a failed batch.
pub(crate) fn same(error: &StoreError) -> StoreError {
    match error {
        StoreError::Conflict(id) => StoreError::Conflict(id.clone()),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::Delivered(key) => StoreError::Delivered(key.clone()),
    }
}
