//! The HTTP endpoint's checks, with a plain HTTP client: `Host` and `Origin` before anything
//! else, then the token — missing, unknown, revoked or expired all get 401 with
//! `WWW-Authenticate`, and the failed use is audited with the reason.

use docket_app::TokenAuthority;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn initialize() -> serde_json::Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "curl", "version": "0" } }
    })
}

async fn post(served: &Served, token: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(served.url())
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn tokens_hosts_and_origins_are_checked_before_anything_is_read() {
    let served = Served::start().await;
    let bot = served.kit.agent_token("deploy-bot").await;

    let ok = post(&served, Some(&bot), &[]).await;
    assert_eq!(ok.status(), StatusCode::OK);

    for token in [None, Some("dkt_0000"), Some("not-a-docket-token")] {
        let refused = post(&served, token, &[]).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(
            challenge.starts_with("Bearer ")
                && challenge
                    .contains(r#"resource_metadata="https://docket.example.com/.well-known/oauth-protected-resource""#),
            "{challenge}"
        );
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }

    // A page on another site, or a name that is not this server's (DNS rebinding): 403.
    let other_site = post(&served, Some(&bot), &[("Origin", "https://evil.example.net")]).await;
    assert_eq!(other_site.status(), StatusCode::FORBIDDEN);
    let own_site = post(&served, Some(&bot), &[("Origin", "https://docket.example.com")]).await;
    assert_eq!(own_site.status(), StatusCode::OK);
    let rebound = post(&served, Some(&bot), &[("Host", "attacker.example.net")]).await;
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let public_name = post(&served, Some(&bot), &[("Host", "docket.example.com")]).await;
    assert_eq!(public_name.status(), StatusCode::OK);

    // The metadata the challenge points to.
    let metadata: serde_json::Value = reqwest::get(format!("{}/.well-known/oauth-protected-resource", served.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], "https://docket.example.com/mcp");
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    served.stop().await;
}

#[tokio::test]
async fn a_revoked_token_stops_at_once_even_on_an_open_connection() {
    let served = Served::start().await;
    let bot = served.kit.agent_token("deploy-bot").await;
    let client = http_client(&served.url(), &bot, rmcp::model::ProtocolVersion::V_2026_07_28).await;
    ok(&call(&client, "list_workflows", json!({}), None).await);
    let by = TokenAuthority::Operator("operator:test".into());
    let tokens = served.kit.app.tokens(&by, None).await.unwrap();
    let id = tokens.iter().find(|t| t.agent.as_deref() == Some("deploy-bot")).unwrap().id.clone();
    served.kit.app.revoke_token(&by, &id).await.unwrap();
    let mut params = rmcp::model::CallToolRequestParams::new("list_workflows");
    params.arguments = json!({}).as_object().cloned();
    assert!(client.call_tool(params).await.is_err(), "the next call is refused");
    let refused = post(&served, Some(&bot), &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("was revoked"), "{body}");
    served.kit.app.flush_rejections().await;
    let records = served.kit.app.audit_records(0, 10_000).await.unwrap();
    let failed = records.iter().find(|r| r.entry.action == "mcp.authentication_failed").unwrap();
    let detail = failed.entry.details["detail"].as_str().unwrap();
    assert!(detail.contains(&id) && detail.contains("revoked"), "{detail}");
    served.stop().await;
}
