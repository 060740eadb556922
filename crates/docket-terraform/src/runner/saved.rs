//! Saved plan files, kept with their ticket: `<plans>/<ticket>/<sha256>.tfplan`. A file is named
//! by its own hash, so the run finds exactly the file the digest covers, and reads it back to
//! check the hash before applying it.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// The folder a ticket's plan files are kept in.
pub(crate) fn ticket_folder(plans: &Path, ticket: &str) -> PathBuf {
    plans.join(ticket)
}

/// Where the plan file with hash `sha256` of `ticket` is kept.
pub(crate) fn kept_file(plans: &Path, ticket: &str, sha256: &str) -> PathBuf {
    ticket_folder(plans, ticket).join(format!("{sha256}.tfplan"))
}

/// The SHA-256 of a file's contents, in hex.
pub(crate) async fn hash_of(path: &Path) -> std::io::Result<String> {
    let bytes = tokio::fs::read(path).await?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Keeps the plan Terraform wrote at `written` under its hash; returns the hash and the file.
pub(crate) async fn keep(plans: &Path, ticket: &str, written: &Path) -> std::io::Result<(String, PathBuf)> {
    let sha256 = hash_of(written).await?;
    let kept = kept_file(plans, ticket, &sha256);
    tokio::fs::rename(written, &kept).await?;
    Ok((sha256, kept))
}

/// Whether `sha256` is 64 lower-case hex digits (it names a file, so nothing else may pass).
pub(crate) fn is_sha256(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
