//! A sample as lines of the dry run's output, compact enough for a chat: a header, then one
//! line per row by its key — `~ id=1: status 'open' → 'closed'` for an updated row (only the
//! columns that changed), `- id=3: owner 'bob', status 'open'` for a deleted one.
//!
//! Lines are redacted after they are written (the plan's log masks secrets), so nothing here
//! cuts a value in the middle, which could leave part of a secret unmasked: a value longer than
//! [`VALUE_CHARS`] is shown as its length, and a line takes whole values until it is
//! [`LINE_CHARS`] long, then says how many more columns there are.

use docket_core::result::Cell;

use super::{Sample, Sampled, Verb};

/// Longest a value is shown; a longer one is shown as its length.
const VALUE_CHARS: usize = 120;
/// A row's line takes no more values once it is this long.
const LINE_CHARS: usize = 600;

/// The lines that show `sample` under "will change `changed` rows".
pub(crate) fn lines(sample: &Sample, changed: u64) -> Vec<String> {
    let (verb, keys, columns, rows) = match sample {
        Sample::None(why) => return vec![format!("no sample of the rows: {why}")],
        Sample::Rows { rows, .. } if rows.is_empty() => return Vec::new(),
        Sample::Rows { verb, keys, columns, rows } => (*verb, keys, columns, rows),
    };
    let by = keys.join(", ");
    let header = if (rows.len() as u64) < changed {
        format!("the first {} of them by {by}, before → after:", rows.len())
    } else {
        format!("the rows by {by}, before → after:")
    };
    let mut out = vec![header];
    out.extend(rows.iter().map(|row| row_line(verb, keys, columns, row)));
    out
}

fn row_line(verb: Verb, keys: &[String], columns: &[String], row: &Sampled) -> String {
    let key = keys.iter().zip(&row.key).map(|(k, v)| format!("{k}={}", value(v))).collect::<Vec<_>>().join(" ");
    let all = || columns.iter().zip(&row.before).map(|(c, v)| format!("{c} {}", value(v))).collect::<Vec<_>>();
    match (&row.after, verb) {
        (None, Verb::Delete) => joined(format!("- {key}: "), all(), ""),
        (None, Verb::Update) => joined(format!("~ {key}: not found by its key afterwards (was "), all(), ")"),
        (Some(after), _) => {
            let changed: Vec<String> = columns
                .iter()
                .zip(row.before.iter().zip(after))
                .filter(|(_, (old, new))| old != new)
                .map(|(c, (old, new))| format!("{c} {} → {}", value(old), value(new)))
                .collect();
            if changed.is_empty() { format!("= {key}: unchanged") } else { joined(format!("~ {key}: "), changed, "") }
        }
    }
}

/// `start`, then whole `items` separated by commas while the line is short enough, then how
/// many were left out, then `end`.
fn joined(start: String, items: Vec<String>, end: &str) -> String {
    let mut line = start;
    let total = items.len();
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 && line.chars().count() + item.chars().count() > LINE_CHARS {
            let more = total - n;
            line.push_str(&format!(", … {more} more column{}", if more == 1 { "" } else { "s" }));
            break;
        }
        if n > 0 {
            line.push_str(", ");
        }
        line.push_str(&item);
    }
    line.push_str(end);
    line
}

/// A value as approvers read it: text in quotes, a quote in it doubled (as arguments are shown;
/// so `''` and NULL differ), the rest as is; a long value as its length only.
fn value(cell: &Cell) -> String {
    let shown = match cell {
        Cell::Text(t) => format!("'{}'", t.replace(['\n', '\r', '\t'], " ").replace('\'', "''")),
        other => other.shown(),
    };
    let length = shown.chars().count();
    if length > VALUE_CHARS { format!("({length} characters)") } else { shown }
}
