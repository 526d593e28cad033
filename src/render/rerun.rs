//! What the templates see of re-runs: progress since the baseline, accepted risks and merge
//! conflicts. Kept apart from view.rs so the report layout can change independently.

use serde_json::{json, Value};

use super::view::{finding_json, status_label};
use crate::evaluate::Finding;
use crate::report::Report;

/// Re-run additions (baseline progress, exceptions, merge conflicts); every key is always
/// present so strict-mode templates can test it.
pub(super) fn context(r: &Report) -> Value {
    use crate::baseline::ChangeState;
    let progress = r.baseline.as_ref().map(|b| {
        let counts: Vec<Value> = ChangeState::ALL
            .iter()
            .map(|s| json!({ "state": s.as_str(), "label": s.label(), "count": b.counts.get(s).copied().unwrap_or(0) }))
            .collect();
        let with = |state: ChangeState| -> Vec<Value> {
            r.findings
                .iter()
                .filter(|f| f.change.as_ref().is_some_and(|c| c.state == state))
                .map(|f| finding_json(f, None))
                .collect()
        };
        let new_open: Vec<Value> = r
            .findings
            .iter()
            .filter(|f| {
                f.status.is_open()
                    && f.change.as_ref().is_some_and(|c| c.state == ChangeState::New)
            })
            .map(|f| finding_json(f, None))
            .collect();
        json!({
            "since": b.run.collected_at,
            "host": b.run.host,
            "file": b.run.file,
            "id": b.run.id,
            "counts": counts,
            "resolved": with(ChangeState::Resolved),
            "regressed": with(ChangeState::Regressed),
            "new_open": new_open,
            "dropped": b.dropped,
            "dropped_count": b.dropped.len(),
        })
    });
    let exceptions = r.exceptions.as_ref().map(|x| {
        let excepted: Vec<Value> = r
            .findings
            .iter()
            .filter(|f| f.exception.is_some())
            .map(|f| finding_json(f, None))
            .collect();
        json!({
            "file": x.file,
            "judged_at": x.judged_at,
            "applied": x.applied,
            "excepted_blockers": r
                .findings
                .iter()
                .filter(|f| f.is_excepted() && f.severity == crate::catalog::Severity::Blocker)
                .count(),
            "excepted": excepted,
            "expired": x.expired,
            "unmatched": x.unmatched,
        })
    });
    let conflicts: Vec<Value> = r
        .conflicts
        .iter()
        .map(|c| {
            let sides: Vec<Value> = c
                .sides
                .iter()
                .map(|s| json!({ "vantage": s.vantage, "status": s.status, "status_label": status_label(s.status), "observed": s.observed, "reason": s.reason }))
                .collect();
            json!({ "check_id": c.check_id, "title": c.title, "subject": c.subject, "sides": sides })
        })
        .collect();
    let any = progress.is_some() || exceptions.is_some() || !conflicts.is_empty();
    json!({
        "any": any,
        "progress": progress,
        "exceptions": exceptions,
        "conflicts": conflicts,
        "vantages": r.scan.vantages,
    })
}

/// Per finding: `change` is the label the report layout shows in its change slot
/// ("Regressed (was Pass)"; none when the status did not move), `change_info` the parts, `exception` the accepted-risk entry;
/// all null when the run has no baseline or exceptions.
pub(super) fn finding_fields(f: &Finding, obj: &mut serde_json::Map<String, Value>) {
    use crate::baseline::ChangeState;
    // Nothing to say about a finding whose status did not move.
    let label = f.change.as_ref().and_then(|c| match c.was {
        Some(was) if c.state == ChangeState::Unchanged && was == f.status => None,
        Some(was) if c.state != ChangeState::New => {
            Some(format!("{} (was {})", c.state.label(), status_label(was)))
        }
        _ => Some(c.state.label().to_string()),
    });
    obj.insert("change".into(), json!(label));
    obj.insert(
        "change_info".into(),
        json!(f.change.as_ref().map(|c| json!({
            "state": c.state,
            "label": c.state.label(),
            "was": c.was.map(status_label),
            "was_subject": c.was_subject,
        }))),
    );
    obj.insert("exception".into(), json!(f.exception));
}
