//! A flood of slash commands beyond Slack's `views.open` budget: every command is answered at
//! once, the modals within the budget open, and the others are dropped with one warning line
//! (its `held_back` counting the rest), not a line each. In a test binary of its own, because it
//! captures the log with the thread's default subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::time::{Duration, Instant};

use docket_slack::{Ack, CommandForm, Inbound, Slack, SlackClient, SlackSettings};
use docket_testkit::slack::{BOT_TOKEN, FakeSlack};
use docket_testkit::{CapturedLogs, TestApp};

// One thread: the tasks that open modals log on the thread whose subscriber captures.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_dropped_modals_is_one_warning_line() {
    let (logs, _logging) = CapturedLogs::start();

    let fake = FakeSlack::start().await;
    let mut settings = SlackSettings::new("flood-secret", BOT_TOKEN);
    settings.api_url = fake.url();
    let client = SlackClient::new(&settings).unwrap();
    let t = TestApp::builder().start().await;
    let slack = Slack::new(t.app.clone(), settings, client);

    // The budget starts counting at the first dispatch, so no more than one modal per 0.6 s
    // since this instant can have come due, however slowly the flood is dispatched.
    let started = Instant::now();
    for i in 0..2_000 {
        // `/docket` alone: the workflow picker, a modal.
        let form = CommandForm {
            command: "/docket".to_owned(),
            user_id: "U0ALICE".to_owned(),
            channel_id: "C0DEV".to_owned(),
            trigger_id: format!("{i}.flood"),
            ..CommandForm::default()
        };
        assert_eq!(slack.dispatch(Inbound::Command(form)).await.unwrap(), Ack::empty());
    }
    // The budget's burst (20) opens at once; a few more wait for their turn within the
    // trigger's 3 s; the rest were dropped during the flood.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.calls_to("views.open").len() < 20 {
        assert!(Instant::now() < deadline, "{} modals opened", fake.calls_to("views.open").len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let opened = fake.calls_to("views.open").len();
    let due = 20 + usize::try_from(started.elapsed().as_millis() / 600).unwrap() + 1;
    assert!(opened <= due, "{opened} modals opened, at most {due} could have come due");

    let text = logs.text();
    let dropped = logs.lines_containing("dropped a slash command's modal");
    assert_eq!(dropped.len(), 1, "{text}");
    assert!(dropped[0].contains("WARN") && dropped[0].contains("held_back=0"), "{text}");
    assert!(!text.contains("could not open a modal"), "{text}");
    t.stop().await;
}
