//! The example configuration from the design loads cleanly and produces what it says.

use super::*;
use docket_core::catalog::param::ParamKind;
use docket_core::catalog::workflow::Retry;
use docket_core::policy::RuleOutcome;
use docket_core::{Duration, Principal};
use docket_slack::SlackSettings;
use docket_steps::{ExecAction, WaitAction};
use docket_teams::TeamsSettings;

fn loaded() -> docket_config::Loaded {
    match load(&tests_dir().join("good/docket.yaml"), &env) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("the example should load:\n{problems}"),
    }
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse::<jiff::ZonedDateTime>().unwrap().timestamp()
}

#[test]
fn loads_without_errors_or_warnings() {
    let loaded = loaded();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let config = &loaded.config;
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.public_url.as_deref(), Some("https://docket.example.com"));
    assert_eq!(config.storage.url.expose(), "sqlite://./docket.db");
    assert_eq!(config.catalog, tests_dir().join("good/workflows"));
    assert_eq!((config.timezone.as_str(), config.ticket_prefix.as_str()), ("Europe/Berlin", "DKT"));
    assert_eq!(loaded.zone.iana_name(), Some("Europe/Berlin"));
}

#[test]
fn builds_the_directory() {
    let dir = loaded().directory;
    let ids: Vec<&str> = dir.people().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob", "carol", "dave", "erin"]);
    let bob = dir.by_id_on("slack", "U0BOB").unwrap();
    assert_eq!((bob.name.as_str(), bob.id_on("teams")), ("Bob Ruiz", Some("6f1e2a9c-…")));
    assert_eq!(dir.by_email("ALICE@example.com").unwrap().id.as_str(), "alice");
    assert!(dir.in_group(&PersonId::new("carol"), &GroupId::new("sre")));
    assert!(dir.has_group(&GroupId::new("security")));
    assert!(dir.person(&PersonId::new("erin")).unwrap().admin);
    let rotation = dir.rotation(&RotationId::new("sre-primary")).unwrap();
    assert_eq!(rotation.shift, Duration::parse("1w").unwrap());
    assert_eq!(rotation.on_call(at("2026-01-06T12:00[Europe/Berlin]")).unwrap().as_str(), "bob");
    assert_eq!(rotation.on_call(at("2026-01-12T09:00[Europe/Berlin]")).unwrap().as_str(), "carol");
    let bot = dir.agent("deploy-bot").unwrap();
    assert_eq!((bot.name.as_str(), bot.owner.as_str()), ("Deploy bot", "alice"));
    assert_eq!(bot.may_request, ["deploy-service"]);
    assert_eq!(loaded().config.tokens.expires, Some(Duration::parse("30d").unwrap()));
}

#[test]
fn builds_the_policies() {
    let rules = loaded().policies.rules;
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["weekend-freeze", "production", "everything-else"]);
    assert!(matches!(&rules[0].outcome, RuleOutcome::Deny(m) if m == "Production is frozen at weekends."));
    let RuleOutcome::Stages(stages) = &rules[1].outcome else { panic!("production asks for approvals") };
    assert_eq!(stages.len(), 2);
    assert_eq!(
        stages[0].from,
        [Principal::parse("oncall:sre-primary").unwrap(), Principal::parse("group:sre").unwrap()]
    );
    assert_eq!(stages[1].when.as_ref().unwrap().source(), "workflow.risk == \"high\"");
    assert_eq!((rules[1].approval_ttl.to_string(), rules[1].request_ttl.to_string()), ("30m".into(), "1d".into()));
    assert_eq!(rules[1].notify.on("teams"), Some("19:abc@thread.tacv2"));
    assert!(matches!(rules[2].outcome, RuleOutcome::AutoApprove));
    assert_eq!(rules[2].approval_ttl, docket_core::policy::DEFAULT_APPROVAL_TTL);
}

#[test]
fn builds_the_catalog() {
    let catalog = loaded().catalog;
    let workflow = catalog.get(&WorkflowId::new("deploy-service")).unwrap();
    assert_eq!(workflow.category, "Deployments");
    assert_eq!(workflow.version.len(), 64);
    let params: Vec<(&str, &str, bool)> =
        workflow.params.iter().map(|p| (p.name.as_str(), p.kind.type_name(), p.required)).collect();
    assert_eq!(
        params,
        [
            ("environment", "choice", true),
            ("service", "choice", true),
            ("version", "string", true),
            ("reason", "text", false)
        ]
    );
    let ParamKind::String { pattern: Some(pattern), .. } = &workflow.param("version").unwrap().kind else {
        panic!("version has a pattern")
    };
    assert!(pattern.is_match("1.4.2") && !pattern.is_match("latest"));
    assert_eq!(workflow.concurrency.as_ref().unwrap().to_string(), "deploy/{{service}}/{{environment}}");
    assert_eq!(workflow.examples.len(), 2);
    let [rollout, bake] = workflow.steps.as_slice() else { panic!("two steps") };
    assert_eq!((rollout.name.as_str(), rollout.retry), ("rollout", Retry::Safe));
    let exec = rollout.action.spec::<ExecAction>().expect("rollout runs a program");
    assert_eq!(exec.argv.len(), 7);
    assert_eq!(exec.timeout, Some(Duration::parse("5m").unwrap()));
    let plan = rollout.plan.as_ref().and_then(|p| p.spec::<ExecAction>()).expect("the plan runs a program");
    assert_eq!(plan.argv[3].to_string(), "diff");
    assert!(matches!(bake.action.spec::<WaitAction>(), Some(WaitAction(d)) if *d == Duration::parse("2m").unwrap()));
}

#[test]
fn environment_values_are_redacted() {
    let loaded = loaded();
    let slack = loaded.config.sections.get::<SlackSettings>("slack").unwrap();
    assert_eq!(slack.bot_token, env("SLACK_BOT_TOKEN").unwrap());
    assert_eq!(format!("{slack:?}").matches("[redacted]").count(), 3);
    let token = env("SLACK_BOT_TOKEN").unwrap();
    let password = env("TEAMS_APP_PASSWORD").unwrap();
    let text = format!("token={token} password={password}");
    assert_eq!(loaded.redactor.redact(&text), "token=[redacted] password=[redacted]");
    assert_eq!(
        loaded.config.sections.get::<TeamsSettings>("teams").unwrap().token_url,
        "https://login.microsoftonline.com/11111111-…/oauth2/v2.0/token"
    );
}

#[test]
fn the_same_files_parse_from_memory() {
    let read = |p: &str| Source::new(p, std::fs::read_to_string(tests_dir().join("good").join(p)).unwrap());
    let loaded = parse(&read("docket.yaml"), &[read("workflows/deploy-service.yaml")], &env).unwrap();
    assert_eq!(loaded.catalog.len(), 1);
    assert_eq!(loaded.policies.rules.len(), 3);
    let alone = parse_config_str("docket.yaml", &read("docket.yaml").text, &env).unwrap();
    assert!(alone.catalog.is_empty());
    let workflow = parse_workflow_str("deploy.yaml", &read("workflows/deploy-service.yaml").text, &env).unwrap();
    assert_eq!(workflow.version, loaded.catalog.iter().next().unwrap().version);
}

#[test]
fn plain_numbers_stay_text_where_text_is_expected() {
    let text = "id: w\ntitle: 1.10\nparams:\n  - { name: v, default: 1.10, choices: [1.10, 2.0], type: choice }\n\
                steps:\n  - { name: s, exec: [echo, 1.10, 007] }\n";
    let workflow = parse_workflow_str("w.yaml", text, &env).unwrap();
    assert_eq!(workflow.title, "1.10");
    assert_eq!(workflow.params[0].default, Some(docket_core::ParamValue::Str("1.10".into())));
    let exec = workflow.steps[0].action.spec::<ExecAction>().unwrap();
    assert_eq!(exec.argv.iter().map(ToString::to_string).collect::<Vec<_>>(), ["echo", "1.10", "007"]);
}

#[test]
fn a_shell_template_allowed_on_purpose_is_shown_to_approvers() {
    let text = "id: w\ntitle: W\nparams: [{ name: service, type: choice, choices: [api, web] }]\nsteps:\n  \
                - name: restart\n    exec:\n      argv: [sh, -c, \"systemctl restart {{service}}\"]\n      \
                allow_shell_template: true\n";
    let workflow = parse_workflow_str("w.yaml", text, &env).unwrap();
    let params = docket_core::Params::default();
    let view = workflow.steps[0].action.describe(&params);
    assert_eq!(view.document["allow_shell_template"], true, "the digest covers the opt-out");
    assert!(view.details.iter().any(|d| d.label == "Shell templates"), "{:?}", view.details);
    // Without it, the same step does not load, and the plan of an ordinary step does not change.
    let refused = parse_workflow_str("w.yaml", &text.replace("      allow_shell_template: true\n", ""), &env);
    assert!(refused.unwrap_err().to_string().contains("would reach a shell: `sh -c`"));
    let without = text
        .replace("      allow_shell_template: true\n", "")
        .replace("sh, -c, \"systemctl restart ", "systemctl, restart, \"");
    let plain = parse_workflow_str("w.yaml", &without, &env).unwrap();
    assert!(plain.steps[0].action.describe(&params).document.get("allow_shell_template").is_none());
}

#[test]
fn warns_about_rules_that_can_never_match() {
    let text = "people: [{ id: alice }, { id: bob }]\npolicies:\n  - { name: all, when: \"true\", auto_approve: true }\n  \
                - { name: late, when: \"false\", stages: [{ name: s, from: [alice, bob], count: 2 }] }\n";
    let loaded = parse_config_str("docket.yaml", text, &env).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "docket.yaml:4:5: rule `late` is never used: rule `all` (line 3) always matches first (move it above that rule, or remove it)",
            "docket.yaml:4:81: stage `s` needs all 2 of its approvers (alice, bob) (nobody approves their own request, so a request by one of them can never pass this stage)",
        ]
    );
}

#[test]
fn a_missing_configuration_file_is_one_error() {
    let problems = load(&tests_dir().join("no-such-docket.yaml"), &env).unwrap_err().relative_to(&tests_dir());
    assert_eq!(problems.to_string(), "no-such-docket.yaml: cannot be read: it does not exist");
}

#[test]
fn reads_web_sign_in_with_default_scopes_and_a_secret_kept_out_of_messages() {
    let yaml = "server: { public_url: https://docket.example.com }\n\
                people: [{ id: alice, email: alice@example.com }]\n\
                policies: [{ name: all, when: \"true\", auto_approve: true }]\n\
                web:\n  oidc:\n    issuer: https://accounts.example.com/\n    client_id: docket\n    client_secret: s3cret-oidc-value\n";
    let loaded = match parse_config_str("docket.yaml", yaml, &env) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("should load:\n{problems}"),
    };
    let web = loaded.config.sections.get::<docket_web::WebConfig>("web").unwrap();
    let oidc = web.oidc.clone().expect("the oidc section");
    assert_eq!(oidc.issuer, "https://accounts.example.com");
    assert_eq!(oidc.client_id, "docket");
    assert_eq!(oidc.client_secret, "s3cret-oidc-value");
    assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
    let shown = format!("{oidc:?}");
    assert!(shown.contains("[redacted]") && !shown.contains("s3cret-oidc-value"), "{shown}");
    assert_eq!(loaded.redactor.redact("the secret is s3cret-oidc-value"), "the secret is [redacted]");
}

#[test]
fn the_teams_issuer_defaults_to_bot_framework_and_can_be_set() {
    let teams = |extra: &str| {
        let text = format!("teams:\n  app_id: bot\n  app_password: secret\n{extra}");
        parse_config_str("docket.yaml", &text, &env)
            .unwrap()
            .config
            .sections
            .get::<TeamsSettings>("teams")
            .unwrap()
            .clone()
    };
    assert_eq!(teams("").issuer, "https://api.botframework.com");
    assert_eq!(teams("  issuer: https://api.botframework.us\n").issuer, "https://api.botframework.us");
}
