//! What the templates see of re-runs: progress since the baseline, accepted risks and merge
//! conflicts. Kept apart from view.rs so the report layout can change independently.

use serde::Serialize;

use super::finding::{status_label, FindingView};
use crate::catalog::Severity;
use crate::evaluate::Status;
use crate::observation::Vantage;
use crate::postprocess::baseline::{ChangeState, Dropped};
use crate::postprocess::exceptions::EntryRef;
use crate::report::Report;

/// Re-run additions; every key is always present so strict-mode templates can test it.
#[derive(Serialize)]
pub struct Rerun<'a> {
    pub any: bool,
    pub progress: Option<Progress<'a>>,
    pub exceptions: Option<ExceptionsView<'a>>,
    pub conflicts: Vec<ConflictView<'a>>,
    pub vantages: &'a [Vantage],
}

#[derive(Serialize)]
pub struct StateCount {
    pub state: ChangeState,
    pub label: &'static str,
    pub count: usize,
}

#[derive(Serialize)]
pub struct Progress<'a> {
    pub since: &'a str,
    pub host: &'a str,
    pub file: &'a str,
    pub id: &'a str,
    pub counts: Vec<StateCount>,
    pub resolved: Vec<FindingView<'a>>,
    pub regressed: Vec<FindingView<'a>>,
    pub new_open: Vec<FindingView<'a>>,
    pub dropped: &'a [Dropped],
    pub dropped_count: usize,
}

#[derive(Serialize)]
pub struct ExceptionsView<'a> {
    pub file: &'a str,
    pub judged_at: &'a str,
    pub applied: usize,
    pub excepted_blockers: usize,
    pub excepted: Vec<FindingView<'a>>,
    pub expired: &'a [EntryRef],
    pub unmatched: &'a [EntryRef],
}

#[derive(Serialize)]
pub struct SideView<'a> {
    pub vantage: &'a str,
    pub status: Status,
    pub status_label: &'static str,
    pub observed: Option<&'a str>,
    pub reason: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ConflictView<'a> {
    pub check_id: &'a str,
    pub title: &'a str,
    pub subject: &'a str,
    pub sides: Vec<SideView<'a>>,
}

impl<'a> Rerun<'a> {
    pub fn of(r: &'a Report) -> Rerun<'a> {
        let progress = r.baseline.as_ref().map(|b| {
            let with = |state: ChangeState, open_only: bool| -> Vec<FindingView<'a>> {
                r.findings
                    .iter()
                    .filter(|f| f.change.as_ref().is_some_and(|c| c.state == state))
                    .filter(|f| !open_only || f.status.is_open())
                    .map(|f| FindingView::of(f, None))
                    .collect()
            };
            Progress {
                since: &b.run.collected_at,
                host: &b.run.host,
                file: &b.run.file,
                id: &b.run.id,
                counts: ChangeState::ALL
                    .iter()
                    .map(|s| StateCount {
                        state: *s,
                        label: s.label(),
                        count: b.counts.get(s).copied().unwrap_or(0),
                    })
                    .collect(),
                resolved: with(ChangeState::Resolved, false),
                regressed: with(ChangeState::Regressed, false),
                new_open: with(ChangeState::New, true),
                dropped: &b.dropped,
                dropped_count: b.dropped.len(),
            }
        });
        let exceptions = r.exceptions.as_ref().map(|x| ExceptionsView {
            file: &x.file,
            judged_at: &x.judged_at,
            applied: x.applied,
            excepted_blockers: r
                .findings
                .iter()
                .filter(|f| f.is_excepted() && f.severity == Severity::Blocker)
                .count(),
            excepted: r
                .findings
                .iter()
                .filter(|f| f.exception.is_some())
                .map(|f| FindingView::of(f, None))
                .collect(),
            expired: &x.expired,
            unmatched: &x.unmatched,
        });
        let conflicts: Vec<ConflictView<'a>> = r
            .conflicts
            .iter()
            .map(|c| ConflictView {
                check_id: &c.check_id,
                title: &c.title,
                subject: &c.subject,
                sides: c
                    .sides
                    .iter()
                    .map(|s| SideView {
                        vantage: &s.vantage,
                        status: s.status,
                        status_label: status_label(s.status),
                        observed: s.observed.as_deref(),
                        reason: s.reason.as_deref(),
                    })
                    .collect(),
            })
            .collect();
        Rerun {
            any: progress.is_some() || exceptions.is_some() || !conflicts.is_empty(),
            progress,
            exceptions,
            conflicts,
            vantages: &r.scan.vantages,
        }
    }
}
