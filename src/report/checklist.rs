//! The remediation checklist: open items, one per check, in the order the work must be done.

use std::collections::BTreeMap;

use super::ReportFinding;
use crate::evaluate::{host_of, Finding, Status};
use crate::vocab::area_rank;

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
    pub findings: Vec<&'a ReportFinding>,
    /// Numbers of earlier items this one waits for: open dependencies on a subject one of its
    /// findings needed (the same subject, or a host it could not be assessed through).
    pub blocked_by: Vec<usize>,
}

/// Whether an open finding of a dependency blocks a finding that depends on it: it is about
/// the same subject (the domain level before the forest level of that domain), or the
/// dependent finding could not be assessed and needed the dependency's host (a filtered
/// dc1:389 before an LDAP read of dc1 that timed out). A closed port does not block a check
/// whose probe answered.
pub fn blocks(dependency: &Finding, dependent: &Finding) -> bool {
    if dependency.subject == dependent.subject {
        return true;
    }
    dependent.status == Status::Error && dependent.waits_on.contains(&host_of(&dependency.subject))
}

/// Open items (fail, error, warn), one per check: an item's open dependencies come before it;
/// otherwise by owner team (network, DNS, Active Directory, identity/federation,
/// Configuration Manager), then fail, error, warn, then catalog order.
pub fn checklist(findings: &[ReportFinding]) -> Vec<Item<'_>> {
    // Group open findings by check, keeping the first position as the catalog order.
    let mut groups: Vec<(usize, Vec<&ReportFinding>)> = Vec::new();
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
    let key = |g: &(usize, Vec<&ReportFinding>)| {
        let first = g.1[0];
        let worst = g.1.iter().map(|f| status_rank(f.status)).min();
        (area_rank(&first.area), worst, g.0)
    };
    // Open checks this group depends on (itself excluded) and that block one of its findings,
    // by group index.
    let deps = |g: usize| -> Vec<usize> {
        let mut d: Vec<usize> = groups[g].1[0]
            .depends_on
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .filter(|&d| d != g)
            .filter(|&d| {
                groups[d]
                    .1
                    .iter()
                    .any(|dep| groups[g].1.iter().any(|f| blocks(&dep.finding, &f.finding)))
            })
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
            let mut blocked_by: Vec<usize> = deps(g).iter().filter_map(|&d| placed[d]).collect();
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

/// Fail first, then not assessed, warning, info, pass, not applicable.
pub fn status_rank(s: Status) -> usize {
    Status::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Severity;
    use crate::evaluate::Finding;

    fn finding(id: &str, area: &str, status: Status, deps: &[&str]) -> ReportFinding {
        ReportFinding {
            finding: Finding {
                check_id: id.into(),
                title: id.into(),
                area: area.into(),
                // One subject for all, so dependencies block as before the per-subject rule.
                subject: "corp.test".into(),
                status,
                severity: Severity::Blocker,
                observed: None,
                expected: "x".into(),
                reason: None,
                code: None,
                remediation: vec![],
                reference: "https://example.test/".into(),
                source: "s".into(),
                community: false,
                depends_on: deps.iter().map(|d| d.to_string()).collect(),
                waits_on: vec![],
            },
            change: None,
            exception: None,
        }
    }

    fn on(mut f: ReportFinding, subject: &str, waits_on: &[&str]) -> ReportFinding {
        f.finding.subject = subject.into();
        f.finding.waits_on = waits_on.iter().map(|h| h.to_string()).collect();
        f
    }

    #[test]
    fn blocked_only_by_a_subject_the_finding_needed() {
        let port = on(
            finding("port", "network", Status::Warn, &[]),
            "dc1.corp.test:9389 @ ws1",
            &[],
        );
        // The LDAP read answered: a closed port on the DC does not block its verdict.
        let answered = finding("forest", "identity", Status::Fail, &["port"]);
        let got = order(&[answered, port.clone()]);
        assert!(got.iter().all(|(_, _, b)| b.is_empty()), "{got:?}");
        // It timed out on dc1: the port item comes first and blocks it.
        let timed_out = on(
            finding("forest", "identity", Status::Error, &["port"]),
            "corp.test",
            &["corp.test", "dc1.corp.test"],
        );
        let got = order(&[timed_out, port.clone()]);
        assert_eq!(got[0].0, "port");
        assert_eq!(got[1].2, vec![1]);
        // ... but not when it needed another DC.
        let elsewhere = on(
            finding("forest", "identity", Status::Error, &["port"]),
            "corp.test",
            &["dc2.corp.test"],
        );
        let got = order(&[elsewhere, port]);
        assert!(got.iter().all(|(_, _, b)| b.is_empty()), "{got:?}");
    }

    fn order(findings: &[ReportFinding]) -> Vec<(String, usize, Vec<usize>)> {
        checklist(findings)
            .into_iter()
            .map(|i| (i.check_id.to_string(), i.findings.len(), i.blocked_by))
            .collect()
    }

    #[test]
    fn dependencies_first_then_team_then_status() {
        let got = order(&[
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
        let got = order(&[
            finding("a", "identity", Status::Fail, &["b", "gone"]),
            finding("b", "identity", Status::Fail, &["a"]),
            finding("c", "identity", Status::Fail, &["ok", "c"]),
            finding("ok", "network", Status::Pass, &[]),
        ]);
        assert_eq!(got.len(), 3);
        let c = got.iter().find(|(id, _, _)| id == "c").unwrap();
        assert!(
            c.2.is_empty(),
            "a passed dependency or itself blocks nothing"
        );
        assert_eq!(got[0].0, "c", "c is free at once");
    }
}
