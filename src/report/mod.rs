//! The report: findings with what post-processing said of them, the verdict after accepted
//! risks, counts, and the raw observations so report.json can be judged again.
//!
//! [`Report::judge`] is the one pipeline after collection, for the binary, tests and library
//! users alike: evaluate -> exceptions -> baseline -> conflicts -> verdict.

pub mod checklist;
pub mod scanned;

use std::ops::Deref;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::catalog::Catalog;
use crate::dates::rfc3339;
use crate::evaluate::{evaluate, Finding, Summary, Verdict};
use crate::observation::{Observation, ObservationSet, ScanInfo, SCHEMA_VERSION};
use crate::postprocess::baseline::{self, BaselineInfo, Change, Snapshot};
use crate::postprocess::conflicts::{self, Conflict};
use crate::postprocess::exceptions::{Applied, Exceptions, ExceptionsSummary};

pub use checklist::{checklist, Item};

/// The finding code of checks skipped on purpose (cloud endpoints without `--cloud-endpoints`).
pub const NOT_TESTED: &str = "not_tested";

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
    pub findings: Vec<ReportFinding>,
    pub observations: Vec<Observation>,
    /// The earlier run this one was compared with (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineInfo>,
    /// The accepted risks applied (`--exceptions`): which expired, which matched nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<ExceptionsSummary>,
    /// In a merged report: checks whose result differs between vantage points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

/// A finding as evaluation produced it, with what the later steps said of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// How this finding moved since the baseline (`--baseline`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// The accepted-risk entry (`--exceptions`) that matched; the status stays the real one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Applied>,
}

impl Deref for ReportFinding {
    type Target = Finding;

    fn deref(&self) -> &Finding {
        &self.finding
    }
}

impl ReportFinding {
    /// Covered by an exception that is in force (an expired one no longer counts).
    pub fn is_excepted(&self) -> bool {
        self.exception.as_ref().is_some_and(Applied::in_force)
    }
}

/// What a run is judged with besides the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Judging<'a> {
    /// The day dated requirements (support end dates) are judged on.
    pub today: Date,
    /// When the report is made; decides which exceptions are still in force.
    pub now: OffsetDateTime,
    pub exceptions: Option<&'a Exceptions>,
    pub baseline: Option<&'a Snapshot>,
}

impl Judging<'_> {
    /// No exceptions, no baseline.
    pub fn on(today: Date, now: OffsetDateTime) -> Judging<'static> {
        Judging {
            today,
            now,
            exceptions: None,
            baseline: None,
        }
    }
}

/// Findings with their annotations, moved from the back so the findings' buffer gives its
/// memory back as the new one fills: at 100,000 findings both are never whole at once.
fn annotate(
    mut findings: Vec<Finding>,
    mut changes: Vec<Option<Change>>,
    mut marks: Vec<Option<Applied>>,
) -> Vec<ReportFinding> {
    let mut out = Vec::with_capacity(findings.len());
    while let Some(finding) = findings.pop() {
        out.push(ReportFinding {
            finding,
            change: changes.pop().flatten(),
            exception: marks.pop().flatten(),
        });
        if findings.len() % 4096 == 0 {
            findings.shrink_to_fit();
        }
    }
    out.reverse();
    out
}

impl Report {
    /// Judges a set of observations with the catalog on the given day, without re-run inputs.
    pub fn build(
        set: ObservationSet,
        catalog: &Catalog,
        today: Date,
        now: OffsetDateTime,
    ) -> Report {
        Report::judge(set, catalog, &Judging::on(today, now))
    }

    /// The whole pipeline after collection: evaluate, then accepted risks, the baseline
    /// comparison and vantage conflicts, then the verdict of what still counts.
    pub fn judge(set: ObservationSet, catalog: &Catalog, how: &Judging<'_>) -> Report {
        let findings = evaluate(
            catalog,
            &set.observations,
            &set.scan.config.scopes,
            how.today,
        );
        let (marks, exceptions) = match how.exceptions {
            Some(x) => {
                let (marks, summary) = x.apply(&findings, how.now);
                (marks, Some(summary))
            }
            None => (vec![None; findings.len()], None),
        };
        let (changes, baseline) = match how.baseline {
            Some(b) => {
                let (changes, info) = baseline::apply(&findings, b, catalog);
                (changes.into_iter().map(Some).collect(), Some(info))
            }
            None => (vec![None; findings.len()], None),
        };
        let conflicts = conflicts::conflicts(&findings, &set.scan);
        let findings = annotate(findings, changes, marks);
        // An accepted risk does not block readiness; it stays visible in the report.
        let mut verdict = Verdict::of(
            findings
                .iter()
                .filter(|f| !f.is_excepted())
                .map(|f| &f.finding),
        );
        // Rejected credentials leave the directory unread whatever the checks' severities: such a
        // scan proves nothing, so it is never "ready".
        if verdict == Verdict::Ready && !bind_rejections(&set.observations).is_empty() {
            verdict = Verdict::Incomplete;
        }
        Report {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            catalog_version: catalog.version.clone(),
            generated_at: rfc3339(how.now),
            judged_on: how.today.to_string(),
            scan: set.scan,
            verdict,
            ready: verdict == Verdict::Ready,
            summary: Summary::of(findings.iter().map(|f| &f.finding)),
            conflicts,
            findings,
            observations: set.observations,
            baseline,
            exceptions,
        }
    }

    /// Cloud checks were skipped on purpose (no `--cloud-endpoints`): their findings are not
    /// applicable with code `not_tested`.
    pub fn cloud_not_tested(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.code.as_deref() == Some(NOT_TESTED))
    }

    /// The verdict as a reader sees it: "Ready (cloud connectivity not tested)" when the cloud
    /// checks were skipped on purpose.
    pub fn verdict_text(&self) -> String {
        match self.verdict {
            Verdict::Ready if self.cloud_not_tested() => {
                format!("{} (cloud connectivity not tested)", self.verdict.label())
            }
            v => v.label().to_string(),
        }
    }

    /// Regressions against the baseline (0 without one).
    pub fn regressions(&self) -> usize {
        self.baseline
            .as_ref()
            .and_then(|b| b.counts.get(&baseline::ChangeState::Regressed))
            .copied()
            .unwrap_or(0)
    }
}

/// The JSON Schema of report.json, as `readyscan schema` prints it.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

/// The distinct "bind as X rejected" reasons of a scan (probe error kind `bind_rejected`).
pub fn bind_rejections(observations: &[crate::observation::Observation]) -> Vec<&str> {
    let mut out: Vec<&str> = observations
        .iter()
        .filter(|o| o.kind.as_deref() == Some("bind_rejected"))
        .filter_map(|o| o.reason.as_deref())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The `--dc` names that did not resolve, with why (`unresolved_dcs` of `ldap.root_dse`).
pub fn unresolved_dcs(observations: &[crate::observation::Observation]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = observations
        .iter()
        .filter(|o| o.probe == "ldap.root_dse")
        .filter_map(|o| {
            let names = o.fields.get("unresolved_dcs")?.as_array()?;
            let detail = o
                .fields
                .get("unresolved_detail")
                .and_then(serde_json::Value::as_str);
            let names: Vec<&str> = names.iter().filter_map(serde_json::Value::as_str).collect();
            (!names.is_empty()).then(|| (names.join(", "), detail.unwrap_or("").to_string()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
