//! The harness: app + fake Bot Framework + the Teams router on loopback, and activities shaped
//! as Teams sends them.

use std::time::Duration;

use docket_teams::{Pacing, RetryPolicy, Teams, TeamsSettings};
use docket_testkit::TestApp;
use docket_testkit::teams::{APP_ID, APP_PASSWORD, FakeBotFramework, Recorded, TENANT};
use serde_json::{Value, json};

/// The approvals channel of the fixture's production policy.
pub(crate) const APPROVALS: &str = "19:approvals@thread.tacv2";

pub(crate) struct Harness {
    pub(crate) t: TestApp,
    pub(crate) fake: FakeBotFramework,
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
}

/// Settings pointing at `fake`, with quick retries and pacing.
pub(crate) fn settings(fake: &FakeBotFramework) -> TeamsSettings {
    let mut s = TeamsSettings::new(APP_ID, APP_PASSWORD);
    s.openid_metadata_url = fake.metadata_url();
    s.token_url = fake.token_url();
    s.graph_url = fake.graph_url();
    s.graph_token_url = fake.graph_token_url();
    s.tenant_id = Some(TENANT.to_owned());
    s.public_url = Some("https://docket.example.com".to_owned());
    s.retry = RetryPolicy { attempts: 5, base: Duration::from_millis(10), max: Duration::from_millis(100) };
    s.pacing = Pacing { burst: 7, interval: Duration::from_millis(20) };
    s
}

impl Harness {
    pub(crate) async fn start() -> Self {
        let fake = FakeBotFramework::start().await;
        Self::with_settings(fake, |_| {}).await
    }

    pub(crate) async fn with_settings(fake: FakeBotFramework, change: impl FnOnce(&mut TeamsSettings)) -> Self {
        Self::build(fake, change, docket_testkit::fixture::DOCKET_YAML).await
    }

    pub(crate) async fn with_config(fake: FakeBotFramework, docket_yaml: &str) -> Self {
        Self::build(fake, |_| {}, docket_yaml).await
    }

    async fn build(fake: FakeBotFramework, change: impl FnOnce(&mut TeamsSettings), docket_yaml: &str) -> Self {
        Self::build_with(fake, change, docket_yaml, |b| b).await
    }

    /// The fixture app changed by `app` (more step kinds, workflows).
    pub(crate) async fn with_app(
        fake: FakeBotFramework,
        app: impl FnOnce(docket_testkit::TestAppBuilder) -> docket_testkit::TestAppBuilder,
    ) -> Self {
        Self::build_with(fake, |_| {}, docket_testkit::fixture::DOCKET_YAML, app).await
    }

    async fn build_with(
        fake: FakeBotFramework,
        change: impl FnOnce(&mut TeamsSettings),
        docket_yaml: &str,
        app: impl FnOnce(docket_testkit::TestAppBuilder) -> docket_testkit::TestAppBuilder,
    ) -> Self {
        let mut s = settings(&fake);
        change(&mut s);
        let teams = Teams::new(s).unwrap();
        let t = app(TestApp::builder())
            .config(docket_yaml)
            .notifier(teams.notifier())
            .settings(|s| {
                s.public_url = Some("https://docket.example.com".to_owned());
                s.outbox_backoff = Duration::from_millis(20);
                s.outbox_max_backoff = Duration::from_millis(100);
            })
            .start()
            .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = teams.router(t.app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { t, fake, url, http: reqwest::Client::new() }
    }

    /// Posts `activity` with `token`; returns the status and the JSON answer (null if none).
    pub(crate) async fn post_with(&self, activity: &Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}/teams/messages", self.url)).json(activity);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Posts `activity` with a valid token.
    pub(crate) async fn post(&self, activity: &Value) -> (u16, Value) {
        let token = self.fake.token();
        self.post_with(activity, Some(&token)).await
    }

    /// Installs the bot for `user` (1:1) and in the approvals channel.
    pub(crate) async fn install(&self, users: &[&str]) {
        for user in users {
            assert_eq!(self.post(&personal_install(&self.fake, user)).await.0, 200);
        }
        assert_eq!(self.post(&team_install(&self.fake)).await.0, 200);
    }

    /// Waits for a call matching `pick` and returns it.
    pub(crate) async fn wait_call(&self, what: &str, pick: impl Fn(&Recorded) -> bool) -> Recorded {
        let found = self.fake.wait_for(what, |r| r.iter().any(&pick)).await;
        found.into_iter().find(|r| pick(r)).unwrap()
    }
}

pub(crate) fn account(user: &str) -> Value {
    json!({ "id": format!("29:{user}"), "name": user, "aadObjectId": format!("aad-{user}") })
}

/// The 1:1 conversation of `user` with the bot.
pub(crate) fn chat(user: &str) -> String {
    format!("a:chat-{user}")
}

fn base(fake: &FakeBotFramework, kind: &str, from: &str, conversation: Value) -> Value {
    json!({
        "type": kind,
        "id": format!("act-{}", rand_id()),
        "timestamp": "2026-11-24T10:00:00.000Z",
        "serviceUrl": fake.service_url(),
        "channelId": "msteams",
        "from": account(from),
        "recipient": { "id": format!("28:{APP_ID}"), "name": "Docket" },
        "conversation": conversation,
        "channelData": { "tenant": { "id": TENANT } },
        "locale": "en-US",
    })
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn personal(user: &str) -> Value {
    json!({ "id": chat(user), "conversationType": "personal", "tenantId": TENANT })
}

pub(crate) fn personal_install(fake: &FakeBotFramework, user: &str) -> Value {
    let mut a = base(fake, "conversationUpdate", user, personal(user));
    a["membersAdded"] = json!([{ "id": format!("28:{APP_ID}") }, account(user)]);
    a
}

pub(crate) fn team_install(fake: &FakeBotFramework) -> Value {
    let conversation = json!({ "id": APPROVALS, "conversationType": "channel", "tenantId": TENANT, "isGroup": true });
    let mut a = base(fake, "conversationUpdate", "bob", conversation);
    a["membersAdded"] = json!([{ "id": format!("28:{APP_ID}") }]);
    a["channelData"] = json!({
        "tenant": { "id": TENANT },
        "team": { "id": APPROVALS, "name": "SRE", "aadGroupId": "sre-group" },
        "channel": { "id": APPROVALS },
        "eventType": "teamMemberAdded",
    });
    a
}

pub(crate) fn message(fake: &FakeBotFramework, user: &str, text: &str) -> Value {
    let mut a = base(fake, "message", user, personal(user));
    a["text"] = json!(text);
    a["textFormat"] = json!("plain");
    a
}

/// An `Action.Execute` click by `user` on message `card` in `conversation`.
pub(crate) fn invoke(
    fake: &FakeBotFramework,
    user: &str,
    conversation: &str,
    card: &str,
    verb: &str,
    data: Value,
) -> Value {
    invoke_with(fake, user, conversation, card, verb, data, "manual")
}

pub(crate) fn invoke_with(
    fake: &FakeBotFramework,
    user: &str,
    conversation: &str,
    card: &str,
    verb: &str,
    data: Value,
    trigger: &str,
) -> Value {
    let kind = if conversation.starts_with("a:") { "personal" } else { "channel" };
    let conversation = json!({ "id": conversation, "conversationType": kind, "tenantId": TENANT });
    let mut a = base(fake, "invoke", user, conversation);
    a["name"] = json!("adaptiveCard/action");
    a["replyToId"] = json!(card);
    a["value"] = json!({ "action": { "type": "Action.Execute", "verb": verb, "data": data }, "trigger": trigger });
    a
}

/// The card of an invoke answer, checked to be a 1.5 card Teams accepts.
pub(crate) fn answered_card(answer: &Value) -> &Value {
    assert_eq!(answer["statusCode"], 200, "{answer:#}");
    assert_eq!(answer["type"], "application/vnd.microsoft.card.adaptive");
    let card = &answer["value"];
    docket_teams::cards::check::check(card).unwrap_or_else(|p| panic!("{p:#?}"));
    card
}

/// Every text on a card, joined, to look for words.
pub(crate) fn texts(card: &Value) -> String {
    let mut out = Vec::new();
    collect(card, &mut out);
    out.join("\n")
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if matches!(k.as_str(), "text" | "title" | "value" | "label") && v.is_string() {
                    out.push(v.as_str().unwrap().to_owned());
                }
                collect(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// The titles of a card's actions (`Approve`, `Reject`, …).
pub(crate) fn action_titles(card: &Value) -> Vec<String> {
    card["actions"]
        .as_array()
        .map_or_else(Vec::new, |a| a.iter().map(|x| x["title"].as_str().unwrap().to_owned()).collect())
}

/// The input ids of a card.
pub(crate) fn inputs(card: &Value) -> Vec<String> {
    card["body"].as_array().unwrap().iter().filter_map(|e| e["id"].as_str().map(str::to_owned)).collect()
}
