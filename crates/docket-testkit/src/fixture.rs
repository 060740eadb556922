//! The fixture configuration: a small team, one deploy workflow and a policy where staging is
//! automatic and prod needs two stages. Tests that need something else pass their own files.

/// `docket.yaml` of the fixture.
pub const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
timezone: UTC
ticket_prefix: DKT

people:
  - { id: alice, name: Alice Ng, email: alice@example.com, slack: U0ALICE, teams: aad-alice, groups: [dev] }
  - { id: bob, name: Bob Ruiz, email: bob@example.com, slack: U0BOB, teams: aad-bob, groups: [sre] }
  - { id: carol, name: Carol Diaz, email: carol@example.com, slack: U0CAROL, teams: aad-carol, groups: [sre] }
  - { id: dave, name: Dave Admin, email: dave@example.com, groups: [ops], admin: true }
  - { id: erin, name: Erin Cole, email: erin@example.com, groups: [dev] }

# carol is always on call, so tests can say who is asked first.
oncall:
  sre-primary: { rotation: [carol], shift: 1w, start: 2026-01-05T09:00 }

groups:
  - { id: dev }
  - { id: sre }
  - { id: ops }

policies:
  - name: staging
    when: params.env == "staging"
    auto_approve: true
  - name: production
    when: params.env == "prod"
    stages:
      - { name: lead, from: [oncall:sre-primary, group:sre], count: 1 }
      - { name: security, from: [group:sre], count: 1 }
    notify: { slack: C0APPROVALS, teams: "19:approvals@thread.tacv2" }
  - name: everything-else
    when: "true"
    auto_approve: true
"#;

/// `workflows/deploy.yaml` of the fixture.
pub const DEPLOY_YAML: &str = r#"id: deploy
title: Deploy a service
description: Roll out a version of a service.
category: Deployments
risk: medium
examples:
  - deploy {service} {version} to {env}
  - ship {service} to {env}
params:
  - { name: service, type: choice, choices: [api, web] }
  - { name: version, type: string, pattern: '^\d+\.\d+\.\d+$' }
  - { name: env, type: choice, choices: [staging, prod] }
concurrency: "{{service}}-{{env}}"
steps:
  - name: rollout
    exec: { argv: [echo, "deploying {{service}} {{version}} to {{env}}"] }
"#;
