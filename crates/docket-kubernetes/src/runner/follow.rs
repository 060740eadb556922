//! Following a rollout: the workload is watched (`?watch=true`, one object by
//! `fieldSelector`) from the version the patch returned, each state read as `kubectl rollout
//! status` reads it for its kind, and each new situation logged once — a Deployment's new
//! ReplicaSet, replicas updated and ready — until the rollout completes or a Deployment reports
//! that its progress deadline passed (StatefulSets and DaemonSets have none: the step's time
//! limit bounds them). A watch that ends (the server's timeout, a dropped connection, `410 Gone`) is opened
//! again from a fresh read.

use std::time::Duration;

use docket_app::{LogStream, StepLog};
use serde_json::Value;

use crate::action::Workload;
use crate::client::Kube;
use crate::rollout::{self, Progress};

/// The workload whose rollout is followed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Followed<'a> {
    pub(crate) kind: Workload,
    pub(crate) namespace: &'a str,
    pub(crate) name: &'a str,
}

impl Followed<'_> {
    /// `deployment api in prod`.
    pub(crate) fn place(&self) -> String {
        format!("{} {} in {}", self.kind.key(), self.name, self.namespace)
    }
}

/// How long the server keeps one watch open.
const WATCH_SECONDS: u64 = 60;
/// The pause before reading again after a watch broke.
const AFTER_BREAK: Duration = Duration::from_millis(500);

/// Follows the rollout of `target` from `latest` (the workload as the change left it) until it
/// completes (`Ok`) or fails (`Err` with the reason).
pub(crate) async fn follow(
    kube: &Kube,
    target: Followed<'_>,
    latest: Value,
    generation: i64,
    revision_before: Option<i64>,
    log: &dyn StepLog,
) -> Result<(), String> {
    let mut follower = Follower { kube, target, generation, revision_before, log, said: String::new(), named: None };
    let mut latest = latest;
    loop {
        if let Some(end) = follower.see(&latest).await {
            return end;
        }
        let version = latest["metadata"]["resourceVersion"].as_str().unwrap_or("0").to_owned();
        match watch(kube, target, &version, &mut follower).await {
            Watched::Ended(end) => return end,
            Watched::Closed => {}
            Watched::Broken(why) => {
                log.line(LogStream::System, &format!("the watch broke ({why}); reading {} again", target.place()));
                tokio::time::sleep(AFTER_BREAK).await;
            }
        }
        latest = kube
            .workload(target.kind, target.namespace, target.name)
            .await
            .map_err(|e| format!("reading it during the rollout: {e}"))?;
    }
}

enum Watched {
    Ended(Result<(), String>),
    Closed,
    Broken(String),
}

async fn watch(kube: &Kube, target: Followed<'_>, version: &str, follower: &mut Follower<'_>) -> Watched {
    let mut response = match kube.watch(target.kind, target.namespace, target.name, version, WATCH_SECONDS).await {
        Ok(response) => response,
        Err(e) => return Watched::Broken(e.to_string()),
    };
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Watched::Closed,
            Err(e) => return Watched::Broken(e.to_string()),
        };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(event) = serde_json::from_slice::<Value>(&line) else {
                return Watched::Broken("an event that is not JSON".to_owned());
            };
            match event["type"].as_str().unwrap_or("") {
                "ADDED" | "MODIFIED" => {
                    if let Some(end) = follower.see(&event["object"]).await {
                        return Watched::Ended(end);
                    }
                }
                "DELETED" => return Watched::Ended(Err("it was deleted during the rollout".to_owned())),
                "ERROR" => {
                    // 410 Gone: the version is too old to watch from; read afresh.
                    let message = event["object"]["message"].as_str().unwrap_or("no message");
                    return Watched::Broken(format!("the server ended the watch: {message}"));
                }
                _ => {}
            }
        }
    }
}

struct Follower<'a> {
    kube: &'a Kube,
    target: Followed<'a>,
    generation: i64,
    revision_before: Option<i64>,
    log: &'a dyn StepLog,
    /// The last situation logged.
    said: String,
    /// The revision whose ReplicaSet was named.
    named: Option<i64>,
}

impl Follower<'_> {
    /// Logs what is new in `deployment`; `Some` once the rollout has ended.
    async fn see(&mut self, deployment: &Value) -> Option<Result<(), String>> {
        let observed = deployment["status"]["observedGeneration"].as_i64().unwrap_or(0) >= self.generation;
        let revision = rollout::revision(deployment);
        let deployment_kind = self.target.kind == Workload::Deployment;
        if deployment_kind
            && observed
            && revision.is_some()
            && revision != self.named
            && revision != self.revision_before
        {
            self.named = revision;
            self.name_replica_set(deployment, revision.unwrap_or_default()).await;
        }
        match rollout::progress_of(self.target.kind, deployment, self.generation) {
            Progress::Complete => Some(Ok(())),
            Progress::Failed(reason) => Some(Err(reason)),
            Progress::Waiting(words) => {
                if words != self.said {
                    self.log.line(LogStream::Stdout, &format!("rollout: {words}"));
                    self.said = words;
                }
                None
            }
        }
    }

    /// Logs the ReplicaSet of `revision`: the new one, or the old one a rollback scales up.
    async fn name_replica_set(&self, deployment: &Value, revision: i64) {
        let Some(selector) = rollout::selector(deployment) else { return };
        let Ok(all) = self.kube.replica_sets(self.target.namespace, &selector).await else { return };
        if let Some((_, rs)) = rollout::history(deployment, all).into_iter().find(|(r, _)| *r == revision) {
            let name = rs["metadata"]["name"].as_str().unwrap_or("?");
            let images = rollout::images(&rs["spec"]["template"]);
            self.log.line(LogStream::Stdout, &format!("rollout: ReplicaSet {name} is revision {revision} ({images})"));
        }
    }
}
