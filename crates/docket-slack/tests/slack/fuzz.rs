//! Property tests of the payload parsers and the dispatcher: random bytes and random JSON never
//! panic, and a malformed payload is an error, never a change.

use docket_slack::{CommandForm, Inbound};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use serde_json::{Value, json};

use crate::support::Harness;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z_.:0-9<>@-]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "block_actions",
            "view_submission",
            "shortcut",
            "message_action",
            "event_callback",
            "url_verification",
            "app_mention",
            "docket.approve",
            "docket.request",
            "docket.pick",
            "docket.reason",
            "docket.amend",
            "U0ALICE",
            "DKT-1"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "type",
                    "user",
                    "id",
                    "view",
                    "state",
                    "values",
                    "actions",
                    "action_id",
                    "value",
                    "callback_id",
                    "private_metadata",
                    "event",
                    "event_id",
                    "trigger_id",
                    "channel",
                    "text",
                    "challenge"
                ])
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_form_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = CommandForm::from_form(&bytes);
        let _ = Inbound::interaction_from_form(&bytes);
        let _ = Inbound::event_from_json(&bytes);
    }

    #[test]
    fn forms_with_a_payload_never_panic(payload in json_value()) {
        let body = crate::support::form(&[("payload", &payload.to_string())]);
        if let Ok(Inbound::Interaction(v)) = Inbound::interaction_from_form(body.as_bytes()) {
            prop_assert_eq!(v, payload);
        }
    }
}

#[test]
fn dispatching_random_payloads_never_panics_nor_creates_tickets() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let h = Harness::start().await;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(200));
        let strategy = json_value();
        for _ in 0..200 {
            let mut value = strategy.new_tree(&mut runner).unwrap().current();
            if let Value::Object(map) = &mut value {
                map.entry("user").or_insert(json!({ "id": "U0ALICE" }));
            }
            let _ = h.slack.dispatch(Inbound::Interaction(value.clone())).await;
            let _ = h.slack.dispatch(Inbound::Event(value)).await;
        }
        assert!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.is_empty());
        h.t.stop().await;
    });
}
