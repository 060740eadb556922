//! Who is acting: a Teams user (their Entra object id, `aadObjectId`) resolved to a person in
//! Docket's directory. Someone the directory does not know is told so, and the attempt is
//! audited.

use docket_app::App;
use docket_core::Actor;

use crate::activity::Account;

/// The person behind a Teams user, or why there is none.
#[derive(Debug)]
pub(crate) enum Who {
    /// A person in the directory.
    Known(Actor),
    /// Nobody Docket knows; the text says so, in words for them.
    Unknown(String),
}

/// Resolves `from`; an unknown user is audited.
pub(crate) async fn resolve(app: &App, from: Option<&Account>) -> Who {
    let aad = from.and_then(|f| f.aad_object_id.as_deref()).filter(|a| !a.is_empty());
    let known = aad.and_then(|aad| app.rules().directory.by_id_on(crate::SURFACE, aad).map(|p| p.id.clone()));
    if let Some(id) = known {
        return Who::Known(Actor::Person { id });
    }
    let shown: String = aad.or(from.map(|f| f.id.as_str())).unwrap_or("(none)").chars().take(64).collect();
    app.audit_unknown_chat_user("teams", &shown, "act as a person in Docket").await;
    Who::Unknown(format!(
        "Docket does not know you yet: your Teams account ({shown}) is not in its directory. \
         Ask an administrator to add it as your `teams` id."
    ))
}
