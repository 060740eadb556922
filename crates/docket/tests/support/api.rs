//! The binary's end-to-end tests' view of a server: API tokens and `docket reload` from the
//! command line, and the REST API as one person calls it.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{docket, text};

/// An API token for `person`, made with `docket token create` in `dir`.
pub(crate) fn token(dir: &Path, person: &str) -> String {
    let out = docket(dir).args(["token", "create", "--config", "docket.yaml", "--person", person]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// `docket reload` against the server at `base`.
pub(crate) fn reload(dir: &Path, base: &str, token: &str) -> Output {
    docket(dir).args(["reload", "--url", base, "--token", token]).output().unwrap()
}

/// The REST API of the server at `base`, called as whoever's token is given.
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) http: reqwest::blocking::Client,
}

impl Api {
    pub(crate) fn new(base: &str) -> Self {
        Self { base: base.to_owned(), http: reqwest::blocking::Client::new() }
    }

    pub(crate) fn get(&self, token: &str, path: &str) -> reqwest::blocking::Response {
        self.http.get(format!("{}/api/v1{path}", self.base)).bearer_auth(token).send().unwrap()
    }

    pub(crate) fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::blocking::Response {
        self.http.post(format!("{}/api/v1{path}", self.base)).bearer_auth(token).json(body).send().unwrap()
    }

    pub(crate) fn workflows(&self, token: &str) -> Vec<String> {
        let list: Value = self.get(token, "/workflows").json().unwrap();
        list["workflows"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect()
    }

    /// Waits until ticket `id` is in `state` (at most 20 s) and answers it.
    pub(crate) fn wait_state(&self, token: &str, id: &str, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ticket: Value = self.get(token, &format!("/tickets/{id}")).json().unwrap();
            if ticket["state"] == state {
                return ticket;
            }
            assert!(Instant::now() < deadline, "{id} never reached {state}: {ticket}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn log(&self, token: &str, id: &str) -> String {
        let page: Value = self.get(token, &format!("/tickets/{id}/logs")).json().unwrap();
        page["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap_or_default().to_owned()).collect()
    }

    pub(crate) fn audit(&self, token: &str) -> Vec<Value> {
        let body = self.get(token, "/audit?limit=1000").text().unwrap();
        body.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}
