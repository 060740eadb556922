//! `docket list`: tickets as a table, newest first, with filters for state, workflow and "mine";
//! `docket waiting`: the tickets waiting for your approval now.

use std::io::{self, Write};

use super::Outcome;
use super::http::{Api, parse};
use super::model::{TicketSummary, WaitingList};
use super::style::Ui;
use crate::cli::{ListArgs, WaitingArgs};

/// `docket list [--state S]… [--workflow W] [--mine] [--limit N]`
pub(crate) async fn list(api: &Api, args: &ListArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let mut query: Vec<(&str, String)> = args.state.iter().map(|s| ("state", s.clone())).collect();
    if let Some(workflow) = &args.workflow {
        query.push(("workflow", workflow.clone()));
    }
    if args.mine {
        query.push(("requester", api.me().await?.id));
    }
    query.push(("limit", args.limit.to_string()));
    let (page, raw) = api.tickets(&query).await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
        return Ok(Outcome::Success);
    }
    write_table(out, ui, &page.tickets)?;
    if page.next_cursor.is_some() {
        writeln!(out, "{}", ui.dim(&format!("… more than {}; raise --limit to see them", page.tickets.len())))?;
    }
    Ok(Outcome::Success)
}

/// `docket waiting [--json]`
pub(crate) async fn waiting(api: &Api, args: &WaitingArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let raw = api.waiting_json().await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
        return Ok(Outcome::Success);
    }
    let list: WaitingList = parse(&raw)?;
    if list.tickets.is_empty() {
        writeln!(out, "nothing waits for your approval")?;
        return Ok(Outcome::Success);
    }
    write_table(out, ui, &list.tickets)?;
    if list.more {
        writeln!(out, "{}", ui.dim(&format!("… and more than these {}", list.tickets.len())))?;
    }
    writeln!(out, "{}", ui.dim("`docket show ID` shows a plan; `docket approve ID` approves it"))?;
    Ok(Outcome::Success)
}

/// The table: id, state, workflow, requester, age.
pub(crate) fn write_table(out: &mut dyn Write, ui: &Ui, tickets: &[TicketSummary]) -> io::Result<()> {
    if tickets.is_empty() {
        return writeln!(out, "no tickets");
    }
    let header = ["ID", "STATE", "WORKFLOW", "REQUESTER", "AGE"];
    let rows: Vec<[String; 5]> = tickets
        .iter()
        .map(|t| [t.id.clone(), t.state.clone(), t.workflow.clone(), t.requester.clone(), ui.age(&t.created_at)])
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let [w_id, w_state, w_workflow, w_requester, _] = widths;
    let [id, state, workflow, requester, age] = header;
    let head = format!("{id:<w_id$}  {state:<w_state$}  {workflow:<w_workflow$}  {requester:<w_requester$}  {age}");
    writeln!(out, "{}", ui.dim(&head))?;
    for [id, state, workflow, requester, age] in rows {
        let shown = ui.state_as(&state, &format!("{state:<w_state$}"));
        writeln!(out, "{id:<w_id$}  {shown}  {workflow:<w_workflow$}  {requester:<w_requester$}  {age}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_tickets_with_ages() {
        let tickets: Vec<TicketSummary> = serde_json::from_str(
            r#"[{"id": "DKT-12", "workflow": "deploy-service", "state": "awaiting_approval", "requester": "alice",
                 "created_at": "2026-01-05T10:42:30Z"},
                {"id": "DKT-9", "workflow": "restart", "state": "succeeded", "requester": "bob",
                 "created_at": "2026-01-03T09:00:00Z", "extra": 1}]"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_table(&mut out, &Ui::plain("2026-01-05T10:47:30Z"), &tickets).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID      STATE              WORKFLOW        REQUESTER  AGE\n\
             DKT-12  awaiting_approval  deploy-service  alice      5m\n\
             DKT-9   succeeded          restart         bob        2d\n"
        );
    }

    #[test]
    fn no_tickets_says_so() {
        let mut out = Vec::new();
        write_table(&mut out, &Ui::plain("2026-01-05T10:47:30Z"), &[]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no tickets\n");
    }
}
