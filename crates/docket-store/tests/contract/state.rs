//! Surface state: keyed values that surfaces keep, first-writer-wins inserts, prefix listing
//! and pruning by age.

use crate::fixtures::*;
use crate::harness::Harness;

pub(crate) async fn surface_state_puts_lists_and_prunes(h: &Harness) {
    let store = h.store();
    assert_eq!(store.state_get("slack", "thread:DKT-1").await.unwrap(), None);
    store.state_put("slack", "thread:DKT-1", "C1/1.0", at(1)).await.unwrap();
    store.state_put("slack", "thread:DKT-1", "C1/2.0", at(2)).await.unwrap();
    assert_eq!(store.state_get("slack", "thread:DKT-1").await.unwrap().as_deref(), Some("C1/2.0"));
    // Scopes are apart.
    assert_eq!(store.state_get("teams", "thread:DKT-1").await.unwrap(), None);

    assert!(store.state_put_new("slack", "event:Ev1", "", at(3)).await.unwrap());
    assert!(!store.state_put_new("slack", "event:Ev1", "other", at(4)).await.unwrap());
    assert_eq!(store.state_get("slack", "event:Ev1").await.unwrap().as_deref(), Some(""));

    for key in ["copy:DKT-1:b", "copy:DKT-1:a", "copy:DKT-10:a", "copy%DKT-1:z", "copy_DKT-1:y"] {
        store.state_put("slack", key, key, at(5)).await.unwrap();
    }
    let listed = store.state_list("slack", "copy:DKT-1:", 100).await.unwrap();
    let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["copy:DKT-1:a", "copy:DKT-1:b"], "prefix is literal, not a pattern");
    assert_eq!(store.state_list("slack", "copy", 2).await.unwrap().len(), 2);

    // Entries stamped before 3 s: the thread (2 s); the event (3 s) stays.
    assert_eq!(store.state_prune("slack", at(3)).await.unwrap(), 1);
    assert_eq!(store.state_get("slack", "thread:DKT-1").await.unwrap(), None);
    assert!(store.state_get("slack", "event:Ev1").await.unwrap().is_some());
}

pub(crate) async fn concurrent_first_writers_have_one_winner(h: &Harness) {
    let store = h.store.clone();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.state_put_new("slack", "event:race", &i.to_string(), at(1)).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
}
