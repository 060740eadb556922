//! A small world built in code: people, a rotation, a deploy workflow and a production policy.

use std::collections::BTreeSet;

use docket_core::catalog::param::{Choice, Pattern};
use docket_core::catalog::template::Template;
use docket_core::catalog::workflow::Retry;
use docket_core::policy::{Condition, Notify, Rule, RuleOutcome, StageRule};
use docket_core::ticket::{self, Origin};
use docket_core::*;
use jiff::Timestamp;
use jiff::tz::TimeZone;

pub(crate) fn zone() -> TimeZone {
    TimeZone::get("Europe/Berlin").unwrap()
}

/// Tuesday 2026-11-24, 10:00 in Berlin.
pub(crate) fn tuesday() -> Timestamp {
    "2026-11-24T10:00[Europe/Berlin]".parse::<jiff::ZonedDateTime>().unwrap().timestamp()
}

/// Saturday 2026-11-28, 10:00 in Berlin.
pub(crate) fn saturday() -> Timestamp {
    "2026-11-28T10:00[Europe/Berlin]".parse::<jiff::ZonedDateTime>().unwrap().timestamp()
}

pub(crate) fn minutes(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(n)
}

fn person(id: &str, groups: &[&str], admin: bool) -> Person {
    Person {
        id: PersonId::new(id),
        name: id.to_uppercase(),
        email: Some(format!("{id}@example.com")),
        ids: [("chat".to_owned(), format!("U0{}", id.to_uppercase()))].into(),
        oidc_subject: None,
        groups: groups.iter().map(|g| GroupId::new(*g)).collect::<BTreeSet<_>>(),
        admin,
    }
}

/// alice and mallory develop; bob and carol are SRE (and rotate on call); dave is security;
/// erin is both SRE and security; olga is an admin. Two agents: `assistant` acts for alice and
/// may request the deploy workflow by id; `bob-bot` acts for bob, who approves deploys, and may
/// request the deployments category.
pub(crate) fn directory() -> Directory {
    let people = vec![
        person("alice", &["dev"], false),
        person("mallory", &["dev"], false),
        person("bob", &["sre"], false),
        person("carol", &["sre"], false),
        person("dave", &["security"], false),
        person("erin", &["sre", "security"], false),
        person("olga", &[], true),
    ];
    let rotation = Rotation {
        id: RotationId::new("sre-primary"),
        people: vec![PersonId::new("bob"), PersonId::new("carol")],
        shift: Duration::parse("1w").unwrap(),
        start: "2026-01-05T09:00".parse().unwrap(),
        zone: zone(),
    };
    let agent = |id: &str, owner: &str, may: &str| Agent {
        id: id.into(),
        name: id.into(),
        owner: PersonId::new(owner),
        may_request: vec![may.into()],
    };
    Directory::new(people, vec![], vec![], vec![rotation])
        .with_agents(vec![agent("assistant", "alice", "deploy-service"), agent("bob-bot", "bob", "deployments")])
}

fn choice(values: &[&str]) -> ParamKind {
    ParamKind::Choice { choices: values.iter().map(|v| Choice::new(*v, *v)).collect() }
}

fn param(name: &str, kind: ParamKind, required: bool) -> ParamSpec {
    ParamSpec { name: name.into(), label: name.into(), help: None, required, default: None, kind }
}

/// A stand-in step kind for core's tests: a command line whose words are templates.
#[derive(Debug)]
struct CommandLine(Vec<Template>);

impl ActionSpec for CommandLine {
    fn kind(&self) -> &'static str {
        "command"
    }

    fn templates(&self) -> Vec<&Template> {
        self.0.iter().collect()
    }

    fn describe(&self, params: &Params) -> ActionView {
        let argv: Vec<String> = self.0.iter().map(|t| t.render(params)).collect();
        ActionView { summary: argv.join(" "), details: Vec::new(), document: serde_json::json!({ "argv": argv }) }
    }
}

fn exec(argv: &[&str]) -> Action {
    Action::new(CommandLine(argv.iter().map(|a| Template::parse(a).unwrap()).collect()))
}

/// A stand-in pause.
#[derive(Debug)]
struct Pause(Duration);

impl ActionSpec for Pause {
    fn kind(&self) -> &'static str {
        "pause"
    }

    fn templates(&self) -> Vec<&Template> {
        Vec::new()
    }

    fn describe(&self, _params: &Params) -> ActionView {
        ActionView {
            summary: format!("pause {}", self.0),
            details: Vec::new(),
            document: serde_json::json!({ "duration": self.0.to_string() }),
        }
    }
}

/// A three-step deploy: a safe rollout, a bake, and a step that is not safe to repeat.
pub(crate) fn workflow(risk: Risk) -> Workflow {
    Workflow {
        id: WorkflowId::new("deploy-service"),
        version: "v1".into(),
        title: "Deploy a service".into(),
        description: "Roll out an image tag.".into(),
        category: "Deployments".into(),
        risk,
        requesters: Some(vec![Principal::parse("group:dev").unwrap(), Principal::parse("group:sre").unwrap()]),
        examples: vec![],
        params: vec![
            param("environment", choice(&["dev", "staging", "prod"]), true),
            param("service", choice(&["api", "web"]), true),
            param(
                "version",
                ParamKind::String {
                    pattern: Some(Pattern::new(r"^v?\d+\.\d+\.\d+$").unwrap()),
                    min_length: None,
                    max_length: None,
                },
                true,
            ),
            param("reason", ParamKind::Text { min_length: None, max_length: Some(500) }, false),
        ],
        mirror: None,
        matcher: Default::default(),
        concurrency: Some(Template::parse("deploy/{{service}}/{{environment}}").unwrap()),
        steps: vec![
            Step {
                name: "rollout".into(),
                action: exec(&["kubectl", "--context", "{{environment}}", "set", "image", "app={{version}}"]),
                plan: None,
                retry: Retry::Safe,
            },
            Step {
                name: "bake".into(),
                action: Action::new(Pause(Duration::parse("2m").unwrap())),
                plan: None,
                retry: Retry::Never,
            },
            Step {
                name: "announce".into(),
                action: exec(&["announce", "{{service}}"]),
                plan: None,
                retry: Retry::Never,
            },
        ],
        run_as: None,
    }
}

pub(crate) fn rule(name: &str, when: &str, outcome: RuleOutcome) -> Rule {
    Rule {
        name: name.into(),
        when: Condition::compile(when).unwrap(),
        outcome,
        approval_ttl: Duration::parse("30m").unwrap(),
        request_ttl: Duration::parse("24h").unwrap(),
        notify: Notify::default(),
        mirror: None,
    }
}

pub(crate) fn stage(name: &str, from: &[&str], count: u32, when: Option<&str>) -> StageRule {
    StageRule {
        name: name.into(),
        from: from.iter().map(|p| Principal::parse(p).unwrap()).collect(),
        count,
        when: when.map(|w| Condition::compile(w).unwrap()),
    }
}

/// Weekend freeze, then production (sre, then security for high risk), staging auto-approved,
/// and nothing else allowed.
pub(crate) fn policies() -> PolicySet {
    PolicySet {
        rules: vec![
            rule(
                "weekend-freeze",
                r#"params.environment == "prod" && now.weekday in ["Sat", "Sun"]"#,
                RuleOutcome::Deny("Production is frozen at weekends.".into()),
            ),
            rule(
                "production",
                r#"params.environment == "prod""#,
                RuleOutcome::Stages(vec![
                    stage("sre", &["oncall:sre-primary", "group:sre"], 1, None),
                    stage("security", &["group:security"], 1, Some(r#"workflow.risk == "high""#)),
                ]),
            ),
            rule("staging", r#"params.environment == "staging""#, RuleOutcome::AutoApprove),
        ],
    }
}

/// A world: what the state machine consults.
pub(crate) struct World {
    pub(crate) workflow: Workflow,
    pub(crate) policies: PolicySet,
    pub(crate) directory: Directory,
    pub(crate) zone: TimeZone,
}

impl World {
    pub(crate) fn new(risk: Risk) -> Self {
        Self { workflow: workflow(risk), policies: policies(), directory: directory(), zone: zone() }
    }

    pub(crate) fn rules(&self) -> Rules<'_> {
        Rules { workflow: &self.workflow, policies: &self.policies, directory: &self.directory, zone: &self.zone }
    }
}

pub(crate) fn raw(environment: &str) -> RawParams {
    [("environment", environment), ("service", "api"), ("version", "1.4.2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
        .collect()
}

pub(crate) fn who(id: &str) -> Actor {
    Actor::person(id)
}

/// A ticket with its event history, driven through the state machine.
pub(crate) struct Driven {
    pub(crate) ticket: Ticket,
    pub(crate) log: Vec<(Event, Timestamp)>,
}

impl Driven {
    /// alice requests `environment` at `now`; the ticket is left in `planning`.
    pub(crate) fn request(world: &World, environment: &str, now: Timestamp) -> Self {
        Self::request_as(world, &who("alice"), environment, now)
    }

    /// `actor` requests `environment` at `now`; the ticket is left in `planning`.
    pub(crate) fn request_as(world: &World, actor: &Actor, environment: &str, now: Timestamp) -> Self {
        let new = NewTicket {
            id: TicketId::new("DKT", 1),
            workflow: world.workflow.id.clone(),
            params: raw(environment),
            origin: Origin { surface: "test".into(), ..Origin::default() },
        };
        let events = ticket::request(&new, actor, &world.rules(), now).unwrap();
        let ticket = Ticket::replay(events.iter().map(|e| (e, now))).unwrap();
        Self { ticket, log: events.into_iter().map(|e| (e, now)).collect() }
    }

    /// Issues a command; applies its events if accepted.
    pub(crate) fn run(
        &mut self,
        world: &World,
        command: Command,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Vec<Event>, Refusal> {
        let events = ticket::decide(&self.ticket, &command, actor, &world.rules(), now)?;
        for e in &events {
            self.ticket.apply(e, now);
            self.log.push((e.clone(), now));
        }
        Ok(events)
    }

    /// Records the rendered plan (as the engine does for workflows without dry runs).
    pub(crate) fn plan(&mut self, world: &World, now: Timestamp) {
        let plan = docket_core::plan::render_plan(
            &world.workflow,
            &self.ticket.params,
            &docket_core::redact::Redactor::default(),
        );
        self.run(world, Command::RecordPlan { result: Ok(plan) }, &Actor::System, now).unwrap();
    }

    pub(crate) fn digest(&self) -> Digest {
        self.ticket.digest.unwrap()
    }

    pub(crate) fn approve(&mut self, world: &World, id: &str, now: Timestamp) -> Result<Vec<Event>, Refusal> {
        let digest = self.digest();
        self.run(world, Command::Approve { digest, comment: None }, &who(id), now)
    }
}
