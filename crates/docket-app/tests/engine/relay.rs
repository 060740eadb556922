//! Reaching a person on another surface: the app offers a relayed message to every notifier
//! but the one it came from, in configuration order, stops at the first that reaches the
//! person, returns that surface's failure, and records blocks in the audit chain.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docket_app::{App, Blocked, NewOutboxMessage, Notifier, NotifyError, OutboxMessage, Reached, Relay, RelayKind};
use docket_core::{Event, PersonId, Ticket};
use docket_testkit::TestApp;

use crate::{api, deploy, person};

/// A surface that reaches only `reaches` (or fails, when `fail` is set) and records every
/// relay it is offered.
struct Surface {
    name: &'static str,
    reaches: Vec<&'static str>,
    fail: bool,
    offered: Mutex<Vec<(String, String, String)>>,
}

impl Surface {
    fn new(name: &'static str, reaches: &[&'static str]) -> Arc<Self> {
        Arc::new(Self { name, reaches: reaches.to_vec(), fail: false, offered: Mutex::new(Vec::new()) })
    }

    fn failing(name: &'static str) -> Arc<Self> {
        Arc::new(Self { name, reaches: vec!["alice"], fail: true, offered: Mutex::new(Vec::new()) })
    }

    fn offered(&self) -> Vec<(String, String, String)> {
        self.offered.lock().unwrap().clone()
    }
}

#[async_trait]
impl Notifier for Surface {
    fn name(&self) -> &str {
        self.name
    }

    fn wants(&self, _ticket: &Ticket, _events: &[Event]) -> Vec<String> {
        Vec::new()
    }

    async fn deliver(&self, _app: &App, _message: &OutboxMessage, _ticket: &Ticket) -> Result<(), NotifyError> {
        Ok(())
    }

    async fn relay(&self, _app: &App, relay: &Relay<'_>, ticket: &Ticket) -> Result<bool, NotifyError> {
        let record = (relay.from.to_owned(), relay.person.to_string(), relay.kind.as_str().to_owned());
        self.offered.lock().unwrap().push(record);
        if self.fail {
            return Err(NotifyError::Transient("the other chat is down (test)".to_owned()));
        }
        assert!(!ticket.id.to_string().is_empty());
        Ok(self.reaches.iter().any(|p| *p == relay.person.as_str()))
    }
}

fn message(ticket: &Ticket, from: &str) -> OutboxMessage {
    OutboxMessage {
        id: 1,
        message: NewOutboxMessage {
            notifier: from.to_owned(),
            ticket: ticket.id.clone(),
            key: "card".to_owned(),
            payload: serde_json::json!({ "version": 1 }),
        },
        attempts: 0,
        claims: 1,
        created_at: jiff::Timestamp::now(),
    }
}

async fn app_with(notifiers: &[Arc<Surface>]) -> TestApp {
    let mut builder = TestApp::builder().without_engine();
    for n in notifiers {
        builder = builder.notifier(n.clone());
    }
    builder.start().await
}

#[tokio::test]
async fn a_relay_goes_to_the_first_other_surface_that_reaches_the_person() {
    let (source, mute, dm, later) = (
        Surface::new("source", &["alice"]),
        Surface::new("mute", &[]),
        Surface::new("dm", &["alice"]),
        Surface::new("later", &["alice"]),
    );
    let t = app_with(&[source.clone(), mute.clone(), dm.clone(), later.clone()]).await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    let alice = PersonId::from("alice");
    let message = message(&ticket, "source");
    let relay = Relay { from: "source", person: &alice, kind: &RelayKind::Ticket, message: &message };

    let reached = t.app.relay(&relay, &ticket).await.unwrap();

    assert_eq!(reached, Reached::By("dm".to_owned()));
    assert!(source.offered().is_empty(), "the surface that gave up is never asked again");
    let asked = vec![("source".to_owned(), "alice".to_owned(), "ticket".to_owned())];
    assert_eq!(mute.offered(), asked, "asked in order, and said no");
    assert_eq!(dm.offered(), asked);
    assert!(later.offered().is_empty(), "one surface carries it, not every one");
    t.stop().await;
}

#[tokio::test]
async fn nobody_reached_when_no_other_surface_knows_the_person() {
    let (source, dm) = (Surface::new("source", &["erin"]), Surface::new("dm", &["alice"]));
    let t = app_with(&[source.clone(), dm.clone()]).await;
    let ticket = t.app.request(&person("erin"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    let erin = PersonId::from("erin");
    let message = message(&ticket, "source");
    let kind = RelayKind::Approval { round: 1, stage: "sre".to_owned() };
    let relay = Relay { from: "source", person: &erin, kind: &kind, message: &message };

    assert_eq!(t.app.relay(&relay, &ticket).await.unwrap(), Reached::Nobody);
    assert_eq!(dm.offered(), vec![("source".to_owned(), "erin".to_owned(), "approval".to_owned())]);
    t.stop().await;
}

#[tokio::test]
async fn a_failure_of_the_other_surface_is_returned_to_be_tried_again() {
    let (source, down) = (Surface::new("source", &[]), Surface::failing("down"));
    let t = app_with(&[source, down.clone()]).await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    let alice = PersonId::from("alice");
    let message = message(&ticket, "source");
    let relay = Relay { from: "source", person: &alice, kind: &RelayKind::Happenings, message: &message };

    let error = t.app.relay(&relay, &ticket).await.unwrap_err();

    assert!(matches!(error, NotifyError::Transient(_)), "{error:?}");
    assert_eq!(down.offered().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn a_block_is_an_audit_record_in_the_chain() {
    let t = app_with(&[]).await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    let bob = PersonId::from("bob");
    let before = t.app.audit_records(0, 10_000).await.unwrap().len();

    let reached = Reached::By("slack".to_owned());
    let blocked = Blocked {
        surface: "teams",
        person: Some(&bob),
        conversation: "a:chat-bob",
        ticket: &ticket.id,
        reached: &reached,
        relay_error: None,
    };
    t.app.audit_blocked(&blocked).await;
    let nobody = Reached::Nobody;
    let channel = Blocked {
        surface: "teams",
        person: None,
        conversation: "19:ops@thread",
        ticket: &ticket.id,
        reached: &nobody,
        relay_error: Some("the other chat is down"),
    };
    t.app.audit_blocked(&channel).await;

    let records = t.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(records.len(), before + 2);
    let person = &records[before];
    assert_eq!(person.entry.action, "teams.bot_blocked");
    assert_eq!(person.entry.actor, "bob");
    assert_eq!(person.entry.ticket.as_deref(), Some(ticket.id.to_string().as_str()));
    assert_eq!(person.entry.details["conversation"], "a:chat-bob");
    assert_eq!(person.entry.details["reached_on"], "slack");
    let channel = &records[before + 1];
    assert_eq!(channel.entry.actor, "teams:19:ops@thread");
    assert_eq!(channel.entry.details["person"], serde_json::Value::Null);
    assert_eq!(channel.entry.details["reached_on"], serde_json::Value::Null);
    assert_eq!(channel.entry.details["relay_error"], "the other chat is down");
    assert!(t.app.verify_audit().await.unwrap().broken.is_none(), "the chain still verifies");
    t.stop().await;
}
