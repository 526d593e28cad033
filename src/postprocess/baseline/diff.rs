//! `readyscan diff`: two saved reports compared as they are; `render::diff` writes it out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    compare, counts, dropped, Change, ChangeState, Dropped, RunRef, Snapshot, SnapshotFinding,
};

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

    /// The items that moved to `state`.
    pub fn with(&self, state: ChangeState) -> impl Iterator<Item = &DiffItem> {
        self.items.iter().filter(move |i| i.change.state == state)
    }
}
