//! What the templates see: the report plus the orderings and counts a reader needs.

use serde_json::{json, Value};

use crate::evaluate::{Finding, Status};
use crate::report::Report;

/// Fix order: the network first, then DNS, then the directory that needs both.
const AREA_ORDER: &[(&str, &str)] = &[
    ("network", "Network and firewall"),
    ("dns", "DNS"),
    ("identity", "Active Directory"),
    ("federation", "Identity federation"),
    ("configmgr", "Configuration Manager"),
];

pub struct View<'a> {
    pub report: &'a Report,
    /// SHA-256 of the report.json written beside, so a reader can tie the two together.
    pub json_sha256: String,
}

impl<'a> View<'a> {
    pub fn new(report: &'a Report, json_text: &str) -> View<'a> {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(json_text.as_bytes());
        View {
            report,
            json_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// Open items (fail, error, warn) in the order to work on them.
    pub fn checklist(&self) -> Vec<&'a Finding> {
        let mut items: Vec<&Finding> = self
            .report
            .findings
            .iter()
            .filter(|f| f.status.is_open())
            .collect();
        items.sort_by_key(|f| (status_rank(f.status), area_rank(&f.area)));
        items
    }

    pub fn context(&self) -> Value {
        let r = self.report;
        let checklist: Vec<Value> = self
            .checklist()
            .iter()
            .enumerate()
            .map(|(i, f)| finding_json(f, Some(i + 1)))
            .collect();
        let not_assessed: Vec<Value> = r
            .findings
            .iter()
            .filter(|f| f.status == Status::Error)
            .map(|f| finding_json(f, None))
            .collect();
        let mut areas: Vec<&str> = r.findings.iter().map(|f| f.area.as_str()).collect();
        areas.sort_by_key(|a| area_rank(a));
        areas.dedup();
        let areas: Vec<Value> = areas
            .into_iter()
            .map(|area| {
                let findings: Vec<Value> = r
                    .findings
                    .iter()
                    .filter(|f| f.area == area)
                    .map(|f| finding_json(f, None))
                    .collect();
                let open = r
                    .findings
                    .iter()
                    .filter(|f| f.area == area && f.status.is_open())
                    .count();
                json!({ "id": area, "title": area_title(area), "findings": findings, "open": open })
            })
            .collect();
        let counts: Vec<Value> = Status::ALL
            .iter()
            .map(|s| json!({ "status": s.as_str(), "label": status_label(*s), "count": r.summary.count(*s) }))
            .collect();
        json!({
            "report": r,
            "json_sha256": self.json_sha256,
            "verdict_label": verdict_label(r),
            "verdict_class": serde_json::to_value(r.verdict).unwrap_or_default(),
            "scopes": r.scan.config.scopes.join(", "),
            "counts": counts,
            "checklist": checklist,
            "not_assessed": not_assessed,
            "areas": areas,
            "demo": r.scan.mode == "demo",
            "rerun": rerun_context(r),
        })
    }
}

/// Re-run additions (baseline progress, exceptions, merge conflicts); every key is always
/// present so strict-mode templates can test it.
fn rerun_context(r: &Report) -> Value {
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

/// Badge data on a finding: always present keys, null when the run has no baseline/exceptions.
fn rerun_fields(f: &Finding, obj: &mut serde_json::Map<String, Value>) {
    obj.insert(
        "change".into(),
        json!(f.change.as_ref().map(|c| json!({
            "state": c.state,
            "label": c.state.label(),
            "was": c.was.map(status_label),
        }))),
    );
    obj.insert("exception".into(), json!(f.exception));
}

fn finding_json(f: &Finding, number: Option<usize>) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("number".into(), json!(number));
        obj.insert("status_label".into(), json!(status_label(f.status)));
        obj.insert("area_title".into(), json!(area_title(&f.area)));
        rerun_fields(f, obj);
    }
    v
}

fn verdict_label(r: &Report) -> &'static str {
    match r.verdict {
        crate::evaluate::Verdict::Ready => "Ready",
        crate::evaluate::Verdict::NotReady => "Not ready",
        crate::evaluate::Verdict::Incomplete => "Incomplete",
    }
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "Pass",
        Status::Fail => "Fail",
        Status::Warn => "Warning",
        Status::Info => "Info",
        Status::Error => "Not assessed",
        Status::NotApplicable => "Not applicable",
    }
}

fn status_rank(s: Status) -> usize {
    Status::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(usize::MAX)
}

fn area_rank(area: &str) -> usize {
    AREA_ORDER
        .iter()
        .position(|(a, _)| *a == area)
        .unwrap_or(AREA_ORDER.len())
}

fn area_title(area: &str) -> &str {
    AREA_ORDER
        .iter()
        .find(|(a, _)| *a == area)
        .map(|(_, t)| *t)
        .unwrap_or(area)
}
