//! What the approver reads on the record when a decision they took in ServiceNow does not
//! count (their own change, a stage that is not ServiceNow's, a plan changed since the record
//! showed it, a ticket no longer waiting, an approver Docket does not know): a work note says
//! why, once per approver, ticket and reason. It is best effort, after the callback is
//! answered: the decision changed nothing in Docket either way, and a failure is logged (a note
//! the instance says it did not write is not counted as written, so the same decision taken
//! again is answered then). The note comes back through the business rule as Docket's own
//! (written by the integration user), so it is not taken for a comment.

use docket_app::{App, Pruned};
use docket_core::TicketId;
use serde_json::{Map, Value};

use crate::client::ServiceNowClient;

/// The answers given, one per ticket, person and reason: kept 30 days, then forgotten (a
/// decision still refused after that is answered again).
static ANSWERED: Pruned = Pruned::new("servicenow.refused", std::time::Duration::from_secs(30 * 24 * 3600), 100);

/// A decision taken in ServiceNow that does not count.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) ticket: TicketId,
    /// The record's `sys_id`.
    pub(crate) sys_id: String,
    /// The approver's name, as the directory gives it, else their ServiceNow user name.
    pub(crate) who: String,
    /// `approval` or `rejection`.
    pub(crate) what: &'static str,
    /// Why it does not count, in words for ServiceNow.
    pub(crate) reason: String,
    /// Who decided, for the note written once: the person's id, or the user name no one has.
    pub(crate) by: String,
    /// Why, for the note written once: the refusal's code, or `unknown` for a user no one has.
    pub(crate) code: &'static str,
}

/// The work note's text.
fn note(refused: &Refused) -> String {
    format!("Docket did not count {}'s {}: {}.", refused.who, refused.what, refused.reason)
}

/// Writes the work note, unless it was written for the same approver and reason before; logs
/// a failure and gives the answer back.
pub(crate) async fn answer(client: &ServiceNowClient, app: &App, refused: Refused) {
    let once = match app.answer_refusal_once(&ANSWERED, &refused.ticket, &refused.by, refused.code).await {
        Ok(Some(once)) => once,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, record = refused.sys_id, "could not tell ServiceNow why a decision there does not count");
            return;
        }
    };
    let mut fields = Map::new();
    fields.insert("work_notes".to_owned(), Value::String(note(&refused)));
    if let Err(error) = client.patch(&refused.sys_id, fields).await {
        tracing::warn!(%error, record = refused.sys_id, "could not tell ServiceNow why a decision there does not count");
        // Not written, as the instance says: the same decision taken again is answered then.
        // After an answer that leaves it open (a 502, a timeout), it counts as said: a note
        // written twice would be worse than one a later decision does not repeat.
        if error.nothing_written()
            && let Err(forget) = app.refusal_not_answered(&ANSWERED, &once).await
        {
            tracing::warn!(error = %forget, record = refused.sys_id, "could not give back an answer ServiceNow did not get");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_person_the_decision_and_the_reason() {
        let refused = Refused {
            ticket: TicketId::parse("DKT-1").unwrap(),
            sys_id: "abc".to_owned(),
            who: "Alice Ng".to_owned(),
            what: "approval",
            reason: "you requested this ticket, so you cannot approve it — someone else must".to_owned(),
            by: "alice".to_owned(),
            code: "own_ticket",
        };
        assert_eq!(
            note(&refused),
            "Docket did not count Alice Ng's approval: you requested this ticket, so you cannot approve it — someone else must."
        );
    }
}
