//! Repository rules as a test, so they hold without anyone remembering them: file headers,
//! dependency directions between crates, who may read the environment, no shells, no IO in
//! core, and files small enough to read in one sitting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Longest Rust file, in lines.
const MAX_LINES: usize = 700;

/// Which workspace crates each crate may depend on (ARCHITECTURE.md, "Code map").
/// `docket-testkit` is allowed as a dev-dependency everywhere and as a regular dependency nowhere.
/// Plug-ins (step kinds, surfaces, integrations) may use `docket-config` to read their part of
/// the files; only `docket-plugins` knows them all.
const ALLOWED: &[(&str, &[&str])] = &[
    ("docket-core", &[]),
    ("docket-config", &["docket-core"]),
    ("docket-app", &["docket-core"]),
    ("docket-store", &["docket-app", "docket-core"]),
    ("docket-process", &["docket-app"]),
    ("docket-steps", &["docket-app", "docket-config", "docket-core", "docket-process"]),
    ("docket-sql", &["docket-app", "docket-config", "docket-core"]),
    ("docket-terraform", &["docket-app", "docket-config", "docket-core", "docket-process"]),
    ("docket-audit", &["docket-app", "docket-config", "docket-core"]),
    ("docket-kubernetes", &["docket-app", "docket-config", "docket-core"]),
    ("docket-pipelines", &["docket-app", "docket-config", "docket-core"]),
    ("docket-http", &[]),
    ("docket-slack", &["docket-app", "docket-config", "docket-core", "docket-http"]),
    ("docket-teams", &["docket-app", "docket-config", "docket-core", "docket-http"]),
    ("docket-web", &["docket-app", "docket-config", "docket-core", "docket-http"]),
    ("docket-jira", &["docket-app", "docket-config", "docket-core", "docket-http"]),
    ("docket-servicenow", &["docket-app", "docket-config", "docket-core", "docket-http"]),
    ("docket-mcp", &["docket-app", "docket-core", "docket-http"]),
    (
        "docket-plugins",
        &[
            "docket-app",
            "docket-audit",
            "docket-config",
            "docket-core",
            "docket-kubernetes",
            "docket-pipelines",
            "docket-jira",
            "docket-process",
            "docket-servicenow",
            "docket-slack",
            "docket-sql",
            "docket-steps",
            "docket-teams",
            "docket-terraform",
            "docket-web",
        ],
    ),
    (
        "docket-testkit",
        &["docket-app", "docket-config", "docket-core", "docket-process", "docket-steps", "docket-store"],
    ),
    ("docket", &["*"]),
    ("xtask", &[]),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").to_path_buf()
}

fn rust_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for top in ["crates", "xtask"] {
        walk(&root().join(top), &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && name != "node_modules" {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// The crate a file belongs to, by its folder under `crates/`.
fn crate_of(path: &Path) -> String {
    let rel = relative(path);
    let mut parts = rel.split('/');
    match (parts.next(), parts.next()) {
        (Some("crates"), Some(name)) => name.to_owned(),
        (Some(top), _) => top.to_owned(),
        _ => String::new(),
    }
}

/// Whether a file is library or binary source (not tests, benches or fuzz targets).
fn is_source(path: &Path) -> bool {
    let rel = relative(path);
    rel.contains("/src/") && !rel.contains("/tests/") && !rel.contains("/benches/")
}

fn failures(found: Vec<String>, rule: &str) {
    assert!(found.is_empty(), "{rule}:\n  {}", found.join("\n  "));
}

#[test]
fn every_rust_file_starts_with_a_doc_line() {
    let found = rust_files()
        .into_iter()
        .filter(|p| {
            let text = fs::read_to_string(p).unwrap_or_default();
            !text.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| l.starts_with("//!"))
        })
        .map(|p| relative(&p))
        .collect();
    failures(found, "every file must start with a `//!` line saying what it is for");
}

#[test]
fn files_stay_readable_in_one_sitting() {
    let found = rust_files()
        .into_iter()
        .filter_map(|p| {
            let lines = fs::read_to_string(&p).unwrap_or_default().lines().count();
            (lines > MAX_LINES).then(|| format!("{} has {lines} lines", relative(&p)))
        })
        .collect();
    failures(found, &format!("split files over {MAX_LINES} lines by responsibility"));
}

fn manifests() -> BTreeMap<String, toml::Table> {
    let mut out = BTreeMap::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(root().join("crates")).unwrap().flatten().map(|e| e.path()).collect();
    dirs.push(root().join("xtask"));
    for dir in dirs {
        let Ok(text) = fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let name = table["package"]["name"].as_str().unwrap().to_owned();
        out.insert(name, table);
    }
    out
}

fn deps<'a>(manifest: &'a toml::Table, section: &str) -> Vec<&'a str> {
    manifest.get(section).and_then(|s| s.as_table()).map(|t| t.keys().map(String::as_str).collect()).unwrap_or_default()
}

#[test]
fn crates_depend_only_in_the_allowed_directions() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut found = Vec::new();
    for (name, manifest) in manifests() {
        let Some(may_use) = allowed.get(name.as_str()) else {
            found.push(format!("{name} is not in the table of allowed dependencies (xtask/tests/tidy.rs)"));
            continue;
        };
        for (section, testkit_ok) in
            [("dependencies", false), ("dev-dependencies", true), ("build-dependencies", false)]
        {
            for dep in deps(&manifest, section) {
                let ours = dep == "docket" || dep.starts_with("docket-");
                if dep == "anyhow" && name != "docket" && section == "dependencies" {
                    found.push(format!("{name} uses anyhow: libraries return typed errors"));
                }
                if !ours || dep == name {
                    continue;
                }
                let ok = may_use.contains(&"*") || may_use.contains(&dep) || (testkit_ok && dep == "docket-testkit");
                if !ok {
                    found.push(format!("{name} must not depend on {dep} ({section})"));
                }
            }
        }
    }
    failures(found, "dependency directions (ARCHITECTURE.md, \"Code map\")");
}

fn grep_sources(filter: impl Fn(&Path) -> bool, patterns: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for path in rust_files().into_iter().filter(|p| is_source(p) && filter(p)) {
        let text = fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for pattern in patterns {
                if code.contains(pattern) {
                    found.push(format!("{}:{}: {}", relative(&path), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn only_the_binary_reads_the_environment() {
    let found =
        grep_sources(|p| crate_of(p) != "docket", &["env::var(", "env::var_os(", "env::vars(", "env::vars_os("]);
    failures(found, "only the `docket` binary reads environment variables; pass values in");
}

#[test]
fn no_shell_ever_sees_a_parameter() {
    let found = grep_sources(
        |_| true,
        &[
            r#"Command::new("sh")"#,
            r#"Command::new("bash")"#,
            r#"Command::new("/bin/sh")"#,
            r#"Command::new("/bin/bash")"#,
        ],
    );
    failures(found, "steps run argv directly, never through a shell");
}

#[test]
fn core_does_no_io_and_reads_no_clock() {
    let found = grep_sources(
        |p| crate_of(p) == "docket-core",
        &[
            "std::fs",
            "std::net",
            "std::process",
            "tokio",
            "Timestamp::now",
            "SystemTime::now",
            "Instant::now",
            "std::thread",
        ],
    );
    failures(found, "docket-core is values and pure functions: `now` is an argument");
}

#[test]
fn core_and_config_name_no_surface() {
    // Surfaces are plug-ins: they bring their own section, person ids and `notify` targets.
    let surfaces = ["slack", "teams", "jira", "servicenow", "mattermost", "discord"];
    let mut found = Vec::new();
    for path in rust_files().into_iter().filter(|p| {
        is_source(p) && matches!(crate_of(p).as_str(), "docket-core" | "docket-config") && !in_test_module(p)
    }) {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").to_ascii_lowercase();
            if let Some(name) = surfaces.iter().find(|s| code.contains(*s)) {
                found.push(format!("{}:{}: names `{name}`: {}", relative(&path), n + 1, line.trim()));
            }
        }
    }
    failures(found, "core and config name no surface; a surface's plug-in reads its own part of the files");
}

#[test]
fn no_catch_all_arm_over_step_kinds() {
    // A kind that is listed but forgotten in a match must not silently become another kind.
    let kinds = ["\"exec\"", "\"http\"", "\"wait\"", "\"sql\""];
    let mut found = Vec::new();
    for path in rust_files().into_iter().filter(|p| is_source(p)) {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("_ =>") {
                continue;
            }
            // The arms just above a catch-all: do they match on step-kind names?
            let above = lines[n.saturating_sub(6)..n].join("\n");
            if kinds.iter().filter(|k| above.contains(&format!("{k} =>"))).count() >= 2 {
                found.push(format!("{}:{}: {}", relative(&path), n + 1, line.trim()));
            }
        }
    }
    failures(found, "no `_ =>` arm maps an unknown step kind to a known one");
}

/// Whether `path` is a file of tests inside `src` (a `tests.rs` module).
fn in_test_module(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "tests.rs" || n.to_string_lossy().ends_with("_tests.rs"))
}

/// Test-only code (the Adaptive Card and Block Kit checkers, and whatever joins them) sits
/// behind a crate's `test-support` feature. Only dev-dependencies may turn it on, so a build of
/// the server never compiles it.
#[test]
fn test_support_is_turned_on_by_tests_only() {
    let enables = |spec: &toml::Value| {
        spec.get("features")
            .and_then(toml::Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("test-support")))
    };
    let mut found = Vec::new();
    for (name, manifest) in manifests() {
        for section in ["dependencies", "build-dependencies"] {
            let table = manifest.get(section).and_then(toml::Value::as_table);
            for (dep, spec) in table.into_iter().flatten() {
                if enables(spec) {
                    found.push(format!("{name} turns on {dep}'s test-support in [{section}]"));
                }
            }
        }
        let features = manifest.get("features").and_then(toml::Value::as_table);
        for (feature, turns_on) in features.into_iter().flatten() {
            let list = turns_on.as_array().into_iter().flatten().filter_map(toml::Value::as_str);
            if feature != "test-support" && list.into_iter().any(|f| f.ends_with("test-support")) {
                found.push(format!("{name}'s feature {feature} turns on test-support"));
            }
        }
    }
    let workspace: toml::Table = fs::read_to_string(root().join("Cargo.toml")).unwrap().parse().unwrap();
    let shared = workspace["workspace"].get("dependencies").and_then(toml::Value::as_table);
    for (dep, spec) in shared.into_iter().flatten() {
        if enables(spec) {
            found.push(format!("[workspace.dependencies] turns on {dep}'s test-support for every user"));
        }
    }
    failures(found, "test-support is for dev-dependencies only");
}
