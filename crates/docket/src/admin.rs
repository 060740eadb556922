//! Administrative commands that work on the store directly: `audit verify`, `audit export`,
//! `audit keygen`, `audit checkpoint`, `token create`, `token list`, `token revoke`. They need a few sections of the configuration (the database URL; for tokens,
//! the people too), not a running server, so `${VAR}` elsewhere in it need not be set.

use std::io::Write as _;

use anyhow::Context as _;
use std::process::ExitCode;

use crate::check::count;
use docket_app::{ApiToken, NewToken, TokenAuthority, TokenLifetime};
use docket_core::{PersonId, TokenSubject};

use crate::cli::{
    AuditCommand, ExportArgs, StoreArgs, TokenArgs, TokenCommand, TokenListArgs, TokenRevokeArgs, VerifyArgs,
};
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
        TokenCommand::List(args) => list_tokens(&args).await,
        TokenCommand::Revoke(args) => revoke_token(&args).await,
    }
}

/// The operator at this terminal, as token records and the audit name them: whoever holds the
/// database may do anything with tokens, so what matters is that it is written down.
fn operator() -> TokenAuthority {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let host = if host.is_empty() { "unknown".to_owned() } else { host };
    TokenAuthority::Operator(format!("operator:{user}@{host}"))
}

async fn create_token(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.store.config, Needs::People).await?;
    let subject = match (&args.person, &args.agent) {
        (Some(person), None) => TokenSubject::Person(person.as_str().into()),
        (None, Some(agent)) => TokenSubject::Agent(agent.clone()),
        _ => anyhow::bail!("name a --person or an --agent"),
    };
    let lifetime = match args.expires.as_deref().map(str::trim) {
        None => TokenLifetime::Default,
        Some("never") => TokenLifetime::Never,
        Some(text) => match docket_core::Duration::parse(text) {
            Ok(d) if d.as_millis() > 0 => TokenLifetime::For(d.to_std()),
            _ => anyhow::bail!("--expires must be a duration such as 90d, 12h or 1w, or `never` (not `{text}`)"),
        },
    };
    let new = NewToken { subject, name: args.name.clone(), lifetime };
    let made = app.create_token(&operator(), new).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", made.secret)?;
    let mut err = std::io::stderr().lock();
    let whom = whom(&made.record);
    let until = made.record.expires_at.map_or_else(|| "never expires".to_owned(), |t| format!("expires {t}"));
    writeln!(
        err,
        "token {} for {whom} made ({until}); it is shown only now. Use it as DOCKET_TOKEN or --token.",
        made.record.id
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn list_tokens(args: &TokenListArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.store.config, Needs::People).await?;
    let person = args.person.as_deref().map(PersonId::new);
    let tokens = app.tokens(&operator(), person.as_ref()).await?;
    let now = jiff::Timestamp::now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        for t in &tokens {
            let line = serde_json::json!({
                "id": t.id, "person": t.person, "agent": t.agent, "name": t.name, "created_by": t.created_by,
                "created_at": t.created_at, "expires_at": t.expires_at, "last_used_at": t.last_used_at,
                "revoked_at": t.revoked.as_ref().map(|r| r.at), "revoked_by": t.revoked.as_ref().map(|r| &r.by),
                "status": status(t, now),
            });
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d %H:%M").to_string();
    let rows: Vec<[String; 8]> = tokens
        .iter()
        .map(|t| {
            [
                t.id.clone(),
                whom(t),
                t.name.clone(),
                t.created_by.clone(),
                day(t.created_at),
                t.last_used_at.map_or_else(|| "never".to_owned(), day),
                t.expires_at.map_or_else(|| "never".to_owned(), day),
                status(t, now).to_owned(),
            ]
        })
        .collect();
    let header = ["ID", "FOR", "NAME", "CREATED BY", "CREATED", "LAST USED", "EXPIRES", "STATUS"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    if rows.is_empty() {
        writeln!(out, "(no tokens)")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

async fn revoke_token(args: &TokenRevokeArgs) -> anyhow::Result<ExitCode> {
    let app = compose::store_app(&args.store.config, Needs::People).await?;
    let token = app.revoke_token(&operator(), args.id.trim()).await?;
    let mut out = std::io::stdout().lock();
    let when = token.revoked.as_ref().map(|r| format!("{} by {}", r.at, r.by)).unwrap_or_default();
    writeln!(out, "token {} for {} revoked ({when}); it no longer works anywhere.", token.id, whom(&token))?;
    Ok(ExitCode::SUCCESS)
}

/// Whom a token acts as, in words: `alice`, or `agent deploy-bot (of alice)`.
fn whom(token: &ApiToken) -> String {
    match &token.agent {
        Some(agent) => format!("agent {agent} (of {})", token.person),
        None => token.person.to_string(),
    }
}

fn status(token: &ApiToken, now: jiff::Timestamp) -> &'static str {
    if token.revoked.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    }
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}
