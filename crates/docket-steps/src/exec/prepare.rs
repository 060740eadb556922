//! Everything decided before a process starts: the rendered argv, the environment built from
//! nothing, the working directory, and where the program lives. Each problem is a one-line
//! message for a failed outcome; none of them shows an environment value.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::action::ExecAction;
use docket_app::{Mode, StepJob};
use docket_process::{Program, User};

/// Where programs are looked up when the step's environment has no `PATH`.
pub(crate) const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A process ready to start.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The file to execute.
    pub(crate) program: PathBuf,
    /// The argv as rendered, `argv[0]` as the workflow wrote it; never empty.
    pub(crate) argv: Vec<String>,
    /// The complete environment of the process.
    pub(crate) env: BTreeMap<String, String>,
    /// The working directory, checked to exist.
    pub(crate) cwd: Option<PathBuf>,
    /// The user it runs as (`run_as`), found on this host.
    pub(crate) user: Option<User>,
}

impl Prepared {
    /// What `docket_process::launch` starts.
    pub(crate) fn program(&self) -> Program<'_> {
        Program {
            file: &self.program,
            argv: &self.argv,
            env: &self.env,
            dir: self.cwd.as_deref(),
            user: self.user.as_ref(),
        }
    }
}

/// Renders `exec` for `job` and finds its program.
pub(crate) fn prepare(exec: &ExecAction, job: &StepJob<'_>) -> Result<Prepared, String> {
    let argv: Vec<String> = exec.argv.iter().map(|t| t.render(job.params)).collect();
    let Some(name) = argv.first() else {
        return Err("the step has no program to run: its argv is empty".to_owned());
    };
    if name.is_empty() {
        return Err("the program name rendered to empty text".to_owned());
    }
    if let Some(i) = argv.iter().position(|a| a.contains('\0')) {
        return Err(format!("argument {i} contains a NUL byte and cannot be passed to a program"));
    }
    let env = environment(exec, job)?;
    let cwd = working_directory(exec, job)?;
    let program = find_program(name, &env, cwd.as_deref())?;
    let user = job.run_as.map(User::lookup).transpose().map_err(|e| e.to_string())?;
    Ok(Prepared { program, argv, env, cwd, user })
}

/// `base_env`, then the step's own `env`, then Docket's variables, which nothing overrides.
fn environment(exec: &ExecAction, job: &StepJob<'_>) -> Result<BTreeMap<String, String>, String> {
    let mut env = job.base_env.clone();
    env.extend(exec.env.iter().map(|(name, value)| (name.clone(), value.render(job.params))));
    let mode = match job.mode {
        Mode::Plan => "plan",
        Mode::Run => "run",
    };
    env.insert("DOCKET_IDEMPOTENCY_KEY".to_owned(), job.idempotency_key.to_owned());
    env.insert("DOCKET_TICKET".to_owned(), job.ticket.to_string());
    env.insert("DOCKET_MODE".to_owned(), mode.to_owned());
    for (name, value) in &env {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(format!("environment variable name {name:?} is not valid (empty, or has `=` or NUL)"));
        }
        if value.contains('\0') {
            return Err(format!("environment variable {name} contains a NUL byte"));
        }
    }
    Ok(env)
}

fn working_directory(exec: &ExecAction, job: &StepJob<'_>) -> Result<Option<PathBuf>, String> {
    let Some(template) = &exec.cwd else { return Ok(None) };
    let dir = template.render(job.params);
    if dir.is_empty() {
        return Err("the working directory rendered to empty text".to_owned());
    }
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => Ok(Some(PathBuf::from(dir))),
        Ok(_) => Err(format!("working directory {dir:?} is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("working directory {dir:?} does not exist")),
        Err(e) => Err(format!("working directory {dir:?} cannot be used: {e}")),
    }
}

/// A name with a `/` is a path (a relative one is taken from the working directory); any
/// other name is looked up in the step's own `PATH`, never the server's, so a step behaves the
/// same whoever starts the server. Empty and relative `PATH` entries are skipped: they would
/// depend on the server's working directory.
fn find_program(name: &str, env: &BTreeMap<String, String>, cwd: Option<&Path>) -> Result<PathBuf, String> {
    if name.contains('/') {
        let path = Path::new(name);
        return Ok(match cwd {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        });
    }
    let search = env.get("PATH").map_or(FALLBACK_PATH, String::as_str);
    search
        .split(':')
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(|| format!("program {name:?} not found in PATH ({search})"))
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A one-line reason a program could not be started.
pub(crate) fn spawn_error(program: &Path, error: &std::io::Error) -> String {
    let program = program.display();
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            format!("program \"{program}\" not found (no such file, or its interpreter is missing)")
        }
        std::io::ErrorKind::PermissionDenied => format!("program \"{program}\" cannot be executed: permission denied"),
        _ => format!("program \"{program}\" could not be started: {error}"),
    }
}
