//! `docket demo`: a local server with sample people, workflows and policies, no accounts and no
//! configuration. Its steps have real effects inside the data folder (see `steps`), or in the
//! stand-in Kubernetes cluster it starts itself (see `cluster`).

mod cluster;
mod console;
mod files;
pub(crate) mod steps;
pub(crate) mod terraform;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

use crate::cli::DemoArgs;
use crate::{compose, serve};

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    crate::logging::init(None);
    // The address first: a demo that cannot listen writes nothing.
    let listener = serve::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let exe = std::env::current_exe().context("finding the docket binary for the demo's steps")?;
    // The stand-in Kubernetes cluster the cluster deploy plans against and rolls out to.
    let cluster = cluster::start().await.context("starting the demo's stand-in cluster")?;
    let config = files::write(&data_dir, &exe, addr, &cluster)?;
    files::shop(&data_dir).await?;
    let creds = credentials_flag(&files::shown(&data_dir.join(files::CREDENTIALS)));
    let console: Arc<dyn docket_app::Notifier> = Arc::new(console::ConsoleNotifier::new(creds.clone()));
    let composed = compose::compose(&config, vec![console]).await?;
    files::credentials(&composed.app, &data_dir, &format!("http://{addr}")).await?;
    let shown_dir = args.data_dir.display().to_string();
    // A clean stop gives unused ticket numbers back, so this is the number the next request
    // gets (after a crash it may not be: the terminal then names the real one when it arrives).
    let next = composed.app.tickets(&docket_app::TicketFilter { limit: 1, ..Default::default() }).await?;
    let next_number = next.tickets.first().map_or(1, |t| t.id.number() + 1);
    let prefix = composed.app.rules().ticket_prefix.clone();
    serve::serve(composed, listener, started, serve::Site::Demo, move |addr| {
        let mut out = std::io::stdout().lock();
        let _ = walkthrough(&mut out, addr, &shown_dir, &creds, &format!("{prefix}-{next_number}"));
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// What client commands need to find the demo's tokens: nothing when the credentials file is
/// where `--as` looks by default, else `--credentials PATH`.
fn credentials_flag(credentials: &std::path::Path) -> String {
    if credentials == std::path::Path::new("docket-demo").join(files::CREDENTIALS) {
        String::new()
    } else {
        format!(" --credentials {}", credentials.display())
    }
}

fn walkthrough(
    out: &mut impl std::io::Write,
    addr: std::net::SocketAddr,
    data_dir: &str,
    creds: &str,
    id: &str,
) -> std::io::Result<()> {
    writeln!(out, "Docket demo running at http://{addr} — data in {data_dir}/, Ctrl-C stops it.")?;
    writeln!(out, "Open http://{addr}/ in a browser: the banner switches between the sample people.")?;
    writeln!(out, "alice (dev) requests; bob (sre) then carol (security) approve production changes.")?;
    writeln!(out, "In another terminal:")?;
    writeln!(out, "  1. docket request deploy service=api version=1.4.2 environment=prod --as alice{creds}")?;
    writeln!(out, "  2. docket approve {id} --as bob{creds} && docket approve {id} --as carol{creds}")?;
    writeln!(
        out,
        "  3. docket logs {id} --follow --as alice{creds}; docket audit verify --config {data_dir}/docket.yaml"
    )?;
    writeln!(
        out,
        "  4. docket request sales-report day=2026-11-24 --as alice{creds}: a report's table (docket result ID --csv)"
    )?;
    writeln!(out, "Each ticket that waits for approval is named here with the command that approves it.")?;
    out.flush()
}
