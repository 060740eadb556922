//! Ticket numbers on SQLite: reserved from the persistent counter [`BLOCK`] at a time, by one
//! write, and handed out from memory, so opening a ticket costs one write (its commit) instead
//! of two. A reserved number is durable before it is handed out, so no number is ever handed
//! out twice, across restarts or by two processes sharing the file. A clean stop gives the rest
//! of the block back (when no other process reserved numbers since), so the numbers people type
//! stay dense; after a crash the rest of the block is skipped, which the `Store` contract allows.

use std::sync::{Mutex, PoisonError};

use docket_app::StoreError;

use super::tickets::{ReleaseNumbers, ReserveNumbers};
use super::writer::Writer;

/// Numbers reserved by one write.
const BLOCK: u64 = 32;

/// The numbers reserved and not yet handed out.
#[derive(Debug, Default)]
pub(super) struct Numbers {
    /// `next..end` are free to hand out.
    block: Mutex<Block>,
    /// Held while a block is being reserved, so callers that find the block empty together
    /// reserve one block, not one each.
    reserving: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Block {
    next: u64,
    end: u64,
}

impl Numbers {
    /// The next number, reserving a block through `writer` when none is left.
    pub(super) async fn next(&self, writer: &Writer) -> Result<u64, StoreError> {
        loop {
            if let Some(n) = self.take() {
                return Ok(n);
            }
            let _reserving = self.reserving.lock().await;
            if let Some(n) = self.take() {
                return Ok(n);
            }
            let last = writer.submit(ReserveNumbers(BLOCK)).await?;
            let mut block = self.block.lock().unwrap_or_else(PoisonError::into_inner);
            // A ticket created with a number of its own may have moved `next` past the counter's
            // old value; the counter then moved too, so the new block starts beyond it.
            block.next = block.next.max(last.saturating_sub(BLOCK - 1));
            block.end = last.saturating_add(1);
        }
    }

    /// A ticket was created with `number` (normally one handed out here): no number up to it is
    /// handed out any more. The commit that created it raised the counter to it.
    pub(super) fn taken(&self, number: u64) {
        let mut block = self.block.lock().unwrap_or_else(PoisonError::into_inner);
        block.next = block.next.max(number.saturating_add(1));
    }

    /// Gives the numbers not handed out back to the counter (see [`ReleaseNumbers`]); none of
    /// them is handed out here any more, and a later call reserves a new block.
    pub(super) async fn release(&self, writer: &Writer) -> Result<(), StoreError> {
        let _reserving = self.reserving.lock().await;
        let (next, end) = {
            let mut block = self.block.lock().unwrap_or_else(PoisonError::into_inner);
            let unused = (block.next, block.end);
            block.end = block.next;
            unused
        };
        if next >= end || next == 0 {
            return Ok(());
        }
        let released = writer.submit(ReleaseNumbers(next - 1, end - 1)).await?;
        if !released {
            tracing::debug!(next, end, "ticket numbers not given back: another process reserved numbers since");
        }
        Ok(())
    }

    fn take(&self) -> Option<u64> {
        let mut block = self.block.lock().unwrap_or_else(PoisonError::into_inner);
        (block.next < block.end).then(|| {
            block.next += 1;
            block.next - 1
        })
    }
}
