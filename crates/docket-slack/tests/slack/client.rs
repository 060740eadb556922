//! The Web API client against the fake: Retry-After honoured, one message per interval per
//! channel, coalesced edits, and ok:false mapped to the outbox's retry decision.

use std::time::Duration;

use docket_app::NotifyError;
use docket_slack::{ApiError, SlackClient};
use docket_testkit::slack::FakeSlack;
use serde_json::json;

use crate::support::settings;

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let fake = FakeSlack::start().await;
    let client = SlackClient::new(&settings(&fake)).unwrap();
    fake.rate_limit("chat.postMessage", 1, 1);
    let started = tokio::time::Instant::now();
    let (channel, _) = client.post_message("C1", None, "hi", &json!([])).await.unwrap();
    assert_eq!(channel, "C1");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    let calls = fake.calls_to("chat.postMessage");
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);
    assert!(calls[1].at.duration_since(calls[0].at) >= Duration::from_secs(1));
}

#[tokio::test]
async fn posts_to_one_channel_are_paced_and_other_channels_are_not_held_up() {
    let fake = FakeSlack::start().await;
    let mut s = settings(&fake);
    s.channel_interval = Duration::from_millis(500);
    let client = SlackClient::new(&s).unwrap();
    let posts = (0..3).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.post_message("C1", None, &format!("m{i}"), &json!([])).await.unwrap() })
    });
    let other = client.clone();
    let elsewhere = tokio::spawn(async move { other.post_message("C2", None, "x", &json!([])).await.unwrap() });
    for p in posts {
        p.await.unwrap();
    }
    elsewhere.await.unwrap();
    let calls = fake.calls_to("chat.postMessage");
    let c1: Vec<_> = calls.iter().filter(|c| c.body["channel"] == "C1").map(|c| c.at).collect();
    // Seen at the fake, a gap can be shorter than the interval by what the first request spent
    // setting up its connection on a slow machine: 100 ms are left for that.
    for pair in c1.windows(2) {
        assert!(pair[1].duration_since(pair[0]) >= Duration::from_millis(400), "{:?}", pair[1].duration_since(pair[0]));
    }
    let c2 = calls.iter().find(|c| c.body["channel"] == "C2").unwrap().at;
    let waited = c2.duration_since(c1[0]);
    assert!(waited < Duration::from_millis(400), "C2 waited behind C1: {waited:?}");
}

#[tokio::test]
async fn edits_waiting_behind_a_rate_limit_are_coalesced_to_the_latest() {
    let fake = FakeSlack::start().await;
    let client = SlackClient::new(&settings(&fake)).unwrap();
    let (channel, ts) = client.post_message("C1", None, "v0", &json!([])).await.unwrap();
    fake.rate_limit("chat.update", 1, 1);
    let first = {
        let (client, channel, ts) = (client.clone(), channel.clone(), ts.clone());
        tokio::spawn(async move { client.update_message(&channel, &ts, "v1", &json!([])).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let later: Vec<_> = ["v2", "v3"]
        .into_iter()
        .map(|text| {
            let (client, channel, ts) = (client.clone(), channel.clone(), ts.clone());
            tokio::spawn(async move { client.update_message(&channel, &ts, text, &json!([])).await })
        })
        .collect();
    first.await.unwrap().unwrap();
    for l in later {
        l.await.unwrap().unwrap();
    }
    let sent: Vec<(u16, String)> =
        fake.calls_to("chat.update").iter().map(|c| (c.status, c.body["text"].as_str().unwrap().to_owned())).collect();
    let delivered: Vec<&String> = sent.iter().filter(|(s, _)| *s == 200).map(|(_, t)| t).collect();
    assert_eq!(delivered.last().map(|s| s.as_str()), Some("v3"), "{sent:?}");
    assert!(delivered.len() <= 2, "v2 should have been replaced by v3: {sent:?}");
    assert!(!delivered.iter().any(|t| *t == "v2"), "{sent:?}");
    assert_eq!(fake.messages()[0].text, "v3");
}

#[tokio::test]
async fn slack_errors_map_to_transient_or_permanent() {
    let fake = FakeSlack::start().await;
    let client = SlackClient::new(&settings(&fake)).unwrap();
    fake.fail("chat.postMessage", "channel_not_found");
    let error = client.post_message("C1", None, "x", &json!([])).await.unwrap_err();
    assert_eq!(error.code(), Some("channel_not_found"));
    assert!(matches!(NotifyError::from(error), NotifyError::Permanent(_)));
    fake.fail("chat.postMessage", "internal_error");
    let error = client.post_message("C1", None, "x", &json!([])).await.unwrap_err();
    assert!(matches!(NotifyError::from(error), NotifyError::Transient(_)));
    let mut wrong = settings(&fake);
    wrong.bot_token = "xoxb-wrong".into();
    let error = SlackClient::new(&wrong).unwrap().post_message("C1", None, "x", &json!([])).await.unwrap_err();
    assert_eq!(error, ApiError::Slack { method: "chat.postMessage".into(), error: "invalid_auth".into() });
    // Gone for good after every retry: transient, left to the outbox's backoff.
    let mut impatient = settings(&fake);
    impatient.max_rate_limit_retries = 0;
    fake.rate_limit("chat.postEphemeral", 1, 1);
    let error = SlackClient::new(&impatient).unwrap().post_ephemeral("C1", "U1", None, "x").await.unwrap_err();
    assert!(error.is_transient());
}

/// Regression: the outbox drops a delivery after 30 s. A sending edit dropped mid-call used to
/// leave its claim on the message behind, so every later edit of that message waited forever
/// for a sender that was gone (approval messages kept their buttons, the rows stuck at their
/// last attempt with "no answer within 30s").
#[tokio::test]
async fn an_edit_dropped_mid_call_does_not_stall_later_edits_of_that_message() {
    let fake = FakeSlack::start().await;
    let client = SlackClient::new(&settings(&fake)).unwrap();
    let (channel, ts) = client.post_message("C1", None, "v0", &json!([])).await.unwrap();

    // Dropped while it waits out a 429, with nobody waiting behind it.
    let blocks = json!([]);
    fake.rate_limit("chat.update", 1, 5);
    let dropped = tokio::time::timeout(Duration::from_millis(300), client.update_message(&channel, &ts, "v1", &blocks));
    assert!(dropped.await.is_err(), "the edit should still be waiting out its Retry-After");
    let next = tokio::time::timeout(Duration::from_secs(3), client.update_message(&channel, &ts, "v2", &blocks));
    next.await.expect("a later edit of the same message is sent, not stalled").unwrap();
    assert_eq!(fake.messages()[0].text, "v2");

    // Dropped with an edit waiting behind it: the waiting edit takes over the send.
    fake.rate_limit("chat.update", 1, 5);
    let sender = {
        let (client, channel, ts) = (client.clone(), channel.clone(), ts.clone());
        tokio::spawn(async move { client.update_message(&channel, &ts, "v3", &json!([])).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiter = {
        let (client, channel, ts) = (client.clone(), channel.clone(), ts.clone());
        tokio::spawn(async move { client.update_message(&channel, &ts, "v4", &json!([])).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    sender.abort();
    let taken_over = tokio::time::timeout(Duration::from_secs(10), waiter).await;
    taken_over.expect("the waiting edit finishes on its own").unwrap().unwrap();
    assert_eq!(fake.messages()[0].text, "v4");
}
