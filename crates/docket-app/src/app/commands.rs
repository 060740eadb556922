//! The commands people issue: request, amend, approve, reject, request changes, comment,
//! cancel, retry. Each is decided by core; a command that starts planning plans before it
//! returns, so the caller sees the plan and its digest.

use docket_core::ticket::Origin;
use docket_core::{Actor, Command, Digest, Event, NewTicket, RawParams, Refusal, Ticket, TicketId, WorkflowId, ticket};

use super::App;
use super::commit::Along;
use crate::error::AppError;
use crate::ports::store::Delivery;

impl App {
    /// Opens a ticket for `workflow` with `params`, plans it and lets the policy decide.
    /// Invalid parameters are refused with every field's error at once, and create nothing.
    #[tracing::instrument(level = "info", name = "request_ticket", skip_all, fields(workflow = %workflow, actor = %actor))]
    pub async fn request(
        &self,
        actor: &Actor,
        workflow: &WorkflowId,
        params: RawParams,
        origin: Origin,
    ) -> Result<Ticket, AppError> {
        self.request_along(actor, workflow, params, origin, Along::Nothing).await
    }

    /// The same for a request that came by `delivery`, recorded with the new ticket: if it was
    /// recorded before (a replayed or repeated delivery), nothing is opened and the error is
    /// [`StoreError::Delivered`](crate::StoreError::Delivered). Once the ticket is committed
    /// it is returned, even if planning it then fails (logged; the ticket stays in planning,
    /// where a restart plans it again), so every error comes from before or at the commit. A
    /// store's error may leave the delivery recorded or not (see
    /// [`TicketStore::commit_once`](crate::TicketStore::commit_once)); any other error (a
    /// refusal, an unknown workflow) recorded nothing, and its caller records the delivery.
    #[tracing::instrument(level = "info", name = "request_ticket", skip_all, fields(workflow = %workflow, actor = %actor))]
    pub async fn request_once(
        &self,
        actor: &Actor,
        workflow: &WorkflowId,
        params: RawParams,
        origin: Origin,
        delivery: Delivery<'_>,
    ) -> Result<Ticket, AppError> {
        self.request_along(actor, workflow, params, origin, Along::Delivery(delivery)).await
    }

    async fn request_along(
        &self,
        actor: &Actor,
        workflow: &WorkflowId,
        params: RawParams,
        origin: Origin,
        along: Along<'_>,
    ) -> Result<Ticket, AppError> {
        let now = self.now();
        let Some(found) = self.workflow(workflow) else {
            let refusal = Refusal::UnknownWorkflow(workflow.clone());
            self.audit_refusal(None, actor, "request", &refusal, now).await;
            return Err(AppError::Refused(refusal));
        };
        let book = self.rules();
        let rules = book.for_workflow(&found);
        let prefix = book.ticket_prefix.clone();
        // Decided with a placeholder id, numbered once accepted: a refused request uses up no
        // ticket number.
        let new = NewTicket { id: TicketId::new(prefix.clone(), 0), workflow: workflow.clone(), params, origin };
        let mut events = match ticket::request(&new, actor, &rules, now) {
            Ok(events) => events,
            Err(refusal) => {
                self.audit_refusal(None, actor, "request", &refusal, now).await;
                return Err(AppError::Refused(refusal));
            }
        };
        let number = self.store().next_ticket_number().await?;
        if let Some(Event::Requested { id, .. }) = events.first_mut() {
            *id = TicketId::new(prefix, number);
        }
        // A workflow without dry runs is planned right here, in the request's own commit (unless
        // the policy denied it before planning).
        let requested = events.len();
        let instant = found.steps.iter().all(|s| s.plan.is_none() && !s.action.plans_itself());
        if instant && let Some(mut scratch) = events.first().and_then(|e| Ticket::from_request(e, now)) {
            for event in &events[1..] {
                scratch.apply(event, now);
            }
            if scratch.state == docket_core::TicketState::Planning {
                let result = self.make_plan(&scratch).await;
                events.extend(ticket::decide(&scratch, &Command::RecordPlan { result }, &Actor::System, &rules, now)?);
            }
        }
        let once = matches!(along, Along::Delivery(_));
        let applied = self.commit(None, events, actor, Some(requested), now, along).await?;
        metrics::counter!("docket_tickets_requested_total", "workflow" => workflow.to_string()).increment(1);
        if applied.ticket.state == docket_core::TicketState::Planning {
            let planned = self.plan(&applied.ticket.id).await;
            if once && let Err(error) = &planned {
                // The ticket and its delivery are committed: the caller hears that it opened.
                tracing::warn!(%error, ticket = %applied.ticket.id, "could not plan a ticket just opened");
                return Ok(applied.ticket);
            }
            return planned;
        }
        Ok(applied.ticket)
    }

    /// Replaces the parameters of a ticket awaiting approval; it is planned again and earlier
    /// approvals no longer count.
    pub async fn amend(&self, actor: &Actor, id: &TicketId, params: RawParams) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::Amend { params }).await
    }

    /// Approves the plan with `digest`. Refused if the plan has changed since (stale digest),
    /// if the actor requested the ticket, is not an approver of the current stage, or is an
    /// agent.
    pub async fn approve(
        &self,
        actor: &Actor,
        id: &TicketId,
        digest: Digest,
        comment: Option<String>,
    ) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::Approve { digest, comment }).await
    }

    /// Rejects the ticket for good.
    pub async fn reject(&self, actor: &Actor, id: &TicketId, reason: String) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::Reject { reason }).await
    }

    /// Sends the ticket back to its requester to amend.
    pub async fn request_changes(&self, actor: &Actor, id: &TicketId, reason: String) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::RequestChanges { reason }).await
    }

    /// Adds a comment.
    pub async fn comment(&self, actor: &Actor, id: &TicketId, text: String) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::Comment { text }).await
    }

    /// Withdraws the ticket; a running step's process group is killed.
    pub async fn cancel(&self, actor: &Actor, id: &TicketId, reason: Option<String>) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::Cancel { reason }).await
    }

    /// Plans a failed or interrupted ticket again; the policy decides afresh.
    pub async fn retry(&self, actor: &Actor, id: &TicketId) -> Result<Ticket, AppError> {
        self.run_command(actor, id, Command::Retry).await
    }

    async fn run_command(&self, actor: &Actor, id: &TicketId, command: Command) -> Result<Ticket, AppError> {
        let applied = self.apply(id, actor, &command).await?;
        if applied.needs_planning() {
            return self.plan(id).await;
        }
        Ok(applied.ticket)
    }
}
