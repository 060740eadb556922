//! The one small interface through which plug-ins read their part of the files, so `docket
//! check` still reports every error of every part at once with `file:line:column`:
//!
//! - a [`StepKind`] reads its action wherever a step (or a step's `plan`) names it;
//! - a [`Section`] reads one top-level section of `docket.yaml` (`slack:`, `databases:`), may
//!   give each person an id on it (`people[].slack`) and may be a `notify` target of policies;
//! - [`Plugins`] is the list the composition root hands to the loader.
//!
//! Plug-ins decode with the same tools the loader uses ([`Fields`], [`Report`], the typed
//! readers), so their messages read like every other. What a section decodes to is the
//! plug-in's own type; the composition root gets it back from [`Sections`].

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use docket_core::catalog::template::Template;
use docket_core::{Action, JsonTemplate};

pub use crate::decode::{
    Fields, Opt, Seen, boolean, duration, excerpt, ident, int, int_in, key_text, list, list_of, nonempty, open_map,
    text,
};
pub use crate::diagnostic::{Pos, Report};
pub use crate::env::is_var_name;
pub use crate::model::Secret;
pub use crate::node::{Node, Value};
pub use crate::scalar::{Scalar, Typed};
pub use crate::surface::{secret, url};
pub use crate::template::template;

/// Reads one step kind's action from a workflow file.
pub trait StepKind: Send + Sync {
    /// The key a step writes it under (`exec`).
    fn name(&self) -> &'static str;

    /// Whether it may be a step's `plan` (a dry run). A pause, for one, cannot.
    fn plannable(&self) -> bool {
        true
    }

    /// Reads the action written in `node`, reporting every problem in it; `None` when there
    /// were any.
    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action>;
}

/// What a step kind's decoder can use: the workflow's parameters (templates must name one), the
/// report, and references to names other sections declare (checked once everything is read).
#[derive(Debug)]
pub struct StepContext<'a> {
    pub(crate) params: &'a [String],
    pub(crate) report: &'a mut Report,
    pub(crate) references: &'a mut Vec<Reference>,
}

impl StepContext<'_> {
    /// The workflow's declared parameters.
    pub fn params(&self) -> &[String] {
        self.params
    }

    /// Where problems go.
    pub fn report(&mut self) -> &mut Report {
        self.report
    }

    /// A `{{param}}` template in `node`, each placeholder checked against the parameters.
    pub fn template(&mut self, node: &Node) -> Option<Template> {
        crate::template::template(node, self.params, self.report)
    }

    /// A JSON document whose strings are templates (a request body, say), from any YAML value.
    pub fn json_template(&mut self, node: &Node) -> Option<JsonTemplate> {
        crate::json::json_template(node, self.params, self.report)
    }

    /// Notes that this step names `name` of section `section` (a database under
    /// `databases`), to be checked against what the section declares; `what` names the thing
    /// in the message ("unknown database `x`").
    pub fn refer(&mut self, section: &'static str, what: &'static str, name: impl Into<String>, at: Pos) {
        self.references.push(Reference { section, what, name: name.into(), at });
    }
}

/// A name a step uses that another section must declare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The section that declares such names (`databases`).
    pub section: &'static str,
    /// What the name is, for messages (`database`).
    pub what: &'static str,
    /// The name as written.
    pub name: String,
    /// Where it is written.
    pub at: Pos,
}

/// Reads one top-level section of `docket.yaml`.
pub trait Section: Send + Sync {
    /// The section's key (`slack`).
    fn key(&self) -> &'static str;

    /// The key under which each person in `people` may have an id on this surface or system
    /// (usually the section's key), and how messages name such an id ("Slack user"), if
    /// people have ids there.
    fn person_key(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// Whether a policy's `notify` may name a target here (under the section's key).
    fn notifies(&self) -> bool {
        false
    }

    /// Whether a policy stage may name this system in `from` (`from: [jira]`, read as
    /// `system:jira`): approvals given there (a ticketing system's own approval) count for it.
    fn approves(&self) -> bool {
        false
    }

    /// Whether a running server takes a change to this section on when its configuration is
    /// reloaded: a step kind's settings do (its runner is rebuilt); a surface's or anything set
    /// up once at start (a connection, a listener) need a restart.
    fn reloads(&self) -> bool {
        false
    }

    /// Reads the section written in `node`, reporting every problem in it.
    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded;
}

/// What a section's decoder can use besides the node.
#[derive(Debug)]
pub struct SectionContext<'a> {
    pub(crate) report: &'a mut Report,
    pub(crate) secrets: &'a mut Vec<String>,
    pub(crate) public_url: Option<&'a str>,
    pub(crate) folder: &'a std::path::Path,
}

impl SectionContext<'_> {
    /// Where problems go.
    pub fn report(&mut self) -> &mut Report {
        self.report
    }

    /// Marks a setting as secret, so it is masked wherever Docket writes (values read from
    /// `${VAR}` are secrets already).
    pub fn secret(&mut self, value: &Secret) {
        self.secrets.push(value.expose().to_owned());
    }

    /// `server.public_url`, when it is set and valid.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url
    }

    /// The folder `docket.yaml` is in: relative paths in it are relative to this folder.
    pub fn folder(&self) -> &std::path::Path {
        self.folder
    }
}

/// A section as read: the names it declares for steps to refer to (even when invalid, so a step
/// naming one is not also reported), and its value when it had no errors.
#[derive(Default)]
pub struct Decoded {
    /// Names steps may refer to (`databases` declares database names).
    pub names: BTreeSet<String>,
    /// The section's own value, when it is valid.
    pub value: Option<Arc<dyn Any + Send + Sync>>,
}

impl Decoded {
    /// A valid section.
    pub fn value<T: Any + Send + Sync>(value: T) -> Self {
        Self { names: BTreeSet::new(), value: Some(Arc::new(value)) }
    }

    /// A section with errors (already reported).
    pub fn invalid() -> Self {
        Self::default()
    }

    /// The same, declaring `names` for steps to refer to.
    pub fn with_names(mut self, names: BTreeSet<String>) -> Self {
        self.names = names;
        self
    }
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded").field("names", &self.names).field("valid", &self.value.is_some()).finish()
    }
}

/// The plug-ins the loader knows: step kinds, sections, and extra keys people and `notify` may
/// carry (a test that holds chat ids without running that chat).
#[derive(Clone, Default)]
pub struct Plugins {
    pub(crate) kinds: Vec<Arc<dyn StepKind>>,
    pub(crate) sections: Vec<Arc<dyn Section>>,
    pub(crate) person_keys: BTreeMap<&'static str, &'static str>,
    pub(crate) notify_keys: BTreeSet<&'static str>,
    pub(crate) approval_systems: BTreeSet<&'static str>,
}

impl Plugins {
    /// No plug-ins: workflows can name no step kind.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a step kind. A kind registered twice keeps its first decoder.
    pub fn step_kind(mut self, kind: Arc<dyn StepKind>) -> Self {
        if !self.kinds.iter().any(|k| k.name() == kind.name()) {
            self.kinds.push(kind);
        }
        self
    }

    /// Adds a section (and the person and `notify` keys it brings).
    pub fn section(mut self, section: Arc<dyn Section>) -> Self {
        if let Some((key, label)) = section.person_key() {
            self.person_keys.insert(key, label);
        }
        if section.notifies() {
            self.notify_keys.insert(section.key());
        }
        if section.approves() {
            self.approval_systems.insert(section.key());
        }
        if !self.sections.iter().any(|s| s.key() == section.key()) {
            self.sections.push(section);
        }
        self
    }

    /// Lets people carry an id under `key` (named `label` in messages) without a section to
    /// read (tests).
    pub fn person_key(mut self, key: &'static str, label: &'static str) -> Self {
        self.person_keys.insert(key, label);
        self
    }

    /// Lets policies `notify` a target under `key` without a section to read (tests).
    pub fn notify_key(mut self, key: &'static str) -> Self {
        self.notify_keys.insert(key);
        self
    }

    /// Every other plug-in's too.
    pub fn with(mut self, other: Plugins) -> Self {
        for kind in other.kinds {
            self = self.step_kind(kind);
        }
        for section in other.sections {
            self = self.section(section);
        }
        self.person_keys.extend(other.person_keys);
        self.notify_keys.extend(other.notify_keys);
        self.approval_systems.extend(other.approval_systems);
        self
    }

    /// The step kinds' names, in alphabetical order.
    pub fn kind_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.kinds.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names
    }

    /// Whether section `key` is one a reload takes on ([`Section::reloads`]).
    pub(crate) fn reloads(&self, key: &str) -> bool {
        self.sections.iter().any(|s| s.key() == key && s.reloads())
    }

    pub(crate) fn kind(&self, name: &str) -> Option<&Arc<dyn StepKind>> {
        self.kinds.iter().find(|k| k.name() == name)
    }
}

impl fmt::Debug for Plugins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugins")
            .field("kinds", &self.kind_names())
            .field("sections", &self.sections.iter().map(|s| s.key()).collect::<Vec<_>>())
            .finish()
    }
}

/// The valid sections a configuration had, by key, each as its plug-in's own type.
#[derive(Clone, Default)]
pub struct Sections {
    pub(crate) values: BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>,
}

impl Sections {
    /// Section `key` as `T`, when it was written (and is the plug-in's type `T`).
    pub fn get<T: Any + Send + Sync>(&self, key: &str) -> Option<&T> {
        self.values.get(key).and_then(|value| value.downcast_ref::<T>())
    }

    /// Whether section `key` was written.
    pub fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }
}

impl fmt::Debug for Sections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.values.keys()).finish()
    }
}
