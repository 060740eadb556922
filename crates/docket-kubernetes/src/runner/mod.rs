//! The `kubernetes` runner.
//!
//! Planned: the Deployment is read (and, for a rollback, its ReplicaSets: the rollout history),
//! the change is worked out — current → target image, replicas, namespace — and the exact patch
//! the run would send is sent as a server-side dry run (`dryRun=All`), so the API server's
//! validation, admission and the identity's permissions are checked before anyone approves.
//!
//! Run: the Deployment is read again and must still be as planned (the image, or for a rollback
//! the revision, the plan started from); the patch is sent with JSON Patch `test` operations on
//! those same values, so a change made in between is refused by the API server itself; then the
//! rollout is followed until it completes or the Deployment reports that its progress deadline
//! passed. Cancel and timeout stop the following; the cluster carries on with the change.

mod apply;
mod follow;
mod intent;

use std::sync::Mutex;

use async_trait::async_trait;
use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::PlanFacts;
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

use self::intent::{Intent, Target};
use crate::action::{KubernetesAction, Operation};
use crate::client::{Kube, is_name};
use crate::kubeconfig::{InCluster, connect};
use crate::section::Clusters;

/// Runs `kubernetes` steps.
#[derive(Clone, Debug)]
pub struct KubernetesRunner {
    clusters: Clusters,
    pod: InCluster,
}

impl KubernetesRunner {
    /// A runner acting as the identities `clusters` names; an `in_cluster` one is the pod's
    /// service account where Kubernetes mounts it ([`InCluster::default`]).
    pub fn new(clusters: Clusters) -> Self {
        Self { clusters, pod: InCluster::default() }
    }

    /// The same with the in-cluster identity's files and server taken from `pod`.
    #[must_use]
    pub fn with_in_cluster(mut self, pod: InCluster) -> Self {
        self.pod = pod;
        self
    }
}

#[async_trait]
impl StepRunner for KubernetesRunner {
    fn kind(&self) -> &'static str {
        "kubernetes"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(action) = job.action.spec::<KubernetesAction>() else {
            return fail(log, format!("the kubernetes runner cannot run `{}` steps", job.action.kind()));
        };
        let timeout = action.timeout.map_or(job.default_timeout, |t| t.to_std());
        let patched: Mutex<Option<String>> = Mutex::new(None);
        let work = self.work(action, &job, log, &patched);
        let ended = tokio::select! {
            outcome = work => return outcome,
            () = cancel.cancelled() => "cancelled",
            () = tokio::time::sleep(timeout) => "timed out",
        };
        let changed = patched.lock().map(|p| p.clone()).unwrap_or_default();
        let message = match changed {
            Some(place) => format!(
                "{ended} while following the rollout of {place}; Docket stopped following it and the cluster \
                 carries on with the change (roll it back to undo it)"
            ),
            None => format!("{ended} before anything was changed"),
        };
        fail(log, message)
    }
}

impl KubernetesRunner {
    async fn work(
        &self,
        action: &KubernetesAction,
        job: &StepJob<'_>,
        log: &dyn StepLog,
        patched: &Mutex<Option<String>>,
    ) -> StepOutcome {
        let Some(cluster) = self.clusters.get(&action.cluster) else {
            return fail(log, format!("no cluster `{}` in the `kubernetes` section", action.cluster));
        };
        let kube = match connect(cluster, &self.pod).await {
            Ok(endpoint) => Kube::new(endpoint),
            Err(e) => return fail(log, format!("cluster `{}`: {e}", action.cluster)),
        };
        if let Operation::Apply { manifest, force } = &action.operation {
            let namespace = action
                .render_namespace(job.params)
                .filter(|n| !n.trim().is_empty())
                .or(kube.default_namespace().map(str::to_owned))
                .unwrap_or_else(|| "default".to_owned());
            if !is_name(&namespace) {
                return fail(log, format!("{namespace:?} is not a Kubernetes namespace name"));
            }
            let file = self.clusters.resolve(manifest);
            return match job.mode {
                Mode::Plan => apply::plan(&kube, &file, *force, &namespace, job.params, log).await,
                Mode::Run => apply::run(&kube, &file, *force, &namespace, job, log).await,
            };
        }
        let target = match Target::render(action, job.params, kube.default_namespace()) {
            Ok(target) => target,
            Err(message) => return fail(log, message),
        };
        let intent = match Intent::read(&kube, &target).await {
            Ok(intent) => intent,
            Err(message) => return fail(log, message),
        };
        match job.mode {
            Mode::Plan => plan(&kube, &target, intent, log).await,
            Mode::Run => run(&kube, &target, intent, job, log, patched).await,
        }
    }
}

async fn plan(kube: &Kube, target: &Target, intent: Intent, log: &dyn StepLog) -> StepOutcome {
    if let Some((kind, body)) = &intent.patch {
        if let Err(e) = kube.patch(target.kind, &target.namespace, &target.name, *kind, body, true).await {
            return fail(log, format!("the server-side dry run of the change was refused: {e}"));
        }
        log.line(LogStream::System, "the API server accepted the change in a dry run (dryRun=All)");
    }
    log.line(LogStream::Stdout, &intent.story);
    log.facts(PlanFacts { changes: vec![intent.change], ..PlanFacts::default() });
    StepOutcome::Succeeded
}

async fn run(
    kube: &Kube,
    target: &Target,
    intent: Intent,
    job: &StepJob<'_>,
    log: &dyn StepLog,
    patched: &Mutex<Option<String>>,
) -> StepOutcome {
    let planned = job.planned.and_then(|p| p.facts.changes.first());
    if let Some(planned) = planned
        && let Err(message) = intent.still_as(planned)
    {
        return fail(log, message);
    }
    log.line(LogStream::Stdout, &intent.story);
    let place = target.place();
    let (generation, latest) = match &intent.patch {
        None => {
            log.line(LogStream::System, &format!("{place} is already as planned; following its rollout"));
            (intent.generation, intent.deployment.clone())
        }
        Some((kind, body)) => {
            match kube.patch(target.kind, &target.namespace, &target.name, *kind, body, false).await {
                Ok(after) => {
                    if let Ok(mut p) = patched.lock() {
                        *p = Some(place.clone());
                    }
                    let generation = after["metadata"]["generation"].as_i64().unwrap_or(intent.generation + 1);
                    log.line(LogStream::System, &format!("patched {place} (generation {generation})"));
                    (generation, after)
                }
                Err(e) => return fail(log, format!("patching {place} was refused, so nothing changed: {e}")),
            }
        }
    };
    match follow::follow(kube, target.followed(), latest, generation, intent.revision, log).await {
        Ok(()) => {
            log.line(LogStream::System, &format!("{place} successfully rolled out"));
            StepOutcome::Succeeded
        }
        Err(message) => fail(log, format!("{place}: {message}")),
    }
}

fn fail(log: &dyn StepLog, message: impl Into<String>) -> StepOutcome {
    let message = message.into();
    log.line(LogStream::System, &message);
    StepOutcome::Failed { exit_code: None, message }
}
