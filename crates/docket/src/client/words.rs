//! `docket request "deploy api 1.4.2 to prod"`: a request in words, read by the server's matcher
//! (core's, the one Slack, Teams and agents use), turned into a workflow and its parameters, or
//! an answer in words when it reads as nothing, the matcher is not sure (the best candidates,
//! each as the command it stands for so far), or values do not fit.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::bail;
use serde_json::{Map, Value};

use super::http::Api;
use super::render::value_text;
use super::style::Ui;

/// Whether `docket request WORKFLOW ARGS…` is a request in words: the first argument has a
/// space in it, or an argument is not `name=value`.
pub(crate) fn in_words(workflow: &str, args: &[String]) -> bool {
    workflow.contains(char::is_whitespace) || args.iter().any(|a| !a.contains('='))
}

/// The words as one line.
pub(crate) fn text(workflow: &str, args: &[String]) -> String {
    std::iter::once(workflow).chain(args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
}

/// The workflow and parameters `text` asks for. With `say`, prints what it matched as the
/// `name=value` command it stands for.
pub(crate) async fn resolve(
    api: &Api,
    text: &str,
    out: &mut dyn Write,
    ui: &Ui,
    say: bool,
) -> anyhow::Result<(String, Map<String, Value>)> {
    let found = api.match_words(text).await?;
    let Some(workflow) = found.workflow else {
        if found.candidates.is_empty() {
            bail!("no workflow matches “{text}”; `docket workflows` lists the ones you can request");
        }
        let mut message = format!("not sure which workflow “{text}” asks for; the best candidates:");
        for candidate in &found.candidates {
            let _ = write!(message, "\n  {} ({})", candidate.id, candidate.title);
            if let Some(example) = &candidate.example {
                let _ = write!(message, " — say “{example}”");
            }
            let _ = write!(message, "\n    {}", as_command(&candidate.id, &candidate.params));
        }
        let _ = write!(message, "\nsay it again with more words, or run one of these with the missing parameters");
        bail!(message);
    };
    let command = as_command(&workflow, &found.params);
    let example = found.example.as_deref().unwrap_or_default();
    if !found.problems.is_empty() {
        let mut message = format!("“{text}” reads as {workflow} (“{example}”), but:");
        for problem in &found.problems {
            let _ = write!(message, "\n  {}: {}", problem.param, problem.message);
        }
        let _ = write!(message, "\nsay it again, or give the parameters: {command}");
        bail!(message);
    }
    if say {
        writeln!(out, "{} {command}", ui.dim(&format!("“{example}”:")))?;
        if !found.not_understood.is_empty() {
            writeln!(out, "{}", ui.dim(&format!("not understood: {}", found.not_understood.join(" "))))?;
        }
    }
    Ok((workflow, found.params))
}

/// `docket request deploy service=api version=1.4.2`, each value quoted when a shell would need it.
pub(crate) fn as_command(workflow: &str, params: &Map<String, Value>) -> String {
    let mut command = format!("docket request {workflow}");
    for (name, value) in params {
        let _ = write!(command, " {name}={}", quoted(&value_text(value)));
    }
    command
}

/// `text` as one shell word, for reading and pasting: single-quoted unless it is plain.
fn quoted(text: &str) -> String {
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "._/:@%+,-=".contains(c));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn words_are_told_from_name_value_pairs() {
        assert!(!in_words("deploy", &args(&["service=api", "version=1.4.2"])));
        assert!(!in_words("deploy", &[]));
        assert!(in_words("deploy api 1.4.2 to prod", &[]));
        assert!(in_words("deploy", &args(&["api", "1.4.2", "to", "prod"])));
        assert_eq!(text("deploy", &args(&["api", "to", "prod"])), "deploy api to prod");
    }

    #[test]
    fn the_command_a_match_stands_for_pastes_into_a_shell() {
        let params = json!({ "service": "api", "version": "1.4.2", "reason": "it's broken", "replicas": 3 });
        let Value::Object(params) = params else { unreachable!() };
        assert_eq!(
            as_command("deploy", &params),
            "docket request deploy reason='it'\\''s broken' replicas=3 service=api version=1.4.2"
        );
    }
}
