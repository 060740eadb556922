//! `people`, `groups` and `oncall` to a [`Directory`], and the names they declare, so that
//! approvers and requesters elsewhere can be checked against them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use docket_core::directory::Group;
use docket_core::{Directory, GroupId, Person, PersonId, Principal, Rotation, RotationId};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::decode::{Fields, Seen, boolean, duration, excerpt, ident, list, list_of, nonempty, open_map, text};
use crate::diagnostic::{Pos, Report};
use crate::node::{Node, Value};
use docket_core::text::did_you_mean;

/// The keys every person may have; surfaces add their own (a person's id there).
const PERSON_KEYS: &[&str] = &["id", "name", "email", "oidc_subject", "groups", "admin"];

/// Who is declared, and the directory built from it when everything is valid.
#[derive(Debug, Default)]
pub(crate) struct People {
    /// Every person id declared.
    persons: BTreeSet<String>,
    /// Every group (declared or named by a person), with its members.
    groups: BTreeMap<String, BTreeSet<String>>,
    /// Every rotation, with its people.
    rotations: BTreeMap<String, Vec<String>>,
    /// The directory, when the three sections have no errors.
    pub(crate) directory: Option<Directory>,
    /// The ticketing systems a stage may name in `from` (`jira`), by their sections.
    pub(crate) systems: BTreeSet<&'static str>,
}

impl People {
    /// A stage's `from` entry as meant: a bare name that is no person but a ticketing system
    /// configured here (`jira`) is that system.
    pub(crate) fn approver(&self, principal: Principal) -> Principal {
        match principal {
            Principal::Person(p) if !self.persons.contains(p.as_str()) && self.systems.contains(p.as_str()) => {
                Principal::System(p.as_str().to_owned())
            }
            other => other,
        }
    }

    /// Whether `id` is a declared person.
    pub(crate) fn has_person(&self, id: &str) -> bool {
        self.persons.contains(id)
    }

    /// Reports a principal that names nobody declared.
    pub(crate) fn check(&self, principal: &Principal, pos: Pos, report: &mut Report) {
        let (kind, kinds, id, known): (&str, &str, &str, Vec<&str>) = match principal {
            Principal::System(s) => {
                ("ticketing system", "ticketing systems", s.as_str(), self.systems.iter().copied().collect())
            }
            Principal::Person(p) => ("person", "people", p.as_str(), self.persons.iter().map(String::as_str).collect()),
            Principal::Group(g) => ("group", "groups", g.as_str(), self.groups.keys().map(String::as_str).collect()),
            Principal::Oncall(r) => (
                "on-call rotation",
                "on-call rotations",
                r.as_str(),
                self.rotations.keys().map(String::as_str).collect(),
            ),
        };
        if known.contains(&id) {
            return;
        }
        let hint = did_you_mean(id, known.iter().copied()).or_else(|| match principal {
            Principal::Person(_) if self.groups.contains_key(id) => Some(format!("for the group, write `group:{id}`")),
            Principal::Person(_) if self.rotations.contains_key(id) => {
                Some(format!("for the rotation, write `oncall:{id}`"))
            }
            _ if known.is_empty() => Some(format!("no {kinds} are declared")),
            _ if known.len() <= 8 => Some(format!("known {kinds}: {}", known.join(", "))),
            _ => None,
        });
        report.error_maybe(pos, format!("unknown {kind} `{id}`"), hint);
    }

    /// Everyone who could ever be covered by `from`.
    pub(crate) fn eligible(&self, from: &[Principal]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for principal in from {
            match principal {
                Principal::Person(p) if self.persons.contains(p.as_str()) => {
                    out.insert(p.as_str().to_owned());
                }
                Principal::Group(g) => out.extend(self.groups.get(g.as_str()).into_iter().flatten().cloned()),
                Principal::Oncall(r) => out.extend(self.rotations.get(r.as_str()).into_iter().flatten().cloned()),
                // Anyone Docket knows may approve there.
                Principal::System(_) => out.extend(self.persons.iter().cloned()),
                Principal::Person(_) => {}
            }
        }
        out
    }
}

/// Reads the three sections; `zone` is the configured time zone, if it is valid.
/// `surfaces` names the keys under which a person has an id on a surface, each with how
/// messages name such an id (`slack` → "Slack user").
pub(crate) fn people(
    people: Option<&Node>,
    groups: Option<&Node>,
    oncall: Option<&Node>,
    zone: Option<&TimeZone>,
    surfaces: &BTreeMap<&'static str, &'static str>,
    report: &mut Report,
) -> People {
    let before = report.error_count();
    let mut out = People::default();
    let persons = people.map_or(Some(Vec::new()), |n| persons(n, &mut out, surfaces, report));
    let declared = groups.map_or(Some((Vec::new(), Vec::new())), |n| declared_groups(n, &mut out, report));
    let rotations = oncall.map_or(Some(Vec::new()), |n| rotations(n, &mut out, zone, report));
    if let (Some(persons), Some((groups, members)), Some(rotations)) = (persons, declared, rotations)
        && report.error_count() == before
    {
        out.directory = Some(Directory::new(persons, groups, members, rotations));
    }
    out
}

fn persons(
    node: &Node,
    out: &mut People,
    surfaces: &BTreeMap<&'static str, &'static str>,
    report: &mut Report,
) -> Option<Vec<Person>> {
    let before = report.error_count();
    let mut seen = Seen::default();
    let mut identities: HashMap<(&str, String), (String, usize)> = HashMap::new();
    let mut list_out = Vec::new();
    let keys: Vec<&'static str> = PERSON_KEYS.iter().copied().chain(surfaces.keys().copied()).collect();
    let labelled: Vec<(&str, &str)> = [("email", "email")]
        .into_iter()
        .chain(surfaces.iter().map(|(k, l)| (*k, *l)))
        .chain([("oidc_subject", "OIDC subject")])
        .collect();
    for item in list(node, "people", report)? {
        let Some(fields) = Fields::open(item, "person", &keys, report) else { continue };
        let Some(id) = fields.req("id", report, ident) else { continue };
        if let Some(at) = fields.get("id")
            && !seen.first(&id, at.pos, "person", report)
        {
            continue;
        }
        out.persons.insert(id.clone());
        let groups = fields.opt("groups", report, |n, r| list_of(n, "group ids", r, ident)).or(Vec::new());
        for group in groups.iter().flatten() {
            out.groups.entry(group.clone()).or_default().insert(id.clone());
        }
        let name = fields.opt("name", report, nonempty).or(id.clone());
        let mut ids = BTreeMap::new();
        for &(key, label) in &labelled {
            let Some(node) = fields.get(key) else { continue };
            let Some(value) = nonempty(node, report) else { continue };
            if key == "email" && !value.contains('@') {
                report.error(node.pos, format!("`{}` is not an email address", excerpt(&value)));
            }
            let unique = if key == "email" { value.to_lowercase() } else { value.clone() };
            match identities.get(&(key, unique.clone())) {
                Some((owner, line)) => {
                    report.error(node.pos, format!("{label} `{value}` is already {owner}'s (line {line})"));
                }
                None => {
                    identities.insert((key, unique), (id.clone(), node.pos.line));
                }
            }
            ids.insert(key, value);
        }
        let admin = fields.opt("admin", report, boolean).or(false);
        if let (Some(name), Some(groups), Some(admin)) = (name, groups, admin) {
            list_out.push(Person {
                id: PersonId::new(&id),
                name,
                email: ids.remove("email"),
                oidc_subject: ids.remove("oidc_subject"),
                ids: ids.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                groups: groups.into_iter().map(GroupId::new).collect(),
                admin,
            });
        }
    }
    (report.error_count() == before).then_some(list_out)
}

/// Declared groups, and members listed by groups rather than by people.
type Groups = (Vec<Group>, Vec<(GroupId, PersonId)>);

/// `groups`: a list of `{id, description, members}`, or a mapping of id to
/// `{description, members}`.
fn declared_groups(node: &Node, out: &mut People, report: &mut Report) -> Option<Groups> {
    let before = report.error_count();
    // (id, where it is written, the group's other fields)
    let mut entries: Vec<(Option<String>, Pos, Option<Fields<'_>>)> = Vec::new();
    if let Value::Map(_) = &node.value {
        for (_, key, value) in open_map(node, "group ids to groups", report)? {
            let fields = match value.is_null() {
                true => None,
                false => Fields::open(value, "group", &["description", "members"], report),
            };
            entries.push((ident(key, report), key.pos, fields));
        }
    } else {
        for item in list(node, "groups", report)? {
            let Some(fields) = Fields::open(item, "group", &["id", "description", "members"], report) else { continue };
            let at = fields.get("id").map_or(item.pos, |n| n.pos);
            entries.push((fields.req("id", report, ident), at, Some(fields)));
        }
    }
    let mut seen = Seen::default();
    let mut groups = Vec::new();
    let mut members = Vec::new();
    for (id, at, fields) in entries {
        let Some(id) = id else { continue };
        if !seen.first(&id, at, "group", report) {
            continue;
        }
        out.groups.entry(id.clone()).or_default();
        let description = fields.as_ref().and_then(|f| f.opt("description", report, text).optional().flatten());
        let listed = fields.as_ref().and_then(|f| f.get("members")).and_then(|n| list(n, "people", report));
        for member_node in listed.unwrap_or_default() {
            let Some(member) = ident(member_node, report) else { continue };
            out.check_member(&member, member_node.pos, report);
            out.groups.entry(id.clone()).or_default().insert(member.clone());
            members.push((GroupId::new(&id), PersonId::new(member)));
        }
        groups.push(Group { id: GroupId::new(id), description });
    }
    (report.error_count() == before).then_some((groups, members))
}

impl People {
    fn check_member(&self, id: &str, pos: Pos, report: &mut Report) {
        self.check(&Principal::Person(PersonId::new(id)), pos, report);
    }
}

/// `oncall: {id: {rotation: [people], shift: 1w, start: 2026-01-05T09:00}}`.
fn rotations(node: &Node, out: &mut People, zone: Option<&TimeZone>, report: &mut Report) -> Option<Vec<Rotation>> {
    let before = report.error_count();
    let mut list_out = Vec::new();
    for (_, key, value) in open_map(node, "rotation ids to rotations", report)? {
        let id = ident(key, report);
        let Some(fields) = Fields::open(value, "rotation", &["rotation", "shift", "start"], report) else { continue };
        let people =
            fields.req("rotation", report, |n, r| list_of(n, "people", r, |n, r| ident(n, r).map(|p| (p, n.pos))));
        if let Some(id) = &id {
            let names = people.iter().flatten().map(|(p, _)| p.clone()).collect();
            out.rotations.insert(id.clone(), names);
        }
        if let Some(people) = &people {
            if people.is_empty() {
                let at = fields.get("rotation").map_or(fields.pos(), |n| n.pos);
                report.error(at, "a rotation needs at least one person");
            }
            for (person, at) in people {
                out.check_member(person, *at, report);
            }
        }
        let shift = fields.req("shift", report, duration);
        if let (Some(shift), Some(at)) = (shift, fields.get("shift"))
            && shift.as_millis() == 0
        {
            report.error_hint(at.pos, "a shift of 0s never ends", "write e.g. 1d or 1w");
        }
        let start = fields.req("start", report, start);
        if let (Some(id), Some(people), Some(shift), Some(start), Some(zone)) = (id, people, shift, start, zone) {
            let people = people.into_iter().map(|(p, _)| PersonId::new(p)).collect();
            list_out.push(Rotation { id: RotationId::new(id), people, shift, start, zone: zone.clone() });
        }
    }
    (report.error_count() == before).then_some(list_out)
}

fn start(node: &Node, report: &mut Report) -> Option<DateTime> {
    let value = text(node, report)?;
    let message = format!("`{}` is not a date and time", excerpt(&value));
    let hint = "write e.g. 2026-01-05T09:00, on the wall clock of the configured timezone";
    value.parse().map_err(|_| report.error_hint(node.pos, message, hint)).ok()
}
