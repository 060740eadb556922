//! Forged signatures, stale timestamps, replayed bodies and malformed payloads: an opaque 401
//! (audited) or a 400, and no change of state.

use docket_slack::verify::sign;

use crate::support::{Harness, SECRET, deploy_values, form, submission};

async fn nothing_happened(h: &Harness) {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.is_empty());
    assert!(h.fake.calls().is_empty(), "{:#?}", h.fake.calls());
}

fn command_body() -> String {
    form(&[
        ("command", "/docket"),
        ("text", "deploy api 1.4.2 to staging"),
        ("user_id", "U0ALICE"),
        ("channel_id", "C0DEV"),
        ("trigger_id", "t"),
    ])
}

/// The refusal says nothing about what was wrong (that goes to the audit), in Docket's error shape.
const OPAQUE: &str =
    r#"{"error":{"code":"unauthenticated","details":{},"message":"the request could not be authenticated"}}"#;

#[tokio::test]
async fn forged_stale_and_missing_signatures_get_an_opaque_401_and_an_audit_record() {
    let h = Harness::start().await;
    let body = command_body();
    let now = h.t.app.clock_now().as_second();
    let ts = now.to_string();
    let forms = "application/x-www-form-urlencoded";
    // A minute past the five-minute window each way, so a second ticking over mid-test changes nothing.
    let (stale, future) = ((now - 360).to_string(), (now + 360).to_string());
    let cases: Vec<(String, Option<String>, Option<String>)> = vec![
        ("wrong secret".into(), Some(ts.clone()), Some(sign("not-the-secret", &ts, body.as_bytes()))),
        ("other body".into(), Some(ts.clone()), Some(sign(SECRET, &ts, b"text=hello"))),
        ("stale".into(), Some(stale.clone()), Some(sign(SECRET, &stale, body.as_bytes()))),
        ("future".into(), Some(future.clone()), Some(sign(SECRET, &future, body.as_bytes()))),
        ("no signature".into(), Some(ts.clone()), None),
        ("no timestamp".into(), None, Some(sign(SECRET, &ts, body.as_bytes()))),
        ("garbage".into(), Some(ts.clone()), Some("v0=zz".into())),
    ];
    for (name, ts, signature) in &cases {
        for path in ["/slack/commands", "/slack/interactions", "/slack/events"] {
            let (status, answer) = h.post_raw(path, forms, &body, ts.as_deref(), signature.as_deref()).await;
            assert_eq!((status, answer.as_str()), (401, OPAQUE), "{name} on {path}");
        }
    }
    // Each kind of failure is a record at once; its repeats within the minute are counted.
    h.t.app.flush_rejections().await;
    let audit = h.t.app.audit_records(0, 1000).await.unwrap();
    let refused: u64 = audit
        .iter()
        .filter(|r| r.entry.action == "slack.authentication_failed")
        .map(|r| r.entry.details["repeated"].as_u64().unwrap_or(1))
        .sum();
    assert_eq!(refused, cases.len() as u64 * 3);
    assert!(audit.iter().all(|r| !r.entry.details.to_string().contains(SECRET)));
    nothing_happened(&h).await;
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let h = Harness::start().await;
    let body = form(&[("command", "/docket"), ("text", "help"), ("user_id", "U0ALICE"), ("channel_id", "C0DEV")]);
    let ts = h.t.app.clock_now().as_second().to_string();
    let signature = sign(SECRET, &ts, body.as_bytes());
    let forms = "application/x-www-form-urlencoded";
    let (first, answer) = h.post_raw("/slack/commands", forms, &body, Some(&ts), Some(&signature)).await;
    assert_eq!(first, 200);
    assert!(answer.contains("ephemeral"), "{answer}");
    let (again, answer) = h.post_raw("/slack/commands", forms, &body, Some(&ts), Some(&signature)).await;
    assert_eq!((again, answer.as_str()), (401, OPAQUE));
    let audit = h.t.app.audit_records(0, 100).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.details.to_string().contains("replayed")));
}

/// A request form's signature is recorded with the ticket it opens: the replay opens nothing
/// more, and is refused like any replay, also with the signature's hex digits in upper case and
/// on another replica, which has to find it in the store. A
/// form that opens nothing (an invalid field, an unknown person) records its signature before
/// answering, so its replay is refused too.
#[tokio::test]
async fn a_replayed_request_form_opens_one_ticket_and_is_refused() {
    let h = Harness::start().await;
    h.command("U0ALICE", "C0DEV", "deploy web 1.0.0 to prod", "t-open").await;
    let view = h.view_opened("t-open").await;
    let forms = "application/x-www-form-urlencoded";
    let signed = |user: &str, values: serde_json::Value| {
        let body = form(&[("payload", &submission(user, &view, values).to_string())]);
        let ts = h.t.app.clock_now().as_second().to_string();
        let signature = sign(SECRET, &ts, body.as_bytes());
        (body, ts, signature)
    };
    let replays = || async {
        let audit = h.t.app.audit_records(0, 1000).await.unwrap();
        audit.iter().filter(|r| r.entry.details.to_string().contains("replayed")).count()
    };
    let tickets = || async { h.t.app.tickets(&Default::default()).await.unwrap().tickets.len() };

    let (body, ts, signature) = signed("U0ALICE", deploy_values("web", "1.0.0", "prod"));
    let (first, answer) = h.post_raw("/slack/interactions", forms, &body, Some(&ts), Some(&signature)).await;
    assert_eq!((first, answer.as_str()), (200, r#"{"response_action":"clear"}"#));
    assert_eq!(tickets().await, 1);
    let seen = h.t.app.recall_all("slack.seen", "sig:").await.unwrap();
    assert!(seen.iter().any(|(key, _)| key == &format!("sig:{ts}:{signature}")), "{seen:?}");
    let (again, answer) = h.post_raw("/slack/interactions", forms, &body, Some(&ts), Some(&signature)).await;
    assert_eq!((again, answer.as_str()), (401, OPAQUE));
    assert_eq!(replays().await, 1, "the replay is audited");
    let upper = format!("v0={}", signature.trim_start_matches("v0=").to_ascii_uppercase());
    let (again, answer) = h.post_raw("/slack/interactions", forms, &body, Some(&ts), Some(&upper)).await;
    assert_eq!((again, answer.as_str()), (401, OPAQUE), "the same signature in upper case");
    // Another replica has not seen it, and its commit finds the delivery recorded.
    let other = h.second_replica().await;
    let (again, answer) = h.post_raw_at(&other, "/slack/interactions", forms, &body, Some(&ts), Some(&signature)).await;
    assert_eq!((again, answer.as_str()), (401, OPAQUE), "a replay to another replica");
    assert_eq!(tickets().await, 1);

    for (user, values, expected) in [
        ("U0ALICE", deploy_values("web", "not a version", "prod"), "version"),
        ("U0NOBODY", deploy_values("web", "1.0.1", "prod"), "not in Docket's people"),
    ] {
        let (body, ts, signature) = signed(user, values);
        let (first, answer) = h.post_raw("/slack/interactions", forms, &body, Some(&ts), Some(&signature)).await;
        assert_eq!(first, 200);
        assert!(answer.contains(r#""response_action":"errors""#) && answer.contains(expected), "{answer}");
        let (again, answer) = h.post_raw("/slack/interactions", forms, &body, Some(&ts), Some(&signature)).await;
        assert_eq!((again, answer.as_str()), (401, OPAQUE), "{user}");
    }
    assert_eq!(tickets().await, 1);
}

#[tokio::test]
async fn malformed_signed_payloads_are_a_400_and_change_nothing() {
    let h = Harness::start().await;
    let forms = "application/x-www-form-urlencoded";
    let cases = [
        ("/slack/commands", "text=no+user"),
        ("/slack/commands", "%FF%FE=%80"),
        ("/slack/interactions", "nopayload=1"),
        ("/slack/interactions", "payload=not-json"),
        ("/slack/interactions", "payload=%5B1%2C2%5D"),
        ("/slack/interactions", "payload=%7B%22type%22%3A%22block_actions%22%7D"),
        (
            "/slack/interactions",
            "payload=%7B%22type%22%3A%22view_submission%22%2C%22user%22%3A%7B%22id%22%3A%22U0ALICE%22%7D%7D",
        ),
        ("/slack/events", "{not json"),
        ("/slack/events", "[1]"),
        ("/slack/events", r#"{"type":"event_callback"}"#),
        ("/slack/events", r#"{"no":"type"}"#),
    ];
    for (path, body) in cases {
        let (status, _) = h.post(path, forms, body).await;
        assert_eq!(status, 400, "{path} {body}");
    }
    nothing_happened(&h).await;
}
