//! The Windows Server build -> release table in checks/data/windows-server-releases.toml.

use serde::Deserialize;
use time::Date;

const TABLE: &str = include_str!("../../../checks/data/windows-server-releases.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub builds: Vec<u32>,
    pub release: String,
    #[serde(default)]
    pub support_end: Option<String>,
    #[serde(default)]
    pub ended: bool,
    /// The build numbers come from community lists, not a Microsoft document.
    #[serde(default)]
    pub community: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    release: Vec<Release>,
}

/// The rows, by their lowest build. A broken table is a build-time mistake caught by the tests.
pub fn table() -> Vec<Release> {
    let mut rows = toml::from_str::<Table>(TABLE)
        .map(|t| t.release)
        .unwrap_or_default();
    rows.sort_by_key(|r| r.builds.iter().min().copied());
    rows
}

/// What the table says about a build.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub release: String,
    pub support_end: Option<String>,
    pub note: String,
    pub community: bool,
}

/// The row listing this build. A build newer than every row is "not in the table" and judged
/// as supported at least as long as the newest release; any other unknown build gets no date.
pub fn lookup(build: u32, today: Date) -> Lookup {
    let rows = table();
    let newest = rows.last();
    let newest_build = newest.and_then(|r| r.builds.iter().max().copied());
    let row = rows.iter().find(|r| r.builds.contains(&build));
    let Some(row) = row.or(newest.filter(|_| Some(build) > newest_build)) else {
        return Lookup {
            release: format!("build {build}, not in the table"),
            support_end: None,
            note: format!(
                "build {build} is not in the Windows Server table (perhaps a Semi-Annual Channel \
                 release): look up its support on the Microsoft lifecycle pages"
            ),
            community: false,
        };
    };
    let ended = row.ended
        || row
            .support_end
            .as_deref()
            .and_then(|s| crate::dates::parse_day(s).ok())
            .is_some_and(|d| d < today);
    let mut note = match (&row.support_end, ended) {
        (Some(end), true) => format!("extended support ended {end}"),
        (None, _) => "extended support ended".to_string(),
        (Some(end), false) => format!("extended support until {end}"),
    };
    let mut release = row.release.clone();
    if !row.builds.contains(&build) {
        release = format!("build {build}, newer than {}", row.release);
        note = format!(
            "build {build} is not in the table (newest known: {}); judged as supported at least as long: {note}",
            row.release
        );
    }
    if let Some(n) = &row.note {
        note.push_str(&format!(" ({n})"));
    }
    if row.community {
        note.push_str(" (community-sourced build number)");
    }
    Lookup {
        release,
        support_end: row.support_end.clone(),
        note,
        community: row.community,
    }
}

/// The build in an operatingSystemVersion: "10.0 (17763)" -> 17763, "6.0.6002" -> 6002.
pub fn build_of(version: &str) -> Option<u32> {
    if let Some((_, rest)) = version.split_once('(') {
        return rest.split(')').next()?.trim().parse().ok();
    }
    let parts: Vec<&str> = version.trim().split('.').collect();
    match parts.as_slice() {
        [_, _, build, ..] => build.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 02);

    #[test]
    fn the_table_parses_and_is_dated() {
        let rows = table();
        assert!(
            rows.len() >= 10,
            "windows-server-releases.toml does not parse"
        );
        for r in &rows {
            assert!(!r.builds.is_empty(), "{r:?}");
            assert!(r.ended || r.support_end.is_some(), "{r:?}");
        }
    }

    #[test]
    fn builds_and_support() {
        assert_eq!(build_of("10.0 (17763)"), Some(17763));
        assert_eq!(build_of("6.3 (9600)"), Some(9600));
        assert_eq!(build_of("6.0.6002"), Some(6002));
        assert_eq!(build_of("4.17.12-Debian"), None);
        let r2 = lookup(9600, TODAY);
        assert_eq!(r2.release, "Windows Server 2012 R2");
        assert!(r2.note.starts_with("extended support ended 2023-10-10"));
        let ws19 = lookup(17763, TODAY);
        assert_eq!(ws19.support_end.as_deref(), Some("2029-01-09"));
        assert!(!ws19.community);
        assert_eq!(lookup(6003, TODAY).release, "Windows Server 2008");
        let sac = lookup(25398, TODAY);
        assert!(sac.support_end.is_none() && sac.note.contains("not in the Windows Server table"));
        let next = lookup(30000, TODAY);
        assert!(next.note.starts_with("build 30000 is not in the table"));
        assert_eq!(next.support_end.as_deref(), Some("2034-10-10"));
    }
}
