//! The runner against the real `terraform`, where one is installed (in `/usr/local/bin` or
//! `/usr/bin`): a configuration of `terraform_data` resources, which Terraform's built-in
//! provider manages without any download or account. It checks what the stand-in imitates:
//! the JSON plan read into changes with a sensitive variable masked, the saved file applied,
//! and "Saved plan is stale" when another apply came first. Without Terraform it says so and
//! passes: the stand-in's tests cover the same paths.

use std::path::Path;

use docket_core::plan::ChangeAction;
use docket_core::ticket::{Origin, StepOutcome};
use docket_core::{Actor, TicketState};
use serde_json::json;

use crate::support::{block_on, builder};

const MAIN_TF: &str = r#"
variable "size" { type = string }
variable "password" {
  type      = string
  sensitive = true
  default   = "hunter2-real-s3cret"
}
resource "terraform_data" "db" {
  input = { size = var.size, password = var.password }
}
resource "terraform_data" "net" {
  input            = "10.0.0.0/16"
  triggers_replace = [var.size]
}
"#;

fn installed() -> Option<&'static str> {
    ["/usr/local/bin/terraform", "/usr/bin/terraform"].into_iter().find(|p| Path::new(p).is_file())
}

pub(crate) fn the_real_terraform_plans_applies_and_refuses_a_stale_plan() {
    let Some(binary) = installed() else {
        println!("    (no terraform installed: the stand-in's tests cover this)");
        return;
    };
    block_on(async {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path().join("real");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), MAIN_TF).unwrap();
        let workflow = format!(
            "id: real\ntitle: Real Terraform\nparams:\n  - {{ name: env, type: choice, choices: [dev] }}\n  - {{ name: size, type: string }}\nsteps:\n  - name: data\n    terraform: {{ binary: {binary}, dir: {}, vars: {{ size: \"{{{{size}}}}\" }} }}\n",
            dir.display()
        );
        let t = builder().workflows(&[]).workflow("real.yaml", &workflow).start().await;
        let request = |size: &str| {
            let params = [("env".to_owned(), json!("dev")), ("size".to_owned(), json!(size))].into_iter().collect();
            let app = t.app.clone();
            async move { app.request(&Actor::person("alice"), &"real".into(), params, Origin::default()).await.unwrap() }
        };
        let small = request("small").await;
        assert_eq!(small.state, TicketState::AwaitingApproval, "{:?}", small.closing_reason);
        let step = &small.plan.as_ref().unwrap().steps[0];
        let db = step.facts.changes.iter().find(|c| c.target == "terraform_data.db").unwrap();
        assert_eq!(db.action, ChangeAction::Create);
        assert_eq!(db.after["input"]["password"], json!("(sensitive)"));
        assert_eq!(db.after["id"], json!("(known after apply)"));
        assert!(!serde_json::to_string(&small).unwrap().contains("hunter2-real-s3cret"));
        assert!(step.output.as_deref().unwrap().contains("Plan: 2 to add, 0 to change, 0 to destroy."));

        let large = request("large").await;
        let approve = |ticket: docket_core::Ticket| {
            let app = t.app.clone();
            async move { app.approve(&Actor::person("bob"), &ticket.id, ticket.digest.unwrap(), None).await.unwrap() }
        };
        let done = approve(small).await;
        t.wait_for_state(&done.id, TicketState::Succeeded).await;
        let stale = approve(large).await;
        let failed = t.wait_for_state(&stale.id, TicketState::Failed).await;
        let Some(StepOutcome::Failed { message, exit_code }) = &failed.last_run().unwrap().steps[0].outcome else {
            panic!("{failed:?}")
        };
        assert!(message.starts_with("terraform apply failed: Saved plan is stale"), "{message}");
        assert_eq!(*exit_code, Some(1));

        // Planned again, the change is a replace of the network and an update of the data.
        let again = t.app.retry(&Actor::person("alice"), &failed.id).await.unwrap();
        let counts = again.plan.as_ref().unwrap().counts();
        assert_eq!((counts.updates, counts.replaces), (1, 1), "{:?}", again.plan);
    });
}
