//! report.json: findings, verdict, counts, and the raw observations so it can be judged again.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::catalog::Catalog;
use crate::evaluate::{evaluate, Finding, Summary, Verdict};
use crate::observation::{Observation, ObservationSet, ScanInfo};

/// Bumped when report.json changes in a way older readers cannot follow.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    pub tool_version: String,
    /// Short hash of the check files the findings were judged by.
    pub catalog_version: String,
    /// When this report was made (RFC 3339, UTC); `scan.collected_at` is when the data was.
    pub generated_at: String,
    /// The date requirements such as support end dates were judged against.
    pub judged_on: String,
    pub scan: ScanInfo,
    pub verdict: Verdict,
    /// True only when no blocker in scope failed or went unassessed.
    pub ready: bool,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub observations: Vec<Observation>,
    /// The earlier run this one was compared with (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::BaselineInfo>,
    /// The accepted risks applied (`--exceptions`): which expired, which matched nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<crate::exceptions::ExceptionsSummary>,
    /// In a merged report: checks whose result differs between vantage points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<crate::merge::Conflict>,
}

impl Report {
    /// Judges a set of observations with the catalog on the given day.
    pub fn build(
        set: ObservationSet,
        catalog: &Catalog,
        today: Date,
        now: OffsetDateTime,
    ) -> Report {
        let findings = evaluate(catalog, &set.observations, &set.scan.config.scopes, today);
        let verdict = Verdict::of(&findings);
        let conflicts = crate::merge::conflicts(&findings, &set.scan);
        Report {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            catalog_version: catalog.version.clone(),
            generated_at: rfc3339(now),
            judged_on: today.to_string(),
            scan: set.scan,
            verdict,
            ready: verdict == Verdict::Ready,
            summary: Summary::of(&findings),
            conflicts,
            findings,
            observations: set.observations,
            baseline: None,
            exceptions: None,
        }
    }

    /// Marks accepted risks; excepted blockers stop counting against the verdict.
    pub fn apply_exceptions(
        &mut self,
        exceptions: &crate::exceptions::Exceptions,
        now: OffsetDateTime,
    ) {
        self.exceptions = Some(exceptions.apply(&mut self.findings, now));
        self.verdict = Verdict::of(&self.findings);
        self.ready = self.verdict == Verdict::Ready;
    }

    /// Gives every finding its change state against an earlier report.
    pub fn compare_with(&mut self, baseline: &crate::baseline::Snapshot, catalog: &Catalog) {
        self.baseline = Some(crate::baseline::apply(
            &mut self.findings,
            baseline,
            catalog,
        ));
    }
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The JSON Schema of report.json, as `readyscan schema` prints it.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: schema_version {found} is newer than this readyscan understands ({SCHEMA_VERSION}); upgrade readyscan")]
    Newer { file: String, found: u64 },
}

/// Reads a saved observation set or a report.json (whose observations are judged again).
pub fn read_observations(path: &Path) -> Result<ObservationSet, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        file: file.clone(),
        source,
    })?;
    parse_observations(&text, &file)
}

pub fn parse_observations(text: &str, file: &str) -> Result<ObservationSet, InputError> {
    let parse_error = |e: serde_json::Error| InputError::Parse {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(parse_error)?;
    if let Some(found) = value.get("schema_version").and_then(|v| v.as_u64()) {
        if found > SCHEMA_VERSION as u64 {
            return Err(InputError::Newer {
                file: file.to_string(),
                found,
            });
        }
    }
    // Parse from the text again (not the Value) so errors carry a line and column.
    serde_json::from_str(text).map_err(parse_error)
}
