//! How idle workers wait. Each waits to be told that something was queued (a commit here, or a
//! wake-up from another replica), and one of them at a time, the watcher, also wakes every poll
//! interval to look for work nobody was told about: a run whose lease lapsed when its replica
//! died, a run a lost wake-up left queued. An idle server so makes one claim per interval, not
//! one per worker. Work found by looking may be a backlog, so the worker that found it wakes
//! another idle worker to look as well, which does the same, until one finds nothing: a
//! backlog is taken up by as many workers at once as it has runs. A watcher woken for any
//! reason hands the watch to another idle worker, so some worker always keeps it while any is
//! idle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What woke an idle worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// It was told that something was queued.
    Told,
    /// It looked on its own (the watcher's interval), or another worker found work by looking.
    Looked,
    /// The watcher left: this worker waits again, and may take the watch.
    Handoff,
    /// The engine is stopping.
    Stopped,
}

/// The watch the idle workers share.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// Some idle worker keeps the watch.
    kept: AtomicBool,
    /// The watcher left.
    handoff: Notify,
    /// Work was found by looking: another worker should look too.
    more: Notify,
}

impl Watch {
    /// Waits until this idle worker is `told`, or, if it keeps the watch, `poll` has passed.
    pub(crate) async fn wait(&self, told: &Notify, poll: Duration, shutdown: &CancellationToken) -> Woken {
        // Frees the watch however this wait ends, even if the worker's task is aborted in it.
        let mut keeping = (!self.kept.swap(true, Ordering::AcqRel)).then(|| Keeping(self));
        let woken = tokio::select! {
            () = shutdown.cancelled() => Woken::Stopped,
            () = told.notified() => Woken::Told,
            () = self.more.notified() => Woken::Looked,
            () = self.handoff.notified() => Woken::Handoff,
            () = tokio::time::sleep(poll), if keeping.is_some() => Woken::Looked,
        };
        // Leaving to work: another idle worker takes the watch. A watcher woken by a handoff
        // waits again at once and takes it back; passing it on then would have it hand the
        // watch to itself forever when no other worker is idle.
        if keeping.take().is_some() && matches!(woken, Woken::Told | Woken::Looked) {
            self.handoff.notify_one();
        }
        woken
    }

    /// A worker woken by looking claimed a run: another idle worker looks as well.
    pub(crate) fn found_by_looking(&self) {
        self.more.notify_one();
    }
}

/// Holds the watch for one wait; gives it up when dropped.
struct Keeping<'a>(&'a Watch);

impl Drop for Keeping<'_> {
    fn drop(&mut self) {
        self.0.kept.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Runs one idle worker for `run`, told once at the start; counts how it was woken.
    async fn one_worker(watch: Arc<Watch>, run: Duration) -> Vec<Woken> {
        let told = Arc::new(Notify::new());
        let shutdown = CancellationToken::new();
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(run).await;
            stopper.cancel();
        });
        told.notify_one();
        let mut woken = Vec::new();
        loop {
            match watch.wait(&told, Duration::from_millis(100), &shutdown).await {
                Woken::Stopped => return woken,
                other => woken.push(other),
            }
            // A worker's claim is a store call: it lets other tasks run.
            tokio::task::yield_now().await;
        }
    }

    // On a paused clock: the looks are counted by the timer, not by how busy the machine is.
    #[tokio::test(start_paused = true)]
    async fn a_lone_idle_worker_keeps_the_watch_without_waking_itself() {
        let woken = one_worker(Arc::new(Watch::default()), Duration::from_millis(550)).await;
        let looked = woken.iter().filter(|w| **w == Woken::Looked).count();
        // Each time it leaves the watch to work, it passes it on, to itself: one handoff each.
        let handoffs = woken.iter().filter(|w| **w == Woken::Handoff).count();
        assert!((3..=6).contains(&looked), "{looked} looks in 550 ms at one every 100 ms");
        assert!(handoffs <= looked + 1, "{handoffs} handoffs for {looked} looks");
    }

    // On a paused clock: the looks are counted by the timer, not by how busy the machine is.
    #[tokio::test(start_paused = true)]
    async fn of_several_idle_workers_one_looks_each_interval() {
        let watch = Arc::new(Watch::default());
        let workers: Vec<_> =
            (0..4).map(|_| tokio::spawn(one_worker(Arc::clone(&watch), Duration::from_millis(550)))).collect();
        let mut looked = 0;
        for worker in workers {
            looked += worker.await.unwrap().iter().filter(|w| **w == Woken::Looked).count();
        }
        assert!((3..=6).contains(&looked), "{looked} looks in 550 ms at one every 100 ms");
    }

    #[tokio::test]
    async fn a_watcher_stopped_in_its_wait_frees_the_watch() {
        let watch = Arc::new(Watch::default());
        let aborted = {
            let watch = Arc::clone(&watch);
            tokio::spawn(
                async move { watch.wait(&Notify::new(), Duration::from_secs(60), &CancellationToken::new()).await },
            )
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(watch.kept.load(Ordering::Acquire), "the first idle worker keeps the watch");
        aborted.abort();
        let _ = aborted.await;
        let woken = watch.wait(&Notify::new(), Duration::from_millis(10), &CancellationToken::new()).await;
        assert_eq!(woken, Woken::Looked, "the next idle worker keeps the watch and looks");
    }

    #[tokio::test]
    async fn work_found_by_looking_wakes_another_worker_to_look() {
        let watch = Arc::new(Watch::default());
        let shutdown = CancellationToken::new();
        let other = {
            let watch = Arc::clone(&watch);
            let shutdown = shutdown.clone();
            tokio::spawn(async move { watch.wait(&Notify::new(), Duration::from_secs(60), &shutdown).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        watch.found_by_looking();
        assert_eq!(other.await.unwrap(), Woken::Looked);
    }
}
