//! A sample as lines of the dry run's output, compact enough for a chat: a header, then one
//! line per row by its key — `~ id=1: status 'open' → 'closed'` for an updated row (only the
//! columns that changed), `- id=3: owner 'bob', status 'open'` for a deleted one — each value
//! and each line cut, so a wide table cannot flood the plan.

use docket_core::result::Cell;

use super::{Sample, Sampled, Verb};

/// Longest a value is shown.
const VALUE_CHARS: usize = 40;
/// Longest a row's line is.
const LINE_CHARS: usize = 300;

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
    out.extend(rows.iter().map(|row| cut(&row_line(verb, keys, columns, row), LINE_CHARS)));
    out
}

fn row_line(verb: Verb, keys: &[String], columns: &[String], row: &Sampled) -> String {
    let key = keys.iter().zip(&row.key).map(|(k, v)| format!("{k}={}", value(v))).collect::<Vec<_>>().join(" ");
    let all = || {
        columns.iter().zip(&row.before).map(|(c, v)| format!("{c} {}", value(v))).collect::<Vec<_>>().join(", ")
    };
    match (&row.after, verb) {
        (None, Verb::Delete) => format!("- {key}: {}", all()),
        (None, Verb::Update) => format!("~ {key}: not found by its key afterwards (was {})", all()),
        (Some(after), _) => {
            let changed: Vec<String> = columns
                .iter()
                .zip(row.before.iter().zip(after))
                .filter(|(_, (old, new))| old != new)
                .map(|(c, (old, new))| format!("{c} {} → {}", value(old), value(new)))
                .collect();
            if changed.is_empty() {
                format!("= {key}: unchanged")
            } else {
                format!("~ {key}: {}", changed.join(", "))
            }
        }
    }
}

/// A value as approvers read it: text in quotes (so `''` and NULL differ), the rest as is.
fn value(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => format!("'{}'", cut(&t.replace(['\n', '\r', '\t'], " "), VALUE_CHARS)),
        other => other.shown(),
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
