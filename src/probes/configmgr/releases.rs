//! The build -> release table in checks/data/configmgr-releases.toml.

use serde::Deserialize;
use time::Date;

const TABLE: &str = include_str!("../../../checks/data/configmgr-releases.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub build: u32,
    pub release: String,
    #[serde(default)]
    pub support_end: Option<String>,
    #[serde(default)]
    pub ended: bool,
    #[serde(default)]
    pub approximate: bool,
    #[serde(default)]
    pub community: bool,
}

#[derive(Deserialize)]
struct Table {
    release: Vec<Release>,
}

/// The table, sorted by build. A broken table is a build-time mistake caught by the tests.
pub fn table() -> Vec<Release> {
    let mut rows = toml::from_str::<Table>(TABLE)
        .map(|t| t.release)
        .unwrap_or_default();
    rows.sort_by_key(|r| r.build);
    rows
}

/// What the table says about a build: the release it belongs to and its support.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub release: String,
    /// Last day of support; `None` when only "ended" is known.
    pub support_end: Option<String>,
    pub note: String,
    pub community: bool,
}

/// The release a build belongs to: the newest row at or below it. Builds older than the table
/// are unknown; builds newer than it are supported at least as long as the newest row.
pub fn lookup(build: u32, today: Date) -> Option<Lookup> {
    let rows = table();
    let row = rows.iter().rev().find(|r| r.build <= build)?;
    let newest = rows.last()?;
    let oldest_supported = rows
        .iter()
        .find(|r| {
            !r.ended
                && r.support_end
                    .as_deref()
                    .and_then(parse_date)
                    .is_some_and(|d| d >= today)
        })
        .map(|r| r.release.clone())
        .unwrap_or_else(|| "none in the table".into());
    let ended = row.ended
        || row
            .support_end
            .as_deref()
            .and_then(parse_date)
            .is_some_and(|d| d < today);
    let mut note = match (&row.support_end, ended) {
        (Some(end), true) => format!("support ended {end}"),
        (None, _) => "support ended".to_string(),
        (Some(end), false) if row.approximate => format!("supported until about {end}"),
        (Some(end), false) => format!("supported until {end}"),
    };
    if ended {
        note.push_str(&format!(
            "; oldest release supported on {today}: {oldest_supported}"
        ));
    }
    if build > newest.build {
        note = format!(
            "newer than the newest known release ({}); {note}",
            newest.release
        );
    }
    if row.community {
        note.push_str(" (community-sourced build number)");
    }
    Some(Lookup {
        release: row.release.clone(),
        support_end: row.support_end.clone(),
        note,
        community: row.community,
    })
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The build number inside a full version: 5.00.7958.1000 -> 7958; a bare 7958 stays.
pub fn build_of(version: &str) -> Option<u32> {
    crate::config::configmgr_build(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    #[test]
    fn the_table_parses_and_is_ordered() {
        let rows = table();
        assert!(rows.len() > 30);
        assert!(rows.windows(2).all(|w| w[0].build < w[1].build));
        for r in &rows {
            assert!(
                r.ended || r.support_end.as_deref().and_then(parse_date).is_some(),
                "{r:?}"
            );
        }
    }

    #[test]
    fn builds_map_to_releases() {
        assert_eq!(lookup(7804, TODAY).unwrap().release, "2012 SP1");
        let r2 = lookup(7958, TODAY).unwrap();
        assert_eq!(r2.release, "2012 R2");
        assert!(
            r2.note.contains("support ended")
                && r2
                    .note
                    .contains("oldest release supported on 2026-11-23: 2509")
        );
        let cb = lookup(9135, TODAY).unwrap();
        assert_eq!(cb.support_end.as_deref(), Some("2026-09-30"));
        assert!(cb.note.starts_with("support ended 2026-09-30"));
        let new = lookup(9146, TODAY).unwrap();
        assert!(new.note.starts_with("supported until about 2027-11-30") && new.community);
        assert!(lookup(9999, TODAY)
            .unwrap()
            .note
            .starts_with("newer than the newest known release (2603)"));
        assert!(lookup(1000, TODAY).is_none());
    }

    #[test]
    fn full_versions_give_builds() {
        assert_eq!(build_of("5.00.7958.1000"), Some(7958));
        assert_eq!(build_of("9128"), Some(9128));
        assert_eq!(build_of("5.00"), None);
        assert_eq!(build_of("five"), None);
    }
}
