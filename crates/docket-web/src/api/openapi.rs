//! `/openapi.json`: the API described for client generators and people. The document is
//! generated from the API's own types — the handlers' `#[utoipa::path]` attributes, the request
//! bodies, query and path types the extractors read, and the view types replies are built from
//! — then finished with two rules the views keep: they send every field (null when empty) and
//! no other. Tests check that it names exactly the routes the router serves, and validate real
//! replies against it.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::audit::{AuditRecordView, BrokenView, Verification};
use super::error::ErrorBody;
use super::events::{EndEvent, TicketEvent};
use super::schema::{
    BadRequest, Conflict, ErrorCode, Forbidden, MethodNotAllowed, NotFound, ParamValueSchema, ParamValues,
    PayloadTooLarge, RequestTimeout, StateName, Unauthenticated, Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::Web;

/// The OpenAPI 3.1 document, generated once.
pub(crate) static DOCUMENT: LazyLock<String> = LazyLock::new(|| finish(ApiDoc::openapi()).to_string());

/// Every route, every schema the routes do not reach on their own, every error response.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Docket API",
        version = "1",
        description = "Docket's REST API. Every route under /api/v1 except this document needs \
                       `Authorization: Bearer <token>`. Every error is `{\"error\": {\"code\", \"message\", \
                       \"details\"}}`; refusals carry the same words as in Slack and Teams."
    ),
    servers((url = "/")),
    paths(
        document,
        super::me::me,
        super::me::waiting,
        super::workflows::list,
        super::matching::words,
        super::workflows::get,
        super::tickets::create,
        super::tickets::list,
        super::tickets::get,
        super::tickets::approve,
        super::tickets::reject,
        super::tickets::request_changes,
        super::tickets::amend,
        super::tickets::comment,
        super::tickets::cancel,
        super::tickets::retry,
        super::logs::list,
        super::results::list,
        super::results::csv,
        super::events::stream,
        super::tokens::create,
        super::tokens::list,
        super::tokens::revoke,
        super::audit::records,
        super::audit::verify,
        super::config::reload,
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
    ),
    components(
        schemas(
            ErrorBody,
            ErrorCode,
            StateName,
            ParamValues,
            ParamValueSchema,
            TicketEvent,
            EndEvent,
            AuditRecordView,
            Verification,
            BrokenView
        ),
        responses(
            BadRequest,
            Unauthenticated,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            RequestTimeout,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            Unavailable
        )
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "tickets", description = "Open tickets, decide on them, follow them."),
        (name = "workflows", description = "The catalog, for building request forms."),
        (name = "tokens", description = "API tokens: your own and your agents'; everyone's for admins."),
        (name = "audit", description = "The hash-chained audit log (admins)."),
        (name = "config", description = "Reloading the configuration while the server runs (admins)."),
        (name = "meta", description = "This document and the caller."),
        (name = "operations", description = "Health, readiness and metrics; no token needed."),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme: a Docket API token.
#[derive(Debug)]
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme =
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("A Docket API token (`dkt_…`)."));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme.build()));
    }
}

/// This document (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi",
    security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document.", body = Object))
)]
pub(crate) async fn document(State(web): State<Web>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], served(&web.app.workflows()).to_string())
}

/// The document as this server serves it: `NewTicket` lists its catalog's workflows, each with
/// its parameters.
pub(crate) fn served(workflows: &[std::sync::Arc<docket_core::Workflow>]) -> Value {
    static GENERIC: LazyLock<Value> = LazyLock::new(|| serde_json::from_str(&DOCUMENT).unwrap_or_default());
    let mut doc = GENERIC.clone();
    if let Some(schema) = doc.pointer_mut("/components/schemas/NewTicket") {
        *schema = super::catalog::new_ticket(workflows, schema);
    }
    doc
}

/// The generated document as JSON, with the rules every view keeps written into its schemas:
/// an object has exactly its properties, and the objects of JSON replies send all of them
/// (null when empty).
fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    let replies = reply_schemas(&doc);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            close_objects(schema, replies.contains(name));
        }
    }
    if let Some(paths) = doc.get_mut("paths") {
        close_objects(paths, false);
    }
    doc
}

/// The component schemas JSON replies use, directly or through others. (Event streams are left
/// out: an event's `id` is there only after a log line.)
fn reply_schemas(doc: &Value) -> BTreeSet<String> {
    let mut todo: Vec<&Value> = Vec::new();
    if let Some(responses) = doc.pointer("/components/responses").and_then(Value::as_object) {
        todo.extend(responses.values());
    }
    for item in doc.get("paths").and_then(Value::as_object).into_iter().flat_map(|paths| paths.values()) {
        for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
            for response in operation.get("responses").and_then(Value::as_object).into_iter().flat_map(|r| r.values()) {
                for (media, content) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
                    if media.contains("json") {
                        todo.push(content);
                    }
                }
            }
        }
    }
    reachable(doc, todo)
}

/// The component schemas `roots` reference, directly or through others.
fn reachable<'a>(doc: &'a Value, mut todo: Vec<&'a Value>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    while let Some(value) = todo.pop() {
        let mut refs = Vec::new();
        collect_refs(value, &mut refs);
        for name in refs.iter().filter_map(|r| r.strip_prefix("#/components/schemas/")) {
            if found.insert(name.to_owned())
                && let Some(schema) = doc.pointer(&format!("/components/schemas/{name}"))
            {
                todo.push(schema);
            }
        }
    }
    found
}

/// Every `$ref` under `value`.
pub(crate) fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => collect_refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|inner| collect_refs(inner, out)),
        _ => {}
    }
}

/// Gives every object schema under `value` with `properties` `additionalProperties: false`, and,
/// if `reply`, makes all its properties required. Examples are left alone.
fn close_objects(value: &mut Value, reply: bool) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                let names: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
                map.entry("additionalProperties").or_insert(Value::Bool(false));
                if reply {
                    map.insert("required".to_owned(), Value::Array(names));
                }
            }
            for (key, inner) in map.iter_mut() {
                if !matches!(key.as_str(), "example" | "examples" | "default" | "enum") {
                    close_objects(inner, reply);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|inner| close_objects(inner, reply)),
        _ => {}
    }
}

/// The parsed document, for tests.
#[cfg(test)]
pub(crate) fn parsed() -> Value {
    serde_json::from_str(&DOCUMENT).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::{collect_refs, parsed};
    use crate::api::schema::{DIGEST_PATTERN, ERROR_STATUSES, NOT_BLANK_PATTERN, TICKET_ID_PATTERN};

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    fn documented() -> BTreeSet<(String, String)> {
        let doc = parsed();
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if METHODS.contains(&method.as_str()) {
                    out.insert((method.clone(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_names_exactly_the_routes_served() {
        let served: BTreeSet<(String, String)> =
            crate::route_table().into_iter().map(|(method, path)| (method.to_ascii_lowercase(), path)).collect();
        let documented = documented();
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(missing.is_empty() && extra.is_empty(), "undocumented: {missing:?}\nnot served: {extra:?}");
    }

    #[test]
    fn every_reference_resolves() {
        let doc = parsed();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 50, "{refs:?}");
        for r in refs {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }

    /// Each operation has an id, a success response, and its error responses by reference.
    #[test]
    fn every_operation_has_an_id_and_its_responses() {
        let doc = parsed();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no id"));
                assert!(ids.insert(id.to_owned()), "{id} twice");
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success");
                for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
                    let target = response["$ref"].as_str().unwrap_or_else(|| panic!("{method} {path} {status}"));
                    assert!(doc.pointer(&target[1..]).is_some(), "{target}");
                }
                let secured = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
                if secured {
                    assert!(responses.contains_key("401"), "{method} {path}: no 401");
                    assert!(operation.get("security").is_none(), "{method} {path}: own security");
                } else {
                    assert_eq!(operation["security"], serde_json::json!([{}]), "{method} {path}");
                }
            }
        }
        assert_eq!(doc["security"], serde_json::json!([{ "bearer": [] }]));
    }

    /// The patterns written into attributes are the ones the extractors enforce.
    #[test]
    fn patterns_in_the_document_are_the_enforced_ones() {
        let doc = parsed();
        let id = &doc["paths"]["/api/v1/tickets/{id}"]["get"]["parameters"][0];
        assert_eq!((id["name"].as_str(), id["in"].as_str()), (Some("id"), Some("path")));
        assert_eq!(id["schema"]["pattern"], TICKET_ID_PATTERN);
        assert_eq!(id["required"], true);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Approval"]["properties"]["digest"]["pattern"], DIGEST_PATTERN);
        for (schema, field) in [("Reason", "reason"), ("NewComment", "text"), ("Cancellation", "reason")] {
            assert_eq!(schemas[schema]["properties"][field]["pattern"], NOT_BLANK_PATTERN, "{schema}");
        }
    }

    #[test]
    fn enums_are_listed_but_step_kinds_are_any_name() {
        let doc = parsed();
        let schemas = &doc["components"]["schemas"];
        let states: Vec<&str> = docket_core::TicketState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(schemas["TicketState"]["enum"], serde_json::json!(states));
        assert_eq!(schemas["Ticket"]["properties"]["state"]["$ref"], "#/components/schemas/TicketState");
        assert_eq!(schemas["Verdict"]["enum"], serde_json::json!(["approve", "reject", "request_changes"]));
        assert_eq!(schemas["ParamKind"]["enum"], serde_json::json!(["string", "text", "integer", "boolean", "choice"]));
        for (schema, field) in [("StepPlan", "kind"), ("Step", "kind")] {
            let kind = &schemas[schema]["properties"][field];
            assert_eq!(kind["type"], "string", "{schema}.{field}: {kind}");
            assert!(kind.get("enum").is_none() && kind.get("$ref").is_none(), "{schema}.{field}: {kind}");
        }
    }

    /// Request bodies keep their optional fields optional; replies promise every field.
    #[test]
    fn replies_require_every_field_and_requests_only_theirs() {
        let doc = parsed();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["NewTicket"]["required"], serde_json::json!(["workflow"]));
        assert_eq!(schemas["Approval"]["required"], serde_json::json!(["digest"]));
        assert!(schemas["Cancellation"]["required"].as_array().is_none_or(Vec::is_empty));
        assert_eq!(schemas["NewTicket"]["additionalProperties"], false);
        let ticket = &schemas["Ticket"];
        let properties: Vec<&String> = ticket["properties"].as_object().unwrap().keys().collect();
        let required: Vec<&str> = ticket["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(properties, required);
        assert_eq!(ticket["additionalProperties"], false);
        assert!(ticket["properties"]["plan"].to_string().contains("null"), "{}", ticket["properties"]["plan"]);
    }

    #[test]
    fn every_error_status_has_a_response_listing_its_codes() {
        let doc = parsed();
        let responses = doc["components"]["responses"].as_object().unwrap();
        assert_eq!(responses.len(), ERROR_STATUSES.len());
        let all: String = responses.values().map(|r| r["description"].as_str().unwrap_or_default()).collect();
        for row in crate::api::error::CODES {
            assert!(all.contains(&format!("`{}`", row.code)), "{} is not described", row.code);
        }
        let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
        assert_eq!(codes.as_array().map(Vec::len), Some(crate::api::error::CODES.len()));
    }

    #[test]
    fn the_event_stream_names_each_event_and_its_data() {
        let doc = parsed();
        let ok = &doc["paths"]["/api/v1/tickets/{id}/events"]["get"]["responses"]["200"];
        let schema = &ok["content"]["text/event-stream"]["schema"];
        assert_eq!(schema["$ref"], "#/components/schemas/TicketEvent", "{ok}");
        let events = doc["components"]["schemas"]["TicketEvent"]["oneOf"].as_array().unwrap();
        let named: Vec<(&str, &str)> = events
            .iter()
            .map(|e| {
                let name = e["properties"]["event"]["enum"][0].as_str().unwrap();
                (name, e["properties"]["data"]["contentSchema"]["$ref"].as_str().unwrap())
            })
            .collect();
        assert_eq!(
            named,
            [
                ("ticket", "#/components/schemas/Ticket"),
                ("log", "#/components/schemas/LogLine"),
                ("result", "#/components/schemas/ResultEvent"),
                ("end", "#/components/schemas/EndEvent"),
                ("error", "#/components/schemas/Error"),
            ]
        );
        let result = &doc["components"]["schemas"]["ResultEvent"];
        assert_eq!(result["required"], serde_json::json!(["run", "step"]), "{result}");
    }
}
