//! The build -> release table in checks/data/configmgr-releases.toml.

use serde::Deserialize;
use time::Date;

const TABLE: &str = include_str!("../../../checks/data/configmgr-releases.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Absent for a release whose build number is not known yet.
    #[serde(default)]
    pub build: Option<u32>,
    pub release: String,
    #[serde(default)]
    pub support_end: Option<String>,
    #[serde(default)]
    pub ended: bool,
    #[serde(default)]
    pub approximate: bool,
    #[serde(default)]
    pub community: bool,
    /// Which fact of the row is community-sourced.
    #[serde(default)]
    pub community_note: Option<String>,
    /// When the early update ring got it (YYYY-MM), for rows without a build.
    #[serde(default)]
    pub available: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    current_branch_from: u32,
    release: Vec<Release>,
}

fn parsed() -> Option<Table> {
    toml::from_str::<Table>(TABLE).ok()
}

/// Every row, those with a build sorted by build, then those without. A broken table is a
/// build-time mistake caught by the tests.
pub fn table() -> Vec<Release> {
    let mut rows = parsed().map(|t| t.release).unwrap_or_default();
    rows.sort_by_key(|r| (r.build.is_none(), r.build));
    rows
}

/// The first current-branch build (1511); older builds are System Center 2007 / 2012.
pub fn current_branch_from() -> u32 {
    parsed().map(|t| t.current_branch_from).unwrap_or(u32::MAX)
}

/// What the table says about a build: the release it belongs to and its support.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub release: String,
    /// Last day of support; `None` when only "ended" is known.
    pub support_end: Option<String>,
    pub note: String,
    pub community: bool,
    /// A current-branch release (1511 or later), the kind co-management needs.
    pub current_branch: bool,
}

/// The release a build belongs to: the newest row at or below it. Builds older than the table
/// are unknown. A build newer than the newest known one is "not in the table": it is judged as
/// supported at least as long as the newest known release, and rows without a build (a release
/// announced, build not known) are named, never assumed.
pub fn lookup(build: u32, today: Date) -> Option<Lookup> {
    let rows = table();
    let known: Vec<&Release> = rows.iter().filter(|r| r.build.is_some()).collect();
    let row = *known.iter().rev().find(|r| r.build <= Some(build))?;
    let newest = *known.last()?;
    let oldest_supported = known
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
        (Some(end), false) if row.approximate => {
            format!("supported until about {end} (an estimate, rounded down)")
        }
        (Some(end), false) => format!("supported until {end}"),
    };
    if ended {
        note.push_str(&format!(
            "; oldest release supported on {today}: {oldest_supported}"
        ));
    }
    let mut release = row.release.clone();
    if Some(build) > newest.build {
        let unbuilt: Vec<String> = rows
            .iter()
            .filter(|r| r.build.is_none())
            .map(|r| match &r.available {
                Some(when) => format!("{} (early ring {when}, build not known)", r.release),
                None => format!("{} (build not known)", r.release),
            })
            .collect();
        let maybe = if unbuilt.is_empty() {
            String::new()
        } else {
            format!("; later releases in the table: {}", unbuilt.join(", "))
        };
        release = format!("build {build}, newer than {}", newest.release);
        note = format!(
            "build {build} is not in the table (newest known: {} = build {}{maybe}); judged as supported at least as long as {}: {note}",
            newest.release,
            newest.build.unwrap_or_default(),
            newest.release,
        );
    }
    if let Some(why) = row.community_note.as_deref().filter(|_| row.community) {
        note.push_str(&format!(" (community-sourced: {why})"));
    }
    Some(Lookup {
        release,
        support_end: row.support_end.clone(),
        note,
        community: row.community,
        current_branch: build >= current_branch_from(),
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
        assert!(parsed().is_some(), "configmgr-releases.toml does not parse");
        let rows = table();
        assert!(rows.len() > 30);
        let built: Vec<u32> = rows.iter().filter_map(|r| r.build).collect();
        assert!(built.windows(2).all(|w| w[0] < w[1]));
        for r in rows.iter().filter(|r| r.build.is_some()) {
            assert!(
                r.ended || r.support_end.as_deref().and_then(parse_date).is_some(),
                "{r:?}"
            );
            assert!(!r.community || r.community_note.is_some(), "{r:?}");
        }
    }

    #[test]
    fn builds_map_to_releases() {
        assert_eq!(lookup(7804, TODAY).unwrap().release, "2012 SP1");
        let r2 = lookup(7958, TODAY).unwrap();
        assert_eq!(r2.release, "2012 R2");
        assert!(!r2.current_branch);
        assert!(
            r2.note.starts_with("support ended 2016-07-12")
                && r2
                    .note
                    .contains("oldest release supported on 2026-11-23: 2509"),
            "{}",
            r2.note
        );
        let cb = lookup(9135, TODAY).unwrap();
        assert_eq!(cb.support_end.as_deref(), Some("2026-09-30"));
        assert!(cb.note.starts_with("support ended 2026-09-30") && cb.current_branch);
        let new = lookup(9146, TODAY).unwrap();
        assert!(new.note.starts_with("supported until about 2027-11-05") && new.community);
        let newer = lookup(9999, TODAY).unwrap();
        assert!(
            newer.note.starts_with("build 9999 is not in the table")
                && newer
                    .note
                    .contains("2609 (early ring 2026-09, build not known)"),
            "{}",
            newer.note
        );
        assert_eq!(newer.release, "build 9999, newer than 2603");
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
