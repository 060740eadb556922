//! A checker for the Adaptive Cards Docket renders, against the parts of the 1.5 schema it
//! emits: the card's type and version, known element and action types with their required
//! properties and no unknown ones, valid enumerations, unique input ids, a `refresh` that is
//! an `Action.Execute` naming at most 60 users, and a size under Teams' 28 KB. Tests run every
//! rendered card through it.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{MAX_CARD_BYTES, VERSION};

const COMMON: &[&str] = &["type", "id", "spacing", "separator", "isVisible", "height", "requires", "fallback"];
const INPUT: &[&str] = &["label", "isRequired", "errorMessage", "value"];
const SPACING: &[&str] = &["default", "none", "small", "medium", "large", "extraLarge", "padding"];
const COLORS: &[&str] = &["default", "dark", "light", "accent", "good", "warning", "attention"];
const SIZES: &[&str] = &["default", "small", "medium", "large", "extraLarge"];
const WEIGHTS: &[&str] = &["default", "lighter", "bolder"];
const ACTION_STYLES: &[&str] = &["default", "positive", "destructive"];

/// Every problem with `card`, or nothing.
pub fn check(card: &Value) -> Result<(), Vec<String>> {
    let mut c = Checker { problems: Vec::new(), ids: HashSet::new() };
    let size = serde_json::to_vec(card).map_or(usize::MAX, |b| b.len());
    if size >= MAX_CARD_BYTES {
        c.problem("card", format!("{size} bytes, at or over {MAX_CARD_BYTES}"));
    }
    c.card(card, "card", true);
    if c.problems.is_empty() { Ok(()) } else { Err(c.problems) }
}

struct Checker {
    problems: Vec<String>,
    ids: HashSet<String>,
}

impl Checker {
    fn problem(&mut self, at: &str, what: impl Into<String>) {
        self.problems.push(format!("{at}: {}", what.into()));
    }

    fn card(&mut self, value: &Value, at: &str, top: bool) {
        let Some(card) = value.as_object() else { return self.problem(at, "not an object") };
        self.allowed(
            card,
            at,
            &["type", "$schema", "version", "body", "actions", "msteams", "refresh", "fallbackText"],
        );
        if card.get("type").and_then(Value::as_str) != Some("AdaptiveCard") {
            self.problem(at, "type is not AdaptiveCard");
        }
        if top && card.get("version").and_then(Value::as_str) != Some(VERSION) {
            self.problem(at, format!("version is not \"{VERSION}\""));
        }
        match card.get("body") {
            Some(Value::Array(items)) => self.elements(items, &format!("{at}.body")),
            Some(_) => self.problem(at, "body is not an array"),
            None => {}
        }
        self.actions(card.get("actions"), &format!("{at}.actions"));
        if let Some(refresh) = card.get("refresh") {
            self.refresh(refresh, &format!("{at}.refresh"));
        }
    }

    fn refresh(&mut self, refresh: &Value, at: &str) {
        let Some(object) = refresh.as_object() else { return self.problem(at, "not an object") };
        self.allowed(object, at, &["action", "userIds", "expires"]);
        match object.get("action") {
            Some(action) if action.get("type").and_then(Value::as_str) == Some("Action.Execute") => {
                self.action(action, &format!("{at}.action"));
            }
            _ => self.problem(at, "action is not an Action.Execute"),
        }
        if let Some(users) = object.get("userIds") {
            match users.as_array() {
                Some(list) if list.len() <= 60 && list.iter().all(Value::is_string) => {}
                _ => self.problem(at, "userIds is not a list of at most 60 strings"),
            }
        }
    }

    fn elements(&mut self, items: &[Value], at: &str) {
        for (i, item) in items.iter().enumerate() {
            self.element(item, &format!("{at}[{i}]"));
        }
    }

    fn element(&mut self, value: &Value, at: &str) {
        let Some(e) = value.as_object() else { return self.problem(at, "not an object") };
        let kind = e.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let at = format!("{at} ({kind})");
        self.enumerated(e, &at, "spacing", SPACING);
        match kind.as_str() {
            "TextBlock" => {
                let own = [
                    "text",
                    "wrap",
                    "size",
                    "weight",
                    "color",
                    "isSubtle",
                    "fontType",
                    "horizontalAlignment",
                    "maxLines",
                    "style",
                ];
                self.allowed_with(e, &at, &own, &[]);
                self.required_string(e, &at, "text");
                self.enumerated(e, &at, "size", SIZES);
                self.enumerated(e, &at, "weight", WEIGHTS);
                self.enumerated(e, &at, "color", COLORS);
                self.enumerated(e, &at, "fontType", &["default", "monospace"]);
            }
            "FactSet" => {
                self.allowed_with(e, &at, &["facts"], &[]);
                match e.get("facts").and_then(Value::as_array) {
                    Some(facts) => {
                        for fact in facts {
                            let ok = fact.get("title").is_some_and(Value::is_string)
                                && fact.get("value").is_some_and(Value::is_string)
                                && fact.as_object().is_some_and(|f| f.len() == 2);
                            if !ok {
                                self.problem(&at, "a fact is not {title, value} strings");
                            }
                        }
                    }
                    None => self.problem(&at, "facts is missing"),
                }
            }
            "Table" => {
                self.allowed_with(e, &at, &["columns", "rows", "firstRowAsHeader", "showGridLines", "gridStyle"], &[]);
                let width = match e.get("columns").and_then(Value::as_array) {
                    Some(columns) if columns.iter().all(|c| c.get("width").is_some()) => columns.len(),
                    _ => return self.problem(&at, "columns is not a list of {width}"),
                };
                match e.get("rows").and_then(Value::as_array) {
                    Some(rows) => {
                        for (i, row) in rows.iter().enumerate() {
                            let cells = row.get("cells").and_then(Value::as_array);
                            let is_row = row.get("type").and_then(Value::as_str) == Some("TableRow");
                            match cells {
                                Some(cells) if is_row && cells.len() <= width => {
                                    for (j, cell) in cells.iter().enumerate() {
                                        let at = format!("{at}.rows[{i}].cells[{j}]");
                                        match cell.get("items").and_then(Value::as_array) {
                                            Some(items)
                                                if cell.get("type").and_then(Value::as_str) == Some("TableCell") =>
                                            {
                                                self.elements(items, &format!("{at}.items"));
                                            }
                                            _ => self.problem(&at, "not a TableCell with items"),
                                        }
                                    }
                                }
                                _ => self.problem(&at, format!("row {i} is not a TableRow of at most {width} cells")),
                            }
                        }
                    }
                    None => self.problem(&at, "rows is missing"),
                }
            }
            "Container" => {
                self.allowed_with(e, &at, &["items", "style", "bleed", "minHeight", "verticalContentAlignment"], &[]);
                match e.get("items").and_then(Value::as_array) {
                    Some(items) => self.elements(items, &format!("{at}.items")),
                    None => self.problem(&at, "items is missing"),
                }
            }
            "ActionSet" => {
                self.allowed_with(e, &at, &["actions"], &[]);
                self.actions(e.get("actions"), &format!("{at}.actions"));
            }
            "Input.Text" => {
                let own = ["isMultiline", "maxLength", "placeholder", "regex", "style", "inlineAction"];
                self.input(e, &at, &own);
                if let Some(regex) = e.get("regex") {
                    if !regex.is_string() {
                        self.problem(&at, "regex is not a string");
                    }
                    if !e.contains_key("errorMessage") {
                        self.problem(&at, "regex without errorMessage");
                    }
                }
                self.string_value(e, &at);
            }
            "Input.Number" => {
                self.input(e, &at, &["min", "max", "placeholder"]);
                let number = |k: &str| e.get(k).map(|v| v.as_f64());
                for key in ["min", "max", "value"] {
                    if number(key) == Some(None) {
                        self.problem(&at, format!("{key} is not a number"));
                    }
                }
                if let (Some(Some(min)), Some(Some(max))) = (number("min"), number("max"))
                    && min > max
                {
                    self.problem(&at, "min is greater than max");
                }
            }
            "Input.Toggle" => {
                self.input(e, &at, &["title", "valueOn", "valueOff", "wrap"]);
                self.required_string(e, &at, "title");
                self.string_value(e, &at);
            }
            "Input.ChoiceSet" => {
                self.input(e, &at, &["choices", "isMultiSelect", "style", "placeholder", "wrap"]);
                self.enumerated(e, &at, "style", &["compact", "expanded", "filtered"]);
                match e.get("choices").and_then(Value::as_array) {
                    Some(choices) => {
                        let ok = choices.iter().all(|c| {
                            c.get("title").is_some_and(Value::is_string) && c.get("value").is_some_and(Value::is_string)
                        });
                        if !ok {
                            self.problem(&at, "a choice is not {title, value} strings");
                        }
                        if let Some(value) = e.get("value").and_then(Value::as_str)
                            && !choices.iter().any(|c| c.get("value").and_then(Value::as_str) == Some(value))
                        {
                            self.problem(&at, "value is not one of the choices");
                        }
                    }
                    None => self.problem(&at, "choices is missing"),
                }
                self.string_value(e, &at);
            }
            other => self.problem(&at, format!("unknown element type `{other}`")),
        }
    }

    fn input(&mut self, e: &Map<String, Value>, at: &str, own: &[&str]) {
        self.allowed_with(e, at, own, INPUT);
        match e.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => {
                if !self.ids.insert(id.to_owned()) {
                    self.problem(at, format!("input id `{id}` is used twice"));
                }
            }
            _ => self.problem(at, "an input needs an id"),
        }
        if e.get("isRequired").is_some_and(|v| !v.is_boolean()) {
            self.problem(at, "isRequired is not a boolean");
        }
    }

    fn actions(&mut self, actions: Option<&Value>, at: &str) {
        match actions {
            None => {}
            Some(Value::Array(list)) => {
                for (i, action) in list.iter().enumerate() {
                    self.action(action, &format!("{at}[{i}]"));
                }
            }
            Some(_) => self.problem(at, "actions is not an array"),
        }
    }

    fn action(&mut self, value: &Value, at: &str) {
        let Some(a) = value.as_object() else { return self.problem(at, "not an object") };
        let kind = a.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let at = format!("{at} ({kind})");
        let common =
            ["type", "id", "title", "iconUrl", "style", "fallback", "tooltip", "isEnabled", "mode", "requires"];
        self.enumerated(a, &at, "style", ACTION_STYLES);
        match kind.as_str() {
            "Action.Execute" => {
                self.allowed_with(a, &at, &["verb", "data", "associatedInputs"], &common);
                if a.get("verb").is_some_and(|v| !v.is_string()) {
                    self.problem(&at, "verb is not a string");
                }
                if a.get("data").is_some_and(|d| !d.is_object()) {
                    self.problem(&at, "data is not an object");
                }
            }
            "Action.OpenUrl" => {
                self.allowed_with(a, &at, &["url"], &common);
                let url = a.get("url").and_then(Value::as_str).unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    self.problem(&at, "url is not an http(s) URL");
                }
            }
            "Action.ShowCard" => {
                self.allowed_with(a, &at, &["card"], &common);
                match a.get("card") {
                    Some(card) => self.card(card, &format!("{at}.card"), false),
                    None => self.problem(&at, "card is missing"),
                }
            }
            other => self.problem(&at, format!("unknown action type `{other}`")),
        }
    }

    fn allowed(&mut self, object: &Map<String, Value>, at: &str, keys: &[&str]) {
        for key in object.keys() {
            if !keys.contains(&key.as_str()) {
                self.problem(at, format!("unknown property `{key}`"));
            }
        }
    }

    fn allowed_with(&mut self, object: &Map<String, Value>, at: &str, own: &[&str], more: &[&str]) {
        let keys: Vec<&str> = COMMON.iter().chain(own).chain(more).copied().collect();
        self.allowed(object, at, &keys);
    }

    fn required_string(&mut self, object: &Map<String, Value>, at: &str, key: &str) {
        if !object.get(key).is_some_and(Value::is_string) {
            self.problem(at, format!("{key} is missing or not a string"));
        }
    }

    fn string_value(&mut self, object: &Map<String, Value>, at: &str) {
        if object.get("value").is_some_and(|v| !v.is_string()) {
            self.problem(at, "value is not a string");
        }
    }

    fn enumerated(&mut self, object: &Map<String, Value>, at: &str, key: &str, allowed: &[&str]) {
        if let Some(value) = object.get(key) {
            let ok = value.as_str().is_some_and(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v)));
            if !ok {
                self.problem(at, format!("{key} is not one of {}", allowed.join(", ")));
            }
        }
    }
}
