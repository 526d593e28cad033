//! What the templates see: the report plus the orderings and counts a reader needs.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::evaluate::{Finding, Status, Verdict};
use crate::report::Report;

/// Areas in fix order (the network first, then DNS, then the directory that needs both), with
/// their title and the team that owns their fixes.
const AREAS: &[Area] = &[
    Area {
        id: "network",
        title: "Network and firewall",
        team: "Network",
    },
    Area {
        id: "dns",
        title: "DNS",
        team: "DNS",
    },
    Area {
        id: "identity",
        title: "Active Directory",
        team: "Active Directory",
    },
    Area {
        id: "federation",
        title: "Identity federation",
        team: "Identity and federation",
    },
    Area {
        id: "configmgr",
        title: "Configuration Manager",
        team: "Configuration Manager",
    },
];

struct Area {
    id: &'static str,
    title: &'static str,
    team: &'static str,
}

pub struct View<'a> {
    pub report: &'a Report,
    /// SHA-256 of the report.json written beside, so a reader can tie the two together.
    pub json_sha256: String,
}

/// One checklist entry: a check with every subject on which it is open.
#[derive(Debug)]
pub struct Item<'a> {
    /// 1-based position in the checklist.
    pub number: usize,
    pub check_id: &'a str,
    /// The worst open status among its findings (fail before error before warn).
    pub status: Status,
    pub area: &'a str,
    /// Open findings of this check, in report order.
    pub findings: Vec<&'a Finding>,
    /// Numbers of earlier items this one waits for (its open dependencies).
    pub blocked_by: Vec<usize>,
}

impl<'a> View<'a> {
    pub fn new(report: &'a Report, json_text: &str) -> View<'a> {
        use sha2::{Digest, Sha256};
        Self::with_sha256(report, &Sha256::digest(json_text.as_bytes()))
    }

    /// With the SHA-256 of report.json already computed (it was streamed to disk).
    pub fn with_sha256(report: &'a Report, digest: &[u8]) -> View<'a> {
        View {
            report,
            json_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// Open items (fail, error, warn), one per check, in the order the work must be done:
    /// an item's open dependencies come before it; otherwise by owner team (network, DNS,
    /// Active Directory, identity/federation, Configuration Manager), then fail, error, warn,
    /// then catalog order.
    pub fn checklist(&self) -> Vec<Item<'a>> {
        let findings = &self.report.findings;
        // Group open findings by check, keeping the first position as the catalog order.
        let mut groups: Vec<(usize, Vec<&'a Finding>)> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (pos, f) in findings.iter().enumerate() {
            if !f.status.is_open() {
                continue;
            }
            match index.get(f.check_id.as_str()) {
                Some(&g) => groups[g].1.push(f),
                None => {
                    index.insert(&f.check_id, groups.len());
                    groups.push((pos, vec![f]));
                }
            }
        }
        let key = |g: &(usize, Vec<&Finding>)| {
            let first = g.1[0];
            let worst = g.1.iter().map(|f| status_rank(f.status)).min();
            (area_rank(&first.area), worst, g.0)
        };
        // Open checks this group depends on (itself excluded), by group index.
        let deps = |g: usize| -> Vec<usize> {
            let mut d: Vec<usize> = groups[g].1[0]
                .depends_on
                .iter()
                .filter_map(|id| index.get(id.as_str()).copied())
                .filter(|&d| d != g)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        // Kahn's algorithm, always taking the smallest key that is free; a cycle (which the
        // catalog should not have) is broken by taking the smallest key left.
        let mut placed: Vec<Option<usize>> = vec![None; groups.len()];
        let mut order: Vec<usize> = Vec::with_capacity(groups.len());
        while order.len() < groups.len() {
            let remaining = (0..groups.len()).filter(|&g| placed[g].is_none());
            let free = remaining
                .clone()
                .filter(|&g| deps(g).iter().all(|&d| placed[d].is_some()))
                .min_by_key(|&g| key(&groups[g]));
            let Some(next) = free.or_else(|| remaining.min_by_key(|&g| key(&groups[g]))) else {
                break;
            };
            placed[next] = Some(order.len() + 1);
            order.push(next);
        }
        order
            .into_iter()
            .map(|g| {
                let (_, items) = &groups[g];
                let first = items[0];
                let mut blocked_by: Vec<usize> =
                    deps(g).iter().filter_map(|&d| placed[d]).collect();
                blocked_by.sort_unstable();
                Item {
                    number: placed[g].unwrap_or(0),
                    check_id: &first.check_id,
                    status: items
                        .iter()
                        .map(|f| f.status)
                        .min_by_key(|s| status_rank(*s))
                        .unwrap_or(first.status),
                    area: &first.area,
                    findings: items.clone(),
                    blocked_by,
                }
            })
            .collect()
    }

    pub fn context(&self) -> Value {
        let r = self.report;
        let items = self.checklist();
        let number_of: BTreeMap<&str, usize> =
            items.iter().map(|i| (i.check_id, i.number)).collect();
        let item_json = |i: &Item<'_>| {
            let first = i.findings[0];
            json!({
                "number": i.number,
                "check_id": i.check_id,
                "title": first.title,
                "status": i.status.as_str(),
                "status_label": status_label(i.status),
                "severity": first.severity,
                "area": i.area,
                "area_title": area_title(i.area),
                "team": team(i.area),
                "expected": first.expected,
                "remediation": first.remediation,
                "reference": first.reference,
                "source": first.source,
                "community": first.community,
                "blocked_by": i.blocked_by,
                "blocked_by_many": i.blocked_by.len() > 1,
                "subject_count": i.findings.len(),
                "findings": i.findings.iter().map(|f| finding_json(f, None)).collect::<Vec<_>>(),
            })
        };
        // Consecutive items of one team form a group; dependencies may split a team in two.
        let mut groups: Vec<Value> = Vec::new();
        let mut current: Option<(&str, Vec<Value>)> = None;
        for item in &items {
            let t = team(item.area);
            match current.as_mut() {
                Some((team_now, list)) if *team_now == t => list.push(item_json(item)),
                _ => {
                    if let Some((done, list)) = current.take() {
                        groups.push(json!({ "team": done, "items": list }));
                    }
                    current = Some((t, vec![item_json(item)]));
                }
            }
        }
        if let Some((done, list)) = current {
            groups.push(json!({ "team": done, "items": list }));
        }
        // Open items per team, for the summary under the verdict.
        let mut teams: Vec<Value> = Vec::new();
        for area in AREAS {
            let of_team: Vec<&Item<'_>> = items.iter().filter(|i| i.area == area.id).collect();
            if let Some(first) = of_team.first() {
                teams.push(json!({
                    "team": area.team,
                    "items": of_team.len(),
                    "blockers": of_team.iter().filter(|i| i.status == Status::Fail).count(),
                    "first": first.number,
                }));
            }
        }
        let not_assessed: Vec<Value> = r
            .findings
            .iter()
            .filter(|f| f.status == Status::Error)
            .map(|f| finding_json(f, number_of.get(f.check_id.as_str()).copied()))
            .collect();
        let mut areas: Vec<&str> = r.findings.iter().map(|f| f.area.as_str()).collect();
        areas.sort_by_key(|a| area_rank(a));
        areas.dedup();
        let areas: Vec<Value> = areas
            .into_iter()
            .map(|area| {
                let of_area = || r.findings.iter().filter(move |f| f.area == area);
                let findings: Vec<Value> = of_area()
                    .map(|f| {
                        let number = f
                            .status
                            .is_open()
                            .then(|| number_of.get(f.check_id.as_str()));
                        finding_json(f, number.flatten().copied())
                    })
                    .collect();
                let open = of_area().filter(|f| f.status.is_open()).count();
                let passed = of_area().filter(|f| f.status == Status::Pass).count();
                // The same findings grouped by check, for a table with one row group per check.
                let mut checks: Vec<(&str, Vec<Value>)> = Vec::new();
                for (f, v) in of_area().zip(&findings) {
                    match checks.iter_mut().find(|(id, _)| *id == f.check_id) {
                        Some((_, rows)) => rows.push(v.clone()),
                        None => checks.push((&f.check_id, vec![v.clone()])),
                    }
                }
                let checks: Vec<Value> = checks
                    .into_iter()
                    .map(|(id, rows)| {
                        let first = &rows[0];
                        json!({
                            "check_id": id,
                            "title": first["title"],
                            "expected": first["expected"],
                            "severity": first["severity"],
                            "number": number_of.get(id),
                            "findings": rows,
                        })
                    })
                    .collect();
                json!({
                    "id": area,
                    "title": area_title(area),
                    "team": team(area),
                    "checks": checks,
                    "findings": findings,
                    "open": open,
                    "passed": passed,
                    "total": findings.len(),
                })
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
            "insecure_tls": r.scan.config.insecure_tls,
            "counts": counts,
            "checklist_count": items.len(),
            "checklist": groups,
            "teams": teams,
            "not_assessed_count": not_assessed.len(),
            "not_assessed": not_assessed,
            "findings_count": r.findings.len(),
            "areas": areas,
            "demo": r.scan.mode == "demo",
            "mode_label": match r.scan.mode.as_str() {
                "live" => "live scan",
                "demo" => "built-in demo data",
                "evaluate" => "saved observations, judged again",
                "merge" => "scans from several hosts, merged",
                _ => "",
            },
            "rerun": super::rerun::context(r),
        })
    }
}

/// A finding as the templates see it, with its change state against a baseline and its
/// accepted-risk entry (both null when the run has none).
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
        Verdict::Ready => "Ready",
        Verdict::NotReady => "Not ready",
        Verdict::Incomplete => "Incomplete",
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
    AREAS
        .iter()
        .position(|a| a.id == area)
        .unwrap_or(AREAS.len())
}

fn area_title(area: &str) -> &str {
    AREAS
        .iter()
        .find(|a| a.id == area)
        .map(|a| a.title)
        .unwrap_or(area)
}

/// The team that owns fixes in an area.
fn team(area: &str) -> &str {
    AREAS
        .iter()
        .find(|a| a.id == area)
        .map(|a| a.team)
        .unwrap_or(area)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Severity;
    use crate::observation::{ObservationSet, ScanInfo};

    fn finding(id: &str, area: &str, status: Status, deps: &[&str]) -> Finding {
        Finding {
            check_id: id.into(),
            title: id.into(),
            area: area.into(),
            subject: format!("{id}-subject"),
            status,
            severity: Severity::Blocker,
            observed: None,
            expected: "x".into(),
            reason: None,
            remediation: vec![],
            reference: "https://example.test/".into(),
            source: "s".into(),
            community: false,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            change: None,
            exception: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        let set = ObservationSet {
            scan: ScanInfo {
                mode: "demo".into(),
                collected_at: "2026-11-23T10:00:00Z".into(),
                host: "h".into(),
                config: Default::default(),
                vantages: Vec::new(),
            },
            observations: vec![],
        };
        let mut r = Report::build(
            set,
            &crate::catalog::Catalog::builtin().unwrap(),
            time::macros::date!(2026 - 11 - 23),
            time::macros::datetime!(2026-11-23 10:00 UTC),
        );
        r.findings = findings;
        r
    }

    fn order(r: &Report) -> Vec<(String, usize, Vec<usize>)> {
        View::new(r, "")
            .checklist()
            .into_iter()
            .map(|i| (i.check_id.to_string(), i.findings.len(), i.blocked_by))
            .collect()
    }

    #[test]
    fn dependencies_first_then_team_then_status() {
        let r = report(vec![
            finding("cm", "configmgr", Status::Fail, &[]),
            finding("forest", "identity", Status::Fail, &["domain", "port"]),
            finding("domain", "identity", Status::Warn, &["port"]),
            finding("other-ad", "identity", Status::Error, &[]),
            finding("cname", "dns", Status::Warn, &[]),
            finding("srv", "dns", Status::Fail, &["port"]),
            finding("port", "network", Status::Fail, &[]),
            finding("port", "network", Status::Warn, &[]),
            finding("passing", "network", Status::Pass, &[]),
            finding("na", "dns", Status::NotApplicable, &[]),
        ]);
        let got = order(&r);
        let ids: Vec<&str> = got.iter().map(|(id, _, _)| id.as_str()).collect();
        // The domain-level warning comes before the forest-level failure that waits for it;
        // the unrelated AD error keeps its status order ahead of the warning.
        assert_eq!(
            ids,
            ["port", "srv", "cname", "other-ad", "domain", "forest", "cm"]
        );
        assert_eq!(got[0].1, 2, "both open subjects of a check form one item");
        assert_eq!(got[1].2, vec![1], "srv waits for the port item");
        assert_eq!(got[5].2, vec![1, 5], "forest waits for port and domain");
        assert!(got[3].2.is_empty());
    }

    #[test]
    fn passed_dependency_does_not_block_and_cycles_terminate() {
        let r = report(vec![
            finding("a", "identity", Status::Fail, &["b", "gone"]),
            finding("b", "identity", Status::Fail, &["a"]),
            finding("c", "identity", Status::Fail, &["ok", "c"]),
            finding("ok", "network", Status::Pass, &[]),
        ]);
        let got = order(&r);
        assert_eq!(got.len(), 3);
        let c = got.iter().find(|(id, _, _)| id == "c").unwrap();
        assert!(
            c.2.is_empty(),
            "a passed dependency or itself blocks nothing"
        );
        assert_eq!(got[0].0, "c", "c is free at once");
    }

    #[test]
    fn change_slot_is_present_and_empty() {
        let f = finding("x", "dns", Status::Fail, &[]);
        let v = finding_json(&f, Some(1));
        assert_eq!(v["change"], Value::Null);
        assert_eq!(v["number"], json!(1));
    }
}
