//! The anchored audit trail through the binary: `docket audit keygen`, checkpoints written by
//! `docket audit checkpoint` into the store and the configured file, and `docket audit verify`
//! finding a cut tail, a chain rebuilt from scratch (with a checkpoint file kept elsewhere), a
//! record edited in the middle and a checkpoint signed with another key, each named by its
//! sequence number.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::Path;
use std::process::{Command, Output};

const CONFIG: &str = "storage: { url: sqlite://./docket.db }\npeople: [{ id: alice }]\n\
                      audit: { signing_key: '${DOCKET_AUDIT_KEY}', checkpoints: ./checkpoints.jsonl }\n";

fn docket(dir: &Path, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(args)
        .args(["--config", "docket.yaml"])
        .current_dir(dir)
        .env_remove("DOCKET_CONFIG")
        .env_remove("DOCKET_AUDIT_PUBLIC_KEY")
        .env("DOCKET_AUDIT_KEY", key)
        .output()
        .unwrap()
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `(signing key, public key)` from `docket audit keygen`.
fn keygen() -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_docket")).args(["audit", "keygen"]).output().unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let keys: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).map(str::trim).collect();
    assert_eq!(keys.len(), 2, "{text}");
    assert!(keys.iter().all(|k| k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit())), "{text}");
    (keys[0].to_owned(), keys[1].to_owned())
}

fn tokens(dir: &Path, key: &str, n: usize) {
    for _ in 0..n {
        let out = docket(dir, key, &["token", "create", "--person", "alice"]);
        assert!(out.status.success(), "{}", said(&out));
    }
}

fn sql(dir: &Path, statement: &str) {
    let url = format!("sqlite://{}", dir.join("docket.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned())).execute(&pool).await.unwrap();
        pool.close().await;
    });
}

fn verify(dir: &Path, key: &str, extra: &[&str]) -> (bool, String) {
    let out = docket(dir, key, &[&["audit", "verify"][..], extra].concat());
    (out.status.success(), said(&out))
}

/// A folder with the configuration and an empty catalog.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.yaml"), CONFIG).unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    dir
}

fn setup() -> (tempfile::TempDir, String, String) {
    let dir = folder();
    let (secret, public) = keygen();
    tokens(dir.path(), &secret, 5);
    let out = docket(dir.path(), &secret, &["audit", "checkpoint"]);
    assert!(said(&out).starts_with("checkpoint of record 5 "), "{}", said(&out));
    let out = docket(dir.path(), &secret, &["audit", "checkpoint"]);
    assert!(out.status.success(), "{}", said(&out));
    tokens(dir.path(), &secret, 3);
    (dir, secret, public)
}

#[test]
fn an_intact_chain_agrees_with_its_checkpoints() {
    let (dir, key, public) = setup();
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(ok, "{text}");
    assert!(text.starts_with("audit chain intact: 8 records, head "), "{text}");
    // The store's copy and the file's are the same checkpoint(s): each is compared.
    assert!(text.contains("with the chain (newest: record 5 at "), "{text}");
    assert!(text.ends_with("audit intact\n"), "{text}");
    let lines = std::fs::read_to_string(dir.path().join("checkpoints.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "two runs of `audit checkpoint`, each its own moment: {lines}");
    // An auditor's own copy of the public key works as well as the configuration's.
    let (ok, text) = verify(dir.path(), "", &["--public-key", &public]);
    assert!(ok, "{text}");
    assert!(text.contains("cannot be read in full here"), "{text}");
}

#[test]
fn a_cut_tail_is_detected_at_the_first_missing_record() {
    let (dir, key, _) = setup();
    sql(dir.path(), "DELETE FROM audit WHERE seq >= 4");
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(!ok, "{text}");
    assert!(text.starts_with("audit chain intact: 3 records"), "the links alone still hold: {text}");
    assert!(
        text.contains("checkpoint DISAGREES at record 4: the chain ends at record 3, but the checkpoint made "),
        "{text}"
    );
    assert!(text.contains("saw record 5: records 4 to 5 are missing"), "{text}");
}

#[test]
fn a_row_deleted_in_the_middle_or_two_records_swapped_are_detected_where_they_start() {
    let (dir, key, _) = setup();
    sql(dir.path(), "DELETE FROM audit WHERE seq = 3");
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(!ok, "{text}");
    assert!(
        text.starts_with("audit chain BROKEN: record 4: expected record 3 here (a record is missing or out of order)"),
        "{text}"
    );

    let (dir, key, _) = setup();
    // Records 2 and 3 change places: each keeps its own content and hashes, under the other's number.
    sql(
        dir.path(),
        "UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; \
         UPDATE audit SET seq = 3 WHERE seq = -2;",
    );
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(!ok, "{text}");
    assert!(text.starts_with("audit chain BROKEN: record 2: prev_hash does not match the hash of record 1"), "{text}");
}

#[test]
fn a_rebuilt_chain_is_detected_by_a_checkpoint_file_kept_elsewhere() {
    let (dir, key, public) = setup();
    let kept = dir.path().join("auditor-copy.jsonl");
    std::fs::rename(dir.path().join("checkpoints.jsonl"), &kept).unwrap();
    // Everything in the database replaced: a new chain of the same length, no checkpoints.
    sql(dir.path(), "DELETE FROM audit; DELETE FROM audit_checkpoints;");
    tokens(dir.path(), &key, 8);
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(ok, "without the kept file nothing can tell: {text}");
    assert!(text.contains("the configured checkpoint file"), "{text}");
    let kept = kept.display().to_string();
    let (ok, text) = verify(dir.path(), &key, &["--checkpoint", &kept, "--public-key", &public]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("checkpoint DISAGREES at record 5: record 5 is not the record the checkpoint made"),
        "{text}"
    );
}

#[test]
fn an_edited_record_breaks_the_chain_and_a_forged_checkpoint_is_refused() {
    let (dir, key, _) = setup();
    sql(dir.path(), "UPDATE audit SET actor = 'mallory' WHERE seq = 2");
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(!ok, "{text}");
    assert!(text.starts_with("audit chain BROKEN: record 2: content does not match its hash"), "{text}");
    assert!(text.contains("past the broken link not compared"), "{text}");

    let (dir, key, _) = setup();
    let (other, _) = keygen();
    // A checkpoint signed with another key, naming the real head, appended to the file.
    let forger = folder();
    for file in ["docket.db", "docket.db-wal"] {
        if dir.path().join(file).exists() {
            std::fs::copy(dir.path().join(file), forger.path().join(file)).unwrap();
        }
    }
    sql(forger.path(), "DELETE FROM audit_checkpoints");
    let out = docket(forger.path(), &other, &["audit", "checkpoint"]);
    assert!(out.status.success(), "{}", said(&out));
    let forged = std::fs::read_to_string(forger.path().join("checkpoints.jsonl")).unwrap();
    let file = dir.path().join("checkpoints.jsonl");
    std::fs::write(&file, std::fs::read_to_string(&file).unwrap() + &forged).unwrap();
    let (ok, text) = verify(dir.path(), &key, &[]);
    assert!(!ok, "{text}");
    assert!(text.contains("checkpoint DISAGREES at record 8: the checkpoint of record 8 made "), "{text}");
    assert!(text.contains("is not signed by the trusted key"), "{text}");
}

#[test]
fn a_broken_audit_section_is_reported_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let config = "storage: { url: sqlite://./docket.db }\naudit: { signing_key: nothex, every: 10ms, extra: 1 }\n";
    std::fs::write(dir.path().join("docket.yaml"), config).unwrap();
    let out = docket(dir.path(), "", &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let text = said(&out);
    assert!(text.contains("docket.yaml:2:"), "{text}");
    assert!(text.contains("an audit signing key must be 64 hexadecimal digits"), "{text}");
    assert!(text.contains("checkpoints are written at most once a second"), "{text}");
    assert!(text.contains("extra"), "{text}");
}
