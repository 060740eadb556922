//! Schemas the derives cannot write themselves: enums whose values core owns (ticket states),
//! free-form JSON, the patterns the extractors enforce, and the reusable error responses, one
//! per status, whose descriptions list the codes of the error table.

use std::borrow::Cow;

use docket_core::TicketState;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToResponse, ToSchema};

use super::error::{CODES, ErrorBody};

/// What `{id}` in a ticket path must match: what `TicketId::parse` accepts, without surrounding
/// whitespace. The prefix is case-insensitive; the number may have leading zeros.
pub(crate) const TICKET_ID_PATTERN: &str = "^[A-Za-z]{1,16}-[0-9]{1,19}$";

/// A plan digest: 64 hex digits.
pub(crate) const DIGEST_PATTERN: &str = "^[0-9a-fA-F]{64}$";

/// Comments and reasons must contain something besides whitespace (the characters Rust's
/// `char::is_whitespace` and so core's trimming remove), spelled out so that every regular
/// expression dialect reads it alike. Core enforces it; the request bodies' attributes spell it
/// out, and a test checks they agree with this.
#[cfg(test)]
pub(crate) const NOT_BLANK_PATTERN: &str =
    "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// The largest `after` (and `Last-Event-ID`): the store keeps sequence numbers as signed 64-bit
/// integers, so no entry has a larger one.
pub(crate) const MAX_SEQ: u64 = i64::MAX as u64;

/// A ticket's state by name (`awaiting_approval`); its schema lists every state core has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StateName(pub(crate) TicketState);

impl Serialize for StateName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl PartialSchema for StateName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(TicketState::ALL.iter().map(|s| s.as_str())))
            .description(Some("Where a ticket is in its life, from `requested` to a final state."))
            .into()
    }
}

impl ToSchema for StateName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TicketState")
    }
}

/// A parameter value: text, a whole number or yes/no.
#[derive(Debug)]
pub(crate) struct ParamValueSchema;

impl PartialSchema for ParamValueSchema {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .description(Some("A parameter value: text (also for `choice`), a whole number or yes/no."))
            .into()
    }
}

impl ToSchema for ParamValueSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ParamValue")
    }
}

/// Parameter values by name.
#[derive(Debug)]
pub(crate) struct ParamValues;

impl PartialSchema for ParamValues {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(ParamValueSchema::schema()))
            .description(Some(
                "Parameter values by name. On requests, the workflow's declarations decide which names and \
                 values are valid; surrounding whitespace is ignored, and numbers and `yes`/`no` may also \
                 be sent as text.",
            ))
            .into()
    }
}

impl ToSchema for ParamValues {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ParamValues")
    }
}

/// The `code` of an error: every code in the error table.
#[derive(Debug)]
pub(crate) struct ErrorCode;

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let mut codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes))
            .description(Some("A stable machine-readable code; each response status lists the codes it carries."))
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// Any JSON value, described in words where it is used.
pub(crate) fn any_json() -> Schema {
    Schema::Object(ObjectBuilder::new().schema_type(SchemaType::AnyValue).build())
}

/// `details` of an error: an object whose fields depend on the code, or null.
pub(crate) fn error_details() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
            .description(Some(
                "Machine-readable details, or null. `invalid_params`: `{fields: [{param, message}]}`; \
                 `stale_digest`: `{current_digest}`; `not_eligible`: `{person, stage, approvers}`; \
                 `wrong_state`: `{action, state}`; `invalid_query`: `{param, …}`; `invalid_json`: \
                 `{line, column}`; `bad_text`: `{field, max_chars}`; `reload_refused`: `{errors}` or `{restart}`.",
            ))
            .build(),
    )
}

/// The error response for `status`: the error shape, described with the codes it carries.
fn error_response(status: u16, summary: &str) -> RefOr<Response> {
    let codes: Vec<String> =
        CODES.iter().filter(|c| c.status == status).map(|c| format!("- `{}`: {}", c.code, c.when)).collect();
    let mut response = ResponseBuilder::new()
        .description(format!("{summary}\n\n{}", codes.join("\n")))
        .content("application/json", ContentBuilder::new().schema(Some(ErrorBody::schema())).build());
    if status == 401 {
        let challenge = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["Bearer"]));
        response = response.header("WWW-Authenticate", HeaderBuilder::new().schema(Some(challenge)).build());
    }
    response.build().into()
}

/// One reusable error response per status.
macro_rules! error_responses {
    ($($name:ident = $status:literal, $summary:literal;)*) => {
        $(
            #[doc = $summary]
            #[derive(Debug)]
            pub(crate) struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), error_response($status, $summary))
                }
            }
        )*

        /// The statuses that have a reusable error response.
        #[cfg(test)]
        pub(crate) const ERROR_STATUSES: &[u16] = &[$($status),*];
    };
}

error_responses! {
    BadRequest = 400, "The request is malformed or its values are refused; nothing was changed.";
    Unauthenticated = 401, "No token, or a token nobody has (which is audited).";
    Forbidden = 403, "The caller may not do this; the message is the refusal Slack and Teams show.";
    NotFound = 404, "There is no such thing.";
    MethodNotAllowed = 405, "The path exists, but not with this method.";
    RequestTimeout = 408, "The request body did not arrive in time.";
    Conflict = 409, "The ticket is not in a state for this, or changed meanwhile, or the same `Idempotency-Key` is still being handled.";
    PayloadTooLarge = 413, "The request body is larger than the server accepts.";
    UnsupportedMediaType = 415, "The body is not sent as JSON.";
    Unprocessable = 422, "The request cannot be taken as sent: the configuration on disk cannot be put in force (the running one stays), or an `Idempotency-Key` is sent again with another request.";
    Unavailable = 503, "Docket cannot answer right now; nothing was changed, try again.";
}

/// The `state` filter of `GET /tickets`: states, each given alone or several separated by commas.
pub(crate) fn state_filter() -> Schema {
    let names: Vec<&str> = TicketState::ALL.iter().map(|s| s.as_str()).collect();
    let one = format!("({})", names.join("|"));
    let list = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{one}(,{one})+$")))
        .description(Some("Several states separated by commas."));
    let item = OneOfBuilder::new().item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("TicketState"))).item(list);
    utoipa::openapi::schema::ArrayBuilder::new().items(item).into()
}
