//! The tree YAML is read into: nodes that remember where they were written.

use crate::diagnostic::Pos;
use crate::scalar::{Scalar, Typed};

/// A value with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub value: Value,
}

/// A node's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text, a number, true/false or nothing; see [`Scalar::typed`].
    Scalar(Scalar),
    /// A list.
    Seq(Vec<Node>),
    /// A mapping, keys in the order written.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node's scalar, if it is one.
    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The kind of value, as error messages name it.
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => s.typed().describe(),
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The position of byte `offset` inside this scalar's text (the node's start otherwise).
    pub fn locate(&self, offset: usize) -> Pos {
        self.scalar().map_or(self.pos, |s| s.locate(self.pos, offset))
    }

    /// Whether the node is a null scalar (`~`, `null` or nothing at all).
    pub fn is_null(&self) -> bool {
        self.scalar().is_some_and(|s| matches!(s.typed(), Typed::Null))
    }
}
