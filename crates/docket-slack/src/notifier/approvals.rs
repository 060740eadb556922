//! Approval requests: one copy in the approvals channel, one DM per eligible approver of the
//! stage being asked (the on-call person first), every copy edited as stages fill, and every
//! copy edited to the outcome, without buttons, once the round is decided or superseded.

use docket_app::NotifyError;
use docket_core::policy::Outcome;
use docket_core::{PersonId, TicketState};

use super::Delivery;
use super::copies;
use crate::render::Message;
use crate::render::approval::{ApprovalContext, approval_message};
use crate::render::blocks::escape;
use crate::render::ticket::relayed_note;

impl Delivery<'_> {
    /// A stage opened: post the channel copy and the DMs that are missing, edit the others.
    pub(super) async fn approvals(&self, round: u32, stage: &str) -> Result<(), NotifyError> {
        let ticket = self.ticket;
        let Some(view) = self.app.approval_view(ticket) else { return Ok(()) };
        let message = self.render(&view, None);
        let prefix = copies::key(&ticket.id, &format!("approvals:{round}:"));
        // Edit what exists first: it shows the stages filling.
        for (key, copy) in copies::recall_all(self.app, &prefix).await? {
            copies::edit(self.app, self.client, &key, &copy, &message).await?;
        }
        if round != ticket.round || ticket.state != TicketState::AwaitingApproval {
            return Ok(());
        }
        if let Some(channel) = self.approvals_channel() {
            let key = format!("{prefix}channel");
            if copies::recall(self.app, &key).await?.is_none() {
                copies::post(self.app, self.client, &key, &channel, None, &message, self.resumed).await?;
            }
        }
        let Some(stage) = view.stages.iter().find(|s| s.name == stage) else { return Ok(()) };
        for person in &stage.eligible {
            self.dm_approver(&prefix, person, &message).await?;
        }
        Ok(())
    }

    /// Asks `person` by DM for stage `stage` of `round`, for a surface that could not reach
    /// them (`from`). `false` when they have no Slack id; `true` once they have the request
    /// (posted now or earlier), or when the stage is no longer being asked.
    pub(super) async fn approval_relayed(
        &self,
        round: u32,
        stage: &str,
        person: &PersonId,
        from: &str,
    ) -> Result<bool, NotifyError> {
        let ticket = self.ticket;
        if self.slack_user(person).await?.is_none() {
            return Ok(false);
        }
        let asked = ticket.stage_asked().is_some_and(|s| s == stage);
        if round != ticket.round || ticket.state != TicketState::AwaitingApproval || !asked {
            return Ok(true);
        }
        let Some(view) = self.app.approval_view(ticket) else { return Ok(true) };
        let message = relayed_note(self.render(&view, None), from);
        let prefix = copies::key(&ticket.id, &format!("approvals:{round}:"));
        self.dm_approver(&prefix, person, &message).await
    }

    /// Posts `message` to `person` by DM unless a copy for them is kept already; `false` when
    /// they have no Slack id.
    async fn dm_approver(&self, prefix: &str, person: &PersonId, message: &Message) -> Result<bool, NotifyError> {
        let key = format!("{prefix}dm:{person}");
        if copies::recall(self.app, &key).await?.is_some() {
            return Ok(true);
        }
        let Some(user) = self.slack_user(person).await? else { return Ok(false) };
        let dm = self.client.open_dm(&user).await?;
        copies::post(self.app, self.client, &key, &dm, None, message, self.resumed).await?;
        Ok(true)
    }

    /// The round is over: every copy shows the outcome, without buttons.
    pub(super) async fn approvals_done(&self, round: u32) -> Result<(), NotifyError> {
        let ticket = self.ticket;
        let prefix = copies::key(&ticket.id, &format!("approvals:{round}:"));
        let copies = copies::recall_all(self.app, &prefix).await?;
        if copies.is_empty() {
            return Ok(());
        }
        let Some(view) = self.app.approval_view(ticket).or_else(|| self.last_view()) else { return Ok(()) };
        let note = self.app.approval_outcome(ticket, round).unwrap_or_else(|| self.app.summarize(ticket).headline);
        let message = self.render(&view, Some(note));
        for (key, copy) in copies {
            copies::edit(self.app, self.client, &key, &copy, &message).await?;
        }
        Ok(())
    }

    fn render(&self, view: &docket_app::ApprovalView, closed: Option<String>) -> Message {
        let summary = self.app.summarize(self.ticket);
        let origin = &self.ticket.origin;
        let origin = match (origin.surface.as_str(), origin.channel.as_deref()) {
            ("slack", Some(channel)) => format!("in <#{channel}>"),
            ("slack", None) => "in Slack".to_owned(),
            (surface, _) => format!("from {}", escape(surface)),
        };
        let app = self.app;
        let name = |id: &str| app.person_name(&id.into());
        approval_message(&ApprovalContext { summary: &summary, view, origin, name: &name, closed })
    }

    /// The approval view of a ticket whose latest decision asks for none (after an amend that
    /// made it auto-approved): rebuilt from the requirement of the old round is not possible,
    /// so the copies show the ticket as it is now.
    fn last_view(&self) -> Option<docket_app::ApprovalView> {
        let decision = self.ticket.decision.as_ref()?;
        let explanation = decision.explanation.clone();
        let rule = decision.rule.clone();
        let _ = matches!(decision.outcome, Outcome::Approvals(_));
        Some(docket_app::ApprovalView { rule, explanation, stages: Vec::new(), respond_by: None })
    }

    fn approvals_channel(&self) -> Option<String> {
        let decision = self.ticket.decision.as_ref()?;
        let from_policy = match &decision.outcome {
            Outcome::Approvals(requirement) => requirement.notify.on(crate::SCOPE).map(str::to_owned),
            _ => None,
        };
        from_policy.or_else(|| self.settings.approvals_channel.clone())
    }
}
