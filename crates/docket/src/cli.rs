//! The command line: every subcommand and its flags, with the help text people read.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Docket runs pre-approved, parameterized workflows (a deploy, an infrastructure change, a SQL
/// report) as tickets: people request them from Slack, Teams, the web or this terminal, a policy
/// decides who must approve the exact plan, and every step lands in a tamper-evident audit log.
#[derive(Debug, Parser)]
#[command(name = "docket", version, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server: REST API, engine, scheduler and notifications.
    Serve(ServeArgs),
    /// Check a configuration and its workflows, printing every error at once.
    ///
    /// Exits 0 when everything loads, 1 when anything is wrong. Each problem is printed as
    /// `file:line:column: what is wrong (hint)`.
    Check(CheckArgs),
    /// Try Docket: a local server with sample workflows and people.
    ///
    /// Writes a data folder (SQLite database, configuration, sample workflows whose steps
    /// change files in the folder, API tokens for the sample people) and serves it. Run it
    /// again to continue where you left off. Ctrl-C stops it.
    Demo(DemoArgs),
    /// Check or export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Serve MCP over stdio for an AI agent on this machine, forwarding to the server's `/mcp`.
    ///
    /// `docket mcp --config docket.yaml --token-file ~/.docket/agent-token` (or the token in
    /// `DOCKET_TOKEN`): an MCP client starts this command and speaks MCP on its stdin and
    /// stdout; each call goes to the server named by `server.public_url` (or `--url`) with the
    /// agent's token, under the same policies and audit as everyone else.
    Mcp(McpArgs),
    /// Measure throughput and latency on this machine.
    Bench(BenchArgs),
    /// Slack: `docket slack manifest` prints the manifest to create the Slack app.
    #[command(subcommand)]
    Slack(SlackCommand),
    /// Microsoft Teams: `docket teams manifest` writes the app package to upload.
    #[command(subcommand)]
    Teams(TeamsCommand),
    /// The demo's step programs (run by the demo's workflows, not by people).
    #[command(hide = true)]
    DemoStep {
        /// The step and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },

    /// Open a ticket, by workflow and parameters or in words.
    ///
    /// `docket request deploy service=api version=1.4.2 environment=prod`, or in words, as in
    /// chat: `docket request "deploy api 1.4.2 to prod"` (read by the same matcher as Slack and
    /// Teams).
    Request(RequestArgs),
    /// The workflows you can request, or one with its parameters (`workflows show ID`).
    Workflows(WorkflowsArgs),
    /// Show a ticket: what matters for the state it is in.
    ///
    /// While it waits: the plan, who must approve and by when. Once it runs or ran: the run,
    /// step by step, and how it ended.
    Show(TicketArgs),
    /// List tickets, newest first.
    List(ListArgs),
    /// The tickets waiting for your approval now.
    Waiting(WaitingArgs),
    /// Print a ticket's run log; `--follow` streams it until the ticket is done.
    Logs(LogsArgs),
    /// Approve the plan you are shown (the approval is bound to that plan's digest).
    Approve(ApproveArgs),
    /// Reject a ticket, with a reason.
    Reject(ReasonArgs),
    /// Send a ticket back to its requester with what to change.
    RequestChanges(ReasonArgs),
    /// Change some of a ticket's parameters; it is planned and decided again.
    ///
    /// `docket amend DKT-7 version=1.4.3`: the parameters not named keep their values.
    Amend(AmendArgs),
    /// Add a comment to a ticket.
    ///
    /// `docket comment DKT-7 "rolled back by hand at 10:40"`.
    Comment(CommentArgs),
    /// Withdraw a ticket (requester or admin); a running step is stopped.
    Cancel(CancelArgs),
    /// Run a failed or interrupted ticket again (planned and decided again).
    Retry(RetryArgs),
    /// Print the table a step left (a report's result), aligned, or `--csv` for all of it.
    ///
    /// `docket result DKT-7 --csv > sales.csv`: every kept row, NULL as an empty field.
    Result(ResultArgs),
    /// Reload the server's configuration and workflows without a restart (admins).
    ///
    /// The server reads every file again, as `docket check` does. Anything wrong, or a change
    /// only a restart takes on (the listen address, the database, a chat's settings), is
    /// refused with every reason and the running configuration stays. Otherwise new requests
    /// get the new workflows, people and policies at once; open tickets keep the workflow version
    /// they were opened with, and no connection drops. `SIGHUP` to the server does the same.
    Reload(ReloadArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ReloadArgs {
    /// Print the answer as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: PathBuf,
    /// Listen here instead of the configuration's `server.listen`.
    #[arg(long)]
    pub(crate) listen: Option<SocketAddr>,
    /// How the server's log looks (default: the configuration's `log.format`, else text).
    #[arg(long, value_enum, env = "DOCKET_LOG_FORMAT")]
    pub(crate) log_format: Option<LogFormatArg>,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum LogFormatArg {
    /// Lines for people (colour only on a terminal, never with NO_COLOR).
    Text,
    /// One JSON object per line.
    Json,
}

impl From<LogFormatArg> for docket_plugins::LogFormat {
    fn from(arg: LogFormatArg) -> Self {
        match arg {
            LogFormatArg::Text => docket_plugins::LogFormat::Text,
            LogFormatArg::Json => docket_plugins::LogFormat::Json,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where the demo server listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// The demo's data folder (created if missing).
    #[arg(long, default_value = "docket-demo")]
    pub(crate) data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Recompute every hash in the chain and compare it with every signed checkpoint: those in
    /// the store, the configured checkpoint file and any `--checkpoint` file. Exits 1 and names
    /// the first sequence number that disagrees if anything does.
    Verify(VerifyArgs),
    /// Make a key pair for signing audit checkpoints (`audit.signing_key`).
    Keygen,
    /// Write a signed checkpoint of the chain's head now (to the store, the checkpoint file and
    /// `audit.post_to`), as the server does every `audit.every` and when it stops.
    Checkpoint(StoreArgs),
    /// Print audit records as JSON lines.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The configuration file whose `storage.url` to open.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// A checkpoint file kept elsewhere (JSON lines, as Docket writes them); may be repeated.
    #[arg(long = "checkpoint", value_name = "FILE")]
    pub(crate) checkpoints: Vec<PathBuf>,
    /// The public key checkpoints must be signed with (hex), when the configuration's
    /// `audit.signing_key` is not at hand.
    #[arg(long, env = "DOCKET_AUDIT_PUBLIC_KEY")]
    pub(crate) public_key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Only records after this sequence number.
    #[arg(long, default_value_t = 0)]
    pub(crate) after: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TeamsCommand {
    /// Write the Teams app package (a zip of manifest.json and two icons) for `teams.app_id`,
    /// with `server.public_url` as the app's web address, to upload in Teams.
    Manifest(TeamsManifestArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TeamsManifestArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: PathBuf,
    /// Where to write the package.
    #[arg(long, short, default_value = "docket-teams.zip")]
    pub(crate) out: PathBuf,
    /// The app package's version (raise it for every upload of a changed package).
    #[arg(long, default_value = "1.0.0")]
    pub(crate) app_version: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SlackCommand {
    /// Print a Slack app manifest (JSON, which Slack's manifest editor accepts as YAML too):
    /// scopes, the slash command, shortcuts, and the request URLs under `server.public_url`,
    /// or Socket Mode when `slack.app_token` is set.
    Manifest(SlackManifestArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SlackManifestArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: PathBuf,
    /// The app's name in Slack.
    #[arg(long, default_value = "Docket")]
    pub(crate) name: String,
    /// Socket Mode even if `slack.app_token` is not set yet.
    #[arg(long)]
    pub(crate) socket_mode: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make an API token for a person or an agent. It is printed once; only its hash is kept.
    ///
    /// `docket token create --person alice --name laptop --expires 30d`, or for an agent
    /// declared under `agents`: `docket token create --agent deploy-bot`. The token expires
    /// after `tokens.expires` (90 days unless set) unless `--expires` says otherwise.
    Create(TokenArgs),
    /// List tokens (never their secrets): id, whom it acts as, name, maker, created, last
    /// used, expiry and status.
    List(TokenListArgs),
    /// Revoke a token by its id; it stops working at once, on every replica.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("subject").required(true).args(["person", "agent"]))]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The person (an id from the configuration's `people`).
    #[arg(long)]
    pub(crate) person: Option<String>,
    /// The agent (an id from the configuration's `agents`); it acts for its owner.
    #[arg(long)]
    pub(crate) agent: Option<String>,
    /// A label to tell tokens apart.
    #[arg(long, default_value = "cli")]
    pub(crate) name: String,
    /// How long it lives: a duration such as 90d, 12h or 1w, or `never`. Default: the
    /// configuration's `tokens.expires` (90 days unless set).
    #[arg(long)]
    pub(crate) expires: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenListArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Only this person's tokens (and those of the agents they owned when each was made).
    #[arg(long)]
    pub(crate) person: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TokenRevokeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The token's id (`tok_…`), as `docket token list` shows it.
    pub(crate) id: String,
}

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// The configuration file whose `server` says where Docket is reached.
    #[arg(long, short, default_value = "docket.yaml", env = "DOCKET_CONFIG")]
    pub(crate) config: std::path::PathBuf,
    /// A file holding the API token (an agent's, from `docket token create --agent ID`).
    #[arg(long)]
    pub(crate) token_file: Option<std::path::PathBuf>,
    /// The MCP endpoint, instead of the configuration's `server.public_url` + `/mcp`.
    #[arg(long)]
    pub(crate) url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Tickets for the throughput and latency runs.
    #[arg(long, default_value_t = 5000)]
    pub(crate) tickets: usize,
    /// Rounds of each measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
    /// Print the figures as JSON as well.
    #[arg(long)]
    pub(crate) json: bool,
    /// What to measure: the engine, store and start-up in process (`core`), signed Slack
    /// requests against a real `docket serve` (`slack`), or Docket beside a peer (`peers`).
    #[arg(long, value_enum, default_value_t = BenchTarget::Core)]
    pub(crate) target: BenchTarget,
    /// `--target slack`: requests per second, sent open-loop.
    #[arg(long, default_value_t = 1000)]
    pub(crate) rate: u32,
    /// `--target slack`: seconds each phase sends for.
    #[arg(long, default_value_t = 60)]
    pub(crate) duration: u64,
    /// `--target replicas` and `report`: a PostgreSQL server to make a scratch database on
    /// (dropped after).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub(crate) postgres: String,
    /// `--target peers`: the Python of a virtual environment with `slack_bolt` and `uvicorn`
    /// (`bench/peers/bolt/run.sh` makes it).
    #[arg(long, default_value = "bench/peers/bolt/.venv/bin/python")]
    pub(crate) bolt_python: std::path::PathBuf,
    /// `--target peers`: the Bolt app.
    #[arg(long, default_value = "bench/peers/bolt/app.py")]
    pub(crate) bolt_app: std::path::PathBuf,
    /// Start this `docket` binary as the server instead of the one running the bench (to
    /// compare two builds with the same harness).
    #[arg(long)]
    pub(crate) serve_with: Option<std::path::PathBuf>,
    /// `--target peers`: seconds each server is driven at each number of connections.
    #[arg(long, default_value_t = 10)]
    pub(crate) peer_seconds: u64,
}

/// What `docket bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BenchTarget {
    /// The engine, the store and start-up.
    Core,
    /// Signed slash commands and form submissions against `docket serve` (Slack, HTTP mode).
    Slack,
    /// Tickets per second with 1, 2 and 3 replicas sharing one PostgreSQL database, and approve
    /// → first step started when the approval lands on another replica.
    Replicas,
    /// A report of 100,000 rows × 5 columns from PostgreSQL through the `sql` runner into the
    /// step's result and out as CSV: time, and memory beyond what the process held before.
    Report,
    /// Request → succeeded through the REST API on one reused (kept-alive) connection and on a
    /// new connection per ticket (also part of `core`).
    Http,
    /// Only the step chains of `core`: forty `exec: [true]` steps and forty `wait: 0s` steps,
    /// request → succeeded, and `true` started alone through a supervisor and directly.
    Steps,
    /// Signed slash commands, Docket side by side with a Bolt for Python app (uvicorn, one
    /// SQLite write, ack), driven in turn with the same requests at 16 and 64 connections.
    Peers,
}

/// Where the server is and who you are, for the commands that talk to a server.
#[derive(Debug, Args, Clone)]
pub(crate) struct Remote {
    /// The server's URL [default: the demo's, with --as; else http://127.0.0.1:8080].
    #[arg(long, env = "DOCKET_URL")]
    pub(crate) url: Option<String>,
    /// Your API token (`docket token create`).
    #[arg(long, env = "DOCKET_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Act as this person with the token the demo made for them (from the credentials file).
    #[arg(long = "as", value_name = "PERSON")]
    pub(crate) as_person: Option<String>,
    /// The demo's credentials file.
    #[arg(long, env = "DOCKET_CREDENTIALS", default_value = "docket-demo/credentials.json")]
    pub(crate) credentials: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// The workflow's id (an unknown one is answered with the workflows you can request), or the
    /// request in words, as in chat.
    pub(crate) workflow: String,
    /// Parameters as `name=value`; words that are not `name=value` make it a request in words,
    /// read by the same matcher as Slack and Teams.
    pub(crate) params: Vec<String>,
    /// Wait until the ticket finishes (or needs approval) and stream its log.
    #[arg(long, conflicts_with = "json")]
    pub(crate) wait: bool,
    /// Print the new ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// A key of your own for this request, such as a pipeline run's id: run again with the same
    /// key, the command shows the ticket the first run opened instead of opening another (the
    /// API's `Idempotency-Key`; kept at least a day). Without it, each run is a new request.
    #[arg(long, value_name = "KEY")]
    pub(crate) idempotency_key: Option<String>,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct WorkflowsArgs {
    #[command(subcommand)]
    pub(crate) command: Option<WorkflowsCommand>,
    /// Print the list as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowsCommand {
    /// One workflow: what it does, its parameters (type, choices, default, help), its steps, and
    /// how to request it.
    Show(WorkflowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct WorkflowArgs {
    /// The workflow's id (`docket workflows` lists them).
    pub(crate) workflow: String,
    /// Print the workflow as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct TicketArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// Print the ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ResultArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// The step's number (from 1); by default the first step that left a table.
    #[arg(long)]
    pub(crate) step: Option<u64>,
    /// Print the whole kept table as CSV.
    #[arg(long)]
    pub(crate) csv: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// Keep streaming until the ticket is done.
    #[arg(long, short)]
    pub(crate) follow: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ApproveArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// A comment to go with the approval.
    #[arg(long, short)]
    pub(crate) comment: Option<String>,
    /// Approve only if the plan's digest starts with this (as shown by `docket show`).
    #[arg(long)]
    pub(crate) digest: Option<String>,
    /// Print the approved ticket as the API's JSON (and not the plan first).
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ReasonArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// Why.
    #[arg(long, short)]
    pub(crate) reason: String,
    /// Print the ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// Why.
    #[arg(long, short)]
    pub(crate) reason: Option<String>,
    /// Print the ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct AmendArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// The parameters to change, as `name=value`; the others keep their values.
    #[arg(required = true)]
    pub(crate) params: Vec<String>,
    /// Print the amended ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct CommentArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// The comment (several words are joined with spaces).
    #[arg(required = true)]
    pub(crate) text: Vec<String>,
    /// Print the ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    /// The ticket (`DKT-42`).
    pub(crate) ticket: String,
    /// Print the ticket as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only tickets in this state (repeatable): awaiting_approval, running, succeeded, …
    #[arg(long)]
    pub(crate) state: Vec<String>,
    /// Only this workflow.
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    /// Only tickets you requested.
    #[arg(long)]
    pub(crate) mine: bool,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    pub(crate) limit: u32,
    /// Print the page as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct WaitingArgs {
    /// Print the list as the API's JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}
