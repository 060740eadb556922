//! Whatever the input, parsing returns a result: no panic, and every error points at a line.

use proptest::prelude::*;

use super::*;

fn good(path: &str) -> String {
    std::fs::read_to_string(tests_dir().join("good").join(path)).unwrap()
}

/// One edit to a file: delete, insert or replace a stretch of text, or repeat a line.
#[derive(Clone, Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, text: String },
    RepeatLine { line: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    // Characters that matter to YAML, templates, CEL and `${VAR}`, plus some that do not.
    let piece = prop::collection::vec(
        prop::sample::select(vec![
            ":", " ", "\n", "  ", "-", "[", "]", "{", "}", ",", "#", "&a", "*a", "!", "|", ">", "'", "\"", "%", "@",
            "`", "\t", "{{", "}}", "${", "$${", "params.", "<<", "---", "~", "é", "\u{feff}", "0", "9x", "true",
            "1.10", "group:", "oncall:", "\\", "\r",
        ]),
        1..4,
    )
    .prop_map(|pieces| pieces.concat());
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), piece.clone()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), piece).prop_map(|(at, text)| Edit::Replace { at, text }),
        any::<usize>().prop_map(|line| Edit::RepeatLine { line }),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let n = chars.len().max(1);
        match edit {
            Edit::Delete { at, len } => {
                let start = at % n;
                let end = (start + len).min(chars.len());
                chars.drain(start.min(end)..end);
            }
            Edit::Insert { at, text } => {
                let at = (at % (chars.len() + 1)).min(chars.len());
                chars.splice(at..at, text.chars());
            }
            Edit::Replace { at, text } => {
                let start = (at % n).min(chars.len());
                let end = (start + text.chars().count()).min(chars.len());
                chars.splice(start..end, text.chars());
            }
            Edit::RepeatLine { line } => {
                let s: String = chars.iter().collect();
                let mut lines: Vec<&str> = s.split('\n').collect();
                let i = line % lines.len();
                let copy = lines[i];
                lines.insert(i, copy);
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

fn errors_point_at_lines(result: Result<(), Diagnostics>) -> Result<(), TestCaseError> {
    if let Err(problems) = result {
        prop_assert!(!problems.is_empty());
        for problem in problems.errors() {
            prop_assert!(problem.line >= 1 && problem.column >= 1, "{problem}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        errors_point_at_lines(parse_workflow_str("w.yaml", &text, &env).map(|_| ()))?;
        errors_point_at_lines(parse_config_str("docket.yaml", &text, &env).map(|_| ()))?;
    }

    #[test]
    fn mutated_workflows_never_panic(edits in prop::collection::vec(edit(), 1..5)) {
        let text = apply(&good("workflows/deploy-service.yaml"), &edits);
        errors_point_at_lines(parse_workflow_str("w.yaml", &text, &env).map(|_| ()))?;
    }

    #[test]
    fn mutated_configs_never_panic(edits in prop::collection::vec(edit(), 1..5)) {
        let text = apply(&good("docket.yaml"), &edits);
        let workflow = Source::new("workflows/w.yaml", good("workflows/deploy-service.yaml"));
        errors_point_at_lines(parse(&Source::new("docket.yaml", text), &[workflow], &env).map(|_| ()))?;
    }
}
