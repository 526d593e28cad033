//! Judges observations against the catalog: one finding per check and subject.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::catalog::template::fill;
use crate::catalog::{describe, meets, Catalog, Check, Severity};
use crate::observation::{display, Observation, ObservationStatus};
use crate::probes::index as probes;
use crate::probes::ProbeSpec;
use crate::vocab::natural_cmp;

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
pub enum Status {
    /// The requirement is met.
    Pass,
    /// A blocker's requirement is not met.
    Fail,
    /// A warning's requirement is not met.
    Warn,
    /// An informational check's requirement is not met.
    Info,
    /// Could not be assessed; `reason` says why.
    Error,
    /// Outside the selected scopes, or the subject does not need it.
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Fail,
        Status::Error,
        Status::Warn,
        Status::Info,
        Status::Pass,
        Status::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Info => "info",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
        }
    }

    /// Items that go on the remediation checklist.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Fail | Status::Error | Status::Warn)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check judged on one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub check_id: String,
    pub title: Arc<str>,
    pub area: String,
    /// What it was checked on: a domain, host:port, a DNS name, a site; "-" when nothing was.
    pub subject: String,
    pub status: Status,
    pub severity: Severity,
    /// The observed value as a reader sees it; absent when nothing was observed.
    pub observed: Option<String>,
    pub expected: Arc<str>,
    /// Why the check could not be assessed or does not apply.
    pub reason: Option<String>,
    /// Machine-readable kind of `reason`: the probe's error kind (`timeout`, `needs_bind`,
    /// `failed`, `limit`, `not_applicable`) or evaluation's own (`out_of_scope`, `not_collected`,
    /// `bad_value`, `nothing_to_judge`), so consumers can branch without parsing prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub remediation: Vec<String>,
    pub reference: Arc<str>,
    pub source: Arc<str>,
    /// The fact comes from community tools, not a Microsoft document.
    pub community: bool,
    /// Checks whose fix comes first; the report orders its checklist by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// For a finding that could not be assessed: the hosts its probe needed (from the failed
    /// observation), so an open dependency on one of them ("dc1:389 filtered") blocks it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waits_on: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No blocker in scope failed or went unassessed.
    Ready,
    /// A blocker in scope failed.
    NotReady,
    /// No blocker failed, but some could not be assessed.
    Incomplete,
}

impl Verdict {
    /// The verdict of the findings that count; the report leaves out accepted risks.
    pub fn of<'a>(counted: impl IntoIterator<Item = &'a Finding>) -> Verdict {
        let mut verdict = Verdict::Ready;
        for f in counted
            .into_iter()
            .filter(|f| f.severity == Severity::Blocker)
        {
            match f.status {
                Status::Fail => return Verdict::NotReady,
                Status::Error => verdict = Verdict::Incomplete,
                _ => {}
            }
        }
        verdict
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ready => "Ready",
            Verdict::NotReady => "Not ready",
            Verdict::Incomplete => "Incomplete",
        }
    }
}

/// Every check of the catalog, judged on the observations of its probe.
pub fn evaluate(
    catalog: &Catalog,
    observations: &[Observation],
    scopes: &[String],
    today: Date,
) -> Vec<Finding> {
    // Each check's observations first, so the findings get their exact room: a vector grown
    // by doubling holds up to twice its findings, and 10,000 findings are about 3 MiB.
    let in_scope = |check: &Check| check.scopes.iter().any(|s| scopes.contains(s));
    let matches: Vec<Vec<&Observation>> = catalog
        .checks
        .iter()
        .map(|check| {
            if !in_scope(check) {
                return Vec::new();
            }
            let spec = probes::spec(&check.probe);
            let mut matching: Vec<&Observation> = observations
                .iter()
                .filter(|o| o.probe == check.probe && filter_matches(check, spec, o))
                .collect();
            // Subjects in reading order, ports as numbers (389, 445, 3268), whatever the input's.
            matching.sort_by(|a, b| natural_cmp(&a.subject, &b.subject));
            matching
        })
        .collect();
    let mut findings = Vec::with_capacity(matches.iter().map(|m| m.len().max(1)).sum());
    for (check, matching) in catalog.checks.iter().zip(matches) {
        if !in_scope(check) {
            let reason = format!("out of scope: needs scope {}", check.scopes.join(" or "));
            findings.push(unobserved(
                check,
                Status::NotApplicable,
                why(reason, "out_of_scope"),
            ));
        } else if matching.is_empty() {
            findings.push(unobserved(
                check,
                Status::Error,
                why(not_collected(check), "not_collected"),
            ));
        }
        for obs in matching {
            findings.push(judge(check, obs, today));
        }
    }
    findings
}

/// A finding with no observation behind it: its remediation's placeholders show.
fn unobserved(check: &Check, status: Status, why: Option<Why>) -> Finding {
    let mut f = finding(check, "-", status, None, why);
    f.remediation = fill(&check.remediation, &serde_json::Map::new());
    f
}

/// A finding on an observation, its remediation filled with the observation's fields.
fn judge(check: &Check, obs: &Observation, today: Date) -> Finding {
    let mut f = judge_status(check, obs, today);
    f.remediation = fill(&check.remediation, &obs.fields);
    f
}

fn judge_status(check: &Check, obs: &Observation, today: Date) -> Finding {
    match obs.status {
        ObservationStatus::Failed => {
            let reason = obs
                .reason
                .clone()
                .unwrap_or_else(|| "the probe failed".into());
            let code = obs.kind.as_deref().unwrap_or("failed");
            let mut f = finding(check, &obs.subject, Status::Error, None, why(reason, code));
            f.waits_on = hosts_in(obs);
            f
        }
        ObservationStatus::NotApplicable => {
            let reason = obs
                .reason
                .clone()
                .unwrap_or_else(|| "does not apply".into());
            let code = obs.kind.as_deref().unwrap_or("not_applicable");
            finding(
                check,
                &obs.subject,
                Status::NotApplicable,
                None,
                why(reason, code),
            )
        }
        ObservationStatus::Observed => {
            if let Some(a) = check
                .applies_when
                .as_ref()
                .filter(|a| !a.holds(&obs.fields))
            {
                return finding(
                    check,
                    &obs.subject,
                    Status::NotApplicable,
                    None,
                    why(a.reason.clone(), "nothing_to_judge"),
                );
            }
            let value = obs.fields.get(&check.field);
            let observed = Some(observed_text(check, obs, value));
            match meets(&check.requirement, value, today) {
                Ok(true) => finding(check, &obs.subject, Status::Pass, observed, None),
                Ok(false) => {
                    let status = match check.severity {
                        Severity::Blocker => Status::Fail,
                        Severity::Warning => Status::Warn,
                        Severity::Info => Status::Info,
                    };
                    finding(check, &obs.subject, status, observed, None)
                }
                Err(e) => {
                    let reason = format!("cannot judge field {}: {e}", check.field);
                    finding(
                        check,
                        &obs.subject,
                        Status::Error,
                        observed,
                        why(reason, "bad_value"),
                    )
                }
            }
        }
    }
}

/// The value and its label: "2 (Windows Server 2003)". With no value, the label alone says
/// what was seen ("NXDOMAIN: ... does not exist"), rather than "(none) (...)".
fn observed_text(check: &Check, obs: &Observation, value: Option<&Value>) -> String {
    let empty = |v: &&Value| match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    let label = check
        .label_field
        .as_ref()
        .and_then(|l| obs.fields.get(l))
        .filter(|v| !empty(v));
    match (value.filter(|v| !empty(v)), label) {
        (Some(v), Some(l)) => format!("{} ({})", display(v), display(l)),
        (Some(v), None) => display(v),
        (None, Some(l)) => display(l),
        (None, None) => "none found".into(),
    }
}

/// A filter value must equal the field, or be contained in it when the field is a list; then
/// the probe decides whether the check's params asked for this observation.
fn filter_matches(check: &Check, spec: Option<&ProbeSpec>, obs: &Observation) -> bool {
    let filtered = check
        .filter
        .iter()
        .all(|(key, want)| match obs.fields.get(key) {
            Some(Value::Array(items)) => items.contains(want),
            Some(v) => v == want,
            None => false,
        });
    filtered && spec.is_none_or(|spec| (spec.applies)(&check.ask(), obs))
}

fn not_collected(check: &Check) -> String {
    match probes::spec(&check.probe) {
        Some(spec) => {
            format!(
                "not assessed: no observation from probe {}; {}",
                spec.name, spec.needs
            )
        }
        _ => format!(
            "not assessed: this version of readyscan cannot collect probe {} yet",
            check.probe
        ),
    }
}

/// Why a finding could not be judged: the reason and its stable code.
struct Why {
    reason: String,
    code: String,
}

fn why(reason: String, code: &str) -> Option<Why> {
    Some(Why {
        reason,
        code: code.to_string(),
    })
}

fn finding(
    check: &Check,
    subject: &str,
    status: Status,
    observed: Option<String>,
    why: Option<Why>,
) -> Finding {
    let (reason, code) = match why {
        Some(w) => (Some(w.reason), Some(w.code)),
        None => (None, None),
    };
    Finding {
        check_id: check.id.clone(),
        title: check.title.clone(),
        area: check.area.clone(),
        subject: subject.to_string(),
        status,
        severity: check.severity,
        observed,
        expected: if check.expected.is_empty() {
            describe(&check.requirement).into()
        } else {
            check.expected.clone()
        },
        reason,
        code,
        // Filled by `judge` with the observation's fields, or by `unobserved`.
        remediation: Vec::new(),
        reference: check.reference.clone(),
        source: check.source.clone(),
        community: check.community,
        depends_on: check.depends_on.clone(),
        waits_on: Vec::new(),
    }
}

/// The host part of a subject or field value: `https://h:443` and `h:443 @ vantage` -> `h`.
pub fn host_of(s: &str) -> String {
    let s = s.split(" @ ").next().unwrap_or(s).trim();
    let s = s.strip_prefix("https://").unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    let host = match s.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => s,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Host names a failed observation names: its subject and the host-like strings among its
/// fields (top level, lists, and `host` of objects).
fn hosts_in(obs: &Observation) -> Vec<String> {
    let mut out = vec![host_of(&obs.subject)];
    let mut take = |v: &Value| match v {
        Value::String(s) => out.push(host_of(s)),
        Value::Object(m) => {
            if let Some(Value::String(h)) = m.get("host") {
                out.push(host_of(h));
            }
        }
        _ => {}
    };
    for v in obs.fields.values() {
        match v {
            Value::Array(items) => items.iter().for_each(&mut take),
            other => take(other),
        }
    }
    out.retain(|h| h.contains('.') && !h.contains(char::is_whitespace) && h.len() <= 253);
    out.sort();
    out.dedup();
    out
}

/// Counts per status, overall and per area.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub by_status: BTreeMap<Status, usize>,
    pub by_area: BTreeMap<String, BTreeMap<Status, usize>>,
}

impl Summary {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            *s.by_status.entry(f.status).or_default() += 1;
            *s.by_area
                .entry(f.area.clone())
                .or_default()
                .entry(f.status)
                .or_default() += 1;
        }
        s
    }

    pub fn count(&self, status: Status) -> usize {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}
