//! Controlled updates: the plan counts the rows in a transaction it rolls back, the approver
//! sees the count, and the approved run commits only at that count.

use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::TestApp;

use crate::support::{Db, failure, request, result, settle, workflow};

const CLOSE: &str = "update accounts set status = $1, note = $2 where owner = $3";

fn close(more: &str) -> (String, String) {
    let more = if more.is_empty() { "      access: write".to_owned() } else { format!("      access: write\n{more}") };
    workflow("close", CLOSE, &["closed", "{{b}}", "{{a}}"], &more)
}

async fn approve(t: &TestApp, ticket: &Ticket) -> Ticket {
    let approved = t.app.approve(&Actor::person("bob"), &ticket.id, ticket.digest.unwrap(), None).await.unwrap();
    settle(t, &approved).await
}

pub(crate) async fn a_write_commits_exactly_the_planned_rows(db: Db) {
    db.accounts().await;
    let t = db.app(&[close("")]).await;
    let hostile = "'; drop table accounts; --";
    let ticket = request(&t, "close", &[("a", "alice"), ("b", hostile)]).await;
    assert_eq!(ticket.state, TicketState::AwaitingApproval);
    let plan = ticket.plan.clone().unwrap();
    assert_eq!(plan.rows_changed(), 2);
    let step = &plan.steps[0];
    assert_eq!(step.output.as_deref(), Some(format!("will change 2 rows in shop ({})\n", engine(&db)).as_str()));
    // The approver reads the statement and each argument's value as it will be bound.
    let shown: Vec<String> = step.details.iter().map(|d| format!("{d:?}")).collect();
    assert!(shown.iter().any(|d| d.contains("update accounts set status = $1")), "{shown:?}");
    assert!(shown.iter().any(|d| d.contains("''; drop table accounts; --'")), "{shown:?}");
    // Planning changed nothing.
    assert_eq!(db.text("select max(status) from accounts").await.as_deref(), Some("open"));

    let done = approve(&t, &ticket).await;
    assert_eq!(done.state, TicketState::Succeeded, "{}", failure(&done));
    assert_eq!(result(&t, &done).await.result.rows_changed, Some(2));
    let closed = "select cast(count(*) as char) from accounts where status = 'closed' and owner = 'alice'";
    assert_eq!(db.text(closed).await.as_deref(), Some("2"));
    // The hostile value arrived as one value, and the table is still there.
    assert_eq!(db.text("select max(note) from accounts").await.as_deref(), Some(hostile));
    assert_eq!(db.text("select max(status) from accounts where owner = 'bob'").await.as_deref(), Some("open"));
}

pub(crate) async fn data_changed_after_approval_commits_nothing(db: Db) {
    db.accounts().await;
    let t = db.app(&[close("")]).await;
    let ticket = request(&t, "close", &[("a", "alice"), ("b", "moved")]).await;
    assert_eq!(ticket.plan.as_ref().unwrap().rows_changed(), 2);
    // Between the review and the run, alice gets a third account.
    db.exec("INSERT INTO accounts (id, owner, status) VALUES (5, 'alice', 'open')").await;
    let done = approve(&t, &ticket).await;
    assert_eq!(done.state, TicketState::Failed);
    assert_eq!(failure(&done), "planned 2 rows, would have changed 3 — nothing was changed; amend to plan again");
    assert_eq!(db.text("select max(status) from accounts").await.as_deref(), Some("open"));
    assert_eq!(db.text("select max(note) from accounts").await, None);
    assert!(t.app.results(&done.id).await.unwrap().is_empty());
}

pub(crate) async fn a_write_within_max_rows_changed_commits(db: Db) {
    db.accounts().await;
    let t = db.app(&[close("      max_rows_changed: 1")]).await;
    let ticket = request(&t, "close", &[("a", "alice"), ("b", "")]).await;
    db.exec("INSERT INTO accounts (id, owner, status) VALUES (5, 'alice', 'open')").await;
    let done = approve(&t, &ticket).await;
    assert_eq!(done.state, TicketState::Succeeded, "{}", failure(&done));
    assert_eq!(result(&t, &done).await.result.rows_changed, Some(3));
}

fn engine(db: &Db) -> &'static str {
    match db.kind {
        crate::support::Kind::Postgres => "PostgreSQL",
        crate::support::Kind::MariaDb => "MySQL/MariaDB",
        crate::support::Kind::Sqlite => "SQLite",
    }
}
