//! Step logs: appended in batches, repeated lines ignored, read in pages, numbering resumed.

use docket_app::{LogLine, LogStream};

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
