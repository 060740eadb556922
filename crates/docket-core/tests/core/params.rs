//! Parameter validation: types, constraints, defaults, every error at once.

use docket_core::catalog::param::{Choice, Pattern, check_value};
use docket_core::*;
use serde_json::json;

fn spec(name: &str, kind: ParamKind) -> ParamSpec {
    ParamSpec { name: name.into(), label: name.into(), help: None, required: true, default: None, kind }
}

fn specs() -> Vec<ParamSpec> {
    vec![
        spec(
            "version",
            ParamKind::String {
                pattern: Some(Pattern::new(r"^\d+\.\d+\.\d+$").unwrap()),
                min_length: None,
                max_length: Some(20),
            },
        ),
        spec("notes", ParamKind::Text { min_length: Some(3), max_length: Some(10) }),
        spec("replicas", ParamKind::Integer { min: Some(1), max: Some(10) }),
        spec("dry_run", ParamKind::Boolean),
        spec("env", ParamKind::Choice { choices: vec![Choice::new("dev", "Dev"), Choice::new("prod", "Prod")] }),
        ParamSpec {
            required: false,
            default: Some(ParamValue::Int(3)),
            ..spec("retries", ParamKind::Integer { min: None, max: None })
        },
        ParamSpec {
            required: false,
            ..spec("ticket", ParamKind::String { pattern: None, min_length: None, max_length: None })
        },
    ]
}

fn raw(value: serde_json::Value) -> RawParams {
    serde_json::from_value(value).unwrap()
}

#[test]
fn text_from_chat_and_json_from_the_api_both_validate() {
    let from_chat =
        raw(json!({"version": "1.4.2", "notes": "a\nb c", "replicas": "3", "dry_run": "yes", "env": "prod"}));
    let from_api = raw(json!({"version": "1.4.2", "notes": "a\nb c", "replicas": 3, "dry_run": true, "env": "prod"}));
    let a = validate_params(&specs(), &from_chat).unwrap();
    let b = validate_params(&specs(), &from_api).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.get("retries"), Some(&ParamValue::Int(3)), "default applied");
    assert_eq!(a.get("ticket"), None, "optional without default stays absent");
    assert_eq!(a.get("dry_run"), Some(&ParamValue::Bool(true)));
}

#[test]
fn every_error_at_once_with_a_reason_per_field() {
    let bad = raw(json!({
        "version": "1.4",
        "notes": "x",
        "replicas": 11,
        "dry_run": "maybe",
        "env": "staging",
        "retries": "many",
        "verison": "1.0.0",
    }));
    let errors = validate_params(&specs(), &bad).unwrap_err().0;
    let got: Vec<(String, String)> = errors.into_iter().map(|e| (e.param, e.message)).collect();
    let expected = [
        ("verison", "unknown parameter (did you mean `version`?)"),
        ("version", r"`1.4` does not match the pattern ^\d+\.\d+\.\d+$"),
        ("notes", "must be at least 3 characters"),
        ("replicas", "must be between 1 and 10"),
        ("dry_run", "`maybe` is not yes or no"),
        ("env", "`staging` is not one of dev, prod"),
        ("retries", "`many` is not a whole number"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect();
    assert_eq!(got, expected);
}

#[test]
fn missing_blank_and_wrongly_typed_values() {
    let errors =
        validate_params(&specs(), &raw(json!({"version": "  ", "notes": null, "replicas": [1], "dry_run": 1})))
            .unwrap_err()
            .0;
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "version: is required",
            "notes: is required",
            "replicas: must be an integer",
            "dry_run: must be yes or no",
            "env: is required"
        ]
    );
}

#[test]
fn one_line_strings_refuse_control_characters_and_huge_values() {
    let s = &specs()[6];
    for bad in ["a\nb", "a\u{0}b", "tab\there"] {
        assert!(check_value(s, &ParamValue::Str(bad.into())).is_err(), "{bad:?}");
    }
    assert!(check_value(s, &ParamValue::Str("x".repeat(70_000))).is_err());
    let text = spec("t", ParamKind::Text { min_length: None, max_length: None });
    assert!(check_value(&text, &ParamValue::Str("line one\r\n\tline two".into())).is_ok());
    assert!(check_value(&text, &ParamValue::Str("bell\u{7}".into())).is_err());
}

#[test]
fn shell_metacharacters_are_just_characters() {
    let free = spec("q", ParamKind::String { pattern: None, min_length: None, max_length: None });
    let value = "x; rm -rf / $(id) `id` && echo 'q' \"q\" | tee > /tmp/p";
    let params = validate_params(std::slice::from_ref(&free), &raw(json!({ "q": value }))).unwrap();
    let t = docket_core::catalog::template::Template::parse("--query={{q}}").unwrap();
    assert_eq!(t.render(&params), format!("--query={value}"));
}

/// Regression: `1.0` is a whole number to JSON Schema (the API document says `integer`), so the
/// API must take it; `1.5` stays refused.
#[test]
fn a_whole_number_written_with_a_fraction_is_a_whole_number() {
    let base = json!({ "version": "1.4.2", "notes": "fine", "dry_run": true, "env": "dev" });
    let mut ok = base.clone();
    ok["replicas"] = json!(3.0);
    let valid = validate_params(&specs(), &raw(ok)).unwrap();
    assert_eq!(valid.get("replicas").map(ToString::to_string).as_deref(), Some("3"));
    let mut bad = base;
    bad["replicas"] = json!(3.5);
    let errors = validate_params(&specs(), &raw(bad)).unwrap_err().0;
    assert_eq!(errors[0].message, "must be a whole number");
}

/// Regression: a JSON number for a free-text string parameter (`"ticket": 0`) was taken as the
/// text "0", though the API's document says such a parameter is a string; every text-like
/// parameter now refuses a number as JSON refuses it, while chat still types it as text.
#[test]
fn a_json_number_is_not_a_string() {
    let bad = raw(json!({"version": "1.4.2", "notes": "abc", "replicas": 3, "dry_run": true, "env": 1, "ticket": 0}));
    let errors = validate_params(&specs(), &bad).unwrap_err().0;
    let got: Vec<(String, String)> = errors.into_iter().map(|e| (e.param, e.message)).collect();
    assert_eq!(
        got,
        [
            ("env".to_owned(), "must be one of the choices".to_owned()),
            ("ticket".to_owned(), "must be a string".to_owned())
        ]
    );
}
