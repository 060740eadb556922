//! The `jira` and `servicenow` sections as the server reads them: values, secrets kept out of
//! messages, a status map that leaves states out as a warning, and every mistake at its line.

use docket_jira::{Api, JiraSettings};
use docket_servicenow::{Grant, ServiceNowSettings, Table};

use super::{env, parse_config_str, parse_workflow_str};

const BASE: &str = "server: { public_url: https://docket.example.com }\n\
                    people: [{ id: alice, email: alice@example.com, jira: 557058-alice, servicenow: alice.ng }]\n\
                    policies: [{ name: all, when: \"true\", auto_approve: true }]\n";

#[test]
fn reads_jira_with_its_status_map_and_warns_about_states_left_out() {
    let yaml = format!(
        "{BASE}jira:\n  url: https://acme.atlassian.net/\n  email: bot@acme.com\n  api_token: t0ken-value\n  \
         project: OPS\n  webhook_secret: hook-s3cret\n  statuses: {{ awaiting_approval: Waiting, succeeded: Done }}\n"
    );
    let loaded = parse_config_str("docket.yaml", &yaml, &env).unwrap_or_else(|p| panic!("should load:\n{p}"));
    let jira = loaded.config.sections.get::<JiraSettings>("jira").unwrap();
    assert_eq!(jira.url, "https://acme.atlassian.net");
    assert_eq!(jira.api, Api::Cloud);
    assert_eq!(jira.issue_type, "Task");
    assert_eq!(jira.status_for("succeeded"), Some("Done"));
    assert_eq!(jira.public_url.as_deref(), Some("https://docket.example.com"));
    assert!(!format!("{jira:?}").contains("t0ken-value"));
    assert_eq!(loaded.redactor.redact("t0ken-value and hook-s3cret"), "[redacted] and [redacted]");
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings.iter().any(|w| w.contains("no Jira status for approved, running, failed, rejected, cancelled")),
        "{warnings:?}"
    );
    assert_eq!(loaded.directory.by_id_on("jira", "557058-alice").map(|p| p.id.as_str()), Some("alice"));
}

#[test]
fn jira_mistakes_are_each_reported_at_their_line() {
    let yaml = format!(
        "{BASE}jira:\n  url: acme.atlassian.net\n  api: v9\n  api_token: t\n  project: OPS\n  \
         webhook_secret: s\n  statuses: {{ aproved: Approved }}\n"
    );
    let problems = parse_config_str("docket.yaml", &yaml, &env).unwrap_err().to_string();
    assert!(problems.contains("docket.yaml:5:8: `acme.atlassian.net` is not a URL"), "{problems}");
    assert!(problems.contains("docket.yaml:6:8: `v9` is not a Jira API"), "{problems}");
    assert!(problems.contains("docket.yaml:10:15: `aproved` is not a ticket state"), "{problems}");
}

#[test]
fn jira_cloud_needs_an_email_and_data_center_does_not() {
    let jira = |extra: &str| {
        format!(
            "{BASE}jira:\n  url: https://jira.acme.com\n  api_token: t\n  project: OPS\n  webhook_secret: s\n{extra}"
        )
    };
    let problems = parse_config_str("docket.yaml", &jira(""), &env).unwrap_err().to_string();
    assert!(problems.contains("needs `email` for Jira Cloud"), "{problems}");
    let loaded = parse_config_str("docket.yaml", &jira("  api: v2\n"), &env).unwrap();
    let settings = loaded.config.sections.get::<JiraSettings>("jira").unwrap();
    assert_eq!(settings.api, Api::DataCenter);
    assert_eq!(settings.rest(), "https://jira.acme.com/rest/api/2");
}

#[test]
fn reads_servicenow() {
    let yaml = format!(
        "{BASE}servicenow:\n  instance_url: https://acme.service-now.com\n  username: docket\n  \
         password: pa55-word\n  table: incident\n  callback_secret: cb-s3cret\n"
    );
    let loaded = parse_config_str("docket.yaml", &yaml, &env).unwrap_or_else(|p| panic!("should load:\n{p}"));
    let settings = loaded.config.sections.get::<ServiceNowSettings>("servicenow").unwrap();
    assert_eq!(settings.table, Table::Incident);
    assert_eq!(settings.username, "docket");
    assert_eq!(loaded.redactor.redact("pa55-word cb-s3cret"), "[redacted] [redacted]");
    let bad = yaml.replace("table: incident", "table: problem");
    let problems = parse_config_str("docket.yaml", &bad, &env).unwrap_err().to_string();
    assert!(problems.contains("`problem` is not a table Docket writes"), "{problems}");
}

const WORKFLOW: &str = "id: restart\ntitle: Restart\nsteps:\n  - name: go\n    exec: [true]\n";

#[test]
fn a_workflow_chooses_the_systems_its_tickets_are_mirrored_to() {
    let every = parse_workflow_str("w.yaml", WORKFLOW, &env).unwrap();
    assert_eq!(every.mirror, None);
    assert!(every.mirrors_to("jira") && every.mirrors_to("servicenow"));
    let only = parse_workflow_str("w.yaml", &format!("{WORKFLOW}mirror: [servicenow]\n"), &env).unwrap();
    assert_eq!(only.mirror, Some(vec!["servicenow".to_owned()]));
    assert!(only.mirrors_to("servicenow") && !only.mirrors_to("jira"));
    let none = parse_workflow_str("w.yaml", &format!("{WORKFLOW}mirror: []\n"), &env).unwrap();
    assert!(!none.mirrors_to("jira") && !none.mirrors_to("servicenow"));
}

#[test]
fn a_mirror_naming_an_unknown_system_is_reported_at_its_line() {
    let yaml = format!("{WORKFLOW}mirror: [servicenow, jirra, slack]\n");
    let problems = parse_workflow_str("w.yaml", &yaml, &env).unwrap_err().to_string();
    assert!(problems.contains("w.yaml:6:22: unknown ticketing system `jirra` (did you mean `jira`?)"), "{problems}");
    assert!(problems.contains("w.yaml:6:29: unknown ticketing system `slack` (use jira or servicenow)"), "{problems}");
    let twice = parse_workflow_str("w.yaml", &format!("{WORKFLOW}mirror: [jira, jira]\n"), &env);
    assert!(twice.unwrap_err().to_string().contains("w.yaml:6:16: `jira` is listed twice"));
    let scalar = parse_workflow_str("w.yaml", &format!("{WORKFLOW}mirror: jira\n"), &env);
    assert!(scalar.unwrap_err().to_string().contains("w.yaml:6:9: expected a list of ticketing systems"));
}

#[test]
fn servicenow_signs_in_with_oauth_when_given_a_client() {
    let section = |auth: &str| {
        format!("{BASE}servicenow:\n  instance_url: https://acme.service-now.com\n{auth}  callback_secret: cb-s3cret\n")
    };
    let read = |auth: &str| {
        let loaded = parse_config_str("docket.yaml", &section(auth), &env).unwrap_or_else(|p| panic!("loads:\n{p}"));
        let settings = loaded.config.sections.get::<ServiceNowSettings>("servicenow").unwrap().clone();
        (settings, loaded.redactor)
    };
    let (basic, _) = read("  username: docket\n  password: pa55-word\n");
    assert_eq!(basic.grant(), None);
    let (password, redactor) =
        read("  username: docket\n  password: pa55-word\n  client_id: abc123\n  client_secret: cl1ent-s3cret\n");
    assert_eq!(password.grant(), Some(Grant::Password));
    assert_eq!(password.oauth.as_ref().map(|o| o.client_id.as_str()), Some("abc123"));
    assert_eq!(redactor.redact("cl1ent-s3cret pa55-word"), "[redacted] [redacted]");
    assert!(!format!("{password:?}").contains("cl1ent-s3cret"));
    let (credentials, _) = read("  client_id: abc123\n  client_secret: cl1ent-s3cret\n");
    assert_eq!(credentials.grant(), Some(Grant::ClientCredentials));

    let problems = |auth: &str| parse_config_str("docket.yaml", &section(auth), &env).unwrap_err().to_string();
    let half = problems("  username: docket\n  password: p\n  client_id: abc123\n");
    assert!(half.contains("docket.yaml:8:14: the servicenow section has `client_id` but no `client_secret`"), "{half}");
    let nothing = problems("");
    assert!(nothing.contains("the servicenow section needs `username`"), "{nothing}");
    let no_password = problems("  username: docket\n");
    assert!(no_password.contains("the servicenow section needs `password`"), "{no_password}");
}

#[test]
fn a_policy_rule_may_choose_the_systems_too() {
    let yaml = "people: [{ id: alice, email: alice@example.com }]\n\
                policies:\n  - { name: quiet, when: \"true\", auto_approve: true, mirror: [servicenow] }\n";
    let loaded = parse_config_str("docket.yaml", yaml, &env).unwrap_or_else(|p| panic!("loads:\n{p}"));
    assert_eq!(loaded.policies.rules[0].mirror, Some(vec!["servicenow".to_owned()]));
    let problems = parse_config_str("docket.yaml", &yaml.replace("[servicenow]", "[servicenw]"), &env).unwrap_err();
    let problems = problems.to_string();
    assert!(
        problems.contains("docket.yaml:3:63: unknown ticketing system `servicenw` (did you mean `servicenow`?)"),
        "{problems}"
    );
}
