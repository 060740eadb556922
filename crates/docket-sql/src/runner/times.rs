//! Single-precision numbers as they print; dates and times as ISO 8601 text, the same from every engine: `2026-11-24`, `09:30:00`,
//! `2026-11-24T09:30:00.25`, `2026-11-24T09:30:00Z` (fractions only when there are any).

pub(crate) fn date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn clock(t: time::Time) -> String {
    let base = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    match t.nanosecond() {
        0 => base,
        nanos => format!("{base}.{}", format!("{nanos:09}").trim_end_matches('0')),
    }
}

pub(crate) fn local(t: time::PrimitiveDateTime) -> String {
    format!("{}T{}", date(t.date()), clock(t.time()))
}

pub(crate) fn zoned(t: time::OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    format!("{}T{}Z", date(utc.date()), clock(utc.time()))
}

/// A single-precision value as the double that prints the same (`0.1`, not
/// `0.10000000149011612`).
pub(crate) fn single(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_iso_8601() {
        let d = time::Date::from_calendar_date(2026, time::Month::November, 24).unwrap();
        let t = time::Time::from_hms_nano(9, 30, 0, 250_000_000).unwrap();
        assert_eq!(date(d), "2026-11-24");
        assert_eq!(local(time::PrimitiveDateTime::new(d, t)), "2026-11-24T09:30:00.25");
        assert_eq!(zoned(time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT).assume_utc()), "2026-11-24T00:00:00Z");
    }
}
