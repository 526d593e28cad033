//! Windows client (and, through windows.rs, server) releases of a computer object: the table in
//! checks/data/windows-releases.toml, judged against the scan date.

use serde::Deserialize;
use time::Date;

use super::windows;

const TABLE: &str = include_str!("../../../checks/data/windows-releases.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub build: u32,
    pub product: String,
    pub release: String,
    pub family: String,
    pub end: String,
    #[serde(default)]
    pub community: bool,
    #[serde(default)]
    pub note: Option<String>,
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    release: Vec<Row>,
}

/// The rows; a broken table is a build-time mistake caught by the tests.
pub fn table() -> Vec<Row> {
    toml::from_str::<Table>(TABLE)
        .map(|t| t.release)
        .unwrap_or_default()
}

/// The edition family an operatingSystem names ("Windows 10 Pro Education" is Home/Pro).
pub fn family_of(os: &str) -> &'static str {
    let os = os.to_ascii_lowercase();
    let ltsc = os.contains("ltsc") || os.contains("ltsb");
    if ltsc && os.contains("iot") {
        "iot_ltsc"
    } else if ltsc {
        "ltsc"
    } else if os.contains("pro") || os.contains("home") || os.contains(" se") {
        "home_pro"
    } else if os.contains("enterprise") || os.contains("education") {
        "enterprise"
    } else {
        "unknown"
    }
}

fn family_name(f: &str) -> &'static str {
    match f {
        "enterprise" => "Enterprise/Education",
        "home_pro" => "Home/Pro",
        "ltsc" => "LTSC",
        "iot_ltsc" => "IoT Enterprise LTSC",
        "all" => "all editions",
        _ => "edition unknown",
    }
}

/// What the tables say about one computer's operating system.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The group it is counted in, e.g. "Windows 11 23H2 (Enterprise/Education)".
    pub release: String,
    /// "client", "server" or "other" (not Windows, or no build).
    pub kind: &'static str,
    pub end: Option<String>,
    /// The end date is before the scan date.
    pub ended: bool,
    pub community: bool,
    pub note: String,
}

fn past(end: Option<&str>, today: Date) -> bool {
    end.and_then(|s| crate::dates::parse_day(s).ok())
        .is_some_and(|d| d < today)
}

/// Judge an operatingSystem / operatingSystemVersion pair on `today`.
pub fn judge(os: &str, version: &str, today: Date) -> Judged {
    let build = windows::build_of(version);
    let lower = os.to_ascii_lowercase();
    let other = |release: String, note: &str| Judged {
        release,
        kind: "other",
        end: None,
        ended: false,
        community: false,
        note: note.to_string(),
    };
    if !lower.contains("windows") {
        let name = if os.trim().is_empty() {
            "no operatingSystem".to_string()
        } else {
            os.trim().to_string()
        };
        return other(name, "not Windows: no support date in the tables");
    }
    let Some(build) = build else {
        return other(
            format!("{} (no build)", os.trim()),
            "no build in operatingSystemVersion",
        );
    };
    if lower.contains("server") {
        let l = windows::lookup(build, today);
        let ended = l.support_end.is_none() && l.note.starts_with("extended support ended")
            || past(l.support_end.as_deref(), today);
        return Judged {
            release: l.release,
            kind: "server",
            end: l.support_end,
            ended,
            community: l.community,
            note: l.note,
        };
    }
    client(os, build, today)
}

fn client(os: &str, build: u32, today: Date) -> Judged {
    let family = family_of(os);
    let rows: Vec<Row> = table().into_iter().filter(|r| r.build == build).collect();
    let exact = rows
        .iter()
        .find(|r| r.family == family)
        .or_else(|| rows.iter().find(|r| r.family == "all"));
    // An edition the name does not give is judged by the earliest end date of its build.
    let earliest = rows
        .iter()
        .filter(|r| !r.family.contains("ltsc"))
        .min_by(|a, b| a.end.cmp(&b.end));
    let Some(row) = exact.or(earliest) else {
        return Judged {
            release: format!("{} build {build}, not in the table", os.trim()),
            kind: "client",
            end: None,
            ended: false,
            community: false,
            note: format!(
                "build {build} is not in checks/data/windows-releases.toml: look up its servicing on the Windows release health pages"
            ),
        };
    };
    let ended = past(Some(&row.end), today);
    let shown = if exact.is_some() {
        row.family.as_str()
    } else {
        "unknown"
    };
    let mut note = if ended {
        format!("servicing ended {}", row.end)
    } else {
        format!("serviced until {}", row.end)
    };
    if exact.is_none() {
        note.push_str(" (edition not named: judged by the earliest end date of the build)");
    }
    if let Some(n) = &row.note {
        note.push_str(&format!(" ({n})"));
    }
    if row.community {
        note.push_str(" (community-sourced)");
    }
    Judged {
        release: format!("{} {} ({})", row.product, row.release, family_name(shown)),
        kind: "client",
        end: Some(row.end.clone()),
        ended,
        community: row.community,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 02);

    #[test]
    fn the_table_parses_with_dates_and_sources() {
        let rows = table();
        assert!(rows.len() >= 30, "windows-releases.toml does not parse");
        for r in &rows {
            assert!(crate::dates::parse_day(&r.end).is_ok(), "{r:?}");
            assert!(
                r.source.starts_with("https://learn.microsoft.com/"),
                "{r:?}"
            );
            assert!(
                ["enterprise", "home_pro", "ltsc", "iot_ltsc", "all"].contains(&r.family.as_str()),
                "{r:?}"
            );
        }
    }

    #[test]
    fn edition_families() {
        assert_eq!(family_of("Windows 11 Enterprise"), "enterprise");
        assert_eq!(family_of("Windows 10 Education"), "enterprise");
        assert_eq!(
            family_of("Windows 10 Enterprise multi-session"),
            "enterprise"
        );
        assert_eq!(family_of("Windows 10 Pro Education"), "home_pro");
        assert_eq!(family_of("Windows 11 Pro for Workstations"), "home_pro");
        assert_eq!(family_of("Windows 10 Home"), "home_pro");
        assert_eq!(family_of("Windows 10 Enterprise LTSC"), "ltsc");
        assert_eq!(family_of("Windows 10 IoT Enterprise LTSC"), "iot_ltsc");
        assert_eq!(family_of("Windows 11"), "unknown");
    }

    #[test]
    fn build_boundaries() {
        let e = |v: &str| judge("Windows 11 Enterprise", v, TODAY);
        assert_eq!(
            e("10.0 (22631)").release,
            "Windows 11 23H2 (Enterprise/Education)"
        );
        assert_eq!(
            e("10.0 (26100)").release,
            "Windows 11 24H2 (Enterprise/Education)"
        );
        // One build either side of a row is not that row.
        assert!(e("10.0 (22630)").release.contains("not in the table"));
        assert!(e("10.0 (22632)").release.contains("not in the table"));
        assert_eq!(e("10.0 (22630)").end, None);
        let w10 = judge("Windows 10 Pro", "10.0 (19045)", TODAY);
        assert_eq!(w10.release, "Windows 10 22H2 (all editions)");
        assert!(w10.ended);
        let ltsc = judge("Windows 10 Enterprise LTSC", "10.0 (17763)", TODAY);
        assert_eq!(ltsc.release, "Windows 10 LTSC 2019 (LTSC)");
        assert!(!ltsc.ended);
        let w7 = judge("Windows 7 Professional", "6.1 (7601)", TODAY);
        assert_eq!(w7.release, "Windows 7 SP1 (all editions)");
        assert!(w7.ended && w7.kind == "client");
    }

    #[test]
    fn families_differ_and_unknown_edition_is_judged_early() {
        let ee = judge("Windows 11 Enterprise", "10.0 (26100)", TODAY);
        let hp = judge("Windows 11 Pro", "10.0 (26100)", TODAY);
        assert_eq!(ee.end.as_deref(), Some("2027-10-12"));
        assert_eq!(hp.end.as_deref(), Some("2026-10-13"));
        assert!(!ee.ended && hp.ended);
        let bare = judge("Windows 11", "10.0 (26100)", TODAY);
        assert_eq!(bare.end.as_deref(), Some("2026-10-13"));
        assert!(bare.note.contains("edition not named"));
    }

    #[test]
    fn the_day_before_on_and_after_an_end_date() {
        let on = |d: Date| judge("Windows 11 Enterprise", "10.0 (22631)", d).ended;
        assert!(!on(date!(2026 - 11 - 09)));
        assert!(!on(date!(2026 - 11 - 10)), "the end date is still serviced");
        assert!(on(date!(2026 - 11 - 11)));
        let w10 = |d: Date| judge("Windows 10 Enterprise", "10.0 (19045)", d).ended;
        assert!(!w10(date!(2025 - 10 - 14)));
        assert!(w10(date!(2025 - 10 - 15)));
    }

    #[test]
    fn servers_and_others() {
        let s = judge("Windows Server 2012 R2 Standard", "6.3 (9600)", TODAY);
        assert_eq!(
            (s.kind, s.release.as_str()),
            ("server", "Windows Server 2012 R2")
        );
        assert!(s.ended);
        let s22 = judge("Windows Server 2022 Datacenter", "10.0 (20348)", TODAY);
        assert!(!s22.ended && s22.end.as_deref() == Some("2031-10-14"));
        let w2k3 = judge("Windows Server 2003", "5.2 (3790)", TODAY);
        assert!(w2k3.ended, "a row with only `ended` is ended");
        let mac = judge("Mac OS X", "", TODAY);
        assert_eq!(mac.kind, "other");
        assert_eq!(judge("", "", TODAY).release, "no operatingSystem");
    }
}
