//! Controlled updates: the plan counts the rows in a transaction it rolls back, the approver
//! sees the count, and the approved run commits only at that count.

use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::TestApp;

use crate::support::{Db, Kind, failure, request, result, settle, workflow};

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
    // With the rows it changes, before → after, only the columns that change.
    let expected = format!(
        "will change 2 rows in shop ({})\n\
         the rows by id, before → after:\n\
         ~ id=1: status 'open' → 'closed', note NULL → '''; drop table accounts; --'\n\
         ~ id=2: status 'open' → 'closed', note NULL → '''; drop table accounts; --'\n",
        engine(&db)
    );
    assert_eq!(step.output.as_deref(), Some(expected.as_str()));
    // Chats (Slack, Teams) show the plan's lines, the sample with them.
    let chat = t.app.summarize(&ticket).plan;
    let row = "~ id=1: status 'open' → 'closed', note NULL → '''; drop table accounts; --'";
    assert!(chat.iter().any(|l| l.trim() == row), "{chat:?}");
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

/// The plan's dry-run output of the one step of `ticket`.
fn output(ticket: &Ticket) -> String {
    ticket.plan.as_ref().and_then(|p| p.steps[0].output.clone()).unwrap_or_default()
}

pub(crate) async fn a_delete_plan_shows_the_rows_it_deletes(db: Db) {
    db.accounts().await;
    let gone = workflow("gone", "delete from accounts where owner = $1", &["{{a}}"], "      access: write");
    let t = db.app(&[gone]).await;
    let ticket = request(&t, "gone", &[("a", "bob")]).await;
    assert_eq!(ticket.plan.as_ref().unwrap().rows_changed(), 1);
    assert_eq!(
        output(&ticket),
        format!(
            "will change 1 row in shop ({})\nthe rows by id, before → after:\n\
             - id=3: id 3, owner 'bob', status 'open', note NULL\n",
            engine(&db)
        )
    );
    assert_eq!(db.text("select max(owner) from accounts where id = 3").await.as_deref(), Some("bob"));
}

pub(crate) async fn a_plan_samples_the_first_twenty_rows_and_never_changes_the_count(db: Db) {
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, tag VARCHAR(200))").await;
    let values: Vec<String> = (1..=25).map(|i| format!("({i}, {i}, 'tag-{i}')")).collect();
    db.exec(&format!("INSERT INTO items (id, qty, tag) VALUES {}", values.join(", "))).await;
    let bump = workflow(
        "bump",
        "update items set qty = qty + $1, tag = $2 where qty > 0",
        &["{{n}}", "{{b}}"],
        "      access: write",
    );
    let t = db.app(&[bump]).await;
    // A value that is a secret (the database's URL) is masked in the sample like everywhere.
    let ticket = request(&t, "bump", &[("n", "10"), ("b", db.url.as_str())]).await;
    assert_eq!(ticket.plan.as_ref().unwrap().rows_changed(), 25);
    let shown = output(&ticket);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 2 + 20, "{shown}");
    assert_eq!(lines[1], "the first 20 of them by id, before → after:");
    assert_eq!(lines[2], "~ id=1: qty 1 → 11, tag 'tag-1' → '[redacted]'", "{shown}");
    assert_eq!(lines[21], "~ id=20: qty 20 → 30, tag 'tag-20' → '[redacted]'", "{shown}");
    assert!(!shown.contains(&db.url), "{shown}");
    // Planning changed nothing; the approved run changes the 25 rows.
    let bumped = "select cast(count(*) as char) from items where qty = 35";
    assert_eq!(db.text(bumped).await.as_deref(), Some("0"));
    let done = approve(&t, &ticket).await;
    assert_eq!(done.state, TicketState::Succeeded, "{}", failure(&done));
    assert_eq!(result(&t, &done).await.result.rows_changed, Some(25));
    assert_eq!(db.text(bumped).await.as_deref(), Some("1"));
}

pub(crate) async fn a_plan_without_a_sample_says_why_and_still_binds_the_count(db: Db) {
    db.accounts().await;
    db.exec("CREATE TABLE log_lines (stamp VARCHAR(40), line TEXT)").await;
    db.exec("INSERT INTO log_lines (stamp, line) VALUES ('a', 'x'), ('b', 'y')").await;
    let add = workflow(
        "add",
        "insert into accounts (id, owner, status) values (9, $1, 'open')",
        &["{{a}}"],
        "      access: write",
    );
    let wipe = workflow("wipe", "delete from log_lines where stamp < $1", &["{{a}}"], "      access: write");
    let t = db.app(&[add, wipe]).await;
    let added = request(&t, "add", &[("a", "dora")]).await;
    assert_eq!(added.plan.as_ref().unwrap().rows_changed(), 1);
    assert_eq!(
        output(&added),
        format!(
            "will change 1 row in shop ({})\nno sample of the rows: the statement is neither an UPDATE nor a DELETE \
             (only an UPDATE or DELETE of one table is sampled)\n",
            engine(&db)
        )
    );
    let wiped = request(&t, "wipe", &[("a", "z")]).await;
    assert_eq!(wiped.plan.as_ref().unwrap().rows_changed(), 2);
    let shown = output(&wiped);
    match db.kind {
        // A table without a key: SQLite still has its rowid.
        Kind::Sqlite => assert!(shown.contains("- rowid=1: stamp 'a', line 'x'"), "{shown}"),
        _ => assert!(shown.contains("no sample of the rows: log_lines has no primary key"), "{shown}"),
    }
    let done = approve(&t, &wiped).await;
    assert_eq!(done.state, TicketState::Succeeded, "{}", failure(&done));
    assert_eq!(result(&t, &done).await.result.rows_changed, Some(2));
}

fn engine(db: &Db) -> &'static str {
    match db.kind {
        Kind::Postgres => "PostgreSQL",
        Kind::MariaDb => "MySQL/MariaDB",
        Kind::Sqlite => "SQLite",
    }
}
