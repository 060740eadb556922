//! Benchmarks of the hot rules: a policy decision for a three-stage policy, parameter
//! validation, a request in words read against a catalog, and audit hashing. Targets: a decision in ≤ 20 µs; ≥ 300,000
//! audit records hashed per second per core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use docket_core::audit::{AuditEntry, AuditRecord, GENESIS_HASH};
use docket_core::catalog::param::{Choice, Pattern};
use docket_core::policy::{self, Condition, Notify, Rule, RuleOutcome, StageRule, Variables};
use docket_core::*;
use jiff::tz::TimeZone;

fn choice(values: &[&str]) -> ParamKind {
    ParamKind::Choice { choices: values.iter().map(|v| Choice::new(*v, *v)).collect() }
}

fn spec(name: &str, kind: ParamKind, required: bool) -> ParamSpec {
    ParamSpec { name: name.into(), label: name.into(), help: None, required, default: None, kind }
}

fn workflow() -> Workflow {
    Workflow {
        id: WorkflowId::new("deploy-service"),
        version: "v1".into(),
        title: "Deploy".into(),
        description: String::new(),
        category: "Deployments".into(),
        risk: Risk::High,
        requesters: None,
        examples: vec![],
        params: vec![
            spec("environment", choice(&["dev", "staging", "prod"]), true),
            spec("service", choice(&["api", "web", "worker"]), true),
            spec(
                "version",
                ParamKind::String {
                    pattern: Some(Pattern::new(r"^v?\d+\.\d+\.\d+$").unwrap()),
                    min_length: None,
                    max_length: Some(40),
                },
                true,
            ),
            spec("replicas", ParamKind::Integer { min: Some(1), max: Some(50) }, false),
            spec("reason", ParamKind::Text { min_length: None, max_length: Some(500) }, false),
        ],
        mirror: None,
        matcher: Default::default(),
        concurrency: None,
        steps: vec![],
        run_as: None,
    }
}

fn rule(name: &str, when: &str, outcome: RuleOutcome) -> Rule {
    Rule {
        name: name.into(),
        when: Condition::compile(when).unwrap(),
        outcome,
        approval_ttl: Duration::from_secs(1800),
        request_ttl: Duration::from_secs(86400),
        notify: Notify::default(),
        mirror: None,
    }
}

fn stage(name: &str, from: &str, when: &str) -> StageRule {
    StageRule {
        name: name.into(),
        from: vec![Principal::parse(from).unwrap()],
        count: 1,
        when: Some(Condition::compile(when).unwrap()),
    }
}

/// A weekend freeze that does not match, then a production rule with three conditional stages.
fn policies() -> PolicySet {
    PolicySet {
        rules: vec![
            rule(
                "weekend-freeze",
                r#"params.environment == "prod" && now.weekday in ["Sat", "Sun"]"#,
                RuleOutcome::Deny("frozen".into()),
            ),
            rule(
                "production",
                r#"params.environment == "prod" && workflow.category == "Deployments""#,
                RuleOutcome::Stages(vec![
                    stage("sre", "group:sre", r#"!("sre" in requester.groups)"#),
                    stage("security", "group:security", r#"workflow.risk == "high""#),
                    stage("management", "group:managers", r#"now.hour < 9 || now.hour >= 17"#),
                ]),
            ),
            rule("everything-else", "true", RuleOutcome::AutoApprove),
        ],
    }
}

fn raw_params() -> RawParams {
    let mut raw = BTreeMap::new();
    raw.insert("environment".to_owned(), "prod".into());
    raw.insert("service".to_owned(), "api".into());
    raw.insert("version".to_owned(), "1.4.2".into());
    raw.insert("replicas".to_owned(), "3".into());
    raw.insert("reason".to_owned(), "Roll out the fix for the checkout timeout.".into());
    raw
}

fn benches(c: &mut Criterion) {
    let wf = workflow();
    let policies = policies();
    let zone = TimeZone::get("Europe/Berlin").unwrap();
    let now: jiff::Timestamp = "2026-11-24T18:30:00Z".parse().unwrap();
    let raw = raw_params();
    let params = validate_params(&wf.params, &raw).unwrap();
    let requester = PersonId::new("alice");
    let dev = GroupId::new("dev");
    let groups = vec![&dev];

    let decision = policy::decide(&policies, &Variables::new(&wf, &params, &requester, &groups, now, &zone));
    assert!(decision.explanation.starts_with("needs 1 approval from sre, then 1 approval from security, then 1"));

    c.bench_function("policy decision (3 stages, variables built per call)", |b| {
        b.iter(|| {
            let vars = Variables::new(&wf, black_box(&params), &requester, &groups, now, &zone);
            black_box(policy::decide(&policies, &vars))
        })
    });

    c.bench_function("param validation (5 params)", |b| {
        b.iter(|| black_box(validate_params(&wf.params, black_box(&raw))))
    });

    // A catalog of 50 workflows like the deploy one, each with an example; the words name one.
    let catalog: Vec<Workflow> = (0..50)
        .map(|i| {
            let mut w = workflow();
            w.id = WorkflowId::new(format!("deploy-{i}"));
            w.title = format!("Deploy to region {i}");
            w.examples = vec![
                docket_core::catalog::example::Example::parse(&format!(
                    "deploy {{service}} {{version}} to {{environment}} in region{i}"
                ))
                .unwrap(),
            ];
            w
        })
        .collect();
    let words = "please deploy api version 1.4.2 to prod in region7 because the checkout times out";
    assert!(matches!(
        docket_core::catalog::matcher::match_request(&catalog, words),
        docket_core::catalog::matcher::RequestMatch::Found(m) if m.workflow.id.as_str() == "deploy-7"
    ));
    c.bench_function("request in words (50 workflows, 14 words)", |b| {
        b.iter(|| black_box(docket_core::catalog::matcher::match_request(&catalog, black_box(words))))
    });

    let entry = AuditEntry {
        at: now,
        actor: "bob".into(),
        action: "ticket.approval_given".into(),
        ticket: Some("DKT-42".into()),
        details: serde_json::json!({
            "stage": "sre",
            "digest": "9f2c1e0b8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c",
            "comment": "Looks right; the diff only touches the image tag.",
            "surface": "slack",
        }),
    };
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hash one record", |b| {
        let mut prev = AuditRecord::chain(entry.clone(), 0, GENESIS_HASH);
        b.iter(|| {
            let next = AuditRecord::chain(entry.clone(), prev.seq, &prev.hash);
            prev = black_box(next);
        })
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
