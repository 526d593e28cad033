//! Re-runs compared with an earlier report.json: every finding gets a change state, matched by
//! check id + subject. Used by `--baseline` (scan, evaluate, merge) and by `readyscan diff`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::evaluate::{Finding, Status, Verdict};
use crate::report::SCHEMA_VERSION;

/// The oldest report.json schema a baseline may have. Version 1 is the first one shipped.
pub const MIN_SCHEMA_VERSION: u64 = 1;

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
            title: f.title.clone(),
            area: f.area.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
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
    #[error("{file}: not a readyscan report.json (it has no {missing}); compare with the report.json an earlier `readyscan scan` or `evaluate` wrote")]
    NotAReport { file: String, missing: &'static str },
    #[error("{file}: schema_version {found} is newer than this readyscan understands ({SCHEMA_VERSION}); upgrade readyscan")]
    Newer { file: String, found: u64 },
    #[error("{file}: schema_version {found} is older than this readyscan can compare (it reads {MIN_SCHEMA_VERSION} to {SCHEMA_VERSION}); re-run the scan with this version to get a new baseline")]
    Older { file: String, found: u64 },
}

/// Reads a report.json to compare against.
pub fn read(path: &Path) -> Result<Snapshot, BaselineError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| BaselineError::Read {
        file: file.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut snap = parse(&text, &file)?;
    snap.id = sha256_hex(&bytes);
    Ok(snap)
}

pub fn parse(text: &str, file: &str) -> Result<Snapshot, BaselineError> {
    let parse_error = |e: serde_json::Error| BaselineError::Parse {
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
    let not_a_report = |missing| BaselineError::NotAReport {
        file: file.to_string(),
        missing,
    };
    let found = value
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| not_a_report("schema_version"))?;
    if found > SCHEMA_VERSION as u64 {
        return Err(BaselineError::Newer {
            file: file.to_string(),
            found,
        });
    }
    if found < MIN_SCHEMA_VERSION {
        return Err(BaselineError::Older {
            file: file.to_string(),
            found,
        });
    }
    if value.get("findings").is_none() {
        return Err(not_a_report("findings"));
    }
    // Parse from the text again (not the Value) so errors carry a line and column.
    let mut snap: Snapshot = serde_json::from_str(text).map_err(parse_error)?;
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

/// Pairs current findings with baseline findings by check id + subject. Duplicated keys pair up
/// in order. Returns one change per current finding and the baseline findings left over.
pub fn compare(
    base: &[SnapshotFinding],
    current: &[SnapshotFinding],
) -> (Vec<Change>, Vec<SnapshotFinding>) {
    let mut by_key: HashMap<(&str, &str), VecDeque<usize>> = HashMap::new();
    for (i, f) in base.iter().enumerate() {
        by_key
            .entry((f.check_id.as_str(), f.subject.as_str()))
            .or_default()
            .push_back(i);
    }
    let mut used = vec![false; base.len()];
    let mut was: Vec<Option<Status>> = current
        .iter()
        .map(|f| {
            by_key
                .get_mut(&(f.check_id.as_str(), f.subject.as_str()))
                .and_then(VecDeque::pop_front)
                .map(|i| {
                    used[i] = true;
                    base[i].status
                })
        })
        .collect();
    let mut was_subject: Vec<Option<String>> = vec![None; current.len()];
    // A check one run could not collect at all (subject "-") pairs with every unpaired
    // finding of that check in the other run, so "not assessed" then "pass" reads as resolved.
    for (c, f) in current.iter().enumerate() {
        if was[c].is_some() {
            continue;
        }
        let unpaired_base = |i: &usize| !used[*i] && base[*i].check_id == f.check_id;
        if f.subject == WHOLE_CHECK {
            let others: Vec<usize> = (0..base.len())
                .filter(|i| unpaired_base(i) && base[*i].subject != WHOLE_CHECK)
                .collect();
            if others.is_empty() {
                continue;
            }
            // Any subject that passed before and cannot be assessed now is a regression.
            let statuses: Vec<Status> = others.iter().map(|i| base[*i].status).collect();
            was[c] = statuses
                .iter()
                .find(|s| **s == Status::Pass)
                .or_else(|| statuses.iter().find(|s| s.is_open()))
                .or(statuses.first())
                .copied();
            was_subject[c] = Some(format!("{} subjects", others.len()));
            for i in others {
                used[i] = true;
            }
        } else if let Some(i) =
            (0..base.len()).find(|i| unpaired_base(i) && base[*i].subject == WHOLE_CHECK)
        {
            was[c] = Some(base[i].status);
            was_subject[c] = Some(WHOLE_CHECK.to_string());
        }
    }
    // Placeholders paired above are accounted for, not dropped.
    for (i, b) in base.iter().enumerate() {
        if b.subject == WHOLE_CHECK
            && current
                .iter()
                .zip(&was_subject)
                .any(|(f, ws)| f.check_id == b.check_id && ws.as_deref() == Some(WHOLE_CHECK))
        {
            used[i] = true;
        }
    }
    let changes = was
        .into_iter()
        .zip(was_subject)
        .zip(current)
        .map(|((was, was_subject), f)| Change {
            state: ChangeState::of(was, f.status),
            was,
            was_subject,
        })
        .collect();
    let left = base
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(f, _)| f.clone())
        .collect();
    (changes, left)
}

fn counts<'a>(states: impl Iterator<Item = &'a ChangeState>) -> BTreeMap<ChangeState, usize> {
    let mut counts: BTreeMap<ChangeState, usize> =
        ChangeState::ALL.iter().map(|s| (*s, 0)).collect();
    for s in states {
        *counts.entry(*s).or_default() += 1;
    }
    counts
}

fn dropped(left: Vec<SnapshotFinding>, known: impl Fn(&str) -> bool) -> Vec<Dropped> {
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

/// Sets `change` on every finding and returns the summary for report.json.
pub fn apply(findings: &mut [Finding], baseline: &Snapshot, catalog: &Catalog) -> BaselineInfo {
    let current: Vec<SnapshotFinding> = findings.iter().map(SnapshotFinding::of).collect();
    let (changes, left) = compare(&baseline.findings, &current);
    for (f, c) in findings.iter_mut().zip(changes) {
        f.change = Some(c);
    }
    BaselineInfo {
        run: RunRef::of(baseline),
        counts: counts(
            findings
                .iter()
                .filter_map(|f| f.change.as_ref().map(|c| &c.state)),
        ),
        dropped: dropped(left, |id| catalog.get(id).is_some()),
    }
}

/// `readyscan diff`: two saved reports compared as they are, without judging again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diff {
    pub old: RunRef,
    pub new: RunRef,
    pub counts: BTreeMap<ChangeState, usize>,
    /// Every finding of the new report with its change state.
    pub items: Vec<DiffItem>,
    /// Findings of the old report the new one does not have.
    pub dropped: Vec<Dropped>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DiffItem {
    #[serde(flatten)]
    pub finding: SnapshotFinding,
    #[serde(flatten)]
    pub change: Change,
}

impl Diff {
    pub fn of(old: &Snapshot, new: &Snapshot) -> Diff {
        let (changes, left) = compare(&old.findings, &new.findings);
        let known: std::collections::HashSet<&str> =
            new.findings.iter().map(|f| f.check_id.as_str()).collect();
        let items: Vec<DiffItem> = new
            .findings
            .iter()
            .cloned()
            .zip(changes)
            .map(|(finding, change)| DiffItem { finding, change })
            .collect();
        Diff {
            old: RunRef::of(old),
            new: RunRef::of(new),
            counts: counts(items.iter().map(|i| &i.change.state)),
            items,
            dropped: dropped(left, |id| known.contains(id)),
        }
    }

    pub fn count(&self, state: ChangeState) -> usize {
        self.counts.get(&state).copied().unwrap_or(0)
    }

    fn with(&self, state: ChangeState) -> impl Iterator<Item = &DiffItem> {
        self.items.iter().filter(move |i| i.change.state == state)
    }

    /// Plain text for a terminal: counts, then what moved.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Progress since {} ({}, report {}):\n  {}\n",
            self.old.collected_at,
            self.old.host,
            short(&self.old.id),
            self.count_line(),
        );
        for state in [
            ChangeState::Resolved,
            ChangeState::Regressed,
            ChangeState::StillOpen,
            ChangeState::New,
        ] {
            let items: Vec<&DiffItem> = self
                .with(state)
                .filter(|i| state != ChangeState::New || i.finding.status.is_open())
                .collect();
            if items.is_empty() {
                continue;
            }
            let heading = match state {
                ChangeState::New => "New open items",
                s => s.label(),
            };
            out.push_str(&format!("{heading}:\n"));
            for i in items {
                out.push_str(&format!(
                    "  {:<14} {}  {}{}\n",
                    transition(&i.change, i.finding.status),
                    i.finding.check_id,
                    one_line(&i.finding.subject),
                    if i.finding.title.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", one_line(&i.finding.title))
                    }
                ));
            }
        }
        if !self.dropped.is_empty() {
            out.push_str("No longer reported:\n");
            for d in &self.dropped {
                out.push_str(&format!(
                    "  {:<14} {}  {}  ({})\n",
                    format!("was {}", d.finding.status),
                    d.finding.check_id,
                    one_line(&d.finding.subject),
                    d.reason
                ));
            }
        }
        out
    }

    /// Markdown, with environment strings escaped like report.md.
    pub fn to_markdown(&self) -> String {
        let e = crate::render::escape_md;
        let mut out = format!(
            "# Progress since {}\n\nBaseline: report {} from {} ({}); compared with report {} from {} ({}).\n\n",
            e(&self.old.collected_at),
            short(&self.old.id),
            e(&self.old.collected_at),
            e(&self.old.host),
            short(&self.new.id),
            e(&self.new.collected_at),
            e(&self.new.host),
        );
        out.push_str(&format!("{}\n\n", self.count_line()));
        out.push_str("| Change | Was | Now | Check | Subject |\n|---|---|---|---|---|\n");
        for state in ChangeState::ALL {
            if state == ChangeState::Unchanged {
                continue;
            }
            for i in self.with(state) {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    state.label(),
                    i.change.was.map(|s| s.as_str()).unwrap_or("-"),
                    i.finding.status,
                    e(&i.finding.check_id),
                    e(&i.finding.subject)
                ));
            }
        }
        for d in &self.dropped {
            out.push_str(&format!(
                "| No longer reported | {} | - | {} | {} |\n",
                d.finding.status,
                e(&d.finding.check_id),
                e(&d.finding.subject)
            ));
        }
        out
    }

    fn count_line(&self) -> String {
        let mut parts: Vec<String> = ChangeState::ALL
            .iter()
            .map(|s| format!("{} {}", s.label().to_lowercase(), self.count(*s)))
            .collect();
        parts.push(format!("no longer reported {}", self.dropped.len()));
        parts.join(" · ")
    }
}

fn transition(c: &Change, now: Status) -> String {
    match c.was {
        Some(was) => format!("{was} -> {now}"),
        None => format!("new {now}"),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Environment strings on one terminal line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, subject: &str, status: Status) -> SnapshotFinding {
        SnapshotFinding {
            check_id: id.into(),
            subject: subject.into(),
            status,
            title: String::new(),
            area: String::new(),
        }
    }

    #[test]
    fn every_change_state() {
        let base = vec![
            f("a", "x", Status::Fail),
            f("b", "x", Status::Error),
            f("c", "x", Status::Pass),
            f("d", "x", Status::Warn),
            f("e", "x", Status::Pass),
            f("gone", "x", Status::Fail),
        ];
        let now = vec![
            f("a", "x", Status::Pass),
            f("b", "x", Status::Fail),
            f("c", "x", Status::Fail),
            f("d", "x", Status::NotApplicable),
            f("e", "x", Status::Pass),
            f("n", "x", Status::Fail),
        ];
        let (changes, left) = compare(&base, &now);
        let states: Vec<ChangeState> = changes.iter().map(|c| c.state).collect();
        assert_eq!(
            states,
            vec![
                ChangeState::Resolved,
                ChangeState::StillOpen,
                ChangeState::Regressed,
                ChangeState::Unchanged,
                ChangeState::Unchanged,
                ChangeState::New,
            ]
        );
        assert_eq!(changes[1].was, Some(Status::Error));
        assert_eq!(changes[5].was, None);
        assert_eq!(left, vec![f("gone", "x", Status::Fail)]);
    }

    #[test]
    fn pass_to_not_assessed_is_a_regression() {
        let (c, _) = compare(&[f("a", "x", Status::Pass)], &[f("a", "x", Status::Error)]);
        assert_eq!(c[0].state, ChangeState::Regressed);
    }

    #[test]
    fn a_check_not_collected_pairs_with_every_subject() {
        // First run could not collect the ports; the second could.
        let base = vec![f("p", "-", Status::Error), f("q", "x", Status::Pass)];
        let now = vec![
            f("p", "dc1:53", Status::Pass),
            f("p", "dc1:445", Status::Fail),
            f("q", "x", Status::Pass),
        ];
        let (c, left) = compare(&base, &now);
        assert_eq!(c[0].state, ChangeState::Resolved);
        assert_eq!(c[0].was_subject.as_deref(), Some("-"));
        assert_eq!(c[1].state, ChangeState::StillOpen);
        assert_eq!(c[2].was_subject, None);
        assert!(left.is_empty(), "{left:?}");
        // And the other way round: the ports passed, now they cannot be assessed.
        let (c, left) = compare(&now, &base);
        assert_eq!(c[0].state, ChangeState::Regressed);
        assert_eq!(c[0].was, Some(Status::Pass));
        assert_eq!(c[0].was_subject.as_deref(), Some("2 subjects"));
        assert!(left.is_empty());
    }

    #[test]
    fn duplicated_keys_pair_in_order() {
        let base = vec![f("a", "x", Status::Fail), f("a", "x", Status::Pass)];
        let now = vec![f("a", "x", Status::Pass), f("a", "x", Status::Pass)];
        let (c, left) = compare(&base, &now);
        assert_eq!(c[0].state, ChangeState::Resolved);
        assert_eq!(c[1].state, ChangeState::Unchanged);
        assert!(left.is_empty());
    }

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
