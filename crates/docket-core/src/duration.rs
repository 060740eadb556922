//! Durations as people write them in config files: `30m`, `24h`, `1w`, `1h30m`, `0s`.

use std::fmt;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// A non-negative length of time written with units `w`, `d`, `h`, `m`, `s` (and `ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Duration {
    millis: u64,
}

/// The longest duration Docket accepts anywhere: 366 days.
const MAX_MILLIS: u64 = 366 * 86_400_000;

impl Duration {
    /// A duration of whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self { millis: secs * 1000 }
    }

    /// A duration of milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Self { millis }
    }

    /// Length in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.millis
    }

    /// As a `std` duration, for timers.
    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.millis)
    }

    /// As a signed duration, for arithmetic on timestamps.
    pub fn to_signed(self) -> SignedDuration {
        // MAX_MILLIS fits an i64 with room to spare.
        SignedDuration::from_millis(i64::try_from(self.millis).unwrap_or(i64::MAX))
    }

    /// Parses `1h30m`-style text. Every number needs a unit; units go from large to small.
    pub fn parse(text: &str) -> Result<Self, InvalidDuration> {
        let invalid = |why: &'static str| InvalidDuration { text: text.chars().take(40).collect(), why };
        let text_trimmed = text.trim();
        if text_trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let mut rest = text_trimmed;
        let mut total: u64 = 0;
        let mut last_unit_rank = usize::MAX;
        while !rest.is_empty() {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid("expected a number"));
            }
            let (number, after) = rest.split_at(digits);
            let number: u64 = number.parse().map_err(|_| invalid("the number is too large"))?;
            let unit_len = after.chars().take_while(char::is_ascii_alphabetic).count();
            if unit_len == 0 {
                return Err(invalid("a number needs a unit: w, d, h, m, s or ms"));
            }
            let (unit, after) = after.split_at(unit_len);
            let (rank, millis_per_unit) = match unit {
                "w" => (0, 7 * 86_400_000),
                "d" => (1, 86_400_000),
                "h" => (2, 3_600_000),
                "m" => (3, 60_000),
                "s" => (4, 1000),
                "ms" => (5, 1),
                _ => return Err(invalid("units are w, d, h, m, s and ms")),
            };
            if last_unit_rank != usize::MAX && rank <= last_unit_rank {
                return Err(invalid("units go from larger to smaller, each once"));
            }
            last_unit_rank = rank;
            total = number
                .checked_mul(millis_per_unit)
                .and_then(|m| total.checked_add(m))
                .filter(|&m| m <= MAX_MILLIS)
                .ok_or_else(|| invalid("longer than 366 days"))?;
            rest = after;
        }
        Ok(Self { millis: total })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.millis;
        for (unit, size) in
            [("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for Duration {
    type Error = InvalidDuration;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Duration> for String {
    fn from(d: Duration) -> Self {
        d.to_string()
    }
}

/// Text that is not a duration, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: {why} (write e.g. 30s, 5m, 1h30m, 2d, 1w)")]
pub struct InvalidDuration {
    text: String,
    why: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, millis, shown) in [
            ("0s", 0, "0s"),
            ("30m", 1_800_000, "30m"),
            ("1h30m", 5_400_000, "1h30m"),
            ("1w", 604_800_000, "1w"),
            ("90s", 90_000, "1m30s"),
            ("250ms", 250, "250ms"),
        ] {
            let d = Duration::parse(text).unwrap();
            assert_eq!(d.as_millis(), millis, "{text}");
            assert_eq!(d.to_string(), shown);
        }
    }

    #[test]
    fn refuses_junk() {
        for bad in ["", "5", "m", "5x", "30m1h", "1h1h", "-5m", "400d", "99999999999999999999s"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }
}
