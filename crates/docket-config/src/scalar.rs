//! YAML scalars as read: their text exactly as written, how they were written (plain, quoted,
//! block), what type YAML 1.2's core schema would give them, and how to turn a byte offset in
//! their text back into a line and column of the file.

use crate::diagnostic::Pos;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `value`: YAML infers its type.
    Plain,
    /// `'value'` or `"value"`: always text.
    Quoted,
    /// `|` or `>` blocks: always text.
    Block,
}

/// A tag from YAML's core schema written on a scalar (`!!str 1.10`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CoreTag {
    /// `!!str`
    Str,
    /// `!!int`
    Int,
    /// `!!float`
    Float,
    /// `!!bool`
    Bool,
    /// `!!null`
    Null,
}

/// How the characters of a scalar's text sit in the file, when that is known exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// On the scalar's line, starting `shift` characters after its position (1 for a quote).
    Inline {
        /// Characters between the scalar's position and its first character of text.
        shift: usize,
    },
    /// A literal block: line `k` of the text is line `k` after the scalar's position, at its
    /// column.
    Lines,
    /// Escapes, folding or interpolation changed the text: offsets map to the scalar's start.
    Opaque,
}

/// A scalar node's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The text after YAML's escape processing (and `${VAR}` interpolation).
    pub text: String,
    /// How it was written.
    pub(crate) style: Style,
    /// An explicit core-schema tag.
    pub(crate) tag: Option<CoreTag>,
    /// Where its characters are, for pointing inside it.
    pub(crate) layout: Layout,
}

/// What a scalar means under YAML 1.2's core schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Typed<'a> {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number that fits 64 bits.
    Int(i64),
    /// A whole number too large for 64 bits.
    BigInt,
    /// A number with a fraction or exponent (or `.inf`, `.nan`).
    Float(f64),
    /// Text.
    Str(&'a str),
}

impl Typed<'_> {
    /// The kind of value, as error messages name it ("found a number").
    pub fn describe(&self) -> &'static str {
        match self {
            Typed::Null => "nothing",
            Typed::Bool(_) => "true/false",
            Typed::Int(_) | Typed::BigInt | Typed::Float(_) => "a number",
            Typed::Str(_) => "a string",
        }
    }
}

impl Scalar {
    /// The scalar's meaning: quoted and block scalars are text; plain ones are inferred.
    pub fn typed(&self) -> Typed<'_> {
        let text = self.text.as_str();
        match (self.tag, self.style) {
            (Some(CoreTag::Str), _) => Typed::Str(text),
            (Some(CoreTag::Null), _) => Typed::Null,
            (Some(_), _) | (None, Style::Plain) => infer(text),
            (None, Style::Quoted | Style::Block) => Typed::Str(text),
        }
    }

    /// The position of byte `offset` of the text, when the scalar starts at `start`.
    pub fn locate(&self, start: Pos, offset: usize) -> Pos {
        let Some(before) = self.text.get(..offset.min(self.text.len())) else {
            return start;
        };
        match self.layout {
            Layout::Inline { shift } => Pos::new(start.line, start.column + shift + before.chars().count()),
            Layout::Lines => {
                let line = before.matches('\n').count();
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
                Pos::new(start.line + line, start.column + column)
            }
            Layout::Opaque => start,
        }
    }
}

/// Infers a plain scalar's type with YAML 1.2's core schema.
pub(crate) fn infer(text: &str) -> Typed<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Typed::Null,
        "true" | "True" | "TRUE" => return Typed::Bool(true),
        "false" | "False" | "FALSE" => return Typed::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Typed::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Typed::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Typed::Float(f64::NAN),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_or(Typed::BigInt, Typed::Int);
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8)] {
        if let Some(digits) = text.strip_prefix(prefix)
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_digit(radix))
        {
            return i64::from_str_radix(digits, radix).map_or(Typed::BigInt, Typed::Int);
        }
    }
    if is_float(unsigned) {
        return text.parse().map_or(Typed::Str(text), Typed::Float);
    }
    Typed::Str(text)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(f) => digits(whole) && digits(f) && (!whole.is_empty() || !f.is_empty()),
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_like_the_core_schema() {
        assert_eq!(infer("1.10"), Typed::Float(1.1));
        assert_eq!(infer("-42"), Typed::Int(-42));
        assert_eq!(infer("0x1F"), Typed::Int(31));
        assert_eq!(infer("99999999999999999999"), Typed::BigInt);
        assert_eq!(infer("1e3"), Typed::Float(1000.0));
        assert_eq!(infer("yes"), Typed::Str("yes"));
        assert_eq!(infer("1.2.3"), Typed::Str("1.2.3"));
        assert_eq!(infer("."), Typed::Str("."));
        assert_eq!(infer("~"), Typed::Null);
        assert_eq!(infer("False"), Typed::Bool(false));
    }

    #[test]
    fn locates_offsets_inside_the_text() {
        let s = |text: &str, layout| Scalar { text: text.into(), style: Style::Plain, tag: None, layout };
        let start = Pos::new(3, 8);
        assert_eq!(s("ab{{x}}", Layout::Inline { shift: 1 }).locate(start, 2), Pos::new(3, 11));
        assert_eq!(s("é{{x}}", Layout::Inline { shift: 0 }).locate(start, 2), Pos::new(3, 9));
        assert_eq!(s("a\nbc{{x}}", Layout::Lines).locate(start, 4), Pos::new(4, 10));
        assert_eq!(s("abc", Layout::Opaque).locate(start, 2), start);
        assert_eq!(s("é", Layout::Inline { shift: 0 }).locate(start, 1), start);
    }
}
