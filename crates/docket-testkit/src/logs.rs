//! Log lines captured for a test: what the code under test wrote, as text, for tests that check
//! a warning was written once (or not a thousand times).

use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;

/// The log lines written on this thread while the guard from [`CapturedLogs::start`] lives.
///
/// It captures with the thread's default subscriber, so a test that uses it belongs in a test
/// binary of its own (another test's global subscriber would take the lines) and runs its tasks
/// on a current-thread runtime (tasks on other threads log elsewhere).
#[derive(Clone, Debug, Default)]
pub struct CapturedLogs {
    written: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    /// Starts capturing this thread's log lines (plain text, no colours) until the guard drops.
    #[must_use]
    pub fn start() -> (Self, DefaultGuard) {
        let logs = Self::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || sink.clone()).finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Everything captured so far.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.written.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// The captured lines that contain `needle`.
    #[must_use]
    pub fn lines_containing(&self, needle: &str) -> Vec<String> {
        self.text().lines().filter(|line| line.contains(needle)).map(str::to_owned).collect()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
