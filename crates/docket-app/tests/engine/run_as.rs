//! `run_as` from the configuration and from a workflow, through the app: each workflow's
//! programs run as its user, dry runs included.

use docket_core::TicketState;
use docket_testkit::TestApp;

use crate::{api, person};

const CONFIG: &str = r#"storage: { url: sqlite://./docket.db }
catalog: ./workflows
run_as: nobody
people:
  - { id: alice, name: Alice }
policies:
  - { name: all, when: "true", auto_approve: true }
"#;

const DEFAULTED: &str = "id: defaulted\ntitle: Defaulted\nsteps:\n  - name: who\n    plan: { exec: [/usr/bin/id, -un] }\n    exec: [/usr/bin/id, -un]\n";

const OWN: &str = "id: own\ntitle: Own\nrun_as: root\nsteps:\n  - { name: who, exec: [/usr/bin/id, -un] }\n";

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// Every line of the ticket's stored output.
async fn output(t: &TestApp, id: &docket_core::TicketId) -> Vec<String> {
    t.app.logs(id, 0, 1000).await.unwrap().into_iter().map(|l| l.text).collect()
}

#[tokio::test]
async fn programs_run_as_the_workflows_user_or_the_configurations() {
    if !is_root() {
        // Switching users needs root here; the runner's own test checks the refusal.
        return;
    }
    let t = TestApp::builder().config(CONFIG).workflows(&[("a.yaml", DEFAULTED), ("b.yaml", OWN)]).start().await;
    let defaulted = t.app.request(&person("alice"), &"defaulted".into(), Default::default(), api()).await.unwrap();
    let done = t.wait_for_state(&defaulted.id, TicketState::Succeeded).await;
    let plan = done.plan.as_ref().and_then(|p| p.steps[0].output.clone()).unwrap_or_default();
    assert_eq!(plan.trim(), "nobody", "the dry run runs as the user too");
    assert!(output(&t, &defaulted.id).await.iter().any(|l| l == "nobody"), "{:?}", output(&t, &defaulted.id).await);

    let own = t.app.request(&person("alice"), &"own".into(), Default::default(), api()).await.unwrap();
    t.wait_for_state(&own.id, TicketState::Succeeded).await;
    assert!(output(&t, &own.id).await.iter().any(|l| l == "root"), "{:?}", output(&t, &own.id).await);
    t.stop().await;
}
