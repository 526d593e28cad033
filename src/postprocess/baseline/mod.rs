//! Re-runs compared with an earlier report.json: every finding gets a change state, matched by
//! check id + subject. Used by `--baseline` (scan, evaluate, merge) and by `readyscan diff`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::evaluate::{Finding, Status, Verdict};
use crate::observation::read::{parse_json, read_bytes, text, Expect, InputError};

mod compare;
mod diff;

pub use compare::compare;
pub use diff::{Diff, DiffItem};

/// Reading a baseline fails the way reading any saved report does.
pub type BaselineError = InputError;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeState {
    /// Was an open item (fail, error, warn) in the baseline and passes now.
    Resolved,
    /// Passed in the baseline and is an open item now (fail, warn, or could not be assessed).
    Regressed,
    /// Was an open item and still is (the status may have moved, e.g. error to fail).
    StillOpen,
    /// No finding with this check id and subject in the baseline.
    New,
    /// Anything else: the same status, or a move to or from info / not applicable.
    Unchanged,
}

impl ChangeState {
    /// Report order: what a reader wants first.
    pub const ALL: [ChangeState; 5] = [
        ChangeState::Resolved,
        ChangeState::Regressed,
        ChangeState::StillOpen,
        ChangeState::New,
        ChangeState::Unchanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Resolved => "resolved",
            ChangeState::Regressed => "regressed",
            ChangeState::StillOpen => "still_open",
            ChangeState::New => "new",
            ChangeState::Unchanged => "unchanged",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChangeState::Resolved => "Resolved",
            ChangeState::Regressed => "Regressed",
            ChangeState::StillOpen => "Still open",
            ChangeState::New => "New",
            ChangeState::Unchanged => "Unchanged",
        }
    }

    fn of(was: Option<Status>, now: Status) -> ChangeState {
        match was {
            None => ChangeState::New,
            Some(w) if w.is_open() && now == Status::Pass => ChangeState::Resolved,
            Some(w) if w.is_open() && now.is_open() => ChangeState::StillOpen,
            Some(Status::Pass) if now.is_open() => ChangeState::Regressed,
            Some(_) => ChangeState::Unchanged,
        }
    }
}

impl fmt::Display for ChangeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one finding moved since the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    pub state: ChangeState,
    /// The status in the baseline; absent when the finding is new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<Status>,
    /// Set when the pairing was by check alone: one side could not collect the check at all
    /// (subject "-") and stood for every subject of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was_subject: Option<String>,
}

/// The subject of a finding whose check could not be collected at all.
pub const WHOLE_CHECK: &str = "-";

/// The part of a report.json a comparison reads. Lenient on purpose: fields added by later
/// versions are ignored, so any report of a supported schema_version can serve as a baseline.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    pub schema_version: u64,
    #[serde(default)]
    pub generated_at: String,
    pub scan: SnapshotScan,
    #[serde(default)]
    pub verdict: Option<Verdict>,
    pub findings: Vec<SnapshotFinding>,
    /// SHA-256 of the file as read: the same hash the report's HTML and Markdown quote.
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub file: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotScan {
    #[serde(default)]
    pub collected_at: String,
    #[serde(default)]
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotFinding {
    pub check_id: String,
    pub subject: String,
    pub status: Status,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub area: String,
}

impl SnapshotFinding {
    fn of(f: &Finding) -> SnapshotFinding {
        SnapshotFinding {
            check_id: f.check_id.clone(),
            subject: f.subject.clone(),
            status: f.status,
            title: f.title.to_string(),
            area: f.area.clone(),
        }
    }
}

/// Reads a report.json to compare against.
pub fn read(path: &Path) -> Result<Snapshot, BaselineError> {
    let bytes = read_bytes(path)?;
    let id = sha256_hex(&bytes);
    let file = path.display().to_string();
    // As strict as `evaluate`: bad UTF-8 is an error, not replaced.
    let mut snap = parse(&text(bytes, &file)?, &file)?;
    snap.id = id;
    Ok(snap)
}

pub fn parse(text: &str, file: &str) -> Result<Snapshot, BaselineError> {
    let mut snap: Snapshot = parse_json(text, file, Expect::Report)?;
    snap.id = sha256_hex(text.as_bytes());
    snap.file = file.to_string();
    Ok(snap)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Which run a comparison is against, as report.json records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRef {
    /// SHA-256 of that report.json.
    pub id: String,
    /// The file as named on the command line.
    pub file: String,
    pub generated_at: String,
    /// When that run's data was collected: the date "progress since" refers to.
    pub collected_at: String,
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

impl RunRef {
    fn of(s: &Snapshot) -> RunRef {
        RunRef {
            id: s.id.clone(),
            file: s.file.clone(),
            generated_at: s.generated_at.clone(),
            collected_at: s.scan.collected_at.clone(),
            host: s.scan.host.clone(),
            verdict: s.verdict,
        }
    }
}

/// A baseline finding with no counterpart in this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Dropped {
    #[serde(flatten)]
    pub finding: SnapshotFinding,
    /// Why it has no counterpart: the check left the catalog, or the subject was not seen.
    pub reason: String,
}

/// The comparison summary report.json carries when `--baseline` was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaselineInfo {
    #[serde(flatten)]
    pub run: RunRef,
    /// Findings of this run per change state.
    pub counts: BTreeMap<ChangeState, usize>,
    /// Baseline findings this run has no finding for (renamed subject, removed check).
    pub dropped: Vec<Dropped>,
}

pub(crate) fn counts<'a>(
    states: impl Iterator<Item = &'a ChangeState>,
) -> BTreeMap<ChangeState, usize> {
    let mut counts: BTreeMap<ChangeState, usize> =
        ChangeState::ALL.iter().map(|s| (*s, 0)).collect();
    for s in states {
        *counts.entry(*s).or_default() += 1;
    }
    counts
}

pub(crate) fn dropped(left: Vec<SnapshotFinding>, known: impl Fn(&str) -> bool) -> Vec<Dropped> {
    left.into_iter()
        .map(|finding| {
            let reason = if known(&finding.check_id) {
                "not reported in this run (subject renamed, removed or not scanned)".to_string()
            } else {
                "the check is not in this catalog (removed or renamed check id)".to_string()
            };
            Dropped { finding, reason }
        })
        .collect()
}

/// The change of every finding (one per finding, in order) and the summary for report.json.
pub fn apply(
    findings: &[Finding],
    baseline: &Snapshot,
    catalog: &Catalog,
) -> (Vec<Change>, BaselineInfo) {
    let current: Vec<SnapshotFinding> = findings.iter().map(SnapshotFinding::of).collect();
    let (changes, left) = compare(&baseline.findings, &current);
    let info = BaselineInfo {
        run: RunRef::of(baseline),
        counts: counts(changes.iter().map(|c| &c.state)),
        dropped: dropped(left, |id| catalog.get(id).is_some()),
    };
    (changes, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_versions() {
        let ok = r#"{"schema_version":1,"generated_at":"t","scan":{"collected_at":"c","host":"h"},"findings":[],"extra_from_later_versions":true}"#;
        assert!(parse(ok, "b.json").is_ok());
        let newer = ok.replace("\"schema_version\":1", "\"schema_version\":7");
        assert!(matches!(
            parse(&newer, "b.json"),
            Err(BaselineError::Newer { found: 7, .. })
        ));
        let older = ok.replace("\"schema_version\":1", "\"schema_version\":0");
        let e = parse(&older, "b.json").unwrap_err().to_string();
        assert!(e.contains("schema_version 0 is older"), "{e}");
        let set = r#"{"scan":{"collected_at":"c","host":"h"},"observations":[]}"#;
        let e = parse(set, "obs.json").unwrap_err().to_string();
        assert!(e.contains("not a readyscan report.json"), "{e}");
    }
}
