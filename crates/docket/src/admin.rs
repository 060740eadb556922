//! Administrative commands that work on the store directly: `audit verify`, `audit export`,
//! `token create`. They need a few sections of the configuration (the database URL; for tokens,
//! the people too), not a running server, so `${VAR}` elsewhere in it need not be set.

use std::io::Write as _;
use std::process::ExitCode;

use crate::check::count;
use crate::cli::{AuditCommand, ExportArgs, StoreArgs, TokenArgs, TokenCommand};
use crate::compose::{self, Needs};

pub(crate) async fn audit(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify(args) => verify(&args).await,
        AuditCommand::Export(args) => export(&args).await,
    }
}

async fn verify(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.config, Needs::Storage).await?;
    let report = app.verify_audit().await?;
    let mut out = std::io::stdout().lock();
    match report.broken {
        None => {
            let records = count(report.records, "record", "records");
            writeln!(out, "audit chain intact: {records}, head {}", short(&report.head))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(broken) => {
            writeln!(out, "audit chain BROKEN: {broken}")?;
            writeln!(out, "{} before it verified", count(report.records, "record", "records"))?;
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.store.config, Needs::Storage).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut after = args.after;
    loop {
        let page = app.audit_records(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            serde_json::to_writer(&mut out, record)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create(args) => create_token(&args).await,
    }
}

async fn create_token(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.store.config, Needs::People).await?;
    let token = app.create_token(&args.person.as_str().into(), &args.name).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{token}")?;
    let mut err = std::io::stderr().lock();
    writeln!(err, "token for {} made; it is shown only now. Use it as DOCKET_TOKEN or --token.", args.person)?;
    Ok(ExitCode::SUCCESS)
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}
