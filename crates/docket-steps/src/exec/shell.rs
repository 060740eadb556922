//! Where an argv hands text to a shell or an interpreter as code: `bash -c SCRIPT`, `python3 -c
//! CODE`, `perl -e CODE`, `node -e CODE`, `ruby -e CODE`, `pwsh -Command …`, the same behind
//! `env …`, and the remote command of `ssh HOST …`. A `{{param}}` there would let a value run as
//! a command, which is exactly what Docket promises never happens, so `docket check` refuses it
//! (see `decode`). Only the program names written literally are recognised; arguments after the
//! code (`bash -c SCRIPT bash "{{x}}"`) are the program's own arguments, and safe.

/// The language an argument is code in, for the words of the fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Language {
    /// sh, bash, zsh, dash, ksh, ash.
    Shell,
    Fish,
    Python,
    Perl,
    Ruby,
    Node,
    PowerShell,
    /// The remote command of ssh, run by the remote user's shell.
    Ssh,
}

/// The arguments a program runs as code.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Code {
    /// How it reads: `bash -c`, `python3 -c`, `ssh`.
    pub(crate) runs: String,
    pub(crate) language: Language,
    /// Indices into the argv of the arguments that are code.
    pub(crate) args: Vec<usize>,
}

/// The code arguments of `argv` (each element as written, templates unrendered), if its program
/// is a shell or interpreter that is given code on the command line.
pub(crate) fn code(argv: &[&str]) -> Option<Code> {
    code_from(argv, 0)
}

fn code_from(argv: &[&str], start: usize) -> Option<Code> {
    let program = *argv.get(start)?;
    if program.contains("{{") {
        return None;
    }
    let name = program.rsplit('/').next().unwrap_or(program);
    let rest = start + 1;
    match name {
        "env" => env(argv, rest),
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "mksh" => shell(argv, rest, name, Language::Shell),
        "fish" => shell(argv, rest, name, Language::Fish),
        "perl" => inline_flags(argv, rest, name, Language::Perl, &['e', 'E'], "IMmxidl0"),
        "ruby" => inline_flags(argv, rest, name, Language::Ruby, &['e'], "rICEFx0"),
        "node" | "nodejs" => node(argv, rest, name),
        "pwsh" | "powershell" | "pwsh.exe" | "powershell.exe" => powershell(argv, rest, name),
        "ssh" => ssh(argv, rest),
        _ if is_python(name) => inline_flags(argv, rest, name, Language::Python, &['c'], "WXQ"),
        _ => None,
    }
}

/// `python`, `python3`, `python3.12`, `pypy3`.
fn is_python(name: &str) -> bool {
    ["python", "pypy"]
        .iter()
        .any(|p| name.strip_prefix(p).is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')))
}

fn found(runs: String, language: Language, args: Vec<usize>) -> Option<Code> {
    (!args.is_empty()).then_some(Code { runs, language, args })
}

/// `env [-i] [-u NAME] [-C DIR] [NAME=VALUE]… PROGRAM ARGS…`: the program's code, whatever it is.
/// `env -S 'TEXT'` splits TEXT into a command line, so TEXT is code.
fn env(argv: &[&str], mut i: usize) -> Option<Code> {
    while let Some(arg) = argv.get(i) {
        match *arg {
            "--" => return code_from(argv, i + 1),
            "-u" | "-C" | "--unset" | "--chdir" => i += 2,
            "-S" | "--split-string" => return found("env -S".to_owned(), Language::Shell, vec![i + 1]),
            _ if arg.starts_with("-S") || arg.starts_with("--split-string=") => {
                return found("env -S".to_owned(), Language::Shell, vec![i]);
            }
            _ if arg.starts_with('-') || arg.contains('=') => i += 1,
            _ => return code_from(argv, i),
        }
    }
    None
}

/// `sh [options] -c SCRIPT [NAME [ARGS…]]`; options may be grouped (`-ec`) and `-o NAME` takes a
/// value. Without `-c`, the first other argument is a script file: not code.
fn shell(argv: &[&str], mut i: usize, name: &str, language: Language) -> Option<Code> {
    let mut command = false;
    while let Some(arg) = argv.get(i) {
        if *arg == "--" {
            i += 1;
            break;
        }
        if language == Language::Fish && (*arg == "--command" || *arg == "--init-command") {
            return found(format!("{name} {arg}"), language, vec![i + 1]);
        }
        if language == Language::Fish && (arg.starts_with("--command=") || arg.starts_with("--init-command=")) {
            return found(format!("{name} --command"), language, vec![i]);
        }
        if matches!(*arg, "-o" | "+o" | "-O" | "+O") {
            i += 2;
            continue;
        }
        let short = (arg.starts_with('-') || arg.starts_with('+')) && !arg.starts_with("--") && arg.len() > 1;
        if short {
            command |= arg.contains('c');
            i += 1;
            continue;
        }
        if arg.starts_with("--") {
            i += 1;
            continue;
        }
        break;
    }
    if command && i < argv.len() { found(format!("{name} -c"), language, vec![i]) } else { None }
}

/// Interpreters whose code comes with a flag (`python3 -c CODE`, `perl -e CODE -e CODE`,
/// `ruby -e CODE`), grouped with other flags or not, the code attached (`-eCODE`) or the next
/// argument. Flags in `valued` take the rest of their group or the next argument as a value.
/// The first other argument ends the options: a script file (not code) if no code came before.
fn inline_flags(
    argv: &[&str],
    mut i: usize,
    name: &str,
    language: Language,
    code_flags: &[char],
    valued: &str,
) -> Option<Code> {
    let mut args = Vec::new();
    let mut flag = code_flags.first().copied().unwrap_or('c');
    while let Some(arg) = argv.get(i) {
        if *arg == "--" || !arg.starts_with('-') || *arg == "-" || arg.starts_with("--") {
            if arg.starts_with("--") && *arg != "--" {
                i += 1;
                continue;
            }
            break;
        }
        let chars: Vec<char> = arg.chars().skip(1).collect();
        let mut next = i + 1;
        for (at, c) in chars.iter().enumerate() {
            if code_flags.contains(c) {
                flag = *c;
                if at + 1 < chars.len() {
                    args.push(i);
                } else {
                    args.push(i + 1);
                    next = i + 2;
                }
                break;
            }
            if valued.contains(*c) {
                if at + 1 == chars.len() {
                    next = i + 2;
                }
                break;
            }
        }
        // Python stops reading options at its code: what follows is `sys.argv`.
        if language == Language::Python && !args.is_empty() {
            break;
        }
        i = next;
    }
    found(format!("{name} -{flag}"), language, args)
}

/// `node -e CODE`, `--eval CODE`, `--eval=CODE`, `-p`/`--print` likewise.
fn node(argv: &[&str], mut i: usize, name: &str) -> Option<Code> {
    while let Some(arg) = argv.get(i) {
        match *arg {
            "-e" | "--eval" | "-p" | "--print" => return found(format!("{name} {arg}"), Language::Node, vec![i + 1]),
            _ if arg.starts_with("--eval=") || arg.starts_with("--print=") => {
                return found(format!("{name} --eval"), Language::Node, vec![i]);
            }
            _ if arg.starts_with('-') => i += 1,
            _ => return None,
        }
    }
    None
}

/// `pwsh -Command …` (any case, `-c`, `-Command -`): every argument after it is joined into the
/// command. `-File` runs a script whose arguments are parameters: not code.
fn powershell(argv: &[&str], mut i: usize, name: &str) -> Option<Code> {
    while let Some(arg) = argv.get(i) {
        let lower = arg.to_ascii_lowercase();
        match lower.as_str() {
            "-c" | "-command" | "/c" | "/command" | "-encodedcommand" | "-ec" | "-e" => {
                let args: Vec<usize> = (i + 1..argv.len()).collect();
                return found(format!("{name} {arg}"), Language::PowerShell, args);
            }
            "-f" | "-file" | "/f" | "/file" => return None,
            _ if lower.starts_with('-') || lower.starts_with('/') => i += 1,
            // A first argument that is not an option is a command too.
            _ => return found(name.to_owned(), Language::PowerShell, (i..argv.len()).collect()),
        }
    }
    None
}

/// `ssh [options] DESTINATION COMMAND…`: the remote command is joined into one line that a shell
/// on the host runs, so every argument after the destination is code.
fn ssh(argv: &[&str], mut i: usize) -> Option<Code> {
    const VALUED: &str = "BbcDEeFIiJLlmOoPpQRSWw";
    while let Some(arg) = argv.get(i) {
        if *arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') || *arg == "-" {
            break;
        }
        let chars: Vec<char> = arg.chars().skip(1).collect();
        let mut next = i + 1;
        for (at, c) in chars.iter().enumerate() {
            if VALUED.contains(*c) {
                if at + 1 == chars.len() {
                    next = i + 2;
                }
                break;
            }
        }
        i = next;
    }
    // `i` is the destination.
    found("ssh".to_owned(), Language::Ssh, (i + 1..argv.len()).collect())
}

/// What is wrong with `named` (the parameters, as written) in `code`.
pub(crate) fn refusal(code: &Code, named: &str) -> String {
    let runs = &code.runs;
    match code.language {
        Language::Shell | Language::Fish | Language::Ssh | Language::PowerShell => format!(
            "{named} would reach a shell: `{runs}` runs this argument as a command line, so a value such as \
             `x; rm -rf ~` would run as a command"
        ),
        Language::Python | Language::Perl | Language::Ruby | Language::Node => format!(
            "{named} would reach an interpreter: `{runs}` runs this argument as code, so a value could run code \
             of its own"
        ),
    }
}

/// How to get `param` into `code` safely, in words, with an example.
pub(crate) fn fix(code: &Code, param: &str) -> String {
    let var = env_name(param);
    let program = match code.runs.split(' ').next() {
        Some("env") | None => "sh",
        Some(program) => program,
    };
    let env = format!("set it under `env:` as `{var}: \"{{{{{param}}}}}\"`");
    let opt_out = "or, if its values can never be code (a choice), put `allow_shell_template: true` on the exec";
    match code.language {
        Language::Shell => format!(
            "pass it as its own argument after the script and read \"$1\": \
             `[{program}, -c, '… \"$1\" …', {program}, \"{{{{{param}}}}}\"]`; or {env} and read \"${var}\"; {opt_out}"
        ),
        Language::Fish => format!(
            "pass it as its own argument after the script and read $argv[1]: \
             `[fish, -c, '… $argv[1] …', \"{{{{{param}}}}}\"]`; or {env} and read ${var}; {opt_out}"
        ),
        Language::Python => format!(
            "pass it as its own argument after the code and read sys.argv[1]: \
             `[{program}, -c, 'import sys; … sys.argv[1] …', \"{{{{{param}}}}}\"]`; or {env} and read \
             os.environ[\"{var}\"]; {opt_out}"
        ),
        Language::Perl => format!(
            "pass it as its own argument after the code and read $ARGV[0]: \
             `[perl, -e, '… $ARGV[0] …', \"{{{{{param}}}}}\"]`; or {env} and read $ENV{{{var}}}; {opt_out}"
        ),
        Language::Ruby => format!(
            "pass it as its own argument after the code and read ARGV[0]: \
             `[ruby, -e, '… ARGV[0] …', \"{{{{{param}}}}}\"]`; or {env} and read ENV[\"{var}\"]; {opt_out}"
        ),
        Language::Node => format!(
            "pass it as its own argument after the code and read process.argv[1]: \
             `[node, -e, '… process.argv[1] …', \"{{{{{param}}}}}\"]`; or {env} and read process.env.{var}; \
             {opt_out}"
        ),
        Language::PowerShell => format!("{env} and read $env:{var}; {opt_out}"),
        Language::Ssh => format!(
            "ssh hands the remote command to the host's shell as one line: run a fixed command there and pass \
             the value on its standard input or through an environment variable the host accepts (`SendEnv`); \
             {opt_out}"
        ),
    }
}

/// `release_tag` → `RELEASE_TAG`.
fn env_name(param: &str) -> String {
    param.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(argv: &[&str]) -> Option<(String, Vec<usize>)> {
        code(argv).map(|c| (c.runs, c.args))
    }

    fn at(runs: &str, args: &[usize]) -> Option<(String, Vec<usize>)> {
        Some((runs.to_owned(), args.to_vec()))
    }

    #[test]
    fn shells_run_the_argument_after_dash_c() {
        assert_eq!(code_of(&["bash", "-c", "echo {{x}}"]), at("bash -c", &[2]));
        assert_eq!(code_of(&["/bin/sh", "-ec", "echo {{x}}", "sh", "{{x}}"]), at("sh -c", &[2]));
        assert_eq!(code_of(&["bash", "-o", "pipefail", "-c", "x"]), at("bash -c", &[4]));
        assert_eq!(code_of(&["zsh", "-l", "-c", "x"]), at("zsh -c", &[3]));
        assert_eq!(code_of(&["dash", "-c", "x"]), at("dash -c", &[2]));
        assert_eq!(code_of(&["fish", "-c", "x"]), at("fish -c", &[2]));
        assert_eq!(code_of(&["fish", "--command", "x"]), at("fish --command", &[2]));
        // A script file gets its arguments as $1, $2: not code.
        assert_eq!(code_of(&["bash", "deploy.sh", "{{x}}"]), None);
        assert_eq!(code_of(&["bash", "-e", "deploy.sh", "{{x}}"]), None);
    }

    #[test]
    fn env_and_interpreters_are_seen_through() {
        assert_eq!(code_of(&["env", "-i", "PATH=/bin", "sh", "-c", "x"]), at("sh -c", &[5]));
        assert_eq!(code_of(&["/usr/bin/env", "-u", "HOME", "bash", "-c", "x"]), at("bash -c", &[5]));
        assert_eq!(code_of(&["env", "-S", "sh -c x"]), at("env -S", &[2]));
        assert_eq!(code_of(&["env", "python3", "-c", "x"]), at("python3 -c", &[3]));
        assert_eq!(code_of(&["python3", "-c", "x", "{{y}}"]), at("python3 -c", &[2]));
        assert_eq!(code_of(&["python3.12", "-Bc", "x"]), at("python3.12 -c", &[2]));
        assert_eq!(code_of(&["python", "-cprint(1)"]), at("python -c", &[1]));
        assert_eq!(code_of(&["python3", "-m", "http.server", "{{port}}"]), None);
        assert_eq!(code_of(&["python3", "script.py", "-c", "{{x}}"]), None);
        assert_eq!(code_of(&["perl", "-ne", "print if /x/", "-e", "y"]), at("perl -e", &[2, 4]));
        assert_eq!(code_of(&["perl", "-Mstrict", "-eprint 1"]), at("perl -e", &[2]));
        assert_eq!(code_of(&["perl", "script.pl", "{{x}}"]), None);
        assert_eq!(code_of(&["ruby", "-e", "x"]), at("ruby -e", &[2]));
        assert_eq!(code_of(&["ruby", "-r", "json", "-e", "x"]), at("ruby -e", &[4]));
        assert_eq!(code_of(&["node", "-e", "x"]), at("node -e", &[2]));
        assert_eq!(code_of(&["node", "--eval=x"]), at("node --eval", &[1]));
        assert_eq!(code_of(&["node", "app.js", "{{x}}"]), None);
        assert_eq!(code_of(&["pwsh", "-NoProfile", "-Command", "Get-Item", "{{x}}"]), at("pwsh -Command", &[3, 4]));
        assert_eq!(code_of(&["pwsh", "-File", "x.ps1", "{{x}}"]), None);
    }

    #[test]
    fn ssh_runs_everything_after_the_host() {
        assert_eq!(
            code_of(&["ssh", "-p", "2222", "-o", "BatchMode=yes", "host", "systemctl", "restart", "{{x}}"]),
            at("ssh", &[6, 7, 8])
        );
        assert_eq!(code_of(&["ssh", "-i", "key", "-tt", "{{host}}"]), None);
    }

    #[test]
    fn other_programs_and_templated_programs_are_left_alone() {
        assert_eq!(code_of(&["kubectl", "exec", "-c", "{{x}}"]), None);
        assert_eq!(code_of(&["{{tool}}", "-c", "x"]), None);
        assert_eq!(code_of(&[]), None);
    }
}
