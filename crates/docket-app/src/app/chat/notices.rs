//! The approval messages of one planning round: a stage *opened* (post the request to its
//! approvers, and bring every copy up to date) and the round *closed* (edit every copy to the
//! outcome, without buttons). The outbox key is the notice written out, so a surface parses back
//! exactly what was decided.

use docket_core::{Event, Ticket};

/// One approval message a change needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalNotice {
    /// Stage `stage` of planning round `round` is being asked now.
    Opened {
        /// The planning round.
        round: u32,
        /// The stage's name.
        stage: String,
    },
    /// Round `round`'s requests are over (decided, or superseded by an amendment or retry).
    Closed {
        /// The planning round.
        round: u32,
    },
}

impl ApprovalNotice {
    /// The stage being asked after `events` happened to `ticket`, when they concern it: the
    /// policy asked for approvals, an approval completed a stage and the next one is asked, or
    /// a review landed while the stage is still asked (its copies show where it stands).
    pub fn opened(ticket: &Ticket, events: &[Event]) -> Option<Self> {
        let asks = events.iter().any(|e| matches!(e, Event::Decided { .. } | Event::Reviewed(_)));
        let stage = ticket.stage_asked().filter(|_| asks)?;
        Some(Self::Opened { round: ticket.round, stage: stage.to_owned() })
    }

    /// The outbox key (`approvals:2:lead`, `approvals-done:2`).
    pub fn key(&self) -> String {
        match self {
            Self::Opened { round, stage } => format!("approvals:{round}:{stage}"),
            Self::Closed { round } => format!("approvals-done:{round}"),
        }
    }

    /// Reads a key written by [`ApprovalNotice::key`]; `None` for any other key.
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(round) = key.strip_prefix("approvals-done:") {
            return Some(Self::Closed { round: round.parse().ok()? });
        }
        let (round, stage) = key.strip_prefix("approvals:")?.split_once(':')?;
        Some(Self::Opened { round: round.parse().ok()?, stage: stage.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::ApprovalNotice;

    #[test]
    fn keys_read_back_as_the_notice_they_name() {
        for notice in [ApprovalNotice::Opened { round: 2, stage: "lead".into() }, ApprovalNotice::Closed { round: 3 }] {
            assert_eq!(ApprovalNotice::parse(&notice.key()), Some(notice));
        }
        for other in ["thread", "approvals:x:lead", "approvals:2", "approvals-done:", "reply"] {
            assert_eq!(ApprovalNotice::parse(other), None, "{other}");
        }
    }
}
