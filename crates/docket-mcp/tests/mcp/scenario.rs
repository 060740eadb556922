//! The agent's journey with a real MCP client, over streamable HTTP and over stdio: list the
//! workflows; a request with a bad parameter comes back naming the field, then a good one waits
//! for approval; the agent cannot approve (there is no such tool, and the app refuses it on
//! any surface), nor can its owner; another approver approves; `wait_for_ticket`, having streamed
//! progress, returns the ticket succeeded with its result; the audit shows agent and owner.

use std::time::Duration;

use docket_app::AppError;
use docket_core::{Actor, Digest, TicketId};
use rmcp::model::ProtocolVersion;
use serde_json::json;
use tokio::time::Instant;

use crate::support::*;

/// The journey through `client`, made with `bot`'s token, on `served` (started without its
/// engine: the journey starts it once the approval was told to the waiting agent).
async fn journey(served: &Served, client: &Client) {
    // The tools, with schemas and honest annotations.
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for name in ["list_workflows", "request", "get_ticket", "wait_for_ticket", "ticket_logs", "comment", "cancel"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(!names.iter().any(|n| ["approve", "reject", "request_changes"].contains(n)), "{names:?}");
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    for name in ["list_workflows", "get_ticket", "wait_for_ticket", "ticket_logs"] {
        let hints = tool(name).annotations.clone().unwrap();
        assert_eq!(hints.read_only_hint, Some(true), "{name} is read-only");
    }
    let request = tool("request").annotations.clone().unwrap();
    assert_eq!((request.read_only_hint, request.idempotent_hint), (Some(false), Some(false)));
    assert!(tools.iter().all(|t| t.output_schema.is_some()), "every tool has an output schema");
    let input = serde_json::to_value(&*tool("request").input_schema).unwrap();
    assert!(input["properties"]["workflow"].is_object() && input["properties"]["params"].is_object(), "{input}");

    // The catalog: only what the agent may request, with each parameter's schema.
    let listed = ok(&call(client, "list_workflows", json!({}), None).await);
    let workflows = listed["workflows"].as_array().unwrap();
    assert_eq!(workflows.iter().map(|w| w["id"].as_str().unwrap()).collect::<Vec<_>>(), ["deploy"], "{listed}");
    let params = &workflows[0]["params"];
    assert_eq!(params["properties"]["env"]["enum"], json!(["staging", "prod"]));
    assert_eq!(params["properties"]["version"]["pattern"], r"^\d+\.\d+\.\d+$");
    assert_eq!(params["properties"]["version"]["description"], "The version, e.g. 1.4.2");
    assert_eq!(params["required"], json!(["service", "version", "env"]));
    assert_eq!(workflows[0]["risk"], "medium");

    // A bad request: every field's problem, and nothing requested.
    let bad = call(
        client,
        "request",
        json!({ "workflow": "deploy", "params": { "service": "db", "version": "latest", "env": "prod" } }),
        None,
    )
    .await;
    assert_eq!(bad.is_error, Some(true));
    let said = text(&bad);
    assert!(
        said.contains("- version:") && said.contains("- service:") && said.contains("nothing was requested"),
        "{said}"
    );
    assert!(served.kit.app.tickets(&Default::default()).await.unwrap().tickets.is_empty());
    let refused = call(client, "request", json!({ "workflow": "report" }), None).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("may not request `report`"), "{}", text(&refused));

    // A good one waits for approval, counted as bob's.
    let reason = "the 1.4.2 hotfix for the checkout bug";
    let ticket =
        ok(&call(client, "request", json!({ "workflow": "deploy", "params": deploy("prod"), "reason": reason }), None)
            .await);
    assert_eq!(ticket["state"], "awaiting_approval", "{ticket}");
    assert_eq!(ticket["requested_by"], "deploy-bot (agent of Bob Ruiz)");
    assert_eq!(ticket["requester"], "bob");
    assert!(
        ticket["decision"]["explanation"]
            .as_str()
            .unwrap_or_else(|| panic!("{ticket}"))
            .contains("agents-in-production"),
        "{ticket}"
    );
    assert_eq!(ticket["stages"][0]["eligible"], json!(["carol", "dave"]), "never the owner");
    assert!(ticket["url"].as_str().unwrap().starts_with("https://docket.example.com/tickets/DKT-"));
    assert_eq!(ticket["comments"][0]["text"], format!("Reason: {reason}"));
    let id = TicketId::parse(ticket["id"].as_str().unwrap()).unwrap();
    let digest = Digest::parse(ticket["digest"].as_str().unwrap()).unwrap();

    // Wait for the end while people decide, with progress notifications.
    let waiting = {
        let client = client.peer().clone();
        let id = id.to_string();
        tokio::spawn(async move {
            let mut params = rmcp::model::CallToolRequestParams::new("wait_for_ticket");
            params.arguments = json!({ "id": id, "until": "finished", "timeout_seconds": 120 }).as_object().cloned();
            let mut meta = rmcp::model::RequestMetaObject::default();
            meta.set_progress_token(rmcp::model::ProgressToken(rmcp::model::NumberOrString::Number(7)));
            params.meta = Some(meta);
            client.call_tool(params).await
        })
    };
    // Time for the wait to begin before the approval below, so it tells of the approval at once.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The agent cannot approve: MCP has no such tool, and the app refuses it whatever the surface.
    let no_tool = client.call_tool(rmcp::model::CallToolRequestParams::new("approve")).await;
    assert!(no_tool.is_err(), "an unknown tool is a protocol error: {no_tool:?}");
    let agent = Actor::Agent { agent: "deploy-bot".into(), on_behalf_of: "bob".into() };
    let by_agent = served.kit.app.approve(&agent, &id, digest, None).await.unwrap_err();
    assert!(matches!(by_agent, AppError::Refused(ref r) if r.code() == "agent_cannot_decide"), "{by_agent}");
    // Nor can its owner; another approver can.
    let by_owner = served.kit.app.approve(&Actor::person("bob"), &id, digest, None).await.unwrap_err();
    assert!(matches!(by_owner, AppError::Refused(ref r) if r.code() == "own_ticket"), "{by_owner}");
    served.kit.app.approve(&Actor::person("carol"), &id, digest, Some("go".into())).await.unwrap();
    // Nothing runs before the wait has sent progress, so a slow machine cannot have the ticket
    // finished before the wait began (it would then answer at once, with no progress). A wait
    // that began after the approval sends its heartbeat instead, 10 s in.
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.service().progress.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no progress while waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let engine = served.kit.app.start().await.unwrap();

    let waited = waiting.await.unwrap().expect("the wait answers");
    let waited = ok(&waited);
    assert_eq!(waited["timed_out"], false);
    assert_eq!(waited["ticket"]["state"], "succeeded", "{waited}");
    assert_eq!(waited["ticket"]["runs"][0]["steps"][0]["status"], "succeeded");
    assert_eq!(waited["ticket"]["reviews"][0]["person"], "carol");
    let progress = client.service().progress.lock().unwrap().clone();
    assert!(!progress.is_empty(), "progress was streamed while waiting");
    assert!(
        progress.iter().any(|p| p.message.as_deref().unwrap_or("").contains("Succeeded")
            || p.message.as_deref().unwrap_or("").contains("Running")
            || p.message.as_deref().unwrap_or("").contains("Queued")),
        "{progress:?}"
    );

    // The result, in the log.
    let logs = ok(&call(client, "ticket_logs", json!({ "id": id.to_string() }), None).await);
    let lines: Vec<&str> = logs["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert!(lines.contains(&"deployed api 1.4.2 to prod"), "{lines:?}");

    // The audit names the agent, its owner and its token.
    let records = served.kit.app.audit_records(0, 10_000).await.unwrap();
    let requested = records.iter().find(|r| r.entry.action == "ticket.requested").unwrap();
    assert_eq!(requested.entry.actor, "agent:deploy-bot for bob");
    assert_eq!(requested.entry.details["requester"], "bob");
    assert!(requested.entry.details["token"].as_str().unwrap().starts_with("tok_"), "{:?}", requested.entry);
    let refusals: Vec<_> = records.iter().filter(|r| r.entry.action == "ticket.refused").collect();
    assert!(
        refusals
            .iter()
            .any(|r| r.entry.actor == "agent:deploy-bot for bob" && r.entry.details["code"] == "agent_cannot_decide")
    );
    assert!(refusals.iter().any(|r| r.entry.actor == "bob" && r.entry.details["code"] == "own_ticket"));
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn the_journey_over_streamable_http() {
    let served = Served::without_engine().await;
    let bot = served.kit.agent_token("deploy-bot").await;
    let client = http_client(&served.url(), &bot, ProtocolVersion::V_2026_07_28).await;
    journey(&served, &client).await;
    client.cancel().await.unwrap();
    served.stop().await;
}

#[tokio::test]
async fn the_journey_over_stdio() {
    let served = Served::without_engine().await;
    let bot = served.kit.agent_token("deploy-bot").await;
    let client = stdio_client(&served.url(), &bot).await;
    journey(&served, &client).await;
    client.cancel().await.unwrap();
    served.stop().await;
}

/// Clients on the two earlier revisions still work (the `initialize` handshake, no
/// per-request metadata).
#[tokio::test]
async fn older_clients_are_served() {
    let served = Served::start().await;
    let bot = served.kit.agent_token("deploy-bot").await;
    for version in [ProtocolVersion::V_2025_06_18, ProtocolVersion::V_2025_11_25] {
        let client = http_client(&served.url(), &bot, version.clone()).await;
        let negotiated = client.peer_info().unwrap().protocol_version.clone();
        assert_eq!(negotiated, version);
        let ticket =
            ok(&call(&client, "request", json!({ "workflow": "deploy", "params": deploy("staging") }), None).await);
        let id = ticket["id"].as_str().unwrap();
        let waited = ok(&call(
            &client,
            "wait_for_ticket",
            json!({ "id": id, "until": "finished", "timeout_seconds": 60 }),
            None,
        )
        .await);
        assert_eq!(waited["ticket"]["state"], "succeeded", "{version}: {waited}");
        client.cancel().await.unwrap();
    }
    served.stop().await;
}

/// Words instead of a workflow and parameters, read by the chat matcher; and a cancel of the
/// agent's own request.
#[tokio::test]
async fn requests_in_words_and_cancelling_ones_own() {
    let served = Served::start().await;
    let bot = served.kit.agent_token("deploy-bot").await;
    let client = http_client(&served.url(), &bot, ProtocolVersion::V_2026_07_28).await;
    let ticket = ok(&call(&client, "request", json!({ "text": "deploy api 1.4.2 to prod" }), None).await);
    assert_eq!(ticket["params"], deploy("prod"));
    let unclear = call(&client, "request", json!({ "text": "make it faster" }), None).await;
    assert_eq!(unclear.is_error, Some(true));
    assert!(text(&unclear).contains("nothing was requested"), "{}", text(&unclear));
    let id = ticket["id"].as_str().unwrap();
    let commented = ok(&call(&client, "comment", json!({ "id": id, "text": "needed before 18:00" }), None).await);
    assert_eq!(commented["comments"][0]["author"], "deploy-bot (agent of Bob Ruiz)");
    let cancelled = ok(&call(&client, "cancel", json!({ "id": id, "reason": "not needed" }), None).await);
    assert_eq!(cancelled["state"], "cancelled");
    let again = call(&client, "cancel", json!({ "id": id }), None).await;
    assert_eq!(again.is_error, Some(true));
    // Someone else's ticket is not the agent's to cancel.
    let bobs = served
        .kit
        .app
        .request(
            &Actor::person("bob"),
            &"deploy".into(),
            docket_core::RawParams::from_iter(
                deploy("prod").as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())),
            ),
            Default::default(),
        )
        .await
        .unwrap();
    let refused = call(&client, "cancel", json!({ "id": bobs.id.to_string() }), None).await;
    assert!(text(&refused).contains("only cancel tickets it requested itself"), "{}", text(&refused));
    let missing = call(&client, "get_ticket", json!({ "id": "DKT-999" }), None).await;
    assert!(text(&missing).contains("not found"), "{}", text(&missing));
    let malformed = call(&client, "get_ticket", json!({ "id": "hello" }), None).await;
    assert!(text(&malformed).contains("not a ticket id"), "{}", text(&malformed));
    client.cancel().await.unwrap();
    served.stop().await;
}

/// A report's result comes back with the ticket: its columns and first rows, how many rows it
/// returned in all.
#[tokio::test]
async fn a_reports_result_comes_back_with_the_ticket() {
    let served = Served::with_report(docket_testkit::results::sales(120, 400)).await;
    let bot = served.kit.agent_token("deploy-bot").await;
    let client = http_client(&served.url(), &bot, ProtocolVersion::V_2026_07_28).await;
    let ticket = ok(&call(&client, "request", json!({ "workflow": "sales" }), None).await);
    let id = ticket["id"].as_str().unwrap();
    let waited =
        ok(&call(&client, "wait_for_ticket", json!({ "id": id, "until": "finished", "timeout_seconds": 60 }), None)
            .await);
    let result = &waited["ticket"]["results"][0];
    assert_eq!(result["step"], "query", "{waited}");
    assert_eq!(result["columns"], json!(["region", "total", "orders", "day", "note"]));
    assert_eq!(result["rows"].as_array().unwrap().len(), 50, "the first rows only");
    assert_eq!(result["rows"][0], json!(["region-000", "1000.50", 0, "2026-11-24", "ok 0"]));
    assert_eq!((result["row_count"].as_u64(), result["truncated"].as_bool()), (Some(400), Some(true)));
    let again = ok(&call(&client, "get_ticket", json!({ "id": id }), None).await);
    assert_eq!(again["results"], waited["ticket"]["results"]);
    client.cancel().await.unwrap();
    served.stop().await;
}

/// A wait in progress when the server begins to stop answers at once, as if its timeout had
/// come, so it does not hold the stop; the agent asks again.
#[tokio::test]
async fn a_wait_ends_when_the_server_begins_to_stop() {
    let served = Served::start().await;
    let bot = served.kit.agent_token("deploy-bot").await;
    let client = http_client(&served.url(), &bot, ProtocolVersion::V_2026_07_28).await;
    let ticket = ok(&call(&client, "request", json!({ "workflow": "deploy", "params": deploy("prod") }), None).await);
    assert_eq!(ticket["state"], "awaiting_approval");
    let id = ticket["id"].as_str().unwrap().to_owned();
    let stopping = served.stopping.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        stopping.cancel();
    });
    let started = std::time::Instant::now();
    let arguments = json!({ "id": id, "until": "finished", "timeout_seconds": 60 });
    let waited = ok(&call(&client, "wait_for_ticket", arguments, None).await);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "answered at the stop: {:?}", started.elapsed());
    assert_eq!(waited["timed_out"], true, "{waited}");
    assert_eq!(waited["ticket"]["state"], "awaiting_approval");
    client.cancel().await.unwrap();
    served.stop().await;
}
