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

/// A date or time as a reader writes it: `2026-11-02T09:15:00Z` -> "2 November 2026, 09:15
/// UTC", `2026-11-23` -> "23 November 2026"; anything else comes back as it is. Reports keep
/// the ISO value beside it (an HTML title, report.json).
pub fn readable(s: &str) -> String {
    let month = |m: time::Month| m.to_string();
    if let Some(t) = parse_rfc3339(s) {
        let offset = t.offset();
        let zone = if offset.is_utc() {
            "UTC".to_string()
        } else {
            let (h, m, _) = offset.as_hms();
            format!(
                "UTC{}{:02}:{:02}",
                if h < 0 || m < 0 { '-' } else { '+' },
                h.abs(),
                m.abs()
            )
        };
        return format!(
            "{} {} {}, {:02}:{:02} {zone}",
            t.day(),
            month(t.month()),
            t.year(),
            t.hour(),
            t.minute()
        );
    }
    match Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(d) => format!("{} {} {}", d.day(), month(d.month()), d.year()),
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_dates() {
        assert_eq!(
            readable("2026-11-02T09:15:00Z"),
            "2 November 2026, 09:15 UTC"
        );
        assert_eq!(
            readable("2099-01-31T23:59:59+01:00"),
            "31 January 2099, 23:59 UTC+01:00"
        );
        assert_eq!(readable("2026-11-23"), "23 November 2026");
        assert_eq!(readable("soon"), "soon");
    }

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
