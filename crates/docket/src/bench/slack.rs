//! `docket bench --target slack`: signed Slack requests against a real `docket serve` (a child
//! process, HTTP mode, SQLite on disk, loopback), sent open-loop at `--rate` for `--duration`.
//!
//! 1. Slash commands: `/docket deploy api 1.4.<n> to prod`, form-encoded and signed like
//!    Slack's, to `/slack/commands`. Measured: request due → HTTP 200 fully read (the answer is
//!    empty: the matcher found the workflow and the pre-filled modal is opened after the
//!    answer, within Slack's `views.open` budget, which the bench reports as a count).
//! 2. Form submissions: a modal Docket opened, submitted back as Slack would (`view_submission`
//!    with the view's own blocks and its values as the state, version `1.4.<n>`), to
//!    `/slack/interactions`. Docket answers only after the ticket's commit (or a refusal).
//!    Measured: due → HTTP 200 with `response_action: clear`. Effect: after `kill -9` of the
//!    server, every acknowledged ticket is in the database.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::load::{Run, open_loop};
use super::slack_api::FakeWebApi;
use super::{Figure, Target, quantile_ms, startup};
use crate::compose;

pub(super) const SECRET: &str = "bench-signing-secret";
/// Slack gives up on an answer after 3 s: slower counts as an error.
const SLACK_DEADLINE: Duration = Duration::from_secs(3);

const WORKFLOW: &str = r#"id: deploy
title: Deploy a service
examples: ["deploy {service} {version} to {env}"]
params:
  - { name: service, type: choice, choices: [api, web] }
  - { name: version, type: string, pattern: '^\d+\.\d+\.\d+$' }
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: rollout
    wait: 0s
"#;

fn config(api_url: &str) -> String {
    format!(
        r#"server: {{ listen: 127.0.0.1:0 }}
storage: {{ url: sqlite://./docket.db }}
catalog: ./workflows
timezone: UTC
people:
  - {{ id: alice, name: Alice, slack: U0ALICE, groups: [dev] }}
  - {{ id: bob, name: Bob, slack: U0BOB, groups: [sre] }}
groups: [{{ id: dev }}, {{ id: sre }}]
policies:
  - name: production
    when: params.env == "prod"
    stages: [{{ name: lead, from: [group:sre], count: 1 }}]
    notify: {{ slack: C0APPROVALS }}
  - name: everything-else
    when: "true"
    auto_approve: true
slack:
  signing_secret: {SECRET}
  bot_token: xoxb-bench
  api_url: {api_url}
"#
    )
}

/// Writes the server's configuration (Slack's Web API at `api_url`) and workflow into `dir`;
/// the configuration's path.
pub(super) fn write_server_files(dir: &Path, api_url: &str) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("workflows"))?;
    std::fs::write(dir.join("workflows/deploy.yaml"), WORKFLOW)?;
    let config_path = dir.join("docket.yaml");
    std::fs::write(&config_path, config(api_url))?;
    Ok(config_path)
}

/// Runs both phases once and returns their figures.
pub(crate) async fn measure(rate: u32, duration: Duration) -> anyhow::Result<Vec<Figure>> {
    let count = ((f64::from(rate) * duration.as_secs_f64()).round() as usize).max(1);
    let api = Arc::new(FakeWebApi::start().await?);
    let dir = tempfile::tempdir()?;
    let config_path = write_server_files(dir.path(), &api.url())?;
    let (mut server, addr) = startup::serve(&config_path, dir.path()).await?;
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;

    let pid = server.id().context("the server's pid")?;
    let cpu_before = cpu_seconds(pid);
    let commands = open_loop(rate, count, |i| command(http.clone(), base.clone(), i)).await;
    let command_cpu = (cpu_seconds(pid) - cpu_before) / commands.sending.as_secs_f64().max(0.001);
    // Modals open after the answer, within Slack's views.open budget (Tier 4, about 100 a
    // minute): a few seconds show whether they flow, not that all 1,000 a second could.
    let trigger_ids = || (0..count).map(trigger_id);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let opened = api.opened(trigger_ids());
    let template = trigger_ids()
        .find_map(|t| api.view(&t))
        .context("no slash command opened a modal, so there is no form to submit")?;

    let template = Arc::new(template);
    let cpu_before = cpu_seconds(pid);
    let submissions = open_loop(rate, count, |i| submit(http.clone(), base.clone(), template.clone(), i)).await;
    let submit_cpu = (cpu_seconds(pid) - cpu_before) / submissions.sending.as_secs_f64().max(0.001);
    let acknowledged = submissions.outcomes.iter().filter(|o| o.error.is_none()).count();

    // Durable means it survives kill -9.
    server.start_kill().context("killing docket serve")?;
    let _ = server.wait().await;
    let stored = stored_tickets(&config_path).await?;
    report_errors("slash commands", &commands, dir.path());
    report_errors("form submissions", &submissions, dir.path());

    let mut figures = latency_figures(
        &commands,
        [
            "slack command → HTTP 200 p50",
            "slack command → HTTP 200 p99",
            "slack command → HTTP 200 max",
            "slack command p99, first fifth of the run",
            "slack command p99, last fifth of the run",
            "slack command errors",
        ],
    );
    figures.push(Figure::new("slack modals opened (views.open budget)", opened as f64, "", Target::None));
    figures.extend(latency_figures(
        &submissions,
        [
            "slack submit → ticket stored, 200 p50",
            "slack submit → ticket stored, 200 p99",
            "slack submit → ticket stored, 200 max",
            "slack submit p99, first fifth of the run",
            "slack submit p99, last fifth of the run",
            "slack submit errors",
        ],
    ));
    // How much of the submissions' tail is the sender's own, on a machine it shares.
    figures.push(Figure::new(
        "slack submit p99 from when sent (server and network)",
        quantile_ms(&submissions.good_latencies_from_sending(), 0.99),
        "ms",
        Target::None,
    ));
    figures.push(Figure::new(
        "slack submit: sender lateness p99",
        quantile_ms(&submissions.good_lateness(), 0.99),
        "ms",
        Target::None,
    ));
    figures.push(Figure::new(
        "slack acked tickets stored after kill -9",
        percent(stored.min(acknowledged as u64) as usize, acknowledged),
        "%",
        Target::AtLeast(100.0),
    ));
    figures.push(Figure::new("slack server CPU, commands phase", command_cpu, "cores", Target::None));
    figures.push(Figure::new("slack server CPU, submit phase", submit_cpu, "cores", Target::None));
    figures.push(Figure::new("slack sender rate", commands.achieved_rate(), "/s", Target::None));
    figures.push(Figure::new("slack chat.postMessage calls", api.count("chat.postMessage") as f64, "", Target::None));
    figures.push(Figure::new(
        "slack sender worst lateness",
        commands.worst_lateness().max(submissions.worst_lateness()).as_secs_f64() * 1000.0,
        "ms",
        Target::None,
    ));
    Ok(figures)
}

fn latency_figures(run: &Run, names: [&'static str; 6]) -> Vec<Figure> {
    let [p50, p99, max, first, last, errors] = names;
    let good = run.good_latencies();
    let worst = good.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    vec![
        Figure::new(p50, quantile_ms(&good, 0.5), "ms", Target::None),
        Figure::new(p99, quantile_ms(&good, 0.99), "ms", Target::AtMost(10.0)),
        Figure::new(max, worst, "ms", Target::None),
        Figure::new(first, quantile_ms(&run.good_latencies_between(0.0, 0.2), 0.99), "ms", Target::None),
        Figure::new(last, quantile_ms(&run.good_latencies_between(0.8, 1.0), 0.99), "ms", Target::None),
        Figure::new(errors, run.errors().len() as f64, "", Target::AtMost(0.0)),
    ]
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

fn report_errors(phase: &str, run: &Run, dir: &Path) {
    let errors = run.errors();
    if let Some(first) = errors.first() {
        let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        tracing::warn!(
            phase,
            errors = errors.len(),
            first = first.error.as_deref().unwrap_or_default(),
            server_log_tail = %tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            "bench: requests not answered as Slack expects"
        );
    }
}

fn trigger_id(i: usize) -> String {
    format!("{i}.1337.bench{i:08x}")
}

/// The form body of slash command `i`: `/docket deploy api 1.4.<i> to prod` from Alice.
pub(super) fn command_body(i: usize) -> String {
    form(&[
        ("token", "unused".to_owned()),
        ("team_id", "T0BENCH".to_owned()),
        ("team_domain", "bench".to_owned()),
        ("channel_id", format!("C{:04}", i % 50)),
        ("channel_name", "deploys".to_owned()),
        ("user_id", "U0ALICE".to_owned()),
        ("user_name", "alice".to_owned()),
        ("command", "/docket".to_owned()),
        ("text", format!("deploy api 1.4.{i} to prod")),
        ("api_app_id", "A0BENCH".to_owned()),
        ("is_enterprise_install", "false".to_owned()),
        ("response_url", format!("https://hooks.slack.com/commands/T0BENCH/{i}/x")),
        ("trigger_id", trigger_id(i)),
    ])
}

/// Slash command `i`, sent and checked.
async fn command(http: reqwest::Client, base: String, i: usize) -> Result<(), String> {
    let body = command_body(i);
    let (status, text) = signed_post(&http, &format!("{base}/slack/commands"), body).await?;
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    if text.contains("\"response_type\"") {
        return Err(format!("answered with text instead of opening the form: {}", cut(&text)));
    }
    Ok(())
}

/// Submission `i`: the deploy form as the matcher pre-filled it (`template`, a modal Docket
/// opened), submitted with version `1.4.<i>`.
async fn submit(http: reqwest::Client, base: String, template: Arc<Value>, i: usize) -> Result<(), String> {
    let mut view = (*template).clone();
    view["id"] = json!(format!("V{i:08}"));
    let mut state = state_of(&view);
    if let Some(version) = state.pointer_mut("/version/value/value") {
        *version = json!(format!("1.4.{i}"));
    }
    view["state"] = json!({ "values": state });
    let payload = json!({
        "type": "view_submission",
        "team": {"id": "T0BENCH", "domain": "bench"},
        "user": {"id": "U0ALICE", "username": "alice", "team_id": "T0BENCH"},
        "api_app_id": "A0BENCH",
        "trigger_id": format!("{i}.4242.submit"),
        "view": view,
    });
    let body = form(&[("payload", payload.to_string())]);
    let (status, text) = signed_post(&http, &format!("{base}/slack/interactions"), body).await?;
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    if !text.contains("\"clear\"") {
        return Err(format!("not cleared: {}", cut(&text)));
    }
    Ok(())
}

/// What Slack sends as `view.state.values` when a modal is submitted untouched: every input
/// block's element with its initial value.
fn state_of(view: &Value) -> Value {
    let mut values = serde_json::Map::new();
    for block in view.get("blocks").and_then(Value::as_array).into_iter().flatten() {
        if block.get("type").and_then(Value::as_str) != Some("input") {
            continue;
        }
        let (Some(block_id), Some(element)) = (block.get("block_id").and_then(Value::as_str), block.get("element"))
        else {
            continue;
        };
        let kind = element.get("type").and_then(Value::as_str).unwrap_or_default();
        let action = element.get("action_id").and_then(Value::as_str).unwrap_or("value");
        let state = match kind {
            "static_select" | "radio_buttons" => {
                json!({"type": kind, "selected_option": element.get("initial_option").cloned().unwrap_or(Value::Null)})
            }
            "checkboxes" | "multi_static_select" => {
                json!({"type": kind, "selected_options": element.get("initial_options").cloned().unwrap_or(json!([]))})
            }
            _ => json!({"type": kind, "value": element.get("initial_value").cloned().unwrap_or(Value::Null)}),
        };
        values.insert(block_id.to_owned(), json!({ action: state }));
    }
    Value::Object(values)
}

/// POSTs a form body signed as Slack signs it; the status and the body, or why it failed.
async fn signed_post(http: &reqwest::Client, url: &str, body: String) -> Result<(u16, String), String> {
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    let signature = docket_slack::verify::sign(SECRET, &timestamp, body.as_bytes());
    let started = std::time::Instant::now();
    let response = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.without_url().to_string())?;
    if started.elapsed() > SLACK_DEADLINE {
        return Err(format!("answered after {:?}, past Slack's 3 s", started.elapsed()));
    }
    Ok((status, text))
}

/// `application/x-www-form-urlencoded`.
fn form(fields: &[(&str, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn cut(text: &str) -> String {
    text.chars().take(200).collect()
}

/// CPU time `pid` has used so far (user + system), in seconds; 0 if `/proc` cannot tell.
pub(super) fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; in ticks of
    // 1/100 s (Linux's USER_HZ).
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Tickets in the database (opened after the server was killed).
async fn stored_tickets(config: &Path) -> anyhow::Result<u64> {
    let composed = compose::compose(config, Vec::new()).await?;
    let stats = composed.app.stats().await?;
    Ok(stats.tickets_by_state.iter().map(|(_, n)| n).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_like_browsers_and_slack_do() {
        let body = form(&[("text", "deploy api 1.4.2 to prod".to_owned()), ("x", "a&b=c/é".to_owned())]);
        assert_eq!(body, "text=deploy+api+1.4.2+to+prod&x=a%26b%3Dc%2F%C3%A9");
    }

    #[test]
    fn an_untouched_modal_submits_its_initial_values() {
        let view = json!({"blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},
            {"type": "input", "block_id": "service", "element": {"type": "static_select", "action_id": "value",
                "initial_option": {"text": {"type": "plain_text", "text": "api"}, "value": "api"}}},
            {"type": "input", "block_id": "version", "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "1.4.2"}},
            {"type": "input", "block_id": "dry", "element": {"type": "checkboxes", "action_id": "value"}},
        ]});
        let state = state_of(&view);
        assert_eq!(state.pointer("/service/value/selected_option/value"), Some(&json!("api")));
        assert_eq!(state.pointer("/version/value/value"), Some(&json!("1.4.2")));
        assert_eq!(state.pointer("/dry/value/selected_options"), Some(&json!([])));
        assert_eq!(state.as_object().map(|m| m.len()), Some(3));
    }
}
