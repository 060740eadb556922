//! `docket mcp`: MCP over stdio for a local agent, forwarded to the server's `/mcp` with the
//! agent's token (from `--token-file` or `DOCKET_TOKEN`). Only MCP goes to stdout; logs go to
//! stderr.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::McpArgs;
use crate::compose;

pub(crate) async fn run(args: McpArgs) -> anyhow::Result<ExitCode> {
    // The agent's client shows what it reads from stderr; only warnings go there unless
    // `RUST_LOG` says otherwise.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let token = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the token from {}", path.display()))?
            .trim()
            .to_owned(),
        None => std::env::var("DOCKET_TOKEN").unwrap_or_default().trim().to_owned(),
    };
    if token.is_empty() {
        anyhow::bail!(
            "no token: pass --token-file FILE or set DOCKET_TOKEN (make one with `docket token create --agent ID`)"
        );
    }
    let url = match args.url {
        Some(url) => url,
        None => endpoint(&compose::load_server(&args.config)?),
    };
    docket_mcp::proxy::run_stdio(&url, &token).await?;
    Ok(ExitCode::SUCCESS)
}

/// The server's `/mcp`: at its public URL, else where it listens (loopback for a wildcard
/// address).
fn endpoint(server: &docket_config::Server) -> String {
    match &server.public_url {
        Some(url) => format!("{}{}", url.trim_end_matches('/'), docket_mcp::MCP_PATH),
        None => {
            let mut listen = server.listen;
            if listen.ip().is_unspecified() {
                listen.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{listen}{}", docket_mcp::MCP_PATH)
        }
    }
}
