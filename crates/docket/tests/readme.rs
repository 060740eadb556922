//! Every configuration and workflow the README shows loads cleanly with `docket check`: the
//! YAML blocks are taken from the README itself, so an example cannot drift from what Docket
//! accepts. A fragment ("add to docket.yaml") is checked on top of the README's full
//! configuration, its sections replacing that configuration's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::PathBuf;
use std::process::Command;

/// A fenced YAML block: the README line it starts on and its text, dedented.
struct Block {
    line: usize,
    text: String,
}

fn readme() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap()
}

/// The ```yaml blocks, at any indentation (inside list items too).
fn yaml_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, usize, Vec<&str>)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None if trimmed == "```yaml" => open = Some((n + 1, line.len() - trimmed.len(), Vec::new())),
            None => {}
            Some(_) if trimmed == "```" => {
                let (line, indent, lines) = open.take().unwrap();
                let text =
                    lines.iter().map(|l| l.get(indent..).unwrap_or("").trim_end()).collect::<Vec<_>>().join("\n");
                blocks.push(Block { line, text: text + "\n" });
            }
            Some((_, _, lines)) => lines.push(line),
        }
    }
    assert!(open.is_none(), "a ```yaml block is never closed");
    blocks
}

/// The top-level key a line starts, if it starts one.
fn top_key(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if first.is_whitespace() || first == '-' || first == '#' {
        return None;
    }
    line.split_once(':').map(|(key, _)| key.trim())
}

/// `base` with every top-level section `fragment` has replaced by the fragment's.
fn merged(base: &str, fragment: &str) -> String {
    let replaced: Vec<&str> = fragment.lines().filter_map(top_key).collect();
    let mut out = String::new();
    let mut keep = true;
    for line in base.lines() {
        if let Some(key) = top_key(line) {
            keep = !replaced.contains(&key);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out + fragment
}

/// `docket check` on `config` with the README's workflows beside it: what it printed, and
/// whether it passed.
fn check(config: &str, workflows: &[&Block]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.yaml"), config).unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    for (n, workflow) in workflows.iter().enumerate() {
        std::fs::write(dir.path().join(format!("workflows/readme-{n}.yaml")), &workflow.text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(["check", "--config", "docket.yaml"])
        .current_dir(dir.path())
        .env_remove("DOCKET_CONFIG")
        // The secrets the examples read from the environment, as an operator would set them.
        .env("OIDC_CLIENT_SECRET", "example-oidc-secret")
        .env("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
        .env("SLACK_BOT_TOKEN", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy")
        .env("SLACK_APP_TOKEN", "xapp-1-A0123456789-0123456789012-abcdef")
        .env("TEAMS_APP_PASSWORD", "teams~password~0123456789")
        .env("REPORTING_URL", "postgres://reports@db.example.com/shop")
        .env("ORDERS_URL", "postgres://docket_updates@db.example.com/shop")
        .env("JIRA_API_TOKEN", "example-jira-token")
        .env("JIRA_WEBHOOK_SECRET", "example-jira-webhook-secret")
        .env("SERVICENOW_PASSWORD", "example-servicenow-password")
        .env("SERVICENOW_CALLBACK_SECRET", "example-servicenow-callback-secret")
        .env("GITHUB_TOKEN", "ghp_example0123456789")
        .env("GITLAB_TOKEN", "glpat-example0123456789")
        .env("DOCKET_AUDIT_KEY", "7d9a3c1e5b2f4a6d8c0e1f3a5b7c9d2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b3c")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_example_in_the_readme_loads_cleanly() {
    let text = readme();
    let blocks = yaml_blocks(&text);
    let (workflows, configs): (Vec<&Block>, Vec<&Block>) =
        blocks.iter().partition(|b| b.text.starts_with("id:") || b.text.contains("\nsteps:"));
    let (full, fragments): (Vec<&Block>, Vec<&Block>) = configs.iter().partition(|b| b.text.contains("\npeople:"));
    assert!(!workflows.is_empty(), "the README shows a workflow");
    assert_eq!(full.len(), 1, "the README shows one full configuration");
    assert!(fragments.len() >= 3, "the README shows the OpenID Connect, Slack and Teams sections");
    let base = &full[0].text;
    let (ok, said) = check(base, &workflows);
    assert!(ok && !said.contains("warning:"), "README.md:{}: the configuration:\n{said}", full[0].line);
    assert!(said.starts_with("docket.yaml: ok — "), "{said}");
    for fragment in fragments {
        let (ok, said) = check(&merged(base, &fragment.text), &workflows);
        assert!(
            ok && !said.contains("warning:"),
            "README.md:{}: the fragment:\n{}\n{said}",
            fragment.line,
            fragment.text
        );
    }
}

#[test]
fn blocks_are_read_at_any_indentation_and_fragments_replace_whole_sections() {
    let blocks = yaml_blocks("a\n```yaml\nx: 1\n```\n1. item\n\n   ```yaml\n   y:\n     z: 2\n   ```\n");
    let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
    assert_eq!(texts, ["x: 1\n", "y:\n  z: 2\n"]);
    assert_eq!(blocks[1].line, 7);
    let base = "server: { listen: a }\npeople:\n  - { id: x }\n# note\nslack:\n  old: 1\n";
    assert_eq!(
        merged(base, "slack: { new: 2 }\n"),
        "server: { listen: a }\npeople:\n  - { id: x }\n# note\nslack: { new: 2 }\n"
    );
}
