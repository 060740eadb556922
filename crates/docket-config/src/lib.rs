//! Docket's file formats: `docket.yaml` and the workflow files, read into core types with every
//! problem reported at once as `file:line:column: what is wrong (hint)`.
//!
//! - [`load`] reads `docket.yaml` and its catalog folder from disk; [`parse`],
//!   [`parse_config_str`] and [`parse_workflow_str`] do the same from text in memory.
//!   [`load_storage`] and [`load_people`] read only the sections commands that work on the
//!   database need, resolving `${VAR}` in those sections alone.
//! - `${VAR}` in any string value is looked up with the function passed as `env` (only the
//!   binary reads the real environment); `$${VAR}` is a literal `${VAR}`. Every value read this
//!   way ends up in [`Loaded::redactor`].
//! - Unknown keys, wrong types, unknown `{{param}}` placeholders, CEL errors, approvers who do not
//!   exist and the like are errors; [`Loaded::warnings`] holds what loads but looks wrong.
//!
//! - Plug-ins read their own parts through [`plugin`]: each step kind its action, each surface
//!   or integration its section of `docket.yaml` (and a person's id there, and `notify`
//!   targets). The composition root passes the list ([`plugin::Plugins`]) to every entry point.
//!
//! Inside: `yaml` parses text into a tree of positioned nodes, `decode` reads nodes as typed
//! values while collecting errors, and one module per part of the format builds the core types.

mod agents;
mod condition;
mod config;
mod decode;
mod diagnostic;
mod env;
mod files;
mod in_force;
mod json;
mod links;
mod load;
mod model;
mod node;
mod param;
mod partial;
mod people;
pub mod plugin;
mod policy;
mod reload;
mod scalar;
mod step;
mod surface;
mod template;
mod workflow;
mod yaml;

pub use crate::in_force::InForce;
pub use crate::reload::{loaded_digest, needs_restart};
pub use crate::{
    diagnostic::{Diagnostic, Diagnostics, Pos},
    env::Env,
    files::Source,
    load::{Loaded, load, load_catalog, parse, parse_config_str, parse_workflow_str},
    model::{Config, Secret, Server, Storage, TokenSettings},
    partial::{StoreSettings, load_people, load_server, load_storage},
};
