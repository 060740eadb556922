//! Reading nodes as typed values while collecting errors instead of stopping: a mapping's
//! unknown keys, missing keys and wrong types are all reported, each where it is written.

use std::collections::HashMap;

use docket_core::Duration;

use crate::diagnostic::{Pos, Report, first_at};
use crate::node::{Node, Value};
use crate::scalar::Typed;
use docket_core::text::closest;

/// A mapping with a fixed set of keys, opened for reading. Unknown keys are reported when it is
/// opened, so a section that fails half-way does not make its other keys look unknown.
#[derive(Debug)]
pub struct Fields<'n> {
    node: &'n Node,
    what: &'static str,
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
    /// Keys suggested for misspelt ones: their absence is not reported again.
    suggested: Vec<&'static str>,
}

impl<'n> Fields<'n> {
    /// Opens `node` as a `what` with `keys`; reports (and gives `None`) if it is not a mapping.
    pub fn open(node: &'n Node, what: &'static str, keys: &[&'static str], report: &mut Report) -> Option<Self> {
        let Value::Map(map) = &node.value else {
            report.error(node.pos, format!("expected {} (a mapping), found {}", article(what), node.describe()));
            return None;
        };
        let mut entries = Vec::with_capacity(map.len());
        let mut suggested = Vec::new();
        for (key, value) in map {
            let Some(name) = key_text(key, report) else { continue };
            if keys.contains(&name) {
                entries.push((name, key, value));
                continue;
            }
            let near = closest(name, keys.iter().copied());
            suggested.extend(near);
            let hint = match near {
                Some(near) => format!("did you mean `{near}`?"),
                // `{ help: Image tag, e.g. 1.4.2 }`: the comma ended the value.
                None if value.is_null() && name.contains(' ') => {
                    "a comma ends a value inside `{ }`; put text that contains a comma in quotes".to_owned()
                }
                None => format!("{} has: {}", article(what), keys.join(", ")),
            };
            report.error_hint(key.pos, format!("unknown key `{name}` in {}", article(what)), hint);
        }
        Some(Self { node, what, entries, suggested })
    }

    /// Where the mapping starts.
    pub fn pos(&self) -> Pos {
        self.node.pos
    }

    /// The value of `key`, unless it is absent or null.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entry(key).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    /// The key node and value of `key`, even when the value is null.
    pub fn entry(&self, key: &str) -> Option<(&'n Node, &'n Node)> {
        self.entries.iter().find(|(name, _, _)| *name == key).map(|(_, k, v)| (*k, *v))
    }

    /// The value of `key`, reporting its absence.
    pub fn require(&self, key: &str, report: &mut Report) -> Option<&'n Node> {
        match self.entry(key) {
            Some((_, v)) if !v.is_null() => Some(v),
            Some((k, _)) => {
                report.error(k.pos, format!("`{key}` has no value"));
                None
            }
            None => {
                if !self.suggested.contains(&key) {
                    report.error(self.node.pos, format!("{} needs `{key}`", article(self.what)));
                }
                None
            }
        }
    }

    /// Reads optional `key` with `read`.
    pub fn opt<T>(&self, key: &str, report: &mut Report, read: impl FnOnce(&Node, &mut Report) -> Option<T>) -> Opt<T> {
        match self.get(key) {
            None => Opt::Absent,
            Some(node) => read(node, report).map_or(Opt::Invalid, Opt::Given),
        }
    }

    /// Reads required `key` with `read`.
    pub fn req<T>(
        &self,
        key: &str,
        report: &mut Report,
        read: impl FnOnce(&Node, &mut Report) -> Option<T>,
    ) -> Option<T> {
        self.require(key, report).and_then(|node| read(node, report))
    }
}

/// An optional value: absent, given and valid, or given but invalid (already reported).
#[derive(Debug, Clone, PartialEq)]
pub enum Opt<T> {
    Absent,
    Given(T),
    Invalid,
}

impl<T> Opt<T> {
    /// The value, or `default` when absent; `None` when invalid.
    pub fn or(self, default: T) -> Option<T> {
        match self {
            Opt::Absent => Some(default),
            Opt::Given(v) => Some(v),
            Opt::Invalid => None,
        }
    }

    /// `Some(Some(v))` when given, `Some(None)` when absent, `None` when invalid.
    pub fn optional(self) -> Option<Option<T>> {
        match self {
            Opt::Absent => Some(None),
            Opt::Given(v) => Some(Some(v)),
            Opt::Invalid => None,
        }
    }
}

/// "a step", "an exec action".
pub(crate) fn article(what: &str) -> String {
    if what.starts_with("the ") {
        return what.to_owned();
    }
    let vowel = what.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {what}", if vowel { "an" } else { "a" })
}

/// A mapping key's text; keys are names, never lists or mappings.
pub fn key_text<'n>(key: &'n Node, report: &mut Report) -> Option<&'n str> {
    match key.scalar() {
        Some(s) if !key.is_null() => Some(s.text.as_str()),
        _ => {
            report.error(key.pos, format!("a key must be a name, not {}", key.describe()));
            None
        }
    }
}

/// A mapping whose keys are names chosen by the user (`env`, `headers`, `oncall`), in order.
pub fn open_map<'n>(node: &'n Node, what: &str, report: &mut Report) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
    let Value::Map(map) = &node.value else {
        report.error(node.pos, format!("expected a mapping of {what}, found {}", node.describe()));
        return None;
    };
    Some(map.iter().filter_map(|(k, v)| key_text(k, report).map(|name| (name, k, v))).collect())
}

/// A list of `what`; a single value gets a hint to wrap it in brackets.
pub fn list<'n>(node: &'n Node, what: &str, report: &mut Report) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        Value::Scalar(_) if !node.is_null() => {
            let message = format!("expected a list of {what}, found {}", node.describe());
            report.error_hint(node.pos, message, "write a list of one as `[value]`");
            None
        }
        _ => {
            report.error(node.pos, format!("expected a list of {what}, found {}", node.describe()));
            None
        }
    }
}

/// Reads every item of a list with `read`; `None` if the list or any item is invalid.
pub fn list_of<T>(
    node: &Node,
    what: &str,
    report: &mut Report,
    mut read: impl FnMut(&Node, &mut Report) -> Option<T>,
) -> Option<Vec<T>> {
    let items = list(node, what, report)?;
    let before = report.error_count();
    let values: Vec<T> = items.iter().filter_map(|item| read(item, report)).collect();
    (report.error_count() == before && values.len() == items.len()).then_some(values)
}

/// Text: any scalar but null (a plain `1.10` is the text `1.10`).
pub fn text(node: &Node, report: &mut Report) -> Option<String> {
    match node.scalar() {
        Some(s) if !node.is_null() => Some(s.text.clone()),
        _ => {
            report.error(node.pos, format!("expected a string, found {}", node.describe()));
            None
        }
    }
}

/// Non-empty text.
pub fn nonempty(node: &Node, report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    if value.trim().is_empty() {
        report.error(node.pos, "must not be empty");
        return None;
    }
    Some(value)
}

/// A whole number.
pub fn int(node: &Node, report: &mut Report) -> Option<i64> {
    let found = match node.scalar().map(|s| s.typed()) {
        Some(Typed::Int(i)) => return Some(i),
        Some(Typed::BigInt) => {
            report.error(node.pos, "this number is too large");
            return None;
        }
        Some(Typed::Float(_)) => "a number with a fraction".to_owned(),
        Some(Typed::Str(s)) => format!("the string `{}`", excerpt(s)),
        _ => node.describe().to_owned(),
    };
    report.error(node.pos, format!("expected a whole number, found {found}"));
    None
}

/// A whole number in `lo..=hi`.
pub fn int_in<T: TryFrom<i64>>(node: &Node, lo: i64, hi: i64, report: &mut Report) -> Option<T> {
    let value = int(node, report)?;
    match T::try_from(value) {
        Ok(v) if (lo..=hi).contains(&value) => Some(v),
        _ => {
            report.error(node.pos, format!("must be between {lo} and {hi}, not {value}"));
            None
        }
    }
}

/// `true` or `false`.
pub fn boolean(node: &Node, report: &mut Report) -> Option<bool> {
    match node.scalar().map(|s| s.typed()) {
        Some(Typed::Bool(b)) => Some(b),
        Some(Typed::Str(s)) if matches!(s.to_ascii_lowercase().as_str(), "yes" | "no" | "on" | "off" | "y" | "n") => {
            report.error_hint(node.pos, format!("expected true or false, found `{s}`"), "write true or false");
            None
        }
        Some(Typed::Str(s)) => {
            report.error(node.pos, format!("expected true or false, found the string `{}`", excerpt(s)));
            None
        }
        _ => {
            report.error(node.pos, format!("expected true or false, found {}", node.describe()));
            None
        }
    }
}

/// A duration such as `30s`, `5m`, `1h30m`.
pub fn duration(node: &Node, report: &mut Report) -> Option<Duration> {
    let value = text(node, report)?;
    Duration::parse(&value).map_err(|e| report.error(node.pos, e.to_string())).ok()
}

/// An identifier (`alice`, `deploy-service`): letters, digits, `-`, `_`, `.`.
pub fn ident(node: &Node, report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    if docket_core::id::is_valid_id(&value) {
        return Some(value);
    }
    report.error_hint(
        node.pos,
        format!("`{}` is not a valid id", excerpt(&value)),
        "use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
    );
    None
}

/// The first ≤ 60 characters of `s`, for messages.
pub fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// Remembers names already declared, to report duplicates at the second pointing at the first.
#[derive(Debug, Default)]
pub struct Seen {
    first: HashMap<String, Pos>,
}

impl Seen {
    /// Records `name` at `pos`; reports and returns `false` if it was declared before.
    pub fn first(&mut self, name: &str, pos: Pos, what: &str, report: &mut Report) -> bool {
        if let Some(first) = self.first.get(name) {
            report.error(pos, format!("duplicate {what} `{name}` (first declared at {})", first_at(*first, pos)));
            return false;
        }
        self.first.insert(name.to_owned(), pos);
        true
    }
}
