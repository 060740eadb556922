//! The `jira` and `servicenow` sections as the server reads them: values, secrets kept out of
//! messages, a status map that leaves states out as a warning, and every mistake at its line.

use docket_jira::{Api, JiraSettings};
use docket_servicenow::{ServiceNowSettings, Table};

use super::{env, parse_config_str};

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
