//! Opening stores: by URL, in memory, and what a bad URL says.

use docket_app::StoreError;
use docket_app::store_prelude::*;
use docket_store::SqliteStore;

use crate::fixtures::*;

#[tokio::test]
async fn an_in_memory_store_keeps_its_data_while_open() {
    let store = SqliteStore::in_memory().await.unwrap();
    let tk = Tk::open(&store, 1, "deploy-service", "alice").await;
    assert_eq!(store.ticket(tk.id()).await.unwrap().unwrap().ticket, tk.ticket);
    // A second in-memory store is a different database.
    let other = SqliteStore::in_memory().await.unwrap();
    assert!(other.ticket(tk.id()).await.unwrap().is_none());
}

#[tokio::test]
async fn urls_pick_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("by-url.db").display());
    let store = docket_store::open(&url).await.unwrap();
    let tk = Tk::open(&*store, 1, "deploy-service", "alice").await;
    drop(store);
    let again = docket_store::open(&url).await.unwrap();
    assert_eq!(again.ticket(tk.id()).await.unwrap().unwrap().ticket, tk.ticket);
    assert!(dir.path().join("by-url.db").exists());

    let memory = docket_store::open("sqlite::memory:").await.unwrap();
    memory.ping().await.unwrap();

    let Err(StoreError::Unavailable(message)) = docket_store::open("mysql://root:hunter2@db/docket").await else {
        panic!("a MySQL URL must be refused");
    };
    assert!(message.contains("unsupported database URL"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn a_sqlite_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let _store = SqliteStore::open(&path).await.unwrap();
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&raw).await.unwrap();
    assert_eq!(mode, "wal");
}
