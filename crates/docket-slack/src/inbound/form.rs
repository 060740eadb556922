//! Form-encoded bodies (slash commands, the `payload` field of interactions) → JSON fields.

use super::InboundError;

/// Most fields a form may have; Slack sends about a dozen.
const MAX_FIELDS: usize = 64;

/// Reads `a=1&b=2` into a JSON object of strings. A repeated field keeps its first value.
pub(crate) fn parse_form(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, InboundError> {
    if std::str::from_utf8(body).is_err() {
        return Err(InboundError::Form("not UTF-8".to_owned()));
    }
    let mut map = serde_json::Map::new();
    for (count, (key, value)) in form_urlencoded::parse(body).enumerate() {
        if count >= MAX_FIELDS {
            return Err(InboundError::Form(format!("more than {MAX_FIELDS} fields")));
        }
        map.entry(key.into_owned()).or_insert_with(|| serde_json::Value::String(value.into_owned()));
    }
    Ok(map)
}

/// Reads an interaction body: the JSON object in its `payload` field.
pub(crate) fn interaction_payload(body: &[u8]) -> Result<serde_json::Value, InboundError> {
    let mut form = parse_form(body)?;
    let Some(serde_json::Value::String(payload)) = form.remove("payload") else {
        return Err(InboundError::Missing("payload"));
    };
    let value: serde_json::Value = serde_json::from_str(&payload).map_err(|e| InboundError::Payload(e.to_string()))?;
    if !value.is_object() {
        return Err(InboundError::Payload("payload is not a JSON object".to_owned()));
    }
    Ok(value)
}
