//! How output looks: colours only on a terminal, times in the local time zone, ages as "5m".
//! Everything that depends on the terminal or the clock is in `Ui`, so rendering is testable.

use std::io::IsTerminal as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The rendering context.
#[derive(Debug, Clone)]
pub(crate) struct Ui {
    /// Whether to use ANSI colours.
    pub(crate) color: bool,
    /// The zone times are shown in.
    pub(crate) tz: TimeZone,
    /// Now, for ages.
    pub(crate) now: Timestamp,
}

impl Ui {
    /// For stdout: colours when it is a terminal (and `NO_COLOR` is not set), the system zone.
    pub(crate) fn for_stdout() -> Self {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self { color, tz: TimeZone::system(), now: Timestamp::now() }
    }

    /// No colours, UTC, a fixed now: for tests.
    #[cfg(test)]
    pub(crate) fn plain(now: &str) -> Self {
        Self { color: false, tz: TimeZone::UTC, now: now.parse().unwrap_or(Timestamp::UNIX_EPOCH) }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub(crate) fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// A ticket state, coloured by what it means.
    pub(crate) fn state(&self, state: &str) -> String {
        self.state_as(state, state)
    }

    /// `shown` (a state's name, padded perhaps) in the colour of `state`.
    pub(crate) fn state_as(&self, state: &str, shown: &str) -> String {
        match state {
            "succeeded" => self.green(shown),
            "failed" | "denied" | "rejected" | "plan_failed" | "interrupted" | "expired" => self.red(shown),
            "awaiting_approval" | "changes_requested" => self.yellow(shown),
            _ => self.bold(shown),
        }
    }

    /// `HH:MM:SS` in the local zone; the text as given when it is not a timestamp.
    pub(crate) fn time(&self, at: &str) -> String {
        match at.parse::<Timestamp>() {
            Ok(ts) => ts.to_zoned_datetime(self.tz.clone()).strftime("%H:%M:%S").to_string(),
            Err(_) => at.to_owned(),
        }
    }

    /// `YYYY-MM-DD HH:MM` in the local zone.
    pub(crate) fn datetime(&self, at: &str) -> String {
        match at.parse::<Timestamp>() {
            Ok(ts) => ts.to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(),
            Err(_) => at.to_owned(),
        }
    }

    /// How long ago `at` was: `12s`, `5m`, `3h`, `2d`.
    pub(crate) fn age(&self, at: &str) -> String {
        match at.parse::<Timestamp>() {
            Ok(ts) => short_duration(self.now.as_second().saturating_sub(ts.as_second()).max(0)),
            Err(_) => "?".to_owned(),
        }
    }
}

/// Seconds as the largest whole unit: `12s`, `5m`, `3h`, `2d`.
pub(crate) fn short_duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The time from `start` to `end` as `850ms`, `12s`, `1m 3s`; `None` when either is missing.
pub(crate) fn elapsed(start: &str, end: Option<&str>) -> Option<String> {
    let start: Timestamp = start.parse().ok()?;
    let end: Timestamp = end?.parse().ok()?;
    let millis = i64::try_from(end.duration_since(start).as_millis()).ok()?.max(0);
    Some(match millis {
        m if m < 1000 => format!("{m}ms"),
        m if m < 60_000 => format!("{}s", m / 1000),
        m if m < 3_600_000 => format!("{}m {}s", m / 60_000, (m / 1000) % 60),
        m => format!("{}h {}m", m / 3_600_000, (m / 60_000) % 60),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_ages_and_durations() {
        let ui = Ui::plain("2026-01-05T10:47:30Z");
        assert_eq!(ui.time("2026-01-05T10:42:01.5Z"), "10:42:01");
        assert_eq!(ui.datetime("2026-01-05T10:42:01Z"), "2026-01-05 10:42");
        assert_eq!(ui.time("not a time"), "not a time");
        assert_eq!(ui.age("2026-01-05T10:42:30Z"), "5m");
        assert_eq!(ui.age("2026-01-03T10:42:30Z"), "2d");
        assert_eq!(ui.age("2026-01-05T10:47:40Z"), "0s");
        assert_eq!(elapsed("2026-01-05T10:42:01Z", Some("2026-01-05T10:43:04Z")).as_deref(), Some("1m 3s"));
        assert_eq!(elapsed("2026-01-05T10:42:01Z", Some("2026-01-05T10:42:01.25Z")).as_deref(), Some("250ms"));
        assert_eq!(elapsed("2026-01-05T10:42:01Z", None), None);
    }

    #[test]
    fn colour_only_when_asked() {
        let mut ui = Ui::plain("2026-01-05T10:47:30Z");
        assert_eq!(ui.red("x"), "x");
        ui.color = true;
        assert_eq!(ui.red("x"), "\x1b[31mx\x1b[0m");
    }
}
