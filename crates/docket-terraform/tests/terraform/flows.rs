//! The journeys: plan, policy over the plan, run, failure, cancel, stale plans.

use std::time::Duration;

use docket_core::plan::ChangeAction;
use docket_core::{Actor, TicketState};
use serde_json::json;

use crate::support::{Infra, block_on, network};

pub(crate) fn plan_shows_structured_changes_and_keeps_the_file() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let ticket = infra.request("dev", "large").await;
        assert_eq!(ticket.state, TicketState::AwaitingApproval, "{:?}", ticket.closing_reason);
        let plan = ticket.plan.as_ref().unwrap();
        let step = &plan.steps[0];
        let changes: Vec<(&str, &ChangeAction)> =
            step.facts.changes.iter().map(|c| (c.target.as_str(), &c.action)).collect();
        assert_eq!(changes, [("aws_db_instance.main", &ChangeAction::Create), ("aws_vpc.main", &ChangeAction::Create)]);
        let db = &step.facts.changes[0];
        assert_eq!(db.after["size"], json!("large"), "the variable reached the plan");
        assert_eq!(db.after["password"], json!("(sensitive)"));
        assert_eq!(db.after["id"], json!("(known after apply)"));
        assert_eq!(plan.counts().summary(), "2 to add");
        // The plan's text is Terraform's own words; the secret is in neither the text nor the ticket.
        let output = step.output.as_deref().unwrap();
        assert!(output.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{output}");
        let everything = serde_json::to_string(&ticket).unwrap() + &infra.log(&ticket).await.join("\n");
        assert!(!everything.contains("hunter2-s3cret"), "a sensitive value shows");
        // The file is kept under its hash, which the digest covers.
        let sha = step.facts.saved_file.as_deref().unwrap();
        let kept = infra.t.dir().join("terraform-plans").join(ticket.id.to_string()).join(format!("{sha}.tfplan"));
        let bytes = std::fs::read(&kept).unwrap();
        assert_eq!(hex(&bytes), sha);
        assert_eq!(ticket.decision.as_ref().unwrap().rule.as_deref(), Some("infrastructure"));
        let calls = infra.calls();
        assert_eq!(calls[0], "init -input=false -no-color");
        assert!(
            calls[1].starts_with("plan -input=false -no-color -out=") && calls[1].ends_with(" -var size=large"),
            "{calls:?}"
        );
        assert!(calls[2].starts_with("show -json -no-color "), "{calls:?}");
        assert_eq!(calls.len(), 3);
        // A second plan of the same folder needs no init.
        infra.request("dev", "small").await;
        assert!(!infra.calls()[3..].iter().any(|c| c.starts_with("init")), "{:?}", infra.calls());
    });
}

pub(crate) fn deletes_need_the_security_stage() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let first = infra.request("prod", "small").await;
        let done = infra.approve_all(&first).await;
        infra.t.wait_for_state(&done.id, TicketState::Succeeded).await;
        // The CIDR forces a new network: a replace, so security is asked too.
        std::fs::write(infra.dir.join("stand-in.json"), serde_json::to_vec(&network("10.1.0.0/16")).unwrap()).unwrap();
        let ticket = infra.request("prod", "small").await;
        let counts = ticket.plan.as_ref().unwrap().counts();
        assert_eq!((counts.replaces, counts.unchanged), (1, 1));
        let stages: Vec<String> = match &ticket.decision.as_ref().unwrap().outcome {
            docket_core::policy::Outcome::Approvals(req) => req.stages.iter().map(|s| s.name.clone()).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(stages, ["sre", "security"]);
        assert!(ticket.decision.as_ref().unwrap().explanation.contains("2 approvals") || stages.len() == 2);
    });
}

pub(crate) fn an_all_no_op_plan_is_approved_and_applied() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let first = infra.request("dev", "small").await;
        let done = infra.approve_all(&first).await;
        infra.t.wait_for_state(&done.id, TicketState::Succeeded).await;
        let again = infra.request("dev", "small").await;
        assert_eq!(again.plan.as_ref().unwrap().counts().summary(), "no changes (2 unchanged)");
        assert_eq!(again.decision.as_ref().unwrap().rule.as_deref(), Some("nothing-changes"));
        infra.t.wait_for_state(&again.id, TicketState::Succeeded).await;
    });
}

pub(crate) fn a_denied_request_never_runs_its_dry_run() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let ticket = infra.request("frozen", "small").await;
        assert_eq!(ticket.state, TicketState::Denied);
        assert_eq!(ticket.plan, None);
        assert_eq!(ticket.closing_reason.as_deref(), Some("Infrastructure in the frozen environment does not change."));
        assert!(infra.calls().is_empty(), "terraform ran: {:?}", infra.calls());
        assert!(!infra.t.dir().join("terraform-plans").join(ticket.id.to_string()).exists());
    });
}

pub(crate) fn the_run_applies_exactly_the_saved_plan() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let ticket = infra.request("prod", "medium").await;
        let sha = ticket.plan.as_ref().unwrap().steps[0].facts.saved_file.clone().unwrap();
        // The wanted resources change after approval: the run still applies what was approved.
        std::fs::write(infra.dir.join("stand-in.json"), serde_json::to_vec(&network("10.9.0.0/16")).unwrap()).unwrap();
        let approved = infra.approve_all(&ticket).await;
        let done = infra.t.wait_for_state(&approved.id, TicketState::Succeeded).await;
        let apply = infra.calls().into_iter().find(|c| c.starts_with("apply")).unwrap();
        assert!(apply.ends_with(&format!("/{sha}.tfplan")), "{apply}");
        assert!(!apply.contains("-var"), "a saved plan is applied without variables: {apply}");
        let state = infra.state("prod");
        assert_eq!(state["resources"]["aws_vpc.main"]["cidr"], json!("10.0.0.0/16"));
        assert_eq!(state["resources"]["aws_db_instance.main"]["size"], json!("medium"));
        let log = infra.log(&done).await.join("\n");
        assert!(log.contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."), "{log}");
    });
}

pub(crate) fn a_failure_carries_terraforms_reason() {
    block_on(async {
        let mut wanted = network("10.0.0.0/16");
        wanted["fail"] = json!({"aws_vpc.main": "creating EC2 VPC: UnauthorizedOperation: You are not authorized to perform this operation."});
        let infra = Infra::start(wanted).await;
        let ticket = infra.approve_all(&infra.request("dev", "small").await).await;
        let failed = infra.t.wait_for_state(&ticket.id, TicketState::Failed).await;
        let step = &failed.last_run().unwrap().steps[0];
        let Some(docket_core::ticket::StepOutcome::Failed { message, exit_code }) = &step.outcome else {
            panic!("{step:?}")
        };
        assert_eq!(
            message,
            "terraform apply failed: creating EC2 VPC: UnauthorizedOperation: You are not authorized to perform this operation."
        );
        assert_eq!(*exit_code, Some(1));
    });
}

pub(crate) fn cancel_interrupts_the_apply() {
    block_on(async {
        let mut wanted = network("10.0.0.0/16");
        // Long enough that the cancel always comes while the first resource is being made
        // (the stand-in finishes it 100 ms after the interrupt).
        wanted["apply_delay_ms"] = json!(10_000);
        let infra = Infra::start(wanted).await;
        let ticket = infra.approve_all(&infra.request("dev", "small").await).await;
        let running = infra.t.wait_for_state(&ticket.id, TicketState::Running).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !infra.log(&running).await.iter().any(|l| l.contains("Creating...")) {
            assert!(tokio::time::Instant::now() < deadline, "the apply never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        infra.t.app.cancel(&Actor::person("alice"), &ticket.id, Some("wrong window".into())).await.unwrap();
        let cancelled = infra.t.wait_for_state(&ticket.id, TicketState::Cancelled).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let log = infra.log(&cancelled).await.join("\n");
            if log.contains("interrupted") {
                assert!(log.contains("Interrupt received."), "Terraform was asked to stop gracefully: {log}");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{log}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // It finished the resource in hand and saved its state; the second was never started.
        let state = infra.state("dev");
        assert_eq!(state["resources"].as_object().map(|r| r.len()), Some(1), "{state}");
    });
}

pub(crate) fn a_stale_plan_fails_and_a_retry_plans_again() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let first = infra.request("dev", "small").await;
        let second = infra.request("dev", "large").await;
        let first = infra.approve_all(&first).await;
        infra.t.wait_for_state(&first.id, TicketState::Succeeded).await;
        let second = infra.approve_all(&second).await;
        let failed = infra.t.wait_for_state(&second.id, TicketState::Failed).await;
        let Some(docket_core::ticket::StepOutcome::Failed { message, .. }) =
            &failed.last_run().unwrap().steps[0].outcome
        else {
            panic!("{failed:?}")
        };
        assert!(message.starts_with("terraform apply failed: Saved plan is stale"), "{message}");
        assert!(message.contains("plan again"), "{message}");
        let again = infra.t.app.retry(&Actor::person("alice"), &second.id).await.unwrap();
        assert_eq!(again.state, TicketState::AwaitingApproval);
        let changes = &again.plan.as_ref().unwrap().steps[0].facts.changes;
        let db = changes.iter().find(|c| c.target == "aws_db_instance.main").unwrap();
        assert_eq!(
            (&db.action, &db.before["size"], &db.after["size"]),
            (&ChangeAction::Update, &json!("small"), &json!("large"))
        );
        let done = infra.approve_all(&again).await;
        infra.t.wait_for_state(&done.id, TicketState::Succeeded).await;
    });
}

pub(crate) fn an_unknown_format_version_is_refused() {
    block_on(async {
        let mut wanted = network("10.0.0.0/16");
        wanted["format_version"] = json!("2.0");
        let infra = Infra::start(wanted).await;
        let ticket = infra.request("dev", "small").await;
        assert_eq!(ticket.state, TicketState::PlanFailed);
        let reason = ticket.closing_reason.unwrap();
        assert!(reason.contains("format_version is 2.0; Docket reads major versions 0 and 1 only"), "{reason}");
    });
}

pub(crate) fn workspace_and_vars_reach_terraform() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let ticket = infra.approve_all(&infra.request("prod", "x-large").await).await;
        infra.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
        assert_eq!(infra.state("prod")["resources"]["aws_db_instance.main"]["size"], json!("x-large"));
        assert_eq!(infra.state("default"), serde_json::Value::Null, "the default workspace was not touched");
        let details = &ticket.plan.as_ref().unwrap().steps[0].details;
        let shown: Vec<(&str, &str)> = details.iter().map(|d| (d.label.as_str(), d.value.as_str())).collect();
        assert!(shown.contains(&("Workspace", "prod")) && shown.contains(&("Variables", "size=x-large")), "{shown:?}");
        assert!(shown.contains(&("Environment", "AWS_REGION")), "names only: {shown:?}");
    });
}

pub(crate) fn a_changed_plan_file_is_not_applied() {
    block_on(async {
        let infra = Infra::start(network("10.0.0.0/16")).await;
        let ticket = infra.request("dev", "small").await;
        let sha = ticket.plan.as_ref().unwrap().steps[0].facts.saved_file.clone().unwrap();
        let kept = infra.t.dir().join("terraform-plans").join(ticket.id.to_string()).join(format!("{sha}.tfplan"));
        std::fs::write(&kept, b"{}").unwrap();
        let approved = infra.approve_all(&ticket).await;
        let failed = infra.t.wait_for_state(&approved.id, TicketState::Failed).await;
        let log = infra.log(&failed).await.join("\n");
        assert!(log.contains("the saved plan file changed since it was approved, so nothing was applied"), "{log}");
        assert!(!infra.calls().iter().any(|c| c.starts_with("apply")));
    });
}

pub(crate) fn a_plan_of_500_changes() {
    block_on(async {
        let mut resources = serde_json::Map::new();
        for i in 0..500 {
            resources.insert(format!("aws_instance.web[{i}]"), json!({"size": "small", "n": i}));
        }
        let infra = Infra::start(json!({"variables": ["size"], "resources": resources})).await;
        let ticket = infra.request("dev", "small").await;
        let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("{:?}", ticket.closing_reason));
        assert_eq!(plan.counts().creates, 500);
        let summary = infra.t.app.summarize(&ticket);
        let brief = summary.changes.as_ref().unwrap();
        assert_eq!(brief.summary, "500 to add");
        assert_eq!(brief.lines.len(), 500);
    });
}

fn hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
