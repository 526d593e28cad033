//! The built-in demo environment, shipped in fixtures/demo/ and embedded, so `scan --demo` sends
//! no traffic at all. `before.json` is a forest that has not been remediated yet; `after.json`
//! the same forest after a round of fixes (most resolved, one still open, one regression, a new
//! domain controller), so the demo shows the whole re-run workflow at once.
//! `fixtures/demo/after.py` derives after.json from before.json.

use time::Date;

use crate::catalog::Catalog;
use crate::dates::parse_rfc3339;
use crate::observation::{parse_observations, InputError, ObservationSet};
use crate::postprocess::baseline::{self, Snapshot};
use crate::report::Report;

pub const BEFORE: &str = include_str!("../fixtures/demo/before.json");
pub const AFTER: &str = include_str!("../fixtures/demo/after.json");

/// Names the built-in baseline in reports.
pub const BEFORE_NAME: &str = "fixtures/demo/before.json (built in)";

pub fn before() -> Result<ObservationSet, InputError> {
    parse_observations(BEFORE, "fixtures/demo/before.json")
}

pub fn after() -> Result<ObservationSet, InputError> {
    parse_observations(AFTER, "fixtures/demo/after.json")
}

/// The report the "before" scan produced when it ran, as the demo's baseline. Judged on its own
/// collection day, as the earlier run would have been; `fallback` if that date is unreadable.
pub fn baseline(catalog: &Catalog, fallback: Date) -> anyhow::Result<Snapshot> {
    let set = before()?;
    let at =
        parse_rfc3339(&set.scan.collected_at).unwrap_or_else(|| fallback.midnight().assume_utc());
    let report = Report::build(set, catalog, at.date(), at);
    let text = serde_json::to_string_pretty(&report)?;
    Ok(baseline::parse(&text, BEFORE_NAME)?)
}
