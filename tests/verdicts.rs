//! Verdicts that do not mislead (issue 13): no empty passes, "Blocked by" per subject, cloud
//! connectivity skipped on purpose, steps written for the subject, Markdown that shows `<`.

use readyscan::catalog::{Catalog, CatalogError};
use readyscan::evaluate::{evaluate, Finding, Status};
use readyscan::observation::Observation;
use readyscan::render::{formats, View};
use readyscan::report::{checklist, Report};
use serde_json::{json, Value};
use time::macros::{date, datetime};

fn catalog() -> Catalog {
    Catalog::builtin().unwrap()
}

fn obs(probe: &str, subject: &str, fields: Value) -> Observation {
    Observation::observed(probe, subject, fields.as_object().cloned().unwrap())
}

fn judge(observations: &[Observation], id: &str) -> Vec<Finding> {
    let scopes: Vec<String> = readyscan::vocab::SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    evaluate(&catalog(), observations, &scopes, date!(2026 - 12 - 02))
        .into_iter()
        .filter(|f| f.check_id == id)
        .collect()
}

fn demo() -> Report {
    Report::build(
        readyscan::demo::before().unwrap(),
        &catalog(),
        date!(2026 - 11 - 23),
        datetime!(2026-11-23 10:00 UTC),
    )
}

#[test]
fn nothing_to_judge_is_not_applicable_with_the_reason() {
    let missing = obs(
        "dns.srv",
        "_kerberos._tcp.corp.test",
        json!({"name": "_kerberos._tcp.corp.test", "domain": "corp.test", "purpose": "kerberos",
               "outcome": "nxdomain", "targets": [], "unresolved_targets": [], "stale_targets": []}),
    );
    for id in ["dns-dc-srv-targets-resolve", "dns-dc-srv-stale"] {
        let f = &judge(std::slice::from_ref(&missing), id)[0];
        assert_eq!(f.status, Status::NotApplicable, "{id}");
        assert_eq!(
            f.reason.as_deref(),
            Some("no SRV records to check: see dns-dc-srv")
        );
        assert_eq!(f.code.as_deref(), Some("nothing_to_judge"));
    }
    assert_eq!(
        judge(&[missing], "dns-dc-srv")[0].status,
        Status::Fail,
        "the missing record itself fails"
    );
    // One management point: nothing to compare, no "agree" pass.
    let site = obs(
        "configmgr.site",
        "P01",
        json!({"site_code": "P01", "mps": ["cm01"], "compared_mps": [], "published_mps": [],
               "build_mismatch": [], "stale_mps": []}),
    );
    for id in ["cm-mp-builds-agree", "cm-stale-mp"] {
        assert_eq!(
            judge(std::slice::from_ref(&site), id)[0].status,
            Status::NotApplicable,
            "{id}"
        );
    }
    // No pass anywhere in the demo says "(none)" about nothing.
    for f in &demo().findings {
        if f.status == Status::Pass {
            assert_ne!(f.observed.as_deref(), Some("(none)"), "{}", f.check_id);
        }
    }
}

#[test]
fn blocked_by_only_when_the_subject_was_needed() {
    let c = catalog();
    let scopes = vec!["core".to_string()];
    let today = date!(2026 - 12 - 02);
    let port = |p: u16, state: &str| {
        obs(
            "tcp.connect",
            &format!("dc1.corp.test:{p}"),
            json!({"host": "dc1.corp.test", "port": p, "roles": ["dc"], "state": state,
                   "address": format!("10.0.0.1:{p}")}),
        )
    };
    let level = |forest: u64| {
        obs(
            "ldap.root_dse",
            "corp.test",
            json!({"forest_functionality": forest, "domain_functionality": 3,
                   "answered_by": "dc1.corp.test"}),
        )
    };
    let blocked = |observations: Vec<Observation>| -> Vec<(String, Vec<usize>)> {
        let report = Report::build(
            readyscan::observation::ObservationSet {
                scan: readyscan::demo::before().unwrap().scan,
                observations,
            },
            &c,
            today,
            datetime!(2026-12-02 10:00 UTC),
        );
        let _ = &scopes;
        checklist(&report.findings)
            .iter()
            .map(|i| (i.check_id.to_string(), i.blocked_by.clone()))
            .collect()
    };
    // LDAP answered: a filtered 445 on the DC does not block the forest level verdict.
    let items = blocked(vec![port(445, "filtered"), level(2)]);
    let forest = items
        .iter()
        .find(|(id, _)| id == "ad-forest-functional-level")
        .unwrap();
    assert!(forest.1.is_empty(), "{items:?}");
    // LDAP timed out on dc1 while 389 is filtered: now the port item blocks it.
    let failed = Observation::failed(
        "ldap.root_dse",
        "corp.test",
        "timeout",
        "dc1.corp.test: no LDAP answer within 3s".into(),
        json!({"domain": "corp.test", "dcs": ["dc1.corp.test"]})
            .as_object()
            .cloned()
            .unwrap(),
    );
    let items = blocked(vec![port(389, "filtered"), failed]);
    let ports = items
        .iter()
        .position(|(id, _)| id == "net-dc-ports")
        .unwrap();
    let forest = items
        .iter()
        .find(|(id, _)| id == "ad-forest-functional-level")
        .unwrap();
    // (and by the domain level of the same domain, also not assessed)
    assert!(forest.1.contains(&(ports + 1)), "{items:?}");
}

fn md(report: &Report) -> String {
    let json = serde_json::to_string(report).unwrap();
    let view = View::new(report, &json);
    let f = formats().into_iter().find(|f| f.name() == "md").unwrap();
    f.render(&view).unwrap()
}

#[test]
fn steps_are_written_for_the_subject() {
    let report = demo();
    let find = |id: &str, subject: &str| {
        report
            .findings
            .iter()
            .find(|f| f.check_id == id && f.subject == subject)
            .unwrap()
    };
    let cname = find(
        "dns-intune-enrollment-cname",
        "enterpriseenrollment.contoso.test",
    );
    let steps = cname.remediation.join("\n");
    assert!(
        steps.contains("EnterpriseEnrollment.contoso.test. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.com."),
        "{steps}"
    );
    assert!(steps.contains(
        "Add-DnsServerResourceRecordCName -ZoneName contoso.test -Name EnterpriseEnrollment -HostNameAlias EnterpriseEnrollment-s.manage.microsoft.com"
    ));
    let forest = find("ad-forest-functional-level", "corp.contoso.test");
    assert!(forest.remediation.iter().any(|s| s
        .contains("Set-ADForestMode -Identity corp.contoso.test -ForestMode Windows2008Forest")));
    let port = find("net-dc-ports-ldaps", "dc1.corp.contoso.test:636");
    assert!(
        port.remediation[0].contains("allow TCP 636 from their networks to dc1.corp.contoso.test")
    );
    // No placeholder reaches an open item when its value is known.
    let placeholder = regex::Regex::new(r"<[a-z_]+>|\{[a-z_]+\}").unwrap();
    for f in report
        .findings
        .iter()
        .filter(|f| f.status.is_open() && f.observed.is_some())
    {
        for s in &f.remediation {
            assert!(
                !placeholder.is_match(s),
                "{} {}: {s}",
                f.check_id,
                f.subject
            );
        }
    }
    // One item, two subjects: each subject's own step, the shared steps once.
    let text = md(&report);
    let item = &text[text
        .find("EnterpriseEnrollment CNAME points at Intune")
        .unwrap()..];
    let item = &item[..item.find("\n#### ").unwrap()];
    assert!(
        item.contains("create: EnterpriseEnrollment.contoso.test."),
        "{item}"
    );
    assert!(
        item.contains("create: EnterpriseEnrollment.fabrikam.test."),
        "{item}"
    );
    assert_eq!(item.matches("Run readyscan again.").count(), 1, "{item}");
    assert!(text.contains("readyscan never runs them"));
}

#[test]
fn catalog_rejects_placeholders_naming_unknown_fields() {
    let check = |step: &str| {
        format!(
            r#"[[check]]
id = "x-check"
title = "x"
area = "dns"
scopes = ["intune"]
severity = "warning"
probe = "dns.cname"
field = "target"
requirement = "present"
expected = "x"
remediation = ["{step}"]
reference = "https://learn.microsoft.com/x"
source = "s"
"#
        )
    };
    assert!(Catalog::from_sources(vec![("t.toml".into(), check("create {suffix}"))]).is_ok());
    match Catalog::from_sources(vec![("t.toml".into(), check("create {sufix}"))]) {
        Err(CatalogError::Invalid(p)) => {
            let text = p[0].to_string();
            assert!(
                text.contains("t.toml:11:") && text.contains("{sufix}"),
                "{text}"
            );
        }
        other => panic!("accepted an unknown placeholder: {other:?}"),
    }
    assert!(Catalog::from_sources(vec![("t.toml".into(), check("a { b"))]).is_err());
}

#[test]
fn markdown_shows_angle_brackets_as_text() {
    let text = std::fs::read_to_string("fixtures/scenarios/hostile.json").unwrap();
    let set = readyscan::observation::parse_observations(&text, "hostile.json").unwrap();
    let report = Report::build(
        set,
        &catalog(),
        date!(2026 - 11 - 23),
        datetime!(2026-11-23 10:00 UTC),
    );
    let text = md(&report);
    assert!(!text.contains("&lt;") && !text.contains("&gt;"));
    assert!(text.contains("\\<script\\>alert(1)\\</script\\>"));
    let raw_tag = regex::Regex::new(r"(^|[^\\])<(script|img)").unwrap();
    assert!(!raw_tag.is_match(&text), "a raw tag in report.md");
}

#[test]
fn ports_sort_numerically() {
    let port = |p: u16| {
        obs(
            "tcp.connect",
            &format!("dc1.corp.test:{p}"),
            json!({"host": "dc1.corp.test", "port": p, "roles": ["dc"], "state": "filtered",
                   "address": format!("10.0.0.1:{p}")}),
        )
    };
    // Saved in text order (3268 before 389), judged in number order.
    let found = judge(
        &[port(3268), port(389), port(445), port(53)],
        "net-dc-ports",
    );
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "dc1.corp.test:53",
            "dc1.corp.test:389",
            "dc1.corp.test:445",
            "dc1.corp.test:3268"
        ]
    );
    let mut observed = vec![port(3268), port(389)];
    readyscan::runner::order_observations(&mut observed);
    assert_eq!(observed[0].subject, "dc1.corp.test:389");
}

fn html(report: &Report) -> String {
    let json = serde_json::to_string(report).unwrap();
    let view = View::new(report, &json);
    let f = formats().into_iter().find(|f| f.name() == "html").unwrap();
    f.render(&view).unwrap()
}

#[test]
fn readable_dates_with_iso_titles_and_singular_counts() {
    let report = demo();
    let page = html(&report);
    assert!(page.contains(
        "<dd><time datetime=\"2026-11-02T09:15:00Z\" title=\"2026-11-02T09:15:00Z\">2 November 2026, 09:15 UTC</time></dd>"
    ));
    assert!(page.contains(">23 November 2026</time>"));
    let wrong = regex::Regex::new(r"\b1 (items|blockers|results|subjects|warnings)\b").unwrap();
    assert!(!wrong.is_match(&page), "{:?}", wrong.find(&page));
    // The configmgr team has one blocker: singular.
    assert!(page.contains(", 1 blocker<"), "no singular blocker count");
    let text = md(&report);
    assert!(text.contains("| Scan date | 2 November 2026, 09:15 UTC (2026-11-02T09:15:00Z) |"));
}
