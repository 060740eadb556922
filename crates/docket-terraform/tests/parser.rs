//! Property tests of the JSON plan reader on generated plans: it never panics, whatever the
//! input; every resource change becomes exactly one change, so the counts add up; actions it
//! does not know are shown with their own words, never dropped; sensitive values never show.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use docket_core::plan::{ChangeAction, ChangeCounts};
use docket_terraform::plan_json::{SENSITIVE, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-do-not-show";

fn actions() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec!["create".to_owned()]),
        Just(vec!["update".to_owned()]),
        Just(vec!["delete".to_owned()]),
        Just(vec!["read".to_owned()]),
        Just(vec!["no-op".to_owned()]),
        Just(vec!["delete".to_owned(), "create".to_owned()]),
        Just(vec!["create".to_owned(), "delete".to_owned()]),
        Just(vec!["forget".to_owned()]),
        Just(vec!["create".to_owned(), "forget".to_owned()]),
        prop::collection::vec("[a-z-]{1,8}", 0..3),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z ]{0,12}".prop_map(Value::from)
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A resource change with a secret attribute marked sensitive in both values.
fn resource_change() -> impl Strategy<Value = (Value, Vec<String>)> {
    ("[a-z_]{1,10}\\.[a-z_]{1,10}", actions(), value(), value()).prop_map(
        |(address, actions, extra_before, extra_after)| {
            let change = json!({
                "address": address,
                "mode": "managed",
                "change": {
                    "actions": actions,
                    "before": {"password": SECRET, "extra": extra_before},
                    "after": {"password": SECRET, "extra": extra_after},
                    "before_sensitive": {"password": true},
                    "after_sensitive": {"password": true},
                    "after_unknown": {"id": true},
                }
            });
            (change, actions)
        },
    )
}

fn expected(actions: &[String]) -> ChangeAction {
    let words: Vec<&str> = actions.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["create"] => ChangeAction::Create,
        ["update"] => ChangeAction::Update,
        ["delete"] => ChangeAction::Delete,
        ["read"] => ChangeAction::Read,
        ["no-op"] => ChangeAction::NoOp,
        ["delete", "create"] | ["create", "delete"] => ChangeAction::Replace,
        [] => ChangeAction::Other("(no action given)".to_owned()),
        other => ChangeAction::Other(other.join(", ")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_plans_read_back_counted_and_masked(
        minor in 0u8..5,
        items in prop::collection::vec(resource_change(), 0..40),
    ) {
        let doc = json!({
            "format_version": format!("1.{minor}"),
            "terraform_version": "1.9.0",
            "some_future_field": {"ignored": true},
            "resource_changes": items.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        });
        let changes = parse(doc.to_string().as_bytes()).unwrap();
        prop_assert_eq!(changes.len(), items.len());
        let counts = ChangeCounts::of(&changes);
        prop_assert_eq!(counts.total(), items.len() as u64);
        for (change, (_, actions)) in changes.iter().zip(&items) {
            let want = expected(actions);
            prop_assert_eq!(&change.action, &want);
            if let ChangeAction::Other(words) = &change.action {
                prop_assert!(!words.is_empty(), "an unknown action is shown in words");
            }
            let text = serde_json::to_string(change).unwrap();
            prop_assert!(!text.contains(SECRET), "a sensitive value shows: {}", text);
            prop_assert_eq!(&change.after["password"], &json!(SENSITIVE));
        }
        let others = changes.iter().filter(|c| matches!(c.action, ChangeAction::Other(_))).count() as u64;
        prop_assert_eq!(counts.others, others);
    }

    #[test]
    fn any_json_never_panics(doc in value(), version in prop_oneof![Just(json!("1.2")), Just(json!("0.1")), Just(json!("2.0")), leaf()]) {
        let mut wrapped = json!({"format_version": version, "resource_changes": [doc.clone(), {"change": doc.clone()}]});
        let _ = parse(wrapped.to_string().as_bytes());
        wrapped["resource_changes"] = doc;
        let _ = parse(wrapped.to_string().as_bytes());
    }

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn mismatched_sensitive_masks_never_show_the_value(value in value(), mask in value()) {
        let doc = json!({"format_version": "1.2", "resource_changes": [
            {"address": "a.b", "change": {"actions": ["update"], "before": {"secret": SECRET, "v": value.clone()},
             "before_sensitive": {"secret": true, "v": mask.clone()}, "after": value, "after_unknown": mask}}
        ]});
        let changes = parse(doc.to_string().as_bytes()).unwrap();
        prop_assert!(!serde_json::to_string(&changes).unwrap().contains(SECRET));
    }
}

#[test]
fn deeply_nested_input_is_refused_not_overflowed() {
    let deep = format!(
        "{{\"format_version\": \"1.2\", \"resource_changes\": [{}{}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(parse(deep.as_bytes()).is_err());
}
