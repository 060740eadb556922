//! Failed authentications (a bad token, a forged signature, a form without its CSRF token) are
//! audited without letting anyone who can reach the port grow the chain without bound:
//!
//! - the first failure of a kind (source address, surface, what was wrong) in a minute is a
//!   record at once; repeats in that minute are counted, and one record with the count follows
//!   when the minute is over;
//! - a source address gets at most [`RECORDS_PER_SOURCE`] records a minute per surface; beyond
//!   that its failures are counted and summed up in one record when its minute is over;
//! - at most [`MAX_TRACKED`] kinds are tracked at once; past that, failures are counted under
//!   "many sources" so memory stays bounded too.
//!
//! Counting is per process: each replica sums up what it saw.

use std::collections::HashMap;
use std::net::IpAddr;

use docket_core::audit::AuditEntry;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

/// How long repeats are gathered into one record.
pub(crate) const WINDOW: SignedDuration = SignedDuration::from_secs(60);
/// Records a source may cause per surface per window.
pub(crate) const RECORDS_PER_SOURCE: u32 = 10;
/// Kinds and sources tracked at once.
pub(crate) const MAX_TRACKED: usize = 10_000;

/// Who failed: the peer's address, when the surface knows it.
type Source = Option<IpAddr>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Kind {
    source: Source,
    surface: String,
    detail: String,
}

#[derive(Clone, Debug)]
struct Repeats {
    opened: Timestamp,
    last: Timestamp,
    /// Failures after the first, which had its own record.
    more: u64,
}

#[derive(Clone, Debug)]
struct SourceBudget {
    opened: Timestamp,
    last: Timestamp,
    written: u32,
    held_back: u64,
}

/// The failures seen in the current windows.
#[derive(Debug, Default)]
pub(crate) struct Rejections {
    kinds: HashMap<Kind, Repeats>,
    budgets: HashMap<(Source, String), SourceBudget>,
}

impl Rejections {
    /// Notes one failure at `now`; returns the records to write now (the failure's own, if it
    /// gets one, after the summaries of windows that have ended).
    pub(crate) fn note(&mut self, now: Timestamp, source: Source, surface: &str, detail: &str) -> Vec<AuditEntry> {
        let mut out = self.close_ended(now);
        let mut source = source;
        if !self.budgets.contains_key(&(source, surface.to_owned())) && self.budgets.len() >= MAX_TRACKED {
            source = None;
        }
        let detail: String = detail.chars().take(300).collect();
        let kind = Kind { source, surface: surface.to_owned(), detail };
        if let Some(repeats) = self.kinds.get_mut(&kind) {
            repeats.more += 1;
            repeats.last = now;
            return out;
        }
        let budget = self.budgets.entry((source, surface.to_owned())).or_insert(SourceBudget {
            opened: now,
            last: now,
            written: 0,
            held_back: 0,
        });
        budget.last = now;
        if budget.written >= RECORDS_PER_SOURCE || self.kinds.len() >= MAX_TRACKED {
            budget.held_back += 1;
            return out;
        }
        budget.written += 1;
        out.push(entry(now, &kind, json!({})));
        self.kinds.insert(kind, Repeats { opened: now, last: now, more: 0 });
        out
    }

    /// The summaries of every window that ended by `now`, which are forgotten.
    pub(crate) fn close_ended(&mut self, now: Timestamp) -> Vec<AuditEntry> {
        let ended = |opened: Timestamp| now.duration_since(opened) >= WINDOW;
        let mut out = Vec::new();
        let mut closed: Vec<(Kind, Repeats)> = Vec::new();
        self.kinds.retain(|kind, repeats| {
            if ended(repeats.opened) {
                closed.push((kind.clone(), repeats.clone()));
                false
            } else {
                true
            }
        });
        closed.sort_by_key(|(_, r)| r.opened);
        for (kind, repeats) in closed.into_iter().filter(|(_, r)| r.more > 0) {
            let details = json!({ "repeated": repeats.more, "from": repeats.opened, "until": repeats.last });
            out.push(entry(now, &kind, details));
        }
        let mut budgets: Vec<((Source, String), SourceBudget)> = Vec::new();
        self.budgets.retain(|key, budget| {
            if ended(budget.opened) {
                budgets.push((key.clone(), budget.clone()));
                false
            } else {
                true
            }
        });
        budgets.sort_by_key(|(_, b)| b.opened);
        for ((source, surface), budget) in budgets.into_iter().filter(|(_, b)| b.held_back > 0) {
            let kind = Kind {
                source,
                surface,
                detail: format!(
                    "more failed requests than the {RECORDS_PER_SOURCE} a minute recorded one by one for a source"
                ),
            };
            let details = json!({ "held_back": budget.held_back, "from": budget.opened, "until": budget.last });
            out.push(entry(now, &kind, details));
        }
        out
    }
}

fn entry(at: Timestamp, kind: &Kind, extra: serde_json::Value) -> AuditEntry {
    let mut details = json!({
        "detail": kind.detail,
        "source": kind.source.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
    });
    if let (Some(details), Some(extra)) = (details.as_object_mut(), extra.as_object()) {
        details.extend(extra.clone());
    }
    AuditEntry {
        at,
        actor: format!("{}:unauthenticated", kind.surface),
        action: format!("{}.authentication_failed", kind.surface),
        ticket: None,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    fn ip(last: u8) -> Source {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[test]
    fn repeats_in_a_minute_become_one_record_with_a_count() {
        let mut r = Rejections::default();
        assert_eq!(r.note(at(0), ip(1), "api", "unknown token").len(), 1);
        for s in 1..50 {
            assert!(r.note(at(s), ip(1), "api", "unknown token").is_empty());
        }
        // Another source is recorded at once.
        assert_eq!(r.note(at(5), ip(2), "api", "unknown token").len(), 1);
        let summary = r.close_ended(at(61));
        assert_eq!(summary.len(), 1, "{summary:#?}");
        assert_eq!(summary[0].details["repeated"], 49);
        assert_eq!(summary[0].details["source"], "203.0.113.1");
        assert_eq!(summary[0].action, "api.authentication_failed");
        // A new minute starts afresh.
        assert_eq!(r.note(at(70), ip(1), "api", "unknown token").len(), 1);
    }

    #[test]
    fn a_source_gets_a_bounded_number_of_records_a_minute() {
        let mut r = Rejections::default();
        let mut written = 0;
        for i in 0..1_000 {
            written += r.note(at(i % 60), ip(9), "api", &format!("unknown token on GET /path/{i}")).len();
        }
        assert_eq!(written, RECORDS_PER_SOURCE as usize);
        let summary = r.close_ended(at(120));
        let held: u64 = summary.iter().filter_map(|e| e.details["held_back"].as_u64()).sum();
        assert_eq!(held, 1_000 - u64::from(RECORDS_PER_SOURCE));
    }

    #[test]
    fn memory_stays_bounded_under_many_sources() {
        let mut r = Rejections::default();
        let mut written = 0;
        for i in 0..(MAX_TRACKED as u32 + 5_000) {
            let source = Some(IpAddr::from(std::net::Ipv6Addr::from(u128::from(i))));
            written += r.note(at(0), source, "api", "unknown token").len();
        }
        assert!(r.kinds.len() <= MAX_TRACKED + 1 && r.budgets.len() <= MAX_TRACKED + 1);
        assert!(written <= MAX_TRACKED + 1, "{written}");
    }
}
