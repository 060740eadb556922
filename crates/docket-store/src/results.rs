//! The `step_results` rows, shared by both backends: a result's columns in the order both
//! backends' statements bind them, and decoding a row back into a [`StoredResult`].

use docket_app::{StoreError, StoredResult};

use crate::rows::{Columns, from_json, parse_time, ticket_id, time_text, to_json, to_unsigned};

/// A result's values, ready to bind: ticket, run, step, body (JSON), at.
#[derive(Debug)]
pub(crate) struct ResultColumns {
    pub(crate) ticket: String,
    pub(crate) run: i64,
    pub(crate) step: i64,
    pub(crate) body: String,
    pub(crate) at: String,
}

impl ResultColumns {
    /// The row for `result`.
    pub(crate) fn new(result: &StoredResult) -> Result<Self, StoreError> {
        Ok(Self {
            ticket: result.ticket.to_string(),
            run: i64::from(result.run),
            step: crate::rows::to_i64(result.step, "step")?,
            body: to_json(&result.result, "step result")?,
            at: time_text(result.at),
        })
    }
}

/// Decodes a `step_results` row (its `body` read as text).
pub(crate) fn stored_result(row: &impl Columns) -> Result<StoredResult, StoreError> {
    Ok(StoredResult {
        ticket: ticket_id(&row.text("ticket")?)?,
        run: to_unsigned(row.int("run")?, "run")?,
        step: to_unsigned(row.int("step")?, "step")?,
        result: from_json(&row.text("body")?, "step result")?,
        at: parse_time(&row.text("at")?, "at")?,
    })
}
