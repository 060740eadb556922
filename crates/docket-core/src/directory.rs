//! People, groups and on-call rotations: who someone is on every surface, and who may act.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::agent::Agent;
use crate::duration::Duration;
use crate::id::{GroupId, PersonId, RotationId};

/// A directory entry, with the ids that identify the person on every surface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Directory id (`alice`).
    pub id: PersonId,
    /// Display name.
    pub name: String,
    /// Email, used to match sign-ins and chat accounts.
    pub email: Option<String>,
    /// The person's id on each surface or integration, by its name (`slack` → `U0ALICE`).
    /// Each surface says what its ids are; core only keeps them.
    pub ids: BTreeMap<String, String>,
    /// OpenID Connect subject, for web sign-in.
    pub oidc_subject: Option<String>,
    /// Groups the person belongs to.
    pub groups: BTreeSet<GroupId>,
    /// Admins may cancel any ticket.
    pub admin: bool,
}

impl Person {
    /// The person's id on `surface`, if they have one there.
    pub fn id_on(&self, surface: &str) -> Option<&str> {
        self.ids.get(surface).map(String::as_str)
    }
}

/// A named group; members come from `people[].groups` and from the group's own list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Group id (`sre`).
    pub id: GroupId,
    /// What the group is for.
    pub description: Option<String>,
}

/// An on-call rotation: people take turns for one shift each, starting at `start`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rotation {
    /// Rotation id (`sre-primary`).
    pub id: RotationId,
    /// Who takes turns, in order.
    pub people: Vec<PersonId>,
    /// Length of one turn.
    pub shift: Duration,
    /// When the first person's first turn begins, on the wall clock of `zone`.
    pub start: DateTime,
    /// The configured time zone; shifts change hands at the same wall-clock time across DST.
    pub zone: TimeZone,
}

impl Rotation {
    /// Who is on call at `now`. Before `start`, the first person is.
    pub fn on_call(&self, now: Timestamp) -> Option<&PersonId> {
        let n = self.people.len();
        if n == 0 || self.shift.as_millis() == 0 {
            return self.people.first();
        }
        let wall = self.zone.to_datetime(now);
        // Wall-clock difference: a shift that starts at 09:00 starts at 09:00 after DST too.
        let millis = wall.duration_since(self.start).as_millis();
        if millis <= 0 {
            return self.people.first();
        }
        let turn = u64::try_from(millis).ok()? / self.shift.as_millis();
        let index = usize::try_from(turn % n as u64).ok()?;
        self.people.get(index)
    }
}

/// Who may do something: a person, everyone in a group, whoever is on call, or anyone Docket
/// knows approving in a ticketing system.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Principal {
    /// `alice`
    Person(PersonId),
    /// `group:sre`
    Group(GroupId),
    /// `oncall:sre-primary`
    Oncall(RotationId),
    /// `system:jira`: an approval given in that ticketing system (the change moved to its
    /// approved status there) by any person Docket knows. No approval given in Docket's own
    /// surfaces is covered by it, and none given there is covered by the other kinds.
    System(String),
}

impl Principal {
    /// Parses `alice`, `group:sre` or `oncall:sre-primary`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, id) = match text.split_once(':') {
            Some((kind, id)) => (Some(kind), id),
            None => (None, text),
        };
        if !crate::id::is_valid_id(id) {
            return Err(format!("`{text}` is not a person, `group:NAME` or `oncall:NAME`"));
        }
        match kind {
            None => Ok(Principal::Person(PersonId::new(id))),
            Some("group") => Ok(Principal::Group(GroupId::new(id))),
            Some("oncall") => Ok(Principal::Oncall(RotationId::new(id))),
            Some("system") => Ok(Principal::System(id.to_owned())),
            Some(other) => Err(format!("`{other}:` is not a kind of approver (use `group:` or `oncall:`)")),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Person(p) => write!(f, "{p}"),
            Principal::Group(g) => write!(f, "group:{g}"),
            Principal::Oncall(r) => write!(f, "oncall:{r}"),
            Principal::System(s) => write!(f, "system:{s}"),
        }
    }
}

impl TryFrom<String> for Principal {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<Principal> for String {
    fn from(p: Principal) -> Self {
        p.to_string()
    }
}

/// The people Docket knows, indexed by every id they have.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    people: BTreeMap<PersonId, Person>,
    groups: BTreeMap<GroupId, Group>,
    members: BTreeMap<GroupId, BTreeSet<PersonId>>,
    rotations: BTreeMap<RotationId, Rotation>,
    /// (surface, id on it) → person.
    by_surface: BTreeMap<(String, String), PersonId>,
    by_email: BTreeMap<String, PersonId>,
    by_subject: BTreeMap<String, PersonId>,
    agents: BTreeMap<String, Agent>,
}

impl Directory {
    /// Builds the directory. Group membership is the union of each person's `groups` and each
    /// group's `extra_members`. Uniqueness of ids is checked by the loader before this.
    pub fn new(
        people: Vec<Person>,
        groups: Vec<Group>,
        extra_members: Vec<(GroupId, PersonId)>,
        rotations: Vec<Rotation>,
    ) -> Self {
        let mut dir = Directory::default();
        for (group, person) in extra_members {
            dir.members.entry(group).or_default().insert(person);
        }
        for person in people {
            for group in &person.groups {
                dir.members.entry(group.clone()).or_default().insert(person.id.clone());
            }
            for (surface, id) in &person.ids {
                dir.by_surface.insert((surface.clone(), id.clone()), person.id.clone());
            }
            let index = [
                (&mut dir.by_email, person.email.as_ref().map(|e| e.to_lowercase())),
                (&mut dir.by_subject, person.oidc_subject.clone()),
            ];
            for (map, key) in index {
                if let Some(key) = key {
                    map.insert(key, person.id.clone());
                }
            }
            dir.people.insert(person.id.clone(), person);
        }
        for group in groups {
            dir.members.entry(group.id.clone()).or_default();
            dir.groups.insert(group.id.clone(), group);
        }
        dir.rotations = rotations.into_iter().map(|r| (r.id.clone(), r)).collect();
        dir
    }

    /// The same directory with `agents` (checked by the loader: unique ids, known owners).
    pub fn with_agents(mut self, agents: Vec<Agent>) -> Self {
        self.agents = agents.into_iter().map(|a| (a.id.clone(), a)).collect();
        self
    }

    /// The agent `id`.
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.get(id)
    }

    /// Every agent, in id order.
    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    /// The person `id`.
    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.people.get(id)
    }

    /// Every person, in id order.
    pub fn people(&self) -> impl Iterator<Item = &Person> {
        self.people.values()
    }

    /// Whether `id` names a group (declared, or named in someone's `groups`).
    pub fn has_group(&self, id: &GroupId) -> bool {
        self.members.contains_key(id)
    }

    /// Every group id.
    pub fn group_ids(&self) -> impl Iterator<Item = &GroupId> {
        self.members.keys()
    }

    /// The rotation `id`.
    pub fn rotation(&self, id: &RotationId) -> Option<&Rotation> {
        self.rotations.get(id)
    }

    /// The person whose id on `surface` is `id`.
    pub fn by_id_on(&self, surface: &str, id: &str) -> Option<&Person> {
        self.by_surface.get(&(surface.to_owned(), id.to_owned())).and_then(|person| self.people.get(person))
    }

    /// The person with `email` (case-insensitive).
    pub fn by_email(&self, email: &str) -> Option<&Person> {
        self.by_email.get(&email.to_lowercase()).and_then(|id| self.people.get(id))
    }

    /// The person with OpenID Connect subject `subject`.
    pub fn by_subject(&self, subject: &str) -> Option<&Person> {
        self.by_subject.get(subject).and_then(|id| self.people.get(id))
    }

    /// Whether `person` is in `group`.
    pub fn in_group(&self, person: &PersonId, group: &GroupId) -> bool {
        self.members.get(group).is_some_and(|m| m.contains(person))
    }

    /// The groups `person` belongs to.
    pub fn groups_of(&self, person: &PersonId) -> Vec<&GroupId> {
        self.members.iter().filter(|(_, m)| m.contains(person)).map(|(g, _)| g).collect()
    }

    /// Whether `person` is covered by `principal` at `now`.
    pub fn covers(&self, principal: &Principal, person: &PersonId, now: Timestamp) -> bool {
        match principal {
            Principal::Person(p) => p == person,
            Principal::Group(g) => self.in_group(person, g),
            Principal::Oncall(r) => self.rotation(r).and_then(|r| r.on_call(now)) == Some(person),
            // Only an approval given in that system counts for it (see `ticket::decide`).
            Principal::System(_) => false,
        }
    }

    /// Whether any of `principals` covers `person` at `now`.
    pub fn covered_by_any(&self, principals: &[Principal], person: &PersonId, now: Timestamp) -> bool {
        principals.iter().any(|p| self.covers(p, person, now))
    }

    /// Everyone `principals` cover at `now`, on-call people first, each once.
    pub fn resolve(&self, principals: &[Principal], now: Timestamp) -> Vec<PersonId> {
        let mut out: Vec<PersonId> = Vec::new();
        let mut push = |p: &PersonId| {
            if !out.contains(p) {
                out.push(p.clone());
            }
        };
        for principal in principals {
            if let Principal::Oncall(r) = principal
                && let Some(p) = self.rotation(r).and_then(|r| r.on_call(now))
            {
                push(p);
            }
        }
        for principal in principals {
            match principal {
                Principal::Person(p) if self.people.contains_key(p) => push(p),
                Principal::Group(g) => self.members.get(g).into_iter().flatten().for_each(&mut push),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotation(shift: &str) -> Rotation {
        Rotation {
            id: RotationId::new("sre-primary"),
            people: vec![PersonId::new("bob"), PersonId::new("carol")],
            shift: Duration::parse(shift).unwrap(),
            start: "2026-01-05T09:00".parse().unwrap(),
            zone: TimeZone::get("Europe/Berlin").unwrap(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse::<jiff::ZonedDateTime>().unwrap().timestamp()
    }

    #[test]
    fn weekly_rotation_hands_over_at_local_nine_across_dst() {
        let r = rotation("1w");
        assert_eq!(r.on_call(at("2026-01-05T09:00[Europe/Berlin]")).unwrap().as_str(), "bob");
        assert_eq!(r.on_call(at("2026-01-12T08:59[Europe/Berlin]")).unwrap().as_str(), "bob");
        assert_eq!(r.on_call(at("2026-01-12T09:00[Europe/Berlin]")).unwrap().as_str(), "carol");
        assert_eq!(r.on_call(at("2026-01-19T09:00[Europe/Berlin]")).unwrap().as_str(), "bob");
        // 2026-03-30 is after the switch to summer time; still 09:00 local.
        let weeks = 12; // 2026-03-30 is 12 weeks after 2026-01-05
        let expected = if weeks % 2 == 0 { "bob" } else { "carol" };
        assert_eq!(r.on_call(at("2026-03-30T09:00[Europe/Berlin]")).unwrap().as_str(), expected);
        assert_eq!(r.on_call(at("2025-12-01T00:00[Europe/Berlin]")).unwrap().as_str(), "bob");
    }

    #[test]
    fn principals_parse_and_print() {
        for text in ["alice", "group:sre", "oncall:sre-primary"] {
            assert_eq!(Principal::parse(text).unwrap().to_string(), text);
        }
        assert!(Principal::parse("team:sre").is_err());
        assert_eq!(Principal::parse("system:jira").unwrap(), Principal::System("jira".to_owned()));
        assert!(Principal::parse("group:").is_err());
    }
}
