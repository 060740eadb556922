//! An open-loop load generator: request `i` is due at `start + i / rate` and is sent then,
//! whether or not earlier requests were answered, so a slow server cannot slow the sender down
//! and hide its own latency (no coordinated omission). Each latency is measured from the time
//! the request was *due*, not from when it happened to be sent.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How one request went.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Which request (0-based).
    pub(crate) index: usize,
    /// From when it was due to when the whole answer was read.
    pub(crate) latency: Duration,
    /// How late the sender got to it: from when it was due to when its task first ran, which
    /// is when the request is built, signed and sent (the sender's share of `latency`).
    pub(crate) late: Duration,
    /// `None` if it was answered as expected; else why not.
    pub(crate) error: Option<String>,
}

/// A finished run.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) outcomes: Vec<Outcome>,
    /// From the first request due to the last one sent.
    pub(crate) sending: Duration,
}

impl Run {
    /// `of` each request answered as expected that `among` keeps, sorted.
    fn good(&self, among: impl Fn(&Outcome) -> bool, of: impl Fn(&Outcome) -> Duration) -> Vec<Duration> {
        let mut all: Vec<Duration> = self.outcomes.iter().filter(|o| o.error.is_none() && among(o)).map(of).collect();
        all.sort();
        all
    }

    /// Latencies of the requests answered as expected, sorted.
    pub(crate) fn good_latencies(&self) -> Vec<Duration> {
        self.good(|_| true, |o| o.latency)
    }

    /// How late the sender sent the requests answered as expected, sorted: how much of a
    /// latency quantile is the sender's own (timer and scheduling on a shared machine).
    pub(crate) fn good_lateness(&self) -> Vec<Duration> {
        self.good(|_| true, |o| o.late)
    }

    /// Latencies of the requests answered as expected from when each was sent (not due),
    /// sorted: the server's and the network's share alone.
    pub(crate) fn good_latencies_from_sending(&self) -> Vec<Duration> {
        self.good(|_| true, |o| o.latency.saturating_sub(o.late))
    }

    /// Latencies of the requests due in `[from, to)` (as fractions of the run) answered as
    /// expected, sorted: whether latency drifts as the run goes on.
    pub(crate) fn good_latencies_between(&self, from: f64, to: f64) -> Vec<Duration> {
        let n = self.outcomes.len() as f64;
        self.good(|o| (o.index as f64) >= from * n && (o.index as f64) < to * n, |o| o.latency)
    }

    /// How late the sender got to a request at worst (timer and scheduling; counted in the
    /// latencies).
    pub(crate) fn worst_lateness(&self) -> Duration {
        self.outcomes.iter().map(|o| o.late).max().unwrap_or_default()
    }

    /// Requests not answered as expected.
    pub(crate) fn errors(&self) -> Vec<&Outcome> {
        self.outcomes.iter().filter(|o| o.error.is_some()).collect()
    }

    /// The rate the sender kept.
    pub(crate) fn achieved_rate(&self) -> f64 {
        let secs = self.sending.as_secs_f64();
        if secs <= 0.0 { self.outcomes.len() as f64 } else { (self.outcomes.len().saturating_sub(1)) as f64 / secs }
    }
}

/// Sends `count` requests at `rate` per second; `send(i)` makes request `i` and says whether it
/// was answered as expected. Waits for every answer (each bounded by `send` itself).
pub(crate) async fn open_loop<F, Fut>(rate: u32, count: usize, send: F) -> Run
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now() + Duration::from_millis(20);
    let mut last_sent = start;
    for index in 0..count {
        let due = start + period.mul_f64(index as f64);
        tokio::time::sleep_until(due).await;
        last_sent = Instant::now();
        let request = send(index);
        tasks.spawn(async move {
            // Nothing of the request happens before its task runs (`send` only makes it).
            let late = due.elapsed();
            let result = request.await;
            Outcome { index, latency: due.elapsed(), late, error: result.err() }
        });
    }
    let mut outcomes = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => outcomes.push(Outcome {
                index: usize::MAX,
                latency: Duration::ZERO,
                late: Duration::ZERO,
                error: Some(e.to_string()),
            }),
        }
    }
    outcomes.sort_by_key(|o| o.index);
    Run { outcomes, sending: last_sent.saturating_duration_since(start) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_go_out_on_schedule_even_when_answers_are_slow() {
        // Every answer takes 200 ms; at 200/s a closed loop would send one at a time.
        let run = open_loop(200, 100, |_| async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(())
        })
        .await;
        assert_eq!(run.outcomes.len(), 100);
        assert!(run.sending < Duration::from_millis(700), "sending took {:?}", run.sending);
        assert!(run.achieved_rate() > 150.0, "{}", run.achieved_rate());
        let latencies = run.good_latencies();
        assert!(latencies.iter().all(|l| *l >= Duration::from_millis(200)));
    }

    #[tokio::test]
    async fn a_late_sender_is_told_apart_from_a_slow_answer() {
        // The first answer takes 100 ms and holds the sender's only thread meanwhile, so the
        // other four, due 10 ms apart, go out late and are answered at once.
        let run = open_loop(100, 5, |i| async move {
            if i == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok::<(), String>(())
        })
        .await;
        let own = |o: &Outcome| o.latency.saturating_sub(o.late);
        let slow: Vec<&Outcome> = run.outcomes.iter().filter(|o| own(o) >= Duration::from_millis(80)).collect();
        assert!(slow.len() == 1 && slow[0].index == 0, "only the first answer was slow: {:?}", run.outcomes);
        for sent_late in &run.outcomes[1..] {
            assert!(sent_late.late >= Duration::from_millis(40), "{sent_late:?}");
            assert!(own(sent_late) < Duration::from_millis(50), "{sent_late:?}");
        }
        let (late, from_sending) = (run.good_lateness(), run.good_latencies_from_sending());
        assert!(late[1] >= Duration::from_millis(40), "four were sent late: {late:?}");
        assert!(from_sending[3] < Duration::from_millis(50), "{from_sending:?}");
        assert!(run.worst_lateness() >= Duration::from_millis(40), "{:?}", run.worst_lateness());
    }

    #[tokio::test]
    async fn errors_are_kept_with_their_request() {
        let run =
            open_loop(1000, 10, |i| async move { if i == 3 { Err("HTTP 500".to_owned()) } else { Ok(()) } }).await;
        let errors = run.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].index, errors[0].error.as_deref()), (3, Some("HTTP 500")));
        assert_eq!(run.good_latencies().len(), 9);
    }
}
