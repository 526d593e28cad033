//! Time as reports write it and flags read it: RFC 3339 in UTC, calendar days.

use time::{Date, OffsetDateTime};

/// RFC 3339 without fractions of a second, as report.json writes times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A day given as `YYYY-MM-DD`, or the day of an RFC 3339 time.
pub fn parse_day(s: &str) -> Result<Date, String> {
    let day = s.get(..10).unwrap_or(s);
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("\"{s}\" is not a date like 2026-11-23"))
}

/// An RFC 3339 time, e.g. a saved scan's `collected_at`.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times() {
        assert_eq!(
            parse_day("2026-11-23T10:00:00Z").unwrap(),
            time::macros::date!(2026 - 11 - 23)
        );
        assert!(parse_day("23.11.2026").is_err());
        let t = time::macros::datetime!(2026-11-23 10:00:00.5 UTC);
        assert_eq!(rfc3339(t), "2026-11-23T10:00:00Z");
        assert_eq!(
            parse_rfc3339("2026-11-23T10:00:00Z"),
            Some(t.replace_nanosecond(0).unwrap())
        );
    }
}
