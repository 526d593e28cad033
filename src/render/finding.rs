//! One finding as every layout sees it: the finding, its checklist number, its labels, its
//! change against the baseline and its accepted-risk entry.

use serde::Serialize;

use crate::evaluate::{Finding, Status};
use crate::postprocess::baseline::ChangeState;
use crate::postprocess::exceptions::Applied;
use crate::report::ReportFinding;
use crate::vocab::area_title;

/// Null slots (`change`, `exception`) are always present so strict-mode templates can test them.
#[derive(Serialize)]
pub struct FindingView<'a> {
    #[serde(flatten)]
    pub finding: &'a Finding,
    pub number: Option<usize>,
    pub status_label: &'static str,
    pub area_title: &'a str,
    /// The label of the change slot ("Regressed (was Pass)"); none when the status did not move.
    pub change: Option<String>,
    pub change_info: Option<ChangeInfo<'a>>,
    pub exception: Option<&'a Applied>,
}

/// The parts of a change against the baseline.
#[derive(Serialize)]
pub struct ChangeInfo<'a> {
    pub state: ChangeState,
    pub label: &'static str,
    pub was: Option<&'static str>,
    pub was_subject: Option<&'a str>,
}

impl<'a> FindingView<'a> {
    pub fn of(f: &'a ReportFinding, number: Option<usize>) -> FindingView<'a> {
        FindingView {
            finding: &f.finding,
            number,
            status_label: status_label(f.status),
            area_title: area_title(&f.area),
            change: change_label(f),
            change_info: f.change.as_ref().map(|c| ChangeInfo {
                state: c.state,
                label: c.state.label(),
                was: c.was.map(status_label),
                was_subject: c.was_subject.as_deref(),
            }),
            exception: f.exception.as_ref(),
        }
    }
}

/// "Regressed (was Pass)"; nothing to say about a finding whose status did not move.
fn change_label(f: &ReportFinding) -> Option<String> {
    f.change.as_ref().and_then(|c| match c.was {
        Some(was) if c.state == ChangeState::Unchanged && was == f.status => None,
        Some(was) if c.state != ChangeState::New => {
            Some(format!("{} (was {})", c.state.label(), status_label(was)))
        }
        _ => Some(c.state.label().to_string()),
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Severity;

    #[test]
    fn change_slot_is_present_and_empty() {
        let f = ReportFinding {
            finding: Finding {
                check_id: "x".into(),
                title: "x".into(),
                area: "dns".into(),
                subject: "s".into(),
                status: Status::Fail,
                severity: Severity::Blocker,
                observed: None,
                expected: "x".into(),
                reason: None,
                code: None,
                remediation: vec![],
                reference: "https://example.test/".into(),
                source: "s".into(),
                community: false,
                depends_on: vec![],
                waits_on: vec![],
            },
            change: None,
            exception: None,
        };
        let v = serde_json::to_value(FindingView::of(&f, Some(1))).unwrap();
        assert_eq!(v["change"], serde_json::Value::Null);
        assert_eq!(v["exception"], serde_json::Value::Null);
        assert_eq!(v["number"], serde_json::json!(1));
        assert_eq!(v["check_id"], "x");
    }
}
