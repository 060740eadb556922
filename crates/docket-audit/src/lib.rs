//! Anchoring the audit chain, so that cutting its tail or rewriting it is seen by anyone who
//! kept an earlier checkpoint. The `audit` section names the signing key and where checkpoints
//! go; [`Anchoring`] writes one every `every` (when the chain has grown) and once at shutdown,
//! into the store, an append-only JSON-lines file and, optionally, a URL; [`read_file`] reads
//! such a file back for `docket audit verify`.

mod file;
mod section;
mod writer;

pub use file::{FileError, append, read_file};
pub use section::{AuditSection, AuditSettings, DEFAULT_EVERY, SECTION};
pub use writer::Anchoring;

/// The plug-ins this crate adds: the `audit` section.
pub fn plugins() -> docket_config::plugin::Plugins {
    docket_config::plugin::Plugins::new().section(std::sync::Arc::new(AuditSection))
}
