//! The OS distribution of the computer inventory (ldap.os_release observations): table rows
//! and the geometry of an inline SVG bar chart, so the page needs no script.

use serde::Serialize;
use serde_json::Value;

use crate::observation::ObservationStatus;
use crate::report::Report;

/// Width in SVG units of the longest bar; rows are ROW units apart.
const BAR_MAX: u64 = 300;
const ROW: u64 = 22;

#[derive(Debug, Serialize)]
pub struct OsRow {
    pub subject: String,
    pub release: String,
    pub kind: String,
    pub count: u64,
    pub stale: u64,
    pub support_end: Option<String>,
    /// The end date is before the day the report was judged on.
    pub ended: bool,
    pub width: u64,
    pub y: u64,
    pub text_y: u64,
}

#[derive(Debug, Serialize)]
pub struct OsDistribution {
    pub rows: Vec<OsRow>,
    pub total: u64,
    pub height: u64,
}

/// None when the report holds no computer inventory.
pub fn os_distribution(report: &Report) -> Option<OsDistribution> {
    let judged_on = report.judged_on.get(..10).unwrap_or(&report.judged_on);
    let mut rows: Vec<OsRow> = report
        .observations
        .iter()
        .filter(|o| o.probe == "ldap.os_release" && o.status == ObservationStatus::Observed)
        .map(|o| {
            let text = |k: &str| o.fields.get(k).and_then(Value::as_str).map(str::to_string);
            let num = |k: &str| o.fields.get(k).and_then(Value::as_u64).unwrap_or(0);
            let support_end = text("support_end");
            OsRow {
                subject: o.subject.clone(),
                release: text("release").unwrap_or_else(|| o.subject.clone()),
                kind: text("kind").unwrap_or_default(),
                count: num("count"),
                stale: num("stale"),
                ended: support_end.as_deref().is_some_and(|e| e < judged_on),
                support_end,
                width: 0,
                y: 0,
                text_y: 0,
            }
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.release.cmp(&b.release)));
    let max = rows.iter().map(|r| r.count).max().unwrap_or(0).max(1);
    for (i, r) in rows.iter_mut().enumerate() {
        r.width = (r.count * BAR_MAX)
            .div_ceil(max)
            .max(u64::from(r.count > 0));
        r.y = i as u64 * ROW;
        r.text_y = r.y + 15;
    }
    Some(OsDistribution {
        total: rows.iter().map(|r| r.count).sum(),
        height: rows.len() as u64 * ROW,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_forest_has_a_distribution() {
        let text = include_str!("../../fixtures/demo/before.json");
        let set: crate::observation::ObservationSet = serde_json::from_str(text).unwrap();
        let catalog = crate::catalog::Catalog::builtin().unwrap();
        let day = time::macros::date!(2026 - 11 - 02);
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let report = Report::build(set, &catalog, day, now);
        let d = os_distribution(&report).expect("the demo has ldap.os_release observations");
        assert_eq!(d.rows.len(), 6);
        assert_eq!(d.rows[0].release, "Windows 11 24H2 (Enterprise/Education)");
        assert_eq!(
            d.rows[0].width, BAR_MAX,
            "the largest group fills the chart"
        );
        assert!(d.rows.iter().all(|r| r.width >= 1 && r.width <= BAR_MAX));
        let w25 = d.rows.iter().find(|r| r.release.contains("25H2")).unwrap();
        assert!(!w25.ended, "25H2 Enterprise is serviced on 2026-11-02");
        let w10 = d.rows.iter().find(|r| r.release.contains("22H2")).unwrap();
        assert!(w10.ended);
        assert_eq!(d.total, 1203 + 655 + 412 + 38 + 14 + 9);
    }
}
