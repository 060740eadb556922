//! Authentic but strange activities — random types, texts, values, card data — never break the
//! endpoint: each gets 200, 400 or 501, an invoke always a JSON answer, and nothing panics.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        Just(json!("DKT-1")),
        Just(json!("param.version")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z.]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn verb() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("submit_request".to_owned()),
        Just("approve".to_owned()),
        Just("reject".to_owned()),
        Just("request_changes".to_owned()),
        Just("refresh".to_owned()),
        "[a-z_]{0,12}",
    ]
}

#[test]
fn strange_activities_never_break_the_endpoint() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(async {
        let h = Harness::start().await;
        h.install(&["alice", "bob", "carol"]).await;
        h
    });
    let config = ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(kind in prop_oneof![Just("message"), Just("invoke"), Just("conversationUpdate"), Just("installationUpdate"), Just("event")],
                        text in ".{0,200}",
                        verb in verb(),
                        data in value(),
                        noise in value(),
                        user in prop_oneof![Just("alice"), Just("bob"), Just("nobody")])| {
        let mut activity = invoke(&h.fake, user, &chat(user), "x", &verb, data);
        activity["type"] = json!(kind);
        activity["text"] = json!(text);
        activity["extra"] = noise.clone();
        if kind == "installationUpdate" {
            activity["action"] = noise;
        }
        let (status, answer) = rt.block_on(h.post(&activity));
        prop_assert!(matches!(status, 200 | 400 | 501), "{status}");
        if kind == "invoke" {
            prop_assert!(answer.get("statusCode").is_some(), "{answer}");
        }
    });
    rt.block_on(h.t.stop());
}
