//! CEL conditions read from a scalar: compile errors (syntax in words, conditions too deep or
//! too long, misspelt variables and fields, all refused by docket-core) placed at the exact
//! character in the file, and the `params.NAME` each condition reads collected for checking
//! against the catalog.

use docket_core::policy::Condition;

use crate::diagnostic::{Pos, Report};
use crate::node::Node;

/// A CEL condition; compile errors are placed inside the scalar when its layout allows.
pub(crate) fn condition(node: &Node, params: &mut Vec<(String, Pos)>, report: &mut Report) -> Option<Condition> {
    let source = crate::decode::text(node, report)?;
    match Condition::compile(&source) {
        Ok(condition) => {
            for (offset, name) in condition.param_refs() {
                params.push((name.to_owned(), node.locate(offset)));
            }
            Some(condition)
        }
        Err(e) => {
            let at = node.locate(e.offset);
            let message = format!("invalid condition: {}", e.message);
            report.error_maybe(at, message, e.hint);
            None
        }
    }
}
