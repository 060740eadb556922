//! Starting a step's program so that it never outlives the server that started it. Every step
//! kind that runs programs (`exec`, `terraform`) starts them here:
//!
//! - [`launch`]: a [`Program`] (file, argv, the whole environment, the working directory —
//!   never a shell) started as [`Launch`] says, leading a new process group
//!   ([`ProcessGroup`], killed whole), its output on two pipes, and who is who in the group
//!   ([`docket_app::StepGroup`]) for the record the engine keeps. [`Launch::Supervised`] starts
//!   it through the server's step supervisor ([`Supervisor`], `supervised`: one per server,
//!   started on first need).
//! - [`supervise`] (`supervisor`): the supervisor itself, which the `docket` binary runs as
//!   `docket __supervise`; it ends every group it started when the server's end of its socket
//!   closes, that is when the server dies, however it dies. `wire` is what the two say on that
//!   socket.
//! - [`LocalProcesses`] (`host`, `procfs`): the app's `Processes` port on Linux — this server's
//!   identity on its host, and ending the groups a dead server left, after checking by start
//!   time that they are the recorded ones.

mod group;
mod host;
mod launch;
mod procfs;
mod supervised;
mod supervisor;
mod user;
mod wire;

use std::time::Duration;

pub use group::ProcessGroup;
pub use host::LocalProcesses;
pub use launch::{Launch, LaunchError, Launched, Leader, Program, launch};
pub use supervised::Supervisor;
pub use supervisor::supervise;
pub use user::User;

/// Time between `SIGTERM` and `SIGKILL` when nothing else is configured.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);
