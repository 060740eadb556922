//! `Retry-After` (RFC 9110 §10.2.3): a number of seconds or an HTTP-date. Slack sends whole
//! seconds, some services decimals; proxies and gateways send dates. Dates are read by
//! `httpdate`, which takes the IMF-fixdate and the two obsolete forms a recipient must accept.

use std::time::{Duration, SystemTime};

/// How long `value` (a `Retry-After` header's text) asks to wait, counted from `now`; `None`
/// when it is neither seconds nor an HTTP-date. A date in the past is no wait; more seconds than
/// a `Duration` holds is the longest one.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return seconds(value);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `120` or `1.5`: digits, with at most one decimal point followed by digits.
fn seconds(value: &str) -> Option<Duration> {
    match value.split_once('.') {
        None => Some(value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs)),
        Some((_, fraction)) if fraction.is_empty() || fraction.contains('.') => None,
        Some(_) => {
            let seconds: f64 = value.parse().ok()?;
            Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
    fn example() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn whole_and_decimal_seconds() {
        let now = example();
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after("1.5", now), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after("0.25", now), Some(Duration::from_millis(250)));
        assert_eq!(retry_after("99999999999999999999999", now), Some(Duration::MAX));
        assert_eq!(retry_after("1e300", now), None);
    }

    #[test]
    fn http_dates_in_every_form_a_recipient_must_read() {
        let now = example();
        for date in ["Sun, 06 Nov 1994 08:51:37 GMT", "Sunday, 06-Nov-94 08:51:37 GMT", "Sun Nov  6 08:51:37 1994"] {
            assert_eq!(retry_after(date, now), Some(Duration::from_secs(120)), "{date}");
        }
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO), "a date in the past");
    }

    #[test]
    fn anything_else_is_no_retry_after() {
        let now = example();
        for junk in ["", "soon", "-1", "+5", "1.", ".5", "1.2.3", "NaN", "inf", "1 2", "Sun, 06 Nov 1994 25:00:00 GMT"]
        {
            assert_eq!(retry_after(junk, now), None, "{junk:?}");
        }
    }
}
