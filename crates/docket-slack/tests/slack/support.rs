//! The harness: a TestApp with the Slack notifier, the fake Web API, the router on loopback,
//! and a signer.

use std::sync::Arc;
use std::time::Duration;

use docket_slack::{Slack, SlackClient, SlackNotifier, SlackSettings, router};
use docket_testkit::TestApp;
use docket_testkit::slack::{BOT_TOKEN, Call, FakeSlack};
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub(crate) const PUBLIC_URL: &str = "http://docket.test";

pub(crate) struct Harness {
    pub(crate) t: TestApp,
    pub(crate) fake: FakeSlack,
    pub(crate) slack: Slack,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

pub(crate) fn settings(fake: &FakeSlack) -> SlackSettings {
    let mut settings = SlackSettings::new(SECRET, BOT_TOKEN);
    settings.api_url = fake.url();
    settings.channel_interval = Duration::from_millis(20);
    settings.public_url = Some(PUBLIC_URL.to_owned());
    settings
}

impl Harness {
    pub(crate) async fn start() -> Self {
        Self::start_with(|b| b).await
    }

    pub(crate) async fn start_with(
        change: impl FnOnce(docket_testkit::TestAppBuilder) -> docket_testkit::TestAppBuilder,
    ) -> Self {
        let fake = FakeSlack::start().await;
        let settings = settings(&fake);
        let client = SlackClient::new(&settings).unwrap();
        let notifier = Arc::new(SlackNotifier::new(settings.clone(), client.clone()));
        let builder = TestApp::builder().notifier(notifier).settings(|s| s.public_url = Some(PUBLIC_URL.to_owned()));
        let t = change(builder).start().await;
        let slack = Slack::new(t.app.clone(), settings, client);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(slack.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Harness { t, fake, slack, base: format!("http://{addr}"), http: reqwest::Client::new() }
    }

    /// Posts `body` to `path`, signed now.
    pub(crate) async fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let ts = self.t.app.clock_now().as_second().to_string();
        let signature = docket_slack::verify::sign(SECRET, &ts, body.as_bytes());
        self.post_raw(path, content_type, body, Some(&ts), Some(&signature)).await
    }

    pub(crate) async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        ts: Option<&str>,
        signature: Option<&str>,
    ) -> (u16, String) {
        self.post_raw_at(&self.base, path, content_type, body, ts, signature).await
    }

    /// [`Self::post_raw`] to the server at `base` (see [`Self::second_replica`]).
    pub(crate) async fn post_raw_at(
        &self,
        base: &str,
        path: &str,
        content_type: &str,
        body: &str,
        ts: Option<&str>,
        signature: Option<&str>,
    ) -> (u16, String) {
        let mut request =
            self.http.post(format!("{base}{path}")).header("content-type", content_type).body(body.to_owned());
        if let Some(ts) = ts {
            request = request.header("x-slack-request-timestamp", ts);
        }
        if let Some(signature) = signature {
            request = request.header("x-slack-signature", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Another Slack surface on the same app and store, served on its own port, as a second
    /// replica would be: it shares the store, not this one's memory. Its base URL.
    pub(crate) async fn second_replica(&self) -> String {
        let settings = settings(&self.fake);
        let client = SlackClient::new(&settings).unwrap();
        let slack = Slack::new(self.t.app.clone(), settings, client);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(slack)).await.unwrap() });
        format!("http://{addr}")
    }

    /// A slash command by `user` in `channel`.
    pub(crate) async fn command(&self, user: &str, channel: &str, text: &str, trigger: &str) -> (u16, String) {
        let body = form(&[
            ("token", "legacy"),
            ("team_id", "T0TEAM"),
            ("channel_id", channel),
            ("user_id", user),
            ("command", "/docket"),
            ("text", text),
            ("response_url", "https://hooks.slack.invalid/commands/1"),
            ("trigger_id", trigger),
            ("api_app_id", "A0DOCKET"),
        ]);
        self.post("/slack/commands", "application/x-www-form-urlencoded", &body).await
    }

    /// An interaction payload, form-encoded as Slack sends it.
    pub(crate) async fn interact(&self, payload: &Value) -> (u16, String) {
        let body = form(&[("payload", &payload.to_string())]);
        self.post("/slack/interactions", "application/x-www-form-urlencoded", &body).await
    }

    /// A click on the button `action_id` of `message` by `user`.
    pub(crate) async fn click(
        &self,
        user: &str,
        message: &docket_testkit::slack::Message,
        action_id: &str,
        trigger: &str,
    ) -> (u16, String) {
        let value = button_value(&message.blocks, action_id)
            .unwrap_or_else(|| panic!("no {action_id} button on {}", message.text));
        let payload = json!({
            "type": "block_actions",
            "user": { "id": user, "username": user },
            "api_app_id": "A0DOCKET",
            "trigger_id": trigger,
            "team": { "id": "T0TEAM", "domain": "acme" },
            "container": { "type": "message", "message_ts": message.ts, "channel_id": message.channel },
            "channel": { "id": message.channel },
            "message": { "ts": message.ts, "text": message.text },
            "actions": [{ "type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1" }],
        });
        self.interact(&payload).await
    }

    /// Alice's request to deploy api 1.2.3 to prod from `C0DEPLOYS`, once it waits for approval.
    pub(crate) async fn prod_deploy_waiting(&self) -> docket_core::Ticket {
        let params: docket_core::RawParams = [("service", "api"), ("version", "1.2.3"), ("env", "prod")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        let origin = docket_core::ticket::Origin {
            surface: "slack".to_owned(),
            channel: Some("C0DEPLOYS".to_owned()),
            ..Default::default()
        };
        let ticket = self.t.app.request(&docket_core::Actor::person("alice"), &"deploy".into(), params, origin).await;
        self.t.wait_for_state(&ticket.unwrap().id, docket_core::TicketState::AwaitingApproval).await
    }

    /// Begins a clean stop (`App::settle`) while the fake holds calls to `method`: the stop
    /// waits until they are released, then ends within its grace.
    pub(crate) async fn stop_while_held(&self, method: &str) {
        let app = self.t.app.clone();
        let settling = tokio::spawn(async move { app.settle(Duration::from_secs(30)).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!settling.is_finished(), "the stop waits while the click is being handled");
        self.fake.release(method);
        assert!(settling.await.unwrap(), "the click's work ended within the grace");
    }

    /// Submits the modal opened with `trigger` with these state values.
    pub(crate) async fn submit(&self, user: &str, trigger: &str, values: Value) -> Value {
        let view = self.view_opened(trigger).await;
        self.submit_view(user, &view, values).await
    }

    pub(crate) async fn submit_view(&self, user: &str, view: &Value, values: Value) -> Value {
        let (status, body) = self.interact(&submission(user, view, values)).await;
        assert_eq!(status, 200, "{body}");
        if body.is_empty() { Value::Null } else { serde_json::from_str(&body).unwrap() }
    }

    /// The view opened with `trigger` (waits for the `views.open` call).
    pub(crate) async fn view_opened(&self, trigger: &str) -> Value {
        let calls = self
            .fake
            .wait_for(&format!("views.open with {trigger}"), |calls| {
                calls.iter().any(|c| c.method == "views.open" && c.body["trigger_id"] == trigger)
            })
            .await;
        let call = calls.iter().find(|c| c.method == "views.open" && c.body["trigger_id"] == trigger).unwrap();
        let mut view = call.body["view"].clone();
        view["id"] = json!(format!("V-{trigger}"));
        view
    }

    pub(crate) async fn wait_ephemeral(&self, user: &str, containing: &str) -> String {
        let calls = self
            .fake
            .wait_for(&format!("an ephemeral to {user} with {containing:?}"), |calls| {
                ephemerals_in(calls, user).iter().any(|t| t.contains(containing))
            })
            .await;
        ephemerals_in(&calls, user).into_iter().find(|t| t.contains(containing)).unwrap()
    }
}

fn ephemerals_in(calls: &[Call], user: &str) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.method == "chat.postEphemeral" && c.body["user"] == user)
        .map(|c| c.body["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter()).finish()
}

/// The value of the first button `action_id` in `blocks`.
pub(crate) fn button_value(blocks: &Value, action_id: &str) -> Option<String> {
    blocks
        .as_array()?
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == action_id)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

/// Whether `blocks` have any actions block.
pub(crate) fn has_buttons(blocks: &Value) -> bool {
    blocks.as_array().is_some_and(|b| b.iter().any(|b| b["type"] == "actions"))
}

/// All the text of a message's blocks, joined.
pub(crate) fn block_text(blocks: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "text" && v.is_string() {
                        out.push_str(v.as_str().unwrap());
                        out.push('\n');
                    } else {
                        walk(v, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(blocks, &mut out);
    out
}

/// The `view_submission` payload of `view` submitted by `user` with these state values.
pub(crate) fn submission(user: &str, view: &Value, values: Value) -> Value {
    json!({
        "type": "view_submission",
        "user": { "id": user },
        "api_app_id": "A0DOCKET",
        "view": {
            "id": view["id"], "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
            "blocks": view["blocks"], "state": { "values": values },
        },
    })
}

/// State values of the deploy form.
pub(crate) fn deploy_values(service: &str, version: &str, env: &str) -> Value {
    json!({
        "service": { "value": { "type": "static_select", "selected_option": { "value": service } } },
        "version": { "value": { "type": "plain_text_input", "value": version } },
        "env": { "value": { "type": "static_select", "selected_option": { "value": env } } },
    })
}
