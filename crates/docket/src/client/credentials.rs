//! Who the client says it is: a token from `--token` or `DOCKET_TOKEN`, or, with `--as PERSON`,
//! the token `docket demo` wrote for that person into its credentials file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::cli::Remote;

/// What the demo writes: `{"url": "http://127.0.0.1:8080", "tokens": {"alice": "dkt_…"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CredentialsFile {
    #[serde(default)]
    url: Option<String>,
    tokens: BTreeMap<String, String>,
}

/// The server to talk to and the token to send.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) url: String,
    pub(crate) token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("url", &self.url).field("token", &"…").finish()
    }
}

/// The token for `remote`: `--as` reads the credentials file; otherwise `--token` (or
/// `DOCKET_TOKEN`, which clap reads into the same field).
pub(crate) fn resolve(remote: &Remote) -> anyhow::Result<Credentials> {
    let given = remote.url.as_deref().map(|u| u.trim_end_matches('/').to_owned());
    let url = given.clone().unwrap_or_else(|| DEFAULT_URL.to_owned());
    if let Some(person) = &remote.as_person {
        let text = std::fs::read_to_string(&remote.credentials).with_context(|| {
            format!(
                "cannot read the demo's credentials at {} (start `docket demo` first, or pass --credentials)",
                remote.credentials.display()
            )
        })?;
        let token = token_for(&text, person, &remote.credentials)?;
        // Without --url, the demo's own address from the same file.
        let url = given.or_else(|| file_url(&text)).unwrap_or(url);
        return Ok(Credentials { url, token });
    }
    match remote.token.as_deref().map(str::trim) {
        Some(token) if !token.is_empty() => Ok(Credentials { url, token: token.to_owned() }),
        _ => bail!("no token: pass --token, set DOCKET_TOKEN, or use --as PERSON with the demo"),
    }
}

/// Where a server is when nobody says.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The server URL the credentials file records, if any.
fn file_url(text: &str) -> Option<String> {
    let file: CredentialsFile = serde_json::from_str(text).ok()?;
    file.url.filter(|u| !u.trim().is_empty()).map(|u| u.trim_end_matches('/').to_owned())
}

/// `person`'s token in the credentials file `text` (read from `path`).
fn token_for(text: &str, person: &str, path: &Path) -> anyhow::Result<String> {
    let file: CredentialsFile =
        serde_json::from_str(text).with_context(|| format!("{} is not a Docket credentials file", path.display()))?;
    match file.tokens.get(person) {
        Some(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        _ if file.tokens.is_empty() => bail!("{} holds no tokens", path.display()),
        _ => {
            let people: Vec<&str> = file.tokens.keys().map(String::as_str).collect();
            bail!("no demo token for `{person}` in {}; it has tokens for: {}", path.display(), people.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const FILE: &str = r#"{"url": "http://127.0.0.1:8080", "tokens": {"alice": "dkt_a", "bob": "dkt_b"}}"#;

    fn remote(token: Option<&str>, person: Option<&str>, credentials: PathBuf) -> Remote {
        Remote {
            url: Some("http://example.test:9000/".to_owned()),
            token: token.map(str::to_owned),
            as_person: person.map(str::to_owned),
            credentials,
        }
    }

    #[test]
    fn a_person_in_the_file_gets_their_token() {
        assert_eq!(token_for(FILE, "bob", Path::new("c.json")).unwrap(), "dkt_b");
    }

    #[test]
    fn a_missing_person_is_told_who_is_there() {
        let error = token_for(FILE, "dave", Path::new("c.json")).unwrap_err().to_string();
        assert_eq!(error, "no demo token for `dave` in c.json; it has tokens for: alice, bob");
    }

    #[test]
    fn a_broken_file_is_named() {
        let error = token_for("not json", "bob", Path::new("c.json")).unwrap_err().to_string();
        assert_eq!(error, "c.json is not a Docket credentials file");
        let error = token_for("{}", "bob", Path::new("c.json")).unwrap_err().to_string();
        assert_eq!(error, "c.json holds no tokens");
    }

    #[test]
    fn no_token_at_all_says_how_to_get_one() {
        let error = resolve(&remote(None, None, PathBuf::from("nowhere.json"))).unwrap_err().to_string();
        assert_eq!(error, "no token: pass --token, set DOCKET_TOKEN, or use --as PERSON with the demo");
        assert!(resolve(&remote(Some("  "), None, PathBuf::from("nowhere.json"))).is_err());
    }

    #[test]
    fn a_token_is_used_as_given_and_the_url_loses_its_slash() {
        let credentials = resolve(&remote(Some("dkt_x"), None, PathBuf::from("nowhere.json"))).unwrap();
        assert_eq!(credentials.token, "dkt_x");
        assert_eq!(credentials.url, "http://example.test:9000");
        assert!(!format!("{credentials:?}").contains("dkt_x"));
    }

    #[test]
    fn as_reads_the_file_and_wins_over_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        std::fs::write(&path, FILE).unwrap();
        let credentials = resolve(&remote(Some("dkt_x"), Some("alice"), path)).unwrap();
        assert_eq!(credentials.token, "dkt_a");
        let missing = resolve(&remote(None, Some("alice"), dir.path().join("gone.json"))).unwrap_err();
        assert!(format!("{missing:#}").starts_with("cannot read the demo's credentials at "), "{missing:#}");
    }

    #[test]
    fn without_url_the_demo_address_in_the_file_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        std::fs::write(&path, r#"{"url": "http://127.0.0.1:18080/", "tokens": {"bob": "dkt_b"}}"#).unwrap();
        let mut asked = remote(None, Some("bob"), path);
        asked.url = None;
        assert_eq!(resolve(&asked).unwrap().url, "http://127.0.0.1:18080");
        asked.url = Some("http://elsewhere:1".to_owned());
        assert_eq!(resolve(&asked).unwrap().url, "http://elsewhere:1");
        asked.as_person = None;
        asked.url = None;
        asked.token = Some("dkt_x".to_owned());
        assert_eq!(resolve(&asked).unwrap().url, "http://127.0.0.1:8080");
    }
}
