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
            "rerun": super::rerun::context(r),
        })
    }
}

pub(super) fn finding_json(f: &Finding, number: Option<usize>) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("number".into(), json!(number));
        obj.insert("status_label".into(), json!(status_label(f.status)));
        obj.insert("area_title".into(), json!(area_title(&f.area)));
        super::rerun::finding_fields(f, obj);
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
