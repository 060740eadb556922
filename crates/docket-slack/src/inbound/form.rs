//! Form-encoded bodies: a slash command's fields, the `payload` field of interactions.

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

/// Reads a slash command's form body into its fields. `command` and `user_id` are required.
pub(crate) fn command_fields(body: &[u8]) -> Result<super::CommandForm, InboundError> {
    if std::str::from_utf8(body).is_err() {
        return Err(InboundError::Form("not UTF-8".to_owned()));
    }
    let mut form = super::CommandForm::default();
    // Which fields were given, so a repeated one keeps its first value.
    let mut given = [false; 8];
    for (count, (key, value)) in form_urlencoded::parse(body).enumerate() {
        if count >= MAX_FIELDS {
            return Err(InboundError::Form(format!("more than {MAX_FIELDS} fields")));
        }
        let (field, slot) = match &*key {
            "command" => (&mut form.command, 0),
            "text" => (&mut form.text, 1),
            "user_id" => (&mut form.user_id, 2),
            "channel_id" => (&mut form.channel_id, 3),
            "team_id" => (&mut form.team_id, 4),
            "trigger_id" => (&mut form.trigger_id, 5),
            "response_url" => (&mut form.response_url, 6),
            "api_app_id" => (&mut form.api_app_id, 7),
            _ => continue,
        };
        if let Some(seen) = given.get_mut(slot).filter(|seen| !**seen) {
            *seen = true;
            *field = value.into_owned();
        }
    }
    match given {
        [false, ..] => Err(InboundError::Missing("command")),
        [_, _, false, ..] => Err(InboundError::Missing("user_id")),
        _ => Ok(form),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_reads_its_fields_and_keeps_the_first_of_a_repeat() {
        let body = b"token=x&command=%2Fdocket&text=deploy+api+1.4.2&user_id=U1&user_id=U2&channel_id=C1&team_id=T1\
&trigger_id=1.2.3&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&api_app_id=A1&extra=ignored";
        let form = command_fields(body).unwrap_or_default();
        assert_eq!(form.command, "/docket");
        assert_eq!(form.text, "deploy api 1.4.2");
        assert_eq!(form.user_id, "U1");
        assert_eq!((form.channel_id.as_str(), form.team_id.as_str()), ("C1", "T1"));
        assert_eq!(form.trigger_id, "1.2.3");
        assert_eq!(form.response_url, "https://hooks.slack.com/x");
        assert_eq!(form.api_app_id, "A1");
    }

    #[test]
    fn a_command_without_its_command_or_user_or_in_bad_bytes_is_refused() {
        let missing = |body: &[u8]| command_fields(body).err().map(|e| e.to_string());
        assert_eq!(missing(b"user_id=U1"), Some("missing field `command`".to_owned()));
        assert_eq!(missing(b"command=%2Fdocket&text=hi"), Some("missing field `user_id`".to_owned()));
        assert_eq!(missing(b"command=\xff"), Some("malformed form body: not UTF-8".to_owned()));
        let many = vec!["a=1"; 65].join("&");
        assert_eq!(missing(many.as_bytes()), Some("malformed form body: more than 64 fields".to_owned()));
    }
}
