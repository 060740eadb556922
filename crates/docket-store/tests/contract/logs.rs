//! Step logs: appended in batches, repeated lines ignored, read in pages, numbering resumed.

use docket_app::{EndOfStep, LogLine, LogStream, StoreError};

use crate::fixtures::*;
use crate::harness::Harness;

fn line(ticket: u64, seq: u64, stream: LogStream, text: &str) -> LogLine {
    LogLine {
        ticket: id(ticket),
        run: 1,
        step: usize::try_from(seq / 3).unwrap(),
        seq,
        stream,
        text: text.into(),
        at: at(i64::try_from(seq).unwrap()),
    }
}

pub(crate) async fn logs_page_and_ignore_repeated_lines(h: &Harness) {
    let store = h.store();
    Tk::open(store, 1, "deploy-service", "alice").await;
    assert_eq!(store.last_log_seq(&id(1)).await.unwrap(), 0);
    assert!(store.logs(&id(1), 0, 10).await.unwrap().is_empty());
    store.append_logs(&[]).await.unwrap();

    let first: Vec<LogLine> = (1..=5)
        .map(|seq| {
            line(1, seq, if seq % 2 == 0 { LogStream::Stderr } else { LogStream::Stdout }, &format!("line {seq} ✓"))
        })
        .collect();
    store.append_logs(&first).await.unwrap();
    // A resumed writer sends 4 and 5 again (with other text), then 6: only 6 is new.
    let resent = vec![
        line(1, 4, LogStream::Stdout, "dup"),
        line(1, 5, LogStream::Stdout, "dup"),
        line(1, 6, LogStream::System, "exit 0"),
    ];
    store.append_logs(&resent).await.unwrap();
    store.append_logs(&[line(2, 1, LogStream::Stdout, "other ticket")]).await.unwrap();

    let all = store.logs(&id(1), 0, 100).await.unwrap();
    let mut expected = first.clone();
    expected.push(line(1, 6, LogStream::System, "exit 0"));
    assert_eq!(all, expected);
    assert_eq!(store.logs(&id(1), 2, 2).await.unwrap(), &expected[2..4]);
    assert!(store.logs(&id(1), 6, 10).await.unwrap().is_empty());
    assert_eq!(store.last_log_seq(&id(1)).await.unwrap(), 6);
    assert_eq!(store.last_log_seq(&id(2)).await.unwrap(), 1);
    assert_eq!(store.logs(&id(2), 0, 10).await.unwrap().len(), 1);
}

/// A step's last lines ride in the commit that records its end: stored once it commits, and
/// carried again by a commit retried after a conflict without being stored twice.
pub(crate) async fn a_commit_stores_the_lines_it_carries(h: &Harness) {
    let store = h.store();
    let mut tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let lines = vec![line(1, 1, LogStream::System, "running"), line(1, 2, LogStream::Stdout, "done ✓")];
    let change = tk.change(vec![comment("bob", "first", at(1))], at(1));
    let committed = store.commit_end_of_step(change.clone(), EndOfStep { lines: &lines, ended: None }).await.unwrap();
    tk.ticket = change.ticket;
    tk.version = committed.version;
    assert_eq!(store.logs(&id(1), 0, 10).await.unwrap(), lines);
    assert_eq!(store.ticket(&id(1)).await.unwrap().unwrap().version, committed.version);

    let more = vec![line(1, 2, LogStream::Stdout, "done ✓"), line(1, 3, LogStream::System, "exit code 0")];
    let stale = Tk { ticket: tk.ticket.clone(), version: tk.version - 1 };
    let refused = store
        .commit_end_of_step(
            stale.change(vec![comment("bob", "late", at(2))], at(2)),
            EndOfStep { lines: &more, ended: None },
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    let again = tk.change(vec![comment("bob", "again", at(3))], at(3));
    store.commit_end_of_step(again, EndOfStep { lines: &more, ended: None }).await.unwrap();
    let mut all = lines.clone();
    all.push(more[1].clone());
    assert_eq!(store.logs(&id(1), 0, 10).await.unwrap(), all);
}
