//! One workflow file to a [`Workflow`], plus what later checks need from it: its id, declared
//! parameter names, and the people and other sections' names (databases) it refers to, each
//! with its place in the file.

use docket_core::catalog::example::Example;
use docket_core::catalog::workflow::Risk;
use docket_core::{Principal, Workflow, WorkflowId};
use sha2::{Digest as _, Sha256};

use crate::decode::{Fields, excerpt, ident, list, list_of, nonempty, text};
use crate::diagnostic::{Pos, Report};
use crate::env::{self, Env};
use crate::node::Node;
use crate::param::params;
use crate::plugin::{Plugins, Reference};
use crate::step::{StepsInput, steps};
use crate::template::{example, template};
use crate::yaml;
use docket_core::text::did_you_mean;

const KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "category",
    "risk",
    "requesters",
    "examples",
    "params",
    "concurrency",
    "steps",
    "run_as",
    "mirror",
];

/// What one workflow file holds, as far as it could be read.
#[derive(Debug, Default)]
pub(crate) struct WorkflowFile {
    /// The id and where it is written.
    pub(crate) id: Option<(String, Pos)>,
    /// Declared parameter names, including those of invalid declarations.
    pub(crate) params: Vec<String>,
    /// The category, when it could be read (agents' `may_request` names categories).
    pub(crate) category: Option<String>,
    /// `requesters`, to check against the directory.
    pub(crate) requesters: Vec<(Principal, Pos)>,
    /// Names steps use that other sections declare (a `sql` step's database).
    pub(crate) references: Vec<Reference>,
    /// Whether the YAML could be read at all (if not, nothing above is known).
    pub(crate) readable: bool,
    /// The workflow, when the file has no errors.
    pub(crate) workflow: Option<Workflow>,
}

/// Reads one workflow file's `source`; `${VAR}` values read go to `secrets`.
pub(crate) fn workflow_file(
    source: &str,
    env: Env<'_>,
    plugins: &Plugins,
    secrets: &mut Vec<String>,
    report: &mut Report,
) -> WorkflowFile {
    let mut file = WorkflowFile::default();
    let Some(mut root) = yaml::parse(source, report) else { return file };
    file.readable = true;
    if root.is_null() {
        report.error(root.pos, "the file is empty; a workflow needs at least `id`, `title` and `steps`");
        return file;
    }
    env::apply(&mut root, env, report, secrets);
    let before = report.error_count();
    let built = decode(&root, &mut file, plugins, report);
    if report.error_count() == before
        && let Some(mut workflow) = built
    {
        workflow.version = hex::encode(Sha256::digest(source.as_bytes()));
        file.workflow = Some(workflow);
    }
    file
}

fn decode(root: &Node, file: &mut WorkflowFile, plugins: &Plugins, report: &mut Report) -> Option<Workflow> {
    let fields = Fields::open(root, "workflow", KEYS, report)?;
    let id = fields.req("id", report, ident);
    if let (Some(id), Some(at)) = (&id, fields.get("id")) {
        file.id = Some((id.clone(), at.pos));
    }
    let title = fields.req("title", report, nonempty);
    let description = fields.opt("description", report, text).or(String::new());
    let category = fields.opt("category", report, nonempty).or("General".to_owned());
    file.category.clone_from(&category);
    let risk = fields.opt("risk", report, risk).or(Risk::Medium);
    let requesters = fields.opt("requesters", report, |n, r| requesters(n, &mut file.requesters, r)).optional();
    let (names, specs) = params(fields.get("params"), report);
    file.params = names;
    let params = &file.params;
    let examples = fields.opt("examples", report, |n, r| list_of(n, "examples", r, |n, r| example(n, params, r)));
    let concurrency = fields.opt("concurrency", report, |n, r| template(n, params, r)).optional();
    let mut input = StepsInput { params, plugins, references: &mut file.references };
    let steps = fields.req("steps", report, |n, r| steps(n, &mut input, r));
    let run_as = fields.opt("run_as", report, crate::surface::user_name).optional();
    let mirror = fields.opt("mirror", report, |n, r| mirror(n, &plugins.approval_systems, r)).optional();
    Some(Workflow {
        id: WorkflowId::new(id?),
        version: String::new(),
        title: title?,
        description: description?,
        category: category?,
        risk: risk?,
        requesters: requesters?,
        examples: examples.or(Vec::<Example>::new())?,
        params: specs?,
        concurrency: concurrency?,
        steps: steps?,
        run_as: run_as?,
        mirror: mirror?,
        matcher: Default::default(),
    })
}

/// `mirror: [jira, servicenow]` (a workflow's or a policy rule's): the ticketing systems
/// tickets are mirrored to (`[]` for none), each one of the `known` integrations.
pub(crate) fn mirror(
    node: &Node,
    known: &std::collections::BTreeSet<&'static str>,
    report: &mut Report,
) -> Option<Vec<String>> {
    let names = list_of(node, "ticketing systems", report, |n, r| {
        let name = nonempty(n, r)?;
        if known.contains(name.as_str()) {
            return Some((name, n.pos));
        }
        let hint = did_you_mean(&name, known.iter().copied()).unwrap_or_else(|| match known.is_empty() {
            true => "no ticketing system is available".to_owned(),
            false => format!("use {}", known.iter().copied().collect::<Vec<_>>().join(" or ")),
        });
        r.error_hint(n.pos, format!("unknown ticketing system `{}`", excerpt(&name)), hint);
        None
    })?;
    let mut out: Vec<String> = Vec::new();
    for (name, at) in names {
        if out.contains(&name) {
            report.error(at, format!("`{name}` is listed twice"));
            return None;
        }
        out.push(name);
    }
    Some(out)
}

fn risk(node: &Node, report: &mut Report) -> Option<Risk> {
    let value = text(node, report)?;
    if let Some(risk) = Risk::parse(&value) {
        return Some(risk);
    }
    let levels = ["low", "medium", "high"];
    let hint = did_you_mean(&value, levels).unwrap_or_else(|| "write low, medium or high".to_owned());
    report.error_hint(node.pos, format!("unknown risk `{}`", excerpt(&value)), hint);
    None
}

fn requesters(node: &Node, found: &mut Vec<(Principal, Pos)>, report: &mut Report) -> Option<Vec<Principal>> {
    if list(node, "people or groups", report)?.is_empty() {
        let message = "an empty `requesters` list lets nobody request this workflow";
        report.error_hint(node.pos, message, "remove `requesters` to let everyone request it");
        return None;
    }
    let all = list_of(node, "people or groups", report, |n, r| principal(n, r).map(|p| (p, n.pos)))?;
    found.extend(all.iter().cloned());
    Some(all.into_iter().map(|(p, _)| p).collect())
}

/// `alice`, `group:sre` or `oncall:sre-primary`.
pub(crate) fn principal(node: &Node, report: &mut Report) -> Option<Principal> {
    let value = text(node, report)?;
    Principal::parse(&value).map_err(|why| report.error(node.pos, why)).ok()
}
