//! Socket Mode frames: what Slack sends over the WebSocket (`hello`, `disconnect`, envelopes),
//! parsed without trusting it, and the acknowledgement Docket sends back.

use serde_json::{Map, Value};

/// A frame Slack sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// The connection is ready.
    Hello,
    /// Slack will close this connection; open another.
    Disconnect(DisconnectReason),
    /// Something to handle and acknowledge.
    Envelope(Envelope),
}

/// Why Slack is closing a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The connection will be closed in about ten seconds.
    Warning,
    /// Slack refreshes connections every few hours.
    RefreshRequested,
    /// The app has more connections open than Slack allows.
    TooManyWebsockets,
    /// A reason this code does not know (treated like a refresh that needs a pause).
    Other(String),
}

impl DisconnectReason {
    fn parse(reason: &str) -> Self {
        match reason {
            "warning" => Self::Warning,
            "refresh_requested" => Self::RefreshRequested,
            "too_many_websockets" => Self::TooManyWebsockets,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The reason as Slack spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Warning => "warning",
            Self::RefreshRequested => "refresh_requested",
            Self::TooManyWebsockets => "too_many_websockets",
            Self::Other(other) => other,
        }
    }

    /// Whether a replacement may be opened at once, before this connection closes
    /// (make-before-break). Too many connections, or a reason not understood, calls for a pause.
    pub fn replace_at_once(&self) -> bool {
        matches!(self, Self::Warning | Self::RefreshRequested)
    }
}

/// What an envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// An Events API body (`event_callback`, …).
    EventsApi,
    /// A slash command: the fields of the HTTP form, as a JSON object.
    SlashCommands,
    /// An interactivity payload (`block_actions`, `view_submission`, shortcuts): the JSON that
    /// HTTP mode receives in the form's `payload` field.
    Interactive,
}

/// One envelope, to be acknowledged by its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Unique per envelope; a repeat carries the same id.
    pub id: String,
    /// What the payload is.
    pub kind: EnvelopeKind,
    /// The payload (always a JSON object).
    pub payload: Map<String, Value>,
    /// Whether the acknowledgement may carry a response payload.
    pub accepts_response_payload: bool,
    /// 0 the first time, then the retry number.
    pub retry_attempt: u64,
    /// Why Slack retried (empty the first time).
    pub retry_reason: String,
}

/// Why a frame was not understood. Such frames are logged and ignored (an envelope with a
/// readable id is still acknowledged, so Slack does not send it again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct Malformed {
    /// The envelope's id, when the frame had a readable one.
    pub envelope_id: Option<String>,
    /// What is wrong, in words (never the frame's content, which may hold user text).
    pub problem: String,
}

impl Malformed {
    fn new(envelope_id: Option<&str>, problem: impl Into<String>) -> Self {
        Self { envelope_id: envelope_id.map(str::to_owned), problem: problem.into() }
    }
}

/// The longest envelope id accepted (Slack's are UUIDs).
const MAX_ID_LEN: usize = 128;

/// Parses one text frame.
pub fn parse(text: &str) -> Result<Frame, Malformed> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| Malformed::new(None, format!("not JSON (column {})", e.column())))?;
    let Value::Object(mut frame) = value else {
        return Err(Malformed::new(None, "not a JSON object"));
    };
    let envelope_id = match frame.get("envelope_id") {
        None => None,
        Some(Value::String(id)) if valid_id(id) => Some(id.clone()),
        Some(_) => return Err(Malformed::new(None, "envelope_id is not a short printable string")),
    };
    let id = envelope_id.as_deref();
    let Some(Value::String(kind)) = frame.get("type") else {
        return Err(Malformed::new(id, "no type"));
    };
    let kind = match kind.as_str() {
        "hello" => return Ok(Frame::Hello),
        "disconnect" => {
            let reason = frame.get("reason").and_then(Value::as_str).unwrap_or_default();
            return Ok(Frame::Disconnect(DisconnectReason::parse(reason)));
        }
        "events_api" => EnvelopeKind::EventsApi,
        "slash_commands" => EnvelopeKind::SlashCommands,
        "interactive" => EnvelopeKind::Interactive,
        _ => return Err(Malformed::new(id, "unknown frame type")),
    };
    let Some(envelope_id) = envelope_id else {
        return Err(Malformed::new(None, "an envelope without envelope_id"));
    };
    let payload = match frame.remove("payload") {
        Some(Value::Object(payload)) => payload,
        _ => return Err(Malformed::new(Some(&envelope_id), "the payload is not a JSON object")),
    };
    let accepts_response_payload = match frame.get("accepts_response_payload") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Malformed::new(Some(&envelope_id), "accepts_response_payload is not a boolean")),
    };
    let retry_attempt = match frame.get("retry_attempt") {
        None | Some(Value::Null) => 0,
        Some(n) => n.as_u64().ok_or_else(|| Malformed::new(Some(&envelope_id), "retry_attempt is not a count"))?,
    };
    let retry_reason = frame.get("retry_reason").and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(Frame::Envelope(Envelope {
        id: envelope_id,
        kind,
        payload,
        accepts_response_payload,
        retry_attempt,
        retry_reason,
    }))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.chars().all(|c| c.is_ascii_graphic())
}

/// The acknowledgement of `envelope_id`, with a response payload when there is one.
pub fn ack(envelope_id: &str, payload: Option<Value>) -> String {
    let mut ack = Map::new();
    ack.insert("envelope_id".to_owned(), Value::String(envelope_id.to_owned()));
    if let Some(payload) = payload {
        ack.insert("payload".to_owned(), payload);
    }
    Value::Object(ack).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn hello_and_every_disconnect_reason() {
        let hello = r#"{"type":"hello","num_connections":2,"debug_info":{"host":"applink-1"},"connection_info":{"app_id":"A1"}}"#;
        assert_eq!(parse(hello), Ok(Frame::Hello));
        for (reason, expected) in [
            ("warning", DisconnectReason::Warning),
            ("refresh_requested", DisconnectReason::RefreshRequested),
            ("too_many_websockets", DisconnectReason::TooManyWebsockets),
            ("link_disabled", DisconnectReason::Other("link_disabled".into())),
        ] {
            let frame = json!({"type": "disconnect", "reason": reason, "debug_info": {"host": "h"}}).to_string();
            assert_eq!(parse(&frame), Ok(Frame::Disconnect(expected.clone())));
            assert_eq!(expected.as_str(), reason);
        }
        assert!(DisconnectReason::RefreshRequested.replace_at_once());
        assert!(!DisconnectReason::TooManyWebsockets.replace_at_once());
    }

    #[test]
    fn envelopes_of_each_kind() {
        for (kind, expected) in [
            ("events_api", EnvelopeKind::EventsApi),
            ("slash_commands", EnvelopeKind::SlashCommands),
            ("interactive", EnvelopeKind::Interactive),
        ] {
            let frame = json!({
                "envelope_id": "1d2e3f-aa", "type": kind, "payload": {"x": 1},
                "accepts_response_payload": true, "retry_attempt": 2, "retry_reason": "timeout"
            });
            let Ok(Frame::Envelope(envelope)) = parse(&frame.to_string()) else { panic!("{kind} not parsed") };
            assert_eq!(envelope.id, "1d2e3f-aa");
            assert_eq!(envelope.kind, expected);
            assert_eq!(envelope.payload.get("x"), Some(&json!(1)));
            assert!(envelope.accepts_response_payload);
            assert_eq!((envelope.retry_attempt, envelope.retry_reason.as_str()), (2, "timeout"));
        }
        let minimal = json!({"envelope_id": "e1", "type": "events_api", "payload": {}}).to_string();
        let Ok(Frame::Envelope(envelope)) = parse(&minimal) else { panic!("minimal envelope not parsed") };
        assert!(!envelope.accepts_response_payload);
        assert_eq!(envelope.retry_attempt, 0);
    }

    #[test]
    fn malformed_frames_say_what_is_wrong_and_keep_a_readable_id() {
        let cases = [
            ("not json", None, "not JSON"),
            ("[1,2]", None, "not a JSON object"),
            (r#"{"envelope_id":"e1"}"#, Some("e1"), "no type"),
            (r#"{"envelope_id":"e1","type":"events_api","payload":"x"}"#, Some("e1"), "payload"),
            (r#"{"envelope_id":"e1","type":"events_api"}"#, Some("e1"), "payload"),
            (r#"{"type":"slash_commands","payload":{}}"#, None, "without envelope_id"),
            (r#"{"envelope_id":7,"type":"interactive","payload":{}}"#, None, "envelope_id"),
            (r#"{"envelope_id":"a b","type":"interactive","payload":{}}"#, None, "envelope_id"),
            (r#"{"envelope_id":"e1","type":"mystery","payload":{}}"#, Some("e1"), "unknown frame type"),
            (
                r#"{"envelope_id":"e1","type":"interactive","payload":{},"retry_attempt":-1}"#,
                Some("e1"),
                "retry_attempt",
            ),
            (
                r#"{"envelope_id":"e1","type":"interactive","payload":{},"accepts_response_payload":"yes"}"#,
                Some("e1"),
                "boolean",
            ),
        ];
        for (text, id, problem) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.envelope_id.as_deref(), id, "{text}");
            assert!(err.problem.contains(problem), "{text}: {}", err.problem);
        }
        let long = format!(r#"{{"envelope_id":"{}","type":"interactive","payload":{{}}}}"#, "e".repeat(MAX_ID_LEN + 1));
        assert!(parse(&long).is_err());
    }

    #[test]
    fn acks_carry_the_payload_only_when_given() {
        assert_eq!(ack("e1", None), r#"{"envelope_id":"e1"}"#);
        let with = ack("e1", Some(json!({"response_action": "errors", "errors": {"version": "bad"}})));
        let value: Value = serde_json::from_str(&with).unwrap();
        assert_eq!(
            value,
            json!({"envelope_id": "e1", "payload": {"response_action": "errors", "errors": {"version": "bad"}}})
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("hello".to_owned()),
                Just("disconnect".to_owned()),
                Just("events_api".to_owned()),
                Just("slash_commands".to_owned()),
                Just("interactive".to_owned()),
                ".{0,12}",
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("type".to_owned()),
                        Just("envelope_id".to_owned()),
                        Just("payload".to_owned()),
                        Just("reason".to_owned()),
                        Just("accepts_response_payload".to_owned()),
                        Just("retry_attempt".to_owned()),
                        "[a-z_]{1,8}",
                    ],
                    inner,
                    0..6,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse(&text);
        }

        #[test]
        fn random_json_frames_never_panic_and_envelopes_keep_their_id(value in json_value()) {
            let text = value.to_string();
            match parse(&text) {
                Ok(Frame::Envelope(envelope)) => {
                    prop_assert_eq!(value.get("envelope_id").and_then(Value::as_str), Some(envelope.id.as_str()));
                    let payload = value.get("payload").and_then(Value::as_object);
                    prop_assert_eq!(payload, Some(&envelope.payload));
                }
                Ok(_) => prop_assert!(matches!(value.get("type").and_then(Value::as_str), Some("hello" | "disconnect"))),
                Err(malformed) => prop_assert!(!malformed.problem.is_empty()),
            }
        }

        #[test]
        fn truncated_envelopes_never_panic(cut in 0usize..200) {
            let full = json!({"envelope_id": "e1", "type": "interactive", "payload": {"type": "block_actions", "actions": [{"value": "DKT-1"}]}, "accepts_response_payload": false}).to_string();
            let text: String = full.chars().take(cut).collect();
            let _ = parse(&text);
        }
    }
}
