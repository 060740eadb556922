//! One Socket Mode client against the fake server: what Slack's Socket Mode asks of a client,
//! case by case.

use std::time::Duration;

use docket_slack::SocketMode;
use docket_testkit::TestApp;
use docket_testkit::slack::FakeSocketMode;
use docket_testkit::slack::socket::slash_command;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Recorder, quick_settings};

struct Rig {
    fake: FakeSocketMode,
    socket: SocketMode,
    shutdown: CancellationToken,
    _t: TestApp,
}

async fn rig(recorder: impl FnOnce(docket_app::App) -> std::sync::Arc<Recorder>) -> (Rig, std::sync::Arc<Recorder>) {
    rig_with(recorder, |_| {}).await
}

async fn rig_with(
    recorder: impl FnOnce(docket_app::App) -> std::sync::Arc<Recorder>,
    change: impl FnOnce(&mut docket_slack::SocketSettings),
) -> (Rig, std::sync::Arc<Recorder>) {
    let t = TestApp::builder().without_engine().start().await;
    let fake = FakeSocketMode::start().await;
    let recorder = recorder(t.app.clone());
    let mut settings = quick_settings(&fake.api_url());
    change(&mut settings);
    let shutdown = CancellationToken::new();
    let socket = SocketMode::start(settings, recorder.clone(), shutdown.clone());
    (Rig { fake, socket, shutdown, _t: t }, recorder)
}

#[tokio::test]
async fn two_connections_are_opened_with_the_app_token_and_each_gets_hello() {
    let (rig, _) = rig(|app| Recorder::new(app, None)).await;
    let open = rig.fake.wait_for_open(2).await;
    assert_eq!(open.len(), 2);
    let calls = rig.fake.open_calls();
    assert_eq!(calls.len(), 2, "one apps.connections.open per connection: {calls:?}");
    assert!(calls.iter().all(|c| c.ok && c.token == "xapp-1-A0DOCKET-test"));
    let tickets: std::collections::HashSet<String> = rig.fake.connections().into_iter().map(|c| c.ticket).collect();
    assert_eq!(tickets.len(), 2, "each connection has its own URL");
    // The client counts a connection as open once it said hello.
    let deadline = Instant::now() + Duration::from_secs(5);
    while rig.socket.open_connections() < 2 {
        assert!(Instant::now() < deadline, "the client reports {} open", rig.socket.open_connections());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.fake.connections().len(), 2, "no extra connections while both are healthy");
}

#[tokio::test]
async fn envelopes_are_acknowledged_with_the_answer_only_where_slack_accepts_one() {
    let answer = json!({"response_type": "ephemeral", "text": "Opening the form…"});
    let (rig, recorder) = rig(|app| Recorder::new(app, Some(answer.clone()))).await;
    rig.fake.wait_for_open(2).await;
    let command = rig.fake.slash_command(slash_command("U0ALICE", "C0DEPLOYS", "help"));
    let ack = rig.fake.wait_for_ack(&command).await;
    assert_eq!(ack.payload, Some(answer.clone()), "a slash command's ack carries the reply");
    let event = rig.fake.event(json!({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}));
    let ack = rig.fake.wait_for_ack(&event).await;
    assert_eq!(ack.payload, None, "events_api envelopes do not accept a response payload");
    let handled = recorder.handled();
    assert_eq!(handled.len(), 2);
    assert_eq!(handled[0].payload.get("user_id"), Some(&json!("U0ALICE")));
}

#[tokio::test]
async fn a_slow_handler_is_acknowledged_empty_before_slacks_deadline() {
    let (rig, recorder) = rig_with(
        |app| Recorder::slow(app, Duration::from_millis(1500)),
        |s| s.ack_deadline = Duration::from_millis(200),
    )
    .await;
    rig.fake.wait_for_open(2).await;
    let sent = Instant::now();
    let id = rig.fake.interactive(json!({"type": "view_submission", "user": {"id": "U0ALICE"}, "view": {}}));
    let ack = rig.fake.wait_for_ack(&id).await;
    assert!(sent.elapsed() < Duration::from_millis(1200), "acknowledged after {:?}", sent.elapsed());
    assert_eq!(ack.payload, None);
    let deadline = Instant::now() + Duration::from_secs(5);
    while recorder.handled().is_empty() {
        assert!(Instant::now() < deadline, "the handling did not go on after the ack");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_repeated_envelope_is_handled_once_and_acknowledged_every_time() {
    let (rig, recorder) = rig(|app| Recorder::new(app, Some(json!({"text": "ok"})))).await;
    let open = rig.fake.wait_for_open(2).await;
    let id = rig.fake.send(Some(open[0]), "slash_commands", slash_command("U0BOB", "C1", "list"), true);
    let first = rig.fake.wait_for_ack(&id).await;
    assert_eq!(first.payload, Some(json!({"text": "ok"})));
    // Slack sends it again (on the other connection, as after a reconnect), twice.
    rig.fake.repeat(&id, Some(open[1]));
    let second = rig.fake.wait_for_ack_n(&id, 2).await;
    rig.fake.repeat(&id, Some(open[0]));
    let third = rig.fake.wait_for_ack_n(&id, 3).await;
    assert_eq!((second.connection, third.connection), (open[1], open[0]));
    assert_eq!((second.payload, third.payload), (None, None), "repeats are acknowledged empty");
    assert_eq!(recorder.handled_ids(), vec![id], "handled once");
}

#[tokio::test]
async fn a_refresh_opens_a_fresh_connection_before_the_old_one_closes_and_loses_nothing() {
    for reason in ["refresh_requested", "warning"] {
        let (rig, recorder) = rig(|app| Recorder::new(app, None)).await;
        let open = rig.fake.wait_for_open(2).await;
        let old = open[0];
        rig.fake.disconnect(old, reason);
        // Keep Slack busy on whichever connections are open while the refresh happens.
        let mut sent = Vec::new();
        let started = Instant::now();
        while rig.fake.connections().len() < 3 || started.elapsed() < Duration::from_millis(600) {
            sent.push(rig.fake.send(None, "events_api", json!({"type": "event_callback", "n": sent.len()}), false));
            assert!(started.elapsed() < Duration::from_secs(5), "{reason}: no new connection");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let closed = rig.fake.wait_for_close(old).await;
        let connections = rig.fake.connections();
        let fresh = connections.iter().find(|c| c.id == 3).unwrap();
        assert!(
            fresh.opened < closed.closed.unwrap(),
            "{reason}: the new connection was open before the old one closed"
        );
        assert_ne!(fresh.ticket, closed.ticket, "{reason}: a fresh URL");
        for id in &sent {
            rig.fake.wait_for_ack(id).await;
        }
        let mut handled = recorder.handled_ids();
        handled.sort();
        let mut expected = sent.clone();
        expected.sort();
        assert_eq!(handled, expected, "{reason}: every envelope handled once");
        assert_eq!(rig.fake.open().len(), 2, "{reason}: back to two connections");
        assert_eq!(rig.fake.refused(), 0, "{reason}: no URL was used twice");
    }
}

#[tokio::test]
async fn too_many_websockets_reconnects_after_slack_closes_the_connection() {
    let (rig, _) = rig(|app| Recorder::new(app, None)).await;
    let open = rig.fake.wait_for_open(2).await;
    rig.fake.disconnect(open[1], "too_many_websockets");
    let closed = rig.fake.wait_for_close(open[1]).await;
    let all = rig.fake.wait_for_accepted(3).await;
    let replacement = all.iter().find(|c| c.id == 3).unwrap();
    assert!(replacement.opened >= closed.closed.unwrap(), "no extra connection while Slack says there are too many");
    rig.fake.wait_for_open(2).await;
}

#[tokio::test]
async fn a_dropped_connection_is_replaced_after_growing_delays() {
    let (rig, _) = rig(|app| Recorder::new(app, None)).await;
    let open = rig.fake.wait_for_open(2).await;
    // Slack has trouble: the next three attempts fail.
    rig.fake.fail_open(&[(200, "internal_error"), (200, "internal_error"), (200, "internal_error")]);
    let calls_before = rig.fake.open_calls().len();
    rig.fake.drop_connection(open[0]);
    let dropped = rig.fake.wait_for_close(open[0]).await.closed.unwrap();
    let all = rig.fake.wait_for_accepted(3).await;
    let calls: Vec<_> = rig.fake.open_calls().into_iter().skip(calls_before).collect();
    assert_eq!(calls.iter().map(|c| c.ok).collect::<Vec<_>>(), vec![false, false, false, true], "{calls:?}");
    // Each wait is at least half its nominal delay: 40 ms, 80, 160, 320 (equal jitter).
    let mut previous = dropped;
    for (call, nominal_ms) in calls.iter().zip([40u64, 80, 160, 320]) {
        let waited = call.at.duration_since(previous);
        assert!(
            waited >= Duration::from_millis(nominal_ms / 2),
            "waited {waited:?} before a try with nominal {nominal_ms} ms"
        );
        previous = call.at;
    }
    assert!(all[2].opened.duration_since(dropped) < Duration::from_secs(3), "bounded: reconnected within 3 s");
    assert_eq!(rig.fake.wait_for_open(2).await.len(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_and_refused_upgrades_are_tried_again() {
    let (rig, _) = rig(|app| Recorder::new(app, None)).await;
    let open = rig.fake.wait_for_open(2).await;
    rig.fake.fail_open(&[(429, "1")]);
    rig.fake.refuse_next(1);
    let calls_before = rig.fake.open_calls().len();
    rig.fake.drop_connection(open[1]);
    rig.fake.wait_for_close(open[1]).await;
    rig.fake.wait_for_accepted(3).await;
    let calls: Vec<_> = rig.fake.open_calls().into_iter().skip(calls_before).collect();
    assert!(calls.len() >= 3, "a 429, a URL whose upgrade was refused, then a good one: {calls:?}");
    assert!(!calls[0].ok);
    let waited = calls[1].at.duration_since(calls[0].at);
    assert!(waited >= Duration::from_millis(1000), "Retry-After: 1 was honoured ({waited:?})");
    assert_eq!(rig.fake.refused(), 1);
    rig.fake.wait_for_open(2).await;
}

#[tokio::test]
async fn a_silent_connection_is_replaced_and_pings_flow() {
    let (rig, _) = rig_with(|app| Recorder::new(app, None), |s| s.ping_interval = Duration::from_millis(100)).await;
    rig.fake.wait_for_open(2).await;
    // Polled: the fake's waits do not see pings.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open: Vec<_> = rig.fake.connections().into_iter().filter(|c| c.closed.is_none()).collect();
        if open.len() >= 2 && open.iter().all(|c| c.pings >= 2) {
            break;
        }
        assert!(Instant::now() < deadline, "the client pings: {:?}", rig.fake.connections());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let open = rig.fake.open();
    let accepted = rig.fake.connections().len();
    rig.fake.freeze(open[0]);
    let all = rig.fake.wait_for_accepted(accepted + 1).await;
    assert!(all.iter().any(|c| c.id == accepted + 1));
    rig.fake.wait_for_open(2).await;
}

#[tokio::test]
async fn malformed_frames_are_ignored_and_the_connection_keeps_working() {
    let (rig, recorder) = rig(|app| Recorder::new(app, None)).await;
    let open = rig.fake.wait_for_open(2).await;
    for junk in [
        "not json",
        "[]",
        r#"{"type":"mystery"}"#,
        r#"{"envelope_id":"bad-1","type":"interactive","payload":"not an object"}"#,
        r#"{"envelope_id":"bad-2","type":"who_knows","payload":{}}"#,
    ] {
        rig.fake.send_raw(Some(open[0]), junk);
    }
    let good = rig.fake.send(Some(open[0]), "events_api", json!({"type": "event_callback"}), false);
    rig.fake.wait_for_ack(&good).await;
    // Envelopes with a readable id are acknowledged, so Slack does not send them again.
    rig.fake.wait_for_ack("bad-1").await;
    rig.fake.wait_for_ack("bad-2").await;
    assert_eq!(recorder.handled_ids(), vec![good]);
    assert_eq!(rig.fake.open(), open, "the same two connections");
    assert!(rig.fake.strange_frames().is_empty(), "{:?}", rig.fake.strange_frames());
}

#[tokio::test]
async fn shutdown_closes_every_connection() {
    let (rig, _) = rig(|app| Recorder::new(app, None)).await;
    let open = rig.fake.wait_for_open(2).await;
    rig.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), rig.socket.stopped()).await.expect("stopped within 5 s");
    for id in open {
        rig.fake.wait_for_close(id).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.fake.connections().len(), 2, "nothing reconnects after shutdown");
}
