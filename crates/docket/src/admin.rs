//! Administrative commands that work on the store directly: `audit verify`, `audit export`,
//! `audit keygen`, `token create`. They need a few sections of the configuration (the database URL; for tokens,
//! the people too), not a running server, so `${VAR}` elsewhere in it need not be set.

use std::io::Write as _;

use anyhow::Context as _;
use std::process::ExitCode;

use crate::check::count;
use crate::cli::{AuditCommand, ExportArgs, StoreArgs, TokenArgs, TokenCommand, VerifyArgs};
use crate::compose::{self, Needs};

pub(crate) async fn audit(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify(args) => verify(&args).await,
        AuditCommand::Export(args) => export(&args).await,
        AuditCommand::Keygen => keygen(),
        AuditCommand::Checkpoint(args) => checkpoint(&args).await,
    }
}

async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.store.config, Needs::Storage).await?;
    let anchors = crate::anchors::for_verify(&args.store.config, &args.checkpoints, args.public_key.as_deref())?;
    let report = app.verify_audit_with(anchors.checkpoints, anchors.trusted.as_ref()).await?;
    let mut out = std::io::stdout().lock();
    let records = count(report.records, "record", "records");
    match &report.broken {
        None => writeln!(out, "audit chain intact: {records}, head {}", short(&report.head))?,
        Some(broken) => {
            writeln!(out, "audit chain BROKEN: {broken}")?;
            writeln!(out, "{records} before it verified")?;
        }
    }
    for note in &anchors.notes {
        writeln!(out, "note: {note}")?;
    }
    let cp = &report.checkpoints;
    let checked = cp.agreed + cp.faults.len() + cp.unchecked;
    if checked == 0 {
        writeln!(out, "no signed checkpoints to compare with: a cut tail or a rebuilt chain would not show")?;
    } else {
        let agreed = count(cp.agreed as u64, "checkpoint agrees", "checkpoints agree");
        let newest = cp.newest.as_ref().map(|c| format!(" (newest: record {} at {})", c.seq, c.at)).unwrap_or_default();
        writeln!(out, "{agreed} with the chain{newest}")?;
        if cp.unchecked > 0 {
            writeln!(
                out,
                "{} past the broken link not compared",
                count(cp.unchecked as u64, "checkpoint", "checkpoints")
            )?;
        }
        if !report.trusted_key {
            writeln!(
                out,
                "signatures checked against the key each checkpoint names: give --public-key (or configure \
                 audit.signing_key) to detect forged checkpoints"
            )?;
        }
    }
    for fault in &cp.faults {
        writeln!(out, "checkpoint DISAGREES at record {}: {fault}", fault.seq())?;
    }
    if report.output_faults.is_empty() && report.outputs_checked > 0 {
        let steps = count(report.outputs_checked, "step's output matches", "steps' output matches");
        writeln!(out, "{steps} its audit record")?;
    }
    for fault in &report.output_faults {
        writeln!(out, "step output CHANGED: {fault}")?;
    }
    if report.intact() {
        writeln!(out, "audit intact")?;
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

async fn checkpoint(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let loaded = compose::load(&args.config)?;
    let settings = loaded.config.sections.get::<docket_audit::AuditSettings>(docket_audit::SECTION);
    let Some(settings) = settings.filter(|s| s.signing_key.is_some()) else {
        anyhow::bail!("{} has no audit.signing_key: nothing to sign with", args.config.display());
    };
    let app = compose::store_app(&args.config, Needs::Storage).await?;
    let anchoring = docket_audit::Anchoring::new(app, settings).context("an audit signing key")?;
    let mut out = std::io::stdout().lock();
    match anchoring.checkpoint().await? {
        Some(cp) => writeln!(out, "checkpoint of record {} (head {}) signed at {}", cp.seq, short(&cp.hash), cp.at)?,
        None => writeln!(out, "the audit chain is empty: nothing to sign")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn keygen() -> anyhow::Result<ExitCode> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    let key = docket_core::checkpoint::SigningKey::from_seed(seed);
    let mut out = std::io::stdout().lock();
    writeln!(out, "signing key (secret; set it as DOCKET_AUDIT_KEY for audit.signing_key: ${{DOCKET_AUDIT_KEY}}):")?;
    writeln!(out, "  {}", key.to_hex())?;
    writeln!(out, "public key (give it to auditors: docket audit verify --public-key ...):")?;
    writeln!(out, "  {}", key.verifying_key().hex())?;
    Ok(ExitCode::SUCCESS)
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
