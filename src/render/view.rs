//! What the templates see: typed, borrowed views of the report plus the orderings and counts a
//! reader needs. The HTML and Markdown layouts read the same [`Context`].

use serde::Serialize;

use super::finding::{status_label, FindingView};
use super::rerun::Rerun;
use crate::catalog::Severity;
use crate::evaluate::{Status, Verdict};
use crate::report::{checklist, Item, Report, ReportFinding};
use crate::vocab::{area_rank, area_team, area_title, AREAS};

pub struct View<'a> {
    pub report: &'a Report,
    /// SHA-256 of the report.json written beside, so a reader can tie the two together.
    pub json_sha256: String,
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

    /// The remediation checklist in fix order.
    pub fn checklist(&self) -> Vec<Item<'a>> {
        checklist(&self.report.findings)
    }

    pub fn context(&self) -> Context<'_> {
        Context::of(self)
    }
}

/// The steps of several findings of one check: step 1 of each, then step 2 of each, ...;
/// a text already listed is not repeated.
pub fn merged_steps<'a>(findings: &[&'a ReportFinding]) -> Vec<&'a str> {
    let longest = findings
        .iter()
        .map(|f| f.remediation.len())
        .max()
        .unwrap_or(0);
    let mut out: Vec<&'a str> = Vec::new();
    for i in 0..longest {
        for f in findings {
            if let Some(step) = f.finding.remediation.get(i) {
                if !out.contains(&step.as_str()) {
                    out.push(step);
                }
            }
        }
    }
    out
}

/// The report's own header fields the layouts print.
#[derive(Serialize)]
pub struct Head<'a> {
    pub generated_at: &'a str,
    pub judged_on: &'a str,
    pub tool_version: &'a str,
    pub catalog_version: &'a str,
    pub scan: ScanHead<'a>,
}

#[derive(Serialize)]
pub struct ScanHead<'a> {
    pub collected_at: &'a str,
    pub host: &'a str,
}

#[derive(Serialize)]
pub struct ItemView<'a> {
    pub number: usize,
    pub check_id: &'a str,
    pub title: &'a str,
    pub status: Status,
    pub status_label: &'static str,
    pub severity: Severity,
    pub area: &'a str,
    pub area_title: &'a str,
    pub team: &'a str,
    pub expected: &'a str,
    /// The steps of every subject, each distinct step once, in step order (a step filled with
    /// two subjects' values appears twice, one after the other).
    pub remediation: Vec<&'a str>,
    pub reference: &'a str,
    pub source: &'a str,
    pub community: bool,
    pub blocked_by: Vec<usize>,
    pub blocked_by_many: bool,
    pub subject_count: usize,
    pub findings: Vec<FindingView<'a>>,
    /// Subjects left out of `findings` in a large report (all of them are in checklist.csv).
    pub more_subjects: usize,
    /// Table rows of the item: the subjects listed, and one more saying how many are left out.
    pub rows: usize,
}

/// Consecutive checklist items of one team.
#[derive(Serialize)]
pub struct TeamGroup<'a> {
    pub team: &'a str,
    pub items: Vec<ItemView<'a>>,
}

/// Open items per team, for the summary under the verdict.
#[derive(Serialize)]
pub struct TeamCount<'a> {
    pub team: &'a str,
    pub items: usize,
    pub blockers: usize,
    pub first: usize,
}

#[derive(Serialize)]
pub struct StatusCount {
    pub status: Status,
    pub label: &'static str,
    pub count: usize,
}

/// One check's findings in the "All results" table.
#[derive(Serialize)]
pub struct CheckRows<'a> {
    pub check_id: &'a str,
    pub title: &'a str,
    pub expected: &'a str,
    pub severity: Severity,
    pub number: Option<usize>,
    pub findings: Vec<FindingView<'a>>,
    /// In a large report, a check with many results shows one row per status instead.
    pub summary: Vec<StatusRows<'a>>,
}

/// One status of a summarized check: how many subjects and the first few.
#[derive(Serialize)]
pub struct StatusRows<'a> {
    pub status: Status,
    pub status_label: &'static str,
    pub count: usize,
    pub first: Vec<&'a str>,
    pub more: usize,
}

/// Past this many findings, "All results" summarizes checks with more than [`CHECK_ROWS`]
/// results per status (the full list stays in report.json), so a browser can still open it.
pub const ALL_RESULTS_ROWS: usize = 2_000;
/// Rows a check keeps in a large report before it is summarized.
pub const CHECK_ROWS: usize = 20;
/// Subjects named per status in a summary row.
const SUMMARY_NAMES: usize = 5;
/// Subjects a checklist item lists in a large report; the rest are counted.
pub const ITEM_SUBJECTS: usize = 200;

fn summarize<'a>(rows: &[FindingView<'a>]) -> Vec<StatusRows<'a>> {
    let mut out: Vec<StatusRows<'a>> = Vec::new();
    for r in rows {
        let status = r.finding.status;
        let i = match out.iter().position(|s| s.status == status) {
            Some(i) => i,
            None => {
                out.push(StatusRows {
                    status,
                    status_label: r.status_label,
                    count: 0,
                    first: Vec::new(),
                    more: 0,
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.count += 1;
        if s.first.len() < SUMMARY_NAMES {
            s.first.push(&r.finding.subject);
        } else {
            s.more += 1;
        }
    }
    out
}

#[derive(Serialize)]
pub struct AreaView<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub team: &'a str,
    pub checks: Vec<CheckRows<'a>>,
    pub open: usize,
    pub passed: usize,
    pub total: usize,
}

/// Everything the HTML and Markdown layouts read.
#[derive(Serialize)]
pub struct Context<'a> {
    pub report: Head<'a>,
    pub json_sha256: &'a str,
    pub verdict_label: String,
    pub verdict_class: Verdict,
    pub scopes: String,
    /// What was scanned: domains, DCs, DNS servers, bind and transport.
    pub scanned: crate::report::scanned::Scanned,
    pub insecure_tls: bool,
    /// The cloud checks were skipped on purpose (no `--cloud-endpoints`).
    pub cloud_not_tested: bool,
    pub counts: Vec<StatusCount>,
    pub checklist_count: usize,
    pub checklist: Vec<TeamGroup<'a>>,
    pub teams: Vec<TeamCount<'a>>,
    pub not_assessed_count: usize,
    pub not_assessed: Vec<FindingView<'a>>,
    pub findings_count: usize,
    /// "All results" summarizes large checks (see [`ALL_RESULTS_ROWS`]).
    pub summarized: bool,
    pub areas: Vec<AreaView<'a>>,
    pub demo: bool,
    pub mode_label: &'static str,
    pub rerun: Rerun<'a>,
    /// The computer inventory's OS distribution, when the scan read one.
    pub inventory: Option<super::inventory::OsDistribution>,
    pub sync: Vec<super::sync_view::SyncView>,
}

impl<'a> Context<'a> {
    fn of(view: &'a View<'a>) -> Context<'a> {
        let r = view.report;
        let items = view.checklist();
        let large = r.findings.len() > ALL_RESULTS_ROWS;
        let listed = |n: usize| if large { n.min(ITEM_SUBJECTS) } else { n };
        let number_of = |id: &str| items.iter().find(|i| i.check_id == id).map(|i| i.number);
        let item_view = |i: &Item<'a>| {
            let first = i.findings[0];
            let shown = &i.findings[..listed(i.findings.len())];
            let left_out = i.findings.len() - shown.len();
            ItemView {
                number: i.number,
                check_id: i.check_id,
                title: &first.title,
                status: i.status,
                status_label: status_label(i.status),
                severity: first.severity,
                area: i.area,
                area_title: area_title(i.area),
                team: area_team(i.area),
                expected: &first.expected,
                remediation: merged_steps(&i.findings),
                reference: &first.reference,
                source: &first.source,
                community: first.community,
                blocked_by: i.blocked_by.clone(),
                blocked_by_many: i.blocked_by.len() > 1,
                subject_count: i.findings.len(),
                findings: shown.iter().map(|f| FindingView::of(f, None)).collect(),
                more_subjects: left_out,
                rows: shown.len() + usize::from(left_out > 0),
            }
        };
        // Consecutive items of one team form a group; dependencies may split a team in two.
        let mut checklist: Vec<TeamGroup<'a>> = Vec::new();
        for item in &items {
            let team = area_team(item.area);
            match checklist.last_mut() {
                Some(g) if g.team == team => g.items.push(item_view(item)),
                _ => checklist.push(TeamGroup {
                    team,
                    items: vec![item_view(item)],
                }),
            }
        }
        let teams = AREAS
            .iter()
            .filter_map(|area| {
                let of_team: Vec<&Item<'_>> = items.iter().filter(|i| i.area == area.id).collect();
                of_team.first().map(|first| TeamCount {
                    team: area.team,
                    items: of_team.len(),
                    blockers: of_team.iter().filter(|i| i.status == Status::Fail).count(),
                    first: first.number,
                })
            })
            .collect();
        let not_assessed: Vec<FindingView<'a>> = r
            .findings
            .iter()
            .filter(|f| f.status == Status::Error)
            .map(|f| FindingView::of(f, number_of(&f.check_id)))
            .collect();
        let mut area_ids: Vec<&str> = r.findings.iter().map(|f| f.area.as_str()).collect();
        area_ids.sort_by_key(|a| area_rank(a));
        area_ids.dedup();
        let row = |f: &'a ReportFinding| {
            let number = f.status.is_open().then(|| number_of(&f.check_id));
            FindingView::of(f, number.flatten())
        };
        let areas = area_ids
            .into_iter()
            .map(|area| {
                let of_area = || r.findings.iter().filter(move |f| f.area == area);
                // The same findings grouped by check, for a table with one row group per check.
                let mut checks: Vec<CheckRows<'a>> = Vec::new();
                for f in of_area() {
                    match checks.iter_mut().find(|c| c.check_id == f.check_id) {
                        Some(c) => c.findings.push(row(f)),
                        None => checks.push(CheckRows {
                            check_id: &f.check_id,
                            title: &f.title,
                            expected: &f.expected,
                            severity: f.severity,
                            number: number_of(&f.check_id),
                            findings: vec![row(f)],
                            summary: Vec::new(),
                        }),
                    }
                }
                if large {
                    for c in checks.iter_mut().filter(|c| c.findings.len() > CHECK_ROWS) {
                        c.summary = summarize(&c.findings);
                        c.findings = Vec::new();
                    }
                }
                AreaView {
                    id: area,
                    title: area_title(area),
                    team: area_team(area),
                    checks,
                    open: of_area().filter(|f| f.status.is_open()).count(),
                    passed: of_area().filter(|f| f.status == Status::Pass).count(),
                    total: of_area().count(),
                }
            })
            .collect();
        Context {
            report: Head {
                generated_at: &r.generated_at,
                judged_on: &r.judged_on,
                tool_version: &r.tool_version,
                catalog_version: &r.catalog_version,
                scan: ScanHead {
                    collected_at: &r.scan.collected_at,
                    host: &r.scan.host,
                },
            },
            json_sha256: &view.json_sha256,
            verdict_label: r.verdict_text(),
            verdict_class: r.verdict,
            scopes: r.scan.config.scopes.join(", "),
            scanned: crate::report::scanned::Scanned::of(&r.scan, &r.observations),
            insecure_tls: r.scan.config.insecure_tls,
            cloud_not_tested: r.cloud_not_tested(),
            counts: Status::ALL
                .iter()
                .map(|s| StatusCount {
                    status: *s,
                    label: status_label(*s),
                    count: r.summary.count(*s),
                })
                .collect(),
            checklist_count: items.len(),
            checklist,
            teams,
            not_assessed_count: not_assessed.len(),
            not_assessed,
            findings_count: r.findings.len(),
            summarized: large,
            areas,
            demo: r.scan.mode == "demo",
            mode_label: match r.scan.mode.as_str() {
                "live" => "live scan",
                "demo" => "built-in demo data",
                "evaluate" => "saved observations, judged again",
                "merge" => "scans from several hosts, merged",
                _ => "",
            },
            rerun: Rerun::of(r),
            inventory: super::inventory::os_distribution(r),
            sync: super::sync_view::sync_views(r),
        }
    }
}
