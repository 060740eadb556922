//! `exec`: arguments stay arguments, the environment is built from nothing, programs are
//! found predictably, output streams line by line, and every failure is an outcome.

use std::path::Path;
use std::time::{Duration, Instant};

use docket_app::{LogStream, Mode};
use docket_core::Action;
use docket_core::ticket::StepOutcome;
use docket_steps::WaitAction;
use serde_json::json;

use crate::support::{Case, exec, failure, runner, script, scripts_dir, tpl};

#[tokio::test]
async fn parameters_reach_the_program_verbatim_as_single_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "still here").unwrap();
    let d = dir.path().display();
    let nasty = [
        format!("; rm -rf {}", victim.display()),
        format!("$(touch {d}/pwned)"),
        format!("`touch {d}/pwned2`"),
        "\"double\" 'single' \\back".to_owned(),
        "*".to_owned(),
        "two\nlines".to_owned(),
        "  spaced  ".to_owned(),
        String::new(),
        format!("| touch {d}/pwned3 && echo"),
    ];
    let names: Vec<String> = (0..nasty.len()).map(|i| format!("p{i}")).collect();
    let params: serde_json::Map<String, serde_json::Value> =
        names.iter().zip(&nasty).map(|(n, v)| (n.clone(), json!(v))).collect();
    let mut argv = vec!["/usr/bin/printf".to_owned(), "<%s>\\n".to_owned()];
    argv.extend(names.iter().map(|n| format!("{{{{{n}}}}}")));
    argv.push("{{p0}}{{p1}}".to_owned());
    let argv_refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    // The format is a literal `<%s>\n`: printf itself turns `\n` into a newline.
    let case = Case::new(Action::new(exec(&argv_refs))).params(serde_json::Value::Object(params));

    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());

    let mut expected: String = nasty.iter().map(|v| format!("<{v}>\n")).collect();
    expected.push_str(&format!("<{}{}>\n", nasty[0], nasty[1]));
    let printed = log.stdout().join("\n") + "\n";
    assert_eq!(printed, expected);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "still here");
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!dir.path().join(file).exists(), "{file} was created: a shell saw the parameter");
    }
    let started = &log.system()[0];
    assert!(started.starts_with(r#"running ["/usr/bin/printf", "<%s>\\n", "; rm -rf "#), "{started}");
    assert!(started.contains(r#""two\nlines""#), "argv is shown escaped, on one line: {started}");
}

#[tokio::test]
async fn the_environment_holds_only_base_env_step_env_and_docket_variables() {
    let mut action = exec(&["/usr/bin/env"]);
    action.env = [("GREETING", "hello {{who}}"), ("LANG", "C.UTF-8"), ("DOCKET_TICKET", "forged")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), tpl(v)))
        .collect();
    let case = Case::new(Action::new(action)).params(json!({"who": "world"})).base_env(&[
        ("PATH", "/usr/bin:/bin"),
        ("LANG", "C"),
        ("TZ", "UTC"),
    ]);

    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    let mut printed = log.stdout();
    printed.sort();
    assert_eq!(
        printed,
        [
            "DOCKET_IDEMPOTENCY_KEY=DKT-42-run1-step0",
            "DOCKET_MODE=run",
            "DOCKET_TICKET=DKT-42",
            "GREETING=hello world",
            "LANG=C.UTF-8",
            "PATH=/usr/bin:/bin",
            "TZ=UTC",
        ]
    );
    assert!(log.system().iter().all(|l| !l.contains("hello world")), "env values are never logged: {}", log.dump());
}

#[tokio::test]
async fn a_plan_run_says_so_in_docket_mode() {
    let case = Case::new(Action::new(exec(&["/usr/bin/env"]))).mode(Mode::Plan);
    let (_, log) = case.run(&runner()).await;
    assert!(log.stdout().contains(&"DOCKET_MODE=plan".to_owned()), "{}", log.dump());
}

#[tokio::test]
async fn programs_are_found_in_the_steps_own_path() {
    let path = format!("/nonexistent:relative/dir::{}", scripts_dir().display());
    let case = Case::new(Action::new(exec(&["exit3.sh"]))).base_env(&[("PATH", &path)]);
    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(failure(&outcome).0, Some(3), "{}", log.dump());
    assert!(log.system()[0].contains(&format!("{}/exit3.sh", scripts_dir().display())), "{}", log.dump());
}

#[tokio::test]
async fn without_a_path_the_standard_directories_are_searched() {
    let case = Case::new(Action::new(exec(&["printf", "%s", "found"]))).base_env(&[]);
    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    assert_eq!(log.stdout(), ["found"]);
}

#[tokio::test]
async fn a_missing_program_is_a_failed_outcome_that_names_it() {
    let case = Case::new(Action::new(exec(&["no-such-program-anywhere", "x"])));
    let (outcome, log) = case.run(&runner()).await;
    let (code, message) = failure(&outcome);
    assert_eq!(code, None);
    assert_eq!(message, r#"program "no-such-program-anywhere" not found in PATH (/usr/bin:/bin)"#);
    assert_eq!(log.system(), [message]);

    let case = Case::new(Action::new(exec(&["/nonexistent/program"])));
    let (outcome, _) = case.run(&runner()).await;
    assert!(failure(&outcome).1.starts_with(r#"program "/nonexistent/program" not found"#), "{outcome:?}");

    let not_executable = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let case = Case::new(Action::new(exec(&[&not_executable.display().to_string()])));
    let (outcome, _) = case.run(&runner()).await;
    assert!(failure(&outcome).1.contains("permission denied"), "{outcome:?}");
}

#[tokio::test]
async fn the_working_directory_is_used_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let mut action = exec(&["/bin/pwd"]);
    action.cwd = Some(tpl("{{dir}}"));
    let case = Case::new(Action::new(action.clone())).params(json!({"dir": dir.path().display().to_string()}));
    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    assert_eq!(log.stdout(), [dir.path().canonicalize().unwrap().display().to_string()]);

    let missing = dir.path().join("missing");
    let case = Case::new(Action::new(action)).params(json!({"dir": missing.display().to_string()}));
    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(failure(&outcome).1, format!("working directory {:?} does not exist", missing.display().to_string()));
    assert!(log.stdout().is_empty());
}

#[tokio::test]
async fn exit_codes_are_recorded_and_stderr_is_kept_apart() {
    let (outcome, log) = Case::new(Action::new(exec(&[&script("exit3.sh")]))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Failed { exit_code: Some(3), message: "exit code 3".to_owned() });
    assert_eq!(log.stdout(), ["out"]);
    assert_eq!(log.stderr(), ["err"]);
    assert_eq!(log.system().last().unwrap(), "exit code 3");

    let (outcome, log) = Case::new(Action::new(exec(&["/usr/bin/true"]))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert_eq!(log.system().last().unwrap(), "exit code 0");
}

#[tokio::test]
async fn death_by_signal_has_no_exit_code() {
    let (outcome, log) = Case::new(Action::new(exec(&[&script("selfkill.sh")]))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Failed { exit_code: None, message: "killed by signal 9".to_owned() });
    assert_eq!(log.system().last().unwrap(), "killed by signal 9");
}

#[tokio::test]
async fn stdin_is_empty() {
    let (outcome, log) = Case::new(Action::new(exec(&["/bin/cat"]))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert!(log.stdout().is_empty());
}

#[tokio::test]
async fn output_that_is_not_utf8_is_decoded_lossily() {
    let case = Case::new(Action::new(exec(&["/usr/bin/printf", r"\377ok\r\nnext"])));
    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert_eq!(log.stdout(), ["\u{fffd}ok", "next"]);
}

#[tokio::test]
async fn overlong_lines_are_cut_at_16_kib() {
    let case = Case::new(Action::new(exec(&["/usr/bin/printf", "%s\\n", "{{long}}"])))
        .params(json!({"long": "x".repeat(40_000)}));
    let (_, log) = case.run(&runner()).await;
    assert_eq!(log.stdout().iter().map(String::len).collect::<Vec<_>>(), [16_384, 16_384, 7_232]);
}

#[tokio::test]
async fn a_hundred_thousand_lines_all_arrive() {
    let start = Instant::now();
    let (outcome, log) = Case::new(Action::new(exec(&["/usr/bin/seq", "1", "100000"]))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    let lines = log.stdout();
    assert_eq!(lines.len(), 100_000);
    assert_eq!((lines[0].as_str(), lines[99_999].as_str()), ("1", "100000"));
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
}

#[tokio::test]
async fn output_streams_while_the_program_runs() {
    let (outcome, log) = Case::new(Action::new(exec(&[&script("stream.sh")]))).run(&runner()).await;
    let returned = Instant::now();
    assert_eq!(outcome, StepOutcome::Succeeded);
    let entries = log.entries();
    let at = |text: &str| entries.iter().find(|e| e.stream == LogStream::Stdout && e.text == text).unwrap().at;
    let (first, second) = (at("first"), at("second"));
    // The script pauses 1 s between them: half of that is left for a slow machine's delays.
    assert!(second.duration_since(first) >= Duration::from_millis(500), "lines arrived together: {entries:?}");
    assert!(returned.duration_since(first) >= Duration::from_millis(500));
}

#[tokio::test]
async fn bad_argv_is_a_failed_outcome() {
    let (outcome, _) = Case::new(Action::new(exec(&[]))).run(&runner()).await;
    assert!(failure(&outcome).1.contains("argv is empty"), "{outcome:?}");

    let case = Case::new(Action::new(exec(&["{{nothing}}"])));
    let (outcome, _) = case.run(&runner()).await;
    assert_eq!(failure(&outcome).1, "the program name rendered to empty text");

    let case = Case::new(Action::new(exec(&["/usr/bin/printf", "{{nul}}"]))).params(json!({"nul": "a\u{0}b"}));
    let (outcome, _) = case.run(&runner()).await;
    assert!(failure(&outcome).1.starts_with("argument 1 contains a NUL byte"), "{outcome:?}");

    let mut action = exec(&["/usr/bin/true"]);
    action.env.insert("BAD=NAME".to_owned(), tpl("x"));
    let (outcome, _) = Case::new(Action::new(action)).run(&runner()).await;
    assert!(failure(&outcome).1.contains("\"BAD=NAME\""), "{outcome:?}");
}

#[tokio::test]
async fn another_kind_of_action_is_refused() {
    let case = Case::new(Action::new(WaitAction(docket_core::Duration::from_secs(1))));
    let (outcome, _) = case.run(&runner()).await;
    assert_eq!(failure(&outcome).1, "the exec runner cannot run `wait` steps");
}

#[tokio::test]
#[allow(clippy::print_stderr, reason = "reports the figure for the README when run with --nocapture")]
async fn forty_sequential_runs_of_true_are_quick() {
    let case = Case::new(Action::new(exec(&["true"])));
    let runner = runner();
    let start = Instant::now();
    for _ in 0..40 {
        let (outcome, _) = case.run(&runner).await;
        assert_eq!(outcome, StepOutcome::Succeeded);
    }
    let took = start.elapsed();
    eprintln!("40 sequential `exec: [true]` runs: {took:?} ({:?} each)", took / 40);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// `run_as`: the program runs as that user, without the server's supplementary groups, and
/// cannot read what only the server's user may (its database, say). A server that may not
/// switch users says so instead of running the program as itself.
#[tokio::test]
async fn run_as_starts_the_program_as_that_user_and_keeps_the_servers_files_out_of_reach() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("docket.db");
    std::fs::write(&database, "the server's data").unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o600)).unwrap();
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;

    let (outcome, log) = Case::new(Action::new(exec(&["/usr/bin/id"]))).run_as("nobody").run(&runner()).await;
    if !root {
        let (_, message) = failure(&outcome);
        assert!(message.contains("may not start programs as `nobody`"), "{message}");
        return;
    }
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    let id = log.stdout().join("\n");
    assert!(id.starts_with("uid=65534(nobody) gid=65534("), "{id}");
    assert!(!id.contains("(root)"), "no group of the server's is kept: {id}");

    let database = database.display().to_string();
    let (outcome, log) = Case::new(Action::new(exec(&["/bin/cat", &database]))).run_as("nobody").run(&runner()).await;
    assert_eq!(failure(&outcome).0, Some(1), "{}", log.dump());
    assert!(log.dump().contains("Permission denied"), "{}", log.dump());

    let (outcome, _) = Case::new(Action::new(exec(&["/usr/bin/id"]))).run_as("no-such-user-here").run(&runner()).await;
    assert_eq!(failure(&outcome).1, "there is no user `no-such-user-here` on this host (`run_as`)");
}
