//! YAML text to a tree of nodes that remember where they were written. Syntax errors stop the
//! file; duplicate keys, unsupported tags and bad merges are reported and parsing goes on.
//!
//! This reads the event stream of serde-saphyr's parser rather than deserializing through serde:
//! events carry each scalar's exact text and style, so `1.10` stays `1.10` where text is
//! expected, and a position inside a quoted or block scalar can be mapped back to the file.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle, Span, StructureStyle, Tag};

use crate::diagnostic::{Pos, Report, first_at};
use crate::node::{Node, Value};
use crate::scalar::{CoreTag, Layout, Scalar, Style};

/// Nodes nested deeper than this are refused; real configuration is a handful of levels deep.
const MAX_DEPTH: usize = 64;
/// Nodes in one file, counting every copy an alias makes; guards against alias bombs.
const MAX_NODES: usize = 200_000;

/// Parses `source`. A syntax error is reported and gives `None`; other problems are reported
/// and the tree is returned without the offending parts.
pub(crate) fn parse(source: &str, report: &mut Report) -> Option<Node> {
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.set_emit_comments(false);
    let mut builder = Builder { source, lines: source.split('\n').collect(), ..Builder::default() };
    for event in Parser::new_from_str_with_options(source, options) {
        let outcome = match event {
            Ok((event, span)) => builder.event(event, span, report),
            Err(e) => {
                let at = pos(e.marker());
                report.error_maybe(at, format!("invalid YAML: {}", e.info()), builder.syntax_hint(at, &e.info()));
                return None;
            }
        };
        if let Err((at, message)) = outcome {
            report.error(at, message);
            return None;
        }
    }
    Some(builder.root.unwrap_or(Node { pos: Pos::new(1, 1), value: Value::Scalar(empty_scalar()) }))
}

type Step = Result<(), (Pos, String)>;

#[derive(Default)]
struct Builder<'a> {
    source: &'a str,
    lines: Vec<&'a str>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
}

/// A finished anchored node, with what copying it costs.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

struct Frame {
    pos: Pos,
    anchor: usize,
    is_map: bool,
    flow: bool,
    items: Vec<Node>,
    size: usize,
    height: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span, report: &mut Report) -> Step {
        let at = pos(&span.start);
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err((at, "a file holds one YAML document, but a second one starts here".to_owned()));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag = self.scalar_tag(tag.as_deref(), at, report);
                let layout = self.layout(&text, style, &span);
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                let node =
                    Node { pos: at, value: Value::Scalar(Scalar { text: text.into_owned(), style, tag, layout }) };
                self.count(1, at)?;
                self.finish(node, anchor, 1, 1, report);
            }
            Event::SequenceStart(style, anchor, tag) => {
                self.open(false, style == StructureStyle::Flow, anchor, tag.as_deref(), at, report)?;
            }
            Event::MappingStart(style, anchor, tag) => {
                self.open(true, style == StructureStyle::Flow, anchor, tag.as_deref(), at, report)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let (size, height) = (frame.size, frame.height + 1);
                let value =
                    if frame.is_map { Value::Map(self.entries(frame.items, report)) } else { Value::Seq(frame.items) };
                self.finish(Node { pos: frame.pos, value }, frame.anchor, size, height, report);
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err((at, "this alias refers to a node that contains it".to_owned()));
                };
                if self.stack.len() + anchored.height > MAX_DEPTH {
                    return Err((at, format!("this alias nests values more than {MAX_DEPTH} levels deep")));
                }
                let (node, size, height) = (anchored.node.clone(), anchored.size, anchored.height);
                self.count(size, at)?;
                self.finish(node, 0, size, height, report);
            }
            _ => {}
        }
        Ok(())
    }

    /// A likely cause of the syntax error at `at`: a `{` or `[` opened on an earlier line and
    /// never closed, or indentation.
    fn syntax_hint(&self, at: Pos, message: &str) -> Option<String> {
        let unclosed = self.stack.iter().rev().find(|f| f.flow && f.pos.line < at.line);
        let unclosed = match unclosed {
            Some(frame) => Some((if frame.is_map { '{' } else { '[' }, frame.pos)),
            // The parser reads a flow collection whole before reporting its start, so look at
            // the text too.
            None => unclosed_bracket(self.source).filter(|(_, p)| p.line < at.line),
        };
        if let Some((open, at)) = unclosed {
            let close = if open == '{' { '}' } else { ']' };
            return Some(format!(
                "the `{open}` at line {}, column {} is never closed with `{close}`",
                at.line, at.column
            ));
        }
        let indentation = ["block", "indentation", "did not find expected"].iter().any(|w| message.contains(w));
        indentation.then(|| "check the indentation of this line and the one before".to_owned())
    }

    fn count(&mut self, nodes: usize, at: Pos) -> Step {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err((at, format!("the file expands to more than {MAX_NODES} values (check its aliases)")));
        }
        Ok(())
    }

    fn open(
        &mut self,
        is_map: bool,
        flow: bool,
        anchor: usize,
        tag: Option<&Tag>,
        at: Pos,
        report: &mut Report,
    ) -> Step {
        self.collection_tag(tag, is_map, at, report);
        if self.stack.len() >= MAX_DEPTH {
            return Err((at, format!("values are nested more than {MAX_DEPTH} levels deep")));
        }
        self.count(1, at)?;
        self.stack.push(Frame { pos: at, anchor, is_map, flow, items: Vec::new(), size: 1, height: 0 });
        Ok(())
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn finish(&mut self, node: Node, anchor: usize, size: usize, height: usize, report: &mut Report) {
        if anchor != 0 {
            self.anchors.insert(anchor, Anchored { node: node.clone(), size, height });
        }
        match self.stack.last_mut() {
            Some(parent) => {
                parent.size = parent.size.saturating_add(size);
                parent.height = parent.height.max(height);
                parent.items.push(node);
            }
            None if self.root.is_none() => self.root = Some(node),
            None => report.error(node.pos, "a file holds one YAML document, but a second one starts here"),
        }
    }

    /// Pairs up a mapping's keys and values, dropping repeated keys and applying `<<` merges.
    fn entries(&self, items: Vec<Node>, report: &mut Report) -> Vec<(Node, Node)> {
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut merges: Vec<Node> = Vec::new();
        let mut items = items.into_iter();
        while let (Some(key), Some(value)) = (items.next(), items.next()) {
            if key.scalar().is_some_and(|s| s.style == Style::Plain && s.text == "<<") {
                merges.push(value);
                continue;
            }
            match entries.iter().find(|(k, _)| same_key(k, &key)) {
                Some((first, _)) => {
                    let name = key.scalar().map_or("", |s| s.text.as_str());
                    let first = first_at(first.pos, key.pos);
                    report.error(key.pos, format!("duplicate key `{name}` (first written at {first})"));
                }
                None => entries.push((key, value)),
            }
        }
        for merge in merges {
            let sources = match merge.value {
                Value::Map(_) => vec![merge],
                Value::Seq(list) => list,
                Value::Scalar(_) => vec![merge],
            };
            for source in sources {
                let Value::Map(merged) = source.value else {
                    report.error(source.pos, format!("`<<` merges a mapping, not {}", source.describe()));
                    continue;
                };
                for (key, value) in merged {
                    if !entries.iter().any(|(k, _)| same_key(k, &key)) {
                        entries.push((key, value));
                    }
                }
            }
        }
        entries
    }

    fn scalar_tag(&self, tag: Option<&Tag>, at: Pos, report: &mut Report) -> Option<CoreTag> {
        let tag = tag?;
        let known = match tag.core_suffix() {
            Some("str") => Some(CoreTag::Str),
            Some("int") => Some(CoreTag::Int),
            Some("float") => Some(CoreTag::Float),
            Some("bool") => Some(CoreTag::Bool),
            Some("null") => Some(CoreTag::Null),
            _ => None,
        };
        if known.is_none() && !(tag.handle() == "!" && tag.suffix().is_empty()) {
            report.error_hint(at, format!("unsupported tag `{}` on a scalar", tag.original()), "remove the tag");
        }
        known
    }

    fn collection_tag(&self, tag: Option<&Tag>, is_map: bool, at: Pos, report: &mut Report) {
        let Some(tag) = tag else { return };
        let fits = matches!((tag.core_suffix(), is_map), (Some("map"), true) | (Some("seq"), false));
        if !(fits || tag.handle() == "!" && tag.suffix().is_empty()) {
            report.error_hint(at, format!("unsupported tag `{}` here", tag.original()), "remove the tag");
        }
    }

    /// Where the characters of a scalar's text are in the file.
    fn layout(&self, text: &str, style: ScalarStyle, span: &Span) -> Layout {
        let raw = match (span.start.byte_offset(), span.end.byte_offset()) {
            (Some(a), Some(b)) => self.source.get(a..b).unwrap_or(""),
            _ => return Layout::Opaque,
        };
        match style {
            ScalarStyle::Plain if raw == text => Layout::Inline { shift: 0 },
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
                if raw.len() >= 2 && raw.get(1..raw.len() - 1) == Some(text) =>
            {
                Layout::Inline { shift: 1 }
            }
            ScalarStyle::Literal if self.literal_lines_match(text, &span.start) => Layout::Lines,
            _ => Layout::Opaque,
        }
    }

    /// Whether each line of a literal block's text is in the file at the block's column.
    fn literal_lines_match(&self, text: &str, start: &Marker) -> bool {
        let body = text.strip_suffix('\n').unwrap_or(text);
        body.split('\n').enumerate().all(|(k, line)| {
            let source_line = self.lines.get(start.line().saturating_sub(1) + k).copied().unwrap_or("");
            let source_line = source_line.strip_suffix('\r').unwrap_or(source_line);
            let mut chars = source_line.char_indices().skip(start.col());
            let rest = chars.next().and_then(|(i, _)| source_line.get(i..)).unwrap_or("");
            rest == line || (line.is_empty() && rest.trim().is_empty())
        })
    }
}

/// The innermost `{` or `[` that opens a flow collection and is never closed, roughly: brackets
/// that start a value, outside quotes and comments.
fn unclosed_bracket(source: &str) -> Option<(char, Pos)> {
    let mut open: Vec<(char, Pos)> = Vec::new();
    for (index, line) in source.split('\n').enumerate() {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in line.chars().enumerate() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            let starts_value = matches!(previous, ' ' | ':' | '-' | ',' | '[' | '{');
            match c {
                '#' if previous == ' ' || column == 0 => break,
                '"' | '\'' if starts_value => quote = Some(c),
                '{' | '[' if starts_value => open.push((c, Pos::new(index + 1, column + 1))),
                '}' | ']' => {
                    open.pop();
                }
                _ => {}
            }
            previous = if c.is_whitespace() { ' ' } else { c };
        }
    }
    open.last().copied()
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (a.scalar(), b.scalar()) {
        (Some(a), Some(b)) => a.text == b.text,
        _ => false,
    }
}

fn empty_scalar() -> Scalar {
    Scalar { text: String::new(), style: Style::Plain, tag: None, layout: Layout::Opaque }
}

fn pos(marker: &Marker) -> Pos {
    Pos::new(marker.line().max(1), marker.col() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> (Option<Node>, Vec<String>) {
        let mut report = Report::new("t.yaml");
        let node = parse(text, &mut report);
        (node, report.errors.iter().map(ToString::to_string).collect())
    }

    fn map(node: &Node) -> Vec<(&str, &Node)> {
        let Value::Map(entries) = &node.value else { panic!("not a map: {node:?}") };
        entries.iter().map(|(k, v)| (k.scalar().unwrap().text.as_str(), v)).collect()
    }

    #[test]
    fn an_alias_bomb_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        let started = std::time::Instant::now();
        let (node, errors) = parse_ok(&text);
        assert!(node.is_none());
        assert!(errors[0].contains("expands to more than"), "{errors:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let (node, errors) = parse_ok(&text);
        assert!(node.is_none());
        assert!(errors[0].contains("nested more than 64 levels"), "{errors:?}");
    }

    #[test]
    fn merges_keep_explicit_keys_and_aliases_copy() {
        let (node, errors) = parse_ok("base: &b { a: 1, b: 2 }\nuse: { <<: *b, b: 3 }\ncopy: *b\n");
        assert!(errors.is_empty(), "{errors:?}");
        let root = node.unwrap();
        let top = map(&root);
        let merged: Vec<(&str, &str)> =
            map(top[1].1).into_iter().map(|(k, v)| (k, v.scalar().unwrap().text.as_str())).collect();
        assert_eq!(merged, [("b", "3"), ("a", "1")]);
        assert_eq!(top[2].1, top[0].1);
    }

    #[test]
    fn a_node_cannot_contain_itself() {
        let (node, errors) = parse_ok("a: &x [1, *x]\n");
        assert!(node.is_none());
        assert!(errors[0].contains("refers to a node that contains it"), "{errors:?}");
    }

    #[test]
    fn scalars_know_where_their_characters_are() {
        let (node, _) = parse_ok("a: plain {{x}}\nb: \"q {{x}}\"\nc: \"esc\\t{{x}}\"\nd: |\n  one\n  two {{x}}\n");
        let root = node.unwrap();
        let at = |key: &str| {
            let (_, value) = map(&root).into_iter().find(|(k, _)| *k == key).unwrap();
            let offset = value.scalar().unwrap().text.find("{{").unwrap();
            value.locate(offset)
        };
        assert_eq!(at("a"), Pos::new(1, 10));
        assert_eq!(at("b"), Pos::new(2, 7));
        assert_eq!(at("c"), Pos::new(3, 4), "escapes make the layout unknown: the scalar's start");
        assert_eq!(at("d"), Pos::new(6, 7));
    }
}
