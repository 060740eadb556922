//! `/workflows`: the catalog as clients see it.

use axum::http::StatusCode;

use crate::support::Api;

#[tokio::test]
async fn the_list_summarises_each_workflow() {
    let api = Api::start().await;
    let reply = api.get("erin", "/api/v1/workflows").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    let list = body["workflows"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let deploy = &list[0];
    assert_eq!(deploy["id"], "deploy");
    assert_eq!(deploy["title"], "Deploy a service");
    assert_eq!(deploy["category"], "Deployments");
    assert_eq!(deploy["risk"], "medium");
    let params: Vec<(&str, &str, bool)> = deploy["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["kind"].as_str().unwrap(), p["required"].as_bool().unwrap()))
        .collect();
    assert_eq!(params, [("service", "choice", true), ("version", "string", true), ("env", "choice", true)]);
    api.kit.stop().await;
}

#[tokio::test]
async fn one_workflow_comes_with_its_params_steps_and_examples() {
    let api = Api::start().await;
    let reply = api.get("alice", "/api/v1/workflows/deploy").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let w = reply.json();
    assert_eq!(w["id"], "deploy");
    assert!(w["version"].as_str().is_some_and(|v| !v.is_empty()));
    let service = &w["params"][0];
    assert_eq!(service["kind"], "choice");
    assert_eq!(service["label"], "service");
    let choices: Vec<&str> =
        service["choices"].as_array().unwrap().iter().map(|c| c["value"].as_str().unwrap()).collect();
    assert_eq!(choices, ["api", "web"]);
    let version = &w["params"][1];
    assert_eq!(version["kind"], "string");
    assert_eq!(version["pattern"], r"^\d+\.\d+\.\d+$");
    assert_eq!(version["choices"], serde_json::Value::Null);
    assert_eq!(version["default"], serde_json::Value::Null);
    assert_eq!(w["steps"], serde_json::json!([{ "name": "rollout", "kind": "exec", "has_plan": false }]));
    assert!(w["examples"].is_array());
    api.kit.stop().await;
}

#[tokio::test]
async fn an_unknown_workflow_is_404() {
    let api = Api::start().await;
    let reply = api.get("alice", "/api/v1/workflows/nope").await;
    reply.assert_error(StatusCode::NOT_FOUND, "unknown_workflow");
    assert!(reply.message().contains("nope"));
    api.kit.stop().await;
}
