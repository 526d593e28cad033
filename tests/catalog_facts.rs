//! The facts the built-in catalog encodes, cargo-deny style: each test takes the builtin catalog
//! and a small fixture observation and says what Microsoft's document says (the source is named
//! beside each test). They are the corrections of issue 13; each failed on the catalog before it.

use std::collections::BTreeMap;

use readyscan::catalog::{Catalog, Check, Severity};
use readyscan::evaluate::{evaluate, Finding, Status};
use readyscan::observation::Observation;
use serde_json::{json, Value};
use time::macros::date;
use time::Date;

const TODAY: Date = date!(2026 - 12 - 02);

fn catalog() -> Catalog {
    Catalog::builtin().expect("the builtin catalog is valid")
}

fn check<'a>(c: &'a Catalog, id: &str) -> &'a Check {
    c.get(id).unwrap_or_else(|| panic!("no check {id}"))
}

fn obs(probe: &str, subject: &str, fields: Value) -> Observation {
    Observation::observed(
        probe,
        subject,
        fields.as_object().cloned().unwrap_or_default(),
    )
}

/// The findings of one check on the given observations, every scope selected.
fn judge(c: &Catalog, id: &str, observations: &[Observation]) -> Vec<Finding> {
    let scopes: Vec<String> = readyscan::vocab::SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    evaluate(c, observations, &scopes, TODAY)
        .into_iter()
        .filter(|f| f.check_id == id)
        .collect()
}

fn status(c: &Catalog, id: &str, o: Observation) -> Status {
    let found = judge(c, id, &[o]);
    assert_eq!(found.len(), 1, "{id}: {found:?}");
    found[0].status
}

fn ports(check: &Check) -> Vec<u64> {
    let mut p: Vec<u64> = check.params["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    p.sort_unstable();
    p
}

// Intune, "Enable auto-discovery of Intune enrollment server"
// (intune/device-enrollment/windows/create-cname-autodiscovery.md): "Although the CNAME
// configuration is optional"; -s is preferred, EnterpriseEnrollment.manage.microsoft.com and
// manage.microsoft.com "both work ... but require users to acknowledge a confirmation message";
// US government: EnterpriseEnrollment-s.manage.microsoft.us.
#[test]
fn intune_cnames_are_warnings_and_accept_the_documented_targets() {
    let c = catalog();
    for id in [
        "dns-intune-enrollment-cname",
        "dns-intune-registration-cname",
    ] {
        assert_eq!(check(&c, id).severity, Severity::Warning, "{id}");
        let steps = check(&c, id).remediation.join(" ");
        assert!(steps.contains("72 hours"), "{id}: {steps}");
    }
    assert!(check(&c, "dns-intune-enrollment-cname")
        .remediation
        .join(" ")
        .contains("CNAME Validation"));
    let cname = |target: &str| {
        obs(
            "dns.cname",
            "enterpriseenrollment.contoso.com",
            json!({"purpose": "enrollment", "suffix": "contoso.com", "outcome": "answer", "target": target}),
        )
    };
    for (target, enrollment, preferred) in [
        (
            "enterpriseenrollment-s.manage.microsoft.com",
            Status::Pass,
            Status::Pass,
        ),
        (
            "EnterpriseEnrollment.manage.microsoft.com.",
            Status::Pass,
            Status::Warn,
        ),
        ("manage.microsoft.com", Status::Pass, Status::Warn),
        (
            "enterpriseenrollment-s.manage.microsoft.us",
            Status::Pass,
            Status::Pass,
        ),
        ("mdm.other-vendor.example", Status::Warn, Status::Warn),
    ] {
        assert_eq!(
            status(&c, "dns-intune-enrollment-cname", cname(target)),
            enrollment,
            "{target}"
        );
        assert_eq!(
            status(&c, "dns-intune-enrollment-cname-preferred", cname(target)),
            preferred,
            "{target}"
        );
    }
}

/// What "one document" means here: two references name the same document when their URLs,
/// without fragment, query, trailing slash and locale, end in the same last path segment (the
/// page's slug: KB179442 was published under two folders), or when their sources cite the same
/// KB number. One document must have one URL in the whole catalog.
fn document_keys(check: &Check) -> Vec<String> {
    let url = check.reference.split(['#', '?']).next().unwrap_or("");
    let slug = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let mut keys = vec![format!("page:{}", slug.to_ascii_lowercase())];
    let kb = regex::Regex::new(r"KB ?(\d{6,7})").unwrap();
    keys.extend(
        kb.captures_iter(&check.source)
            .map(|m| format!("KB{}", &m[1])),
    );
    keys
}

// KB179442 lives at troubleshoot/windows-server/active-directory/ (SupportArticles-docs
// support/windows-server/active-directory/config-firewall-for-ad-domains-and-trusts.md); the
// Intune and ConfigMgr pages moved from /mem/ to /intune/.
#[test]
fn references_are_https_current_and_one_url_per_document() {
    let c = catalog();
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    for check in &c.checks {
        let r = &check.reference;
        assert!(r.starts_with("https://"), "{}: {r}", check.id);
        assert!(
            !r.contains("learn.microsoft.com/en-us/mem/"),
            "{}: legacy /mem/ path {r}",
            check.id
        );
        let url = r.split('#').next().unwrap().to_string();
        for key in document_keys(check) {
            if let Some((other, other_url)) = seen.get(&key) {
                assert_eq!(
                    &url, other_url,
                    "{} and {other} cite one document ({key}) with two URLs",
                    check.id
                );
            } else {
                seen.insert(key, (check.id.clone(), url.clone()));
            }
        }
    }
    let kb = "https://learn.microsoft.com/en-us/troubleshoot/windows-server/active-directory/config-firewall-for-ad-domains-and-trusts";
    for id in ["net-dc-ports", "net-dc-ports-ldaps", "net-dc-rpc-range"] {
        assert_eq!(&*check(&c, id).reference, kb, "{id}");
    }
    assert_eq!(
        &*check(&c, "net-dc-adws-port").reference,
        "https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/service-overview-and-network-port-requirements"
    );
    for id in [
        "dns-intune-enrollment-cname",
        "net-intune-endpoints",
        "cm-support",
        "cm-co-management",
    ] {
        assert!(
            check(&c, id)
                .reference
                .starts_with("https://learn.microsoft.com/en-us/intune/"),
            "{id}"
        );
    }
}

// KB179442: "if you know that no clients use LDAP with SSL/TLS, you don't have to open ports 636
// and 3269"; 9389 (ADWS) is in KB832017, not KB179442.
#[test]
fn dc_ports_are_split_by_need() {
    let c = catalog();
    let blocker = check(&c, "net-dc-ports");
    assert_eq!(blocker.severity, Severity::Blocker);
    assert_eq!(ports(blocker), [53, 88, 135, 389, 445, 464, 3268]);
    let ldaps = check(&c, "net-dc-ports-ldaps");
    assert_eq!(ldaps.severity, Severity::Warning);
    assert_eq!(ports(ldaps), [636, 3269]);
    let adws = check(&c, "net-dc-adws-port");
    assert_eq!(adws.severity, Severity::Warning);
    assert_eq!(ports(adws), [9389]);
    assert!(adws.source.contains("KB832017"));
    // UDP is named, and said not to be tested by a TCP connect.
    let text = format!("{} {}", blocker.expected, blocker.remediation.join(" "));
    assert!(text.contains("UDP") && text.contains("not tested by a TCP connect"));
    for p in ["53", "88", "123", "389", "464"] {
        assert!(blocker.expected.contains(p), "UDP {p}");
    }
    // A filtered 636 is a warning, not a failure.
    let filtered = obs(
        "tcp.connect",
        "dc1.corp.test:636",
        json!({"host": "dc1.corp.test", "port": 636, "roles": ["dc"], "state": "filtered",
               "address": "10.0.0.1:636"}),
    );
    // A name that does not resolve is not a firewall problem: its ports are not judged
    // (dns-dc-name-resolves or dns-dc-srv-targets-resolve says it once).
    let unresolved = obs(
        "tcp.connect",
        "dc9.corp.test:389",
        json!({"host": "dc9.corp.test", "port": 389, "roles": ["dc"], "state": "unresolved",
               "reason": "dc9.corp.test not resolved"}),
    );
    assert_eq!(
        status(&c, "net-dc-ports", unresolved),
        Status::NotApplicable
    );
    assert_eq!(
        status(&c, "net-dc-ports-ldaps", filtered.clone()),
        Status::Warn
    );
    assert!(judge(&c, "net-dc-ports", &[filtered])
        .iter()
        .all(|f| f.subject == "-"));
}

fn site(build: u32) -> Observation {
    let mut fields = readyscan::probes::configmgr::release_fields(build, TODAY);
    fields.insert("site_code".into(), json!("P01"));
    Observation::observed("configmgr.site", "P01", fields)
}

// "Updates and servicing for Configuration Manager" (version details); Microsoft Lifecycle
// (2007, 2012, 2012 R2); "Upgrade to Configuration Manager current branch": 2203 baseline media
// was the last to upgrade 2012; co-management overview: "Co-management requires a supported
// version of Configuration Manager current branch."
#[test]
fn configmgr_releases_support_and_co_management() {
    use readyscan::probes::configmgr::releases::{lookup, table};
    let rows = table();
    let row = |release: &str| rows.iter().find(|r| r.release == release).unwrap();
    assert_eq!(row("2509").build, Some(9141));
    assert_eq!(row("2509").support_end.as_deref(), Some("2027-05-12"));
    assert_eq!(row("2603").build, Some(9146));
    assert_eq!(row("2603").support_end.as_deref(), Some("2027-11-05"));
    assert!(row("2509").approximate && row("2603").approximate);
    assert_eq!(row("2609").build, None, "2609's build is not known");
    assert!(row("2609").community);
    assert_eq!(row("2007").support_end.as_deref(), Some("2019-07-09"));
    assert_eq!(
        row("2012 SP2 / 2012 R2 SP1").support_end.as_deref(),
        Some("2022-07-12")
    );
    let newer = lookup(9150, TODAY).unwrap();
    assert!(newer.note.contains("not in the table"), "{}", newer.note);
    assert!(newer.note.contains("2609"), "{}", newer.note);

    let c = catalog();
    // 1710 (8577) was the co-management minimum once; now support decides.
    assert_eq!(status(&c, "cm-co-management", site(8577)), Status::Warn);
    assert_eq!(status(&c, "cm-co-management", site(7958)), Status::Warn);
    assert_eq!(status(&c, "cm-co-management", site(9141)), Status::Pass);
    assert_eq!(status(&c, "cm-co-management", site(9135)), Status::Warn);
    let steps = check(&c, "cm-site-version").remediation.join(" ");
    assert!(
        steps.contains("2203") && steps.contains("side by side"),
        "{steps}"
    );
    assert!(!steps.contains("in-place upgrade from 2012 SP2"));
    assert_eq!(check(&c, "cm-ad-sites").scopes, ["configmgr"]);
    // A core scan of a forest without ConfigMgr: no item, only "out of scope".
    let core = vec!["core".to_string()];
    let none = obs(
        "configmgr.ad_sites",
        "corp.test",
        json!({"container": false, "sites": []}),
    );
    let f: Vec<Finding> = evaluate(&c, &[none], &core, TODAY)
        .into_iter()
        .filter(|f| f.check_id == "cm-ad-sites")
        .collect();
    assert_eq!(f[0].status, Status::NotApplicable);
    assert_eq!(f[0].code.as_deref(), Some("out_of_scope"));
}

// Trusts under CN=System of the forest root; forest and external trusts reach another forest.
#[test]
fn forest_topology_counts_external_trusts_and_says_what_it_cannot_see() {
    let c = catalog();
    let topo = check(&c, "ad-forest-topology");
    assert!(
        topo.expected.contains("cannot be seen"),
        "{}",
        topo.expected
    );
    let dir = |trusts: Value, read: bool| {
        obs(
            "ldap.directory",
            "child.corp.test",
            json!({"forest_trusts": trusts, "trusts_read": read, "topology": "x"}),
        )
    };
    assert_eq!(
        status(
            &c,
            "ad-forest-topology",
            dir(json!(["fabrikam.test (external trust)"]), true)
        ),
        Status::Info
    );
    assert_eq!(
        status(&c, "ad-forest-topology", dir(json!([]), true)),
        Status::Pass
    );
    // When the forest root could not be read, there is no "single forest" pass.
    assert_eq!(
        status(&c, "ad-forest-topology", dir(Value::Null, false)),
        Status::NotApplicable
    );
}

fn dc(os: &str, version: &str) -> Observation {
    let entry = json!({"host": "dc1.corp.test", "operating_system": os, "operating_system_version": version});
    Observation::observed(
        "ldap.dc",
        "dc1.corp.test",
        readyscan::probes::ldap::dc_fields("corp.test", &entry, TODAY),
    )
}

// Microsoft Lifecycle: Windows Server 2012 / 2012 R2 extended support ended 2023-10-10, 2016
// ends 2027-01-12, 2019 2029-01-09, 2022 2031-10-14 (checks/data/windows-server-releases.toml).
#[test]
fn dc_operating_systems_by_build_and_support_date() {
    let c = catalog();
    assert_eq!(check(&c, "ad-dc-os-version").severity, Severity::Blocker);
    assert_eq!(check(&c, "ad-dc-os-support").severity, Severity::Warning);
    let cases = [
        (
            "Windows Server 2003 R2 Enterprise",
            "5.2 (3790)",
            Status::Fail,
            Status::Warn,
        ),
        (
            "Windows Server 2012 R2 Standard",
            "6.3 (9600)",
            Status::Pass,
            Status::Warn,
        ),
        (
            "Windows Server 2016 Standard",
            "10.0 (14393)",
            Status::Pass,
            Status::Pass,
        ),
        (
            "Windows Server 2019 Datacenter",
            "10.0 (17763)",
            Status::Pass,
            Status::Pass,
        ),
        (
            "Windows Server 2022 Standard",
            "10.0 (20348)",
            Status::Pass,
            Status::Pass,
        ),
    ];
    for (os, version, old, support) in cases {
        assert_eq!(status(&c, "ad-dc-os-version", dc(os, version)), old, "{os}");
        assert_eq!(
            status(&c, "ad-dc-os-support", dc(os, version)),
            support,
            "{os}"
        );
        assert_eq!(
            status(&c, "ad-dc-os-windows", dc(os, version)),
            Status::Pass
        );
    }
    // Samba says "Samba": information, not a pass, and not judged as a Windows release.
    let samba = dc("Samba", "4.17.12-Debian");
    assert_eq!(status(&c, "ad-dc-os-windows", samba.clone()), Status::Info);
    assert_eq!(
        status(&c, "ad-dc-os-version", samba.clone()),
        Status::NotApplicable
    );
    assert_eq!(status(&c, "ad-dc-os-support", samba), Status::NotApplicable);
}

// AD FS requirements: "For Windows Integrated authentication, you must use a DNS A record (not
// CNAME)"; the certificate is read at the federation metadata endpoint, /adfs/probe being the
// load balancer's HTTP probe.
#[test]
fn adfs_reads_the_metadata_endpoint_and_cites_the_a_record_rule() {
    let c = catalog();
    for id in [
        "fed-adfs-certificate-expiry",
        "fed-adfs-certificate-trusted",
    ] {
        assert_eq!(
            check(&c, id).params["path"],
            "/FederationMetadata/2007-06/FederationMetadata.xml",
            "{id}"
        );
    }
    assert!(check(&c, "fed-adfs-certificate-expiry")
        .expected
        .contains("readyscan's own"));
    assert_eq!(
        &*check(&c, "dns-adfs-a-record").reference,
        "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements"
    );
}

// IdFix README: deprecated and no longer supported as of 2026-06-30; Intune endpoints list
// *.dm.microsoft.com (no TLS inspection either); SPF: info with none, warning with two or more.
#[test]
fn idfix_dm_endpoints_and_spf() {
    let c = catalog();
    let upn = check(&c, "ad-upn-suffixes-routable").remediation.join(" ");
    assert!(
        !upn.contains("IdFix helps") && upn.contains("deprecated"),
        "{upn}"
    );
    for id in ["net-intune-endpoints", "net-intune-no-tls-inspection"] {
        let text = format!(
            "{} {}",
            check(&c, id).expected,
            check(&c, id).remediation.join(" ")
        );
        assert!(text.contains("*.dm.microsoft.com"), "{id}");
    }
    let m365 = |records: Value| {
        let n = records.as_array().map(Vec::len).unwrap_or(0);
        vec![obs(
            "dns.m365",
            "contoso.com",
            json!({"suffix": "contoso.com", "spf_records": records, "spf_count": n}),
        )]
    };
    let statuses = |records: Value| -> Vec<Status> {
        let o = m365(records);
        ["m365-spf-record", "m365-spf-single"]
            .iter()
            .map(|id| judge(&c, id, &o)[0].status)
            .collect()
    };
    assert_eq!(statuses(json!([])), [Status::Info, Status::NotApplicable]);
    assert_eq!(
        statuses(json!(["v=spf1 -all"])),
        [Status::Pass, Status::Pass]
    );
    assert_eq!(
        statuses(json!(["v=spf1 -all", "v=spf1 ip4:192.0.2.1 -all"])),
        [Status::Pass, Status::Warn]
    );
}

#[test]
fn checks_show_prints_ports_filter_and_dependencies() {
    let out = assert_cmd::Command::cargo_bin("readyscan")
        .unwrap()
        .args(["checks", "show", "net-dc-ports"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ports:       53, 88, 135, 389, 445, 464, 3268"),
        "{text}"
    );
    assert!(text.contains("filter:      roles = dc"), "{text}");
    let out = assert_cmd::Command::cargo_bin("readyscan")
        .unwrap()
        .args(["checks", "show", "dns-dc-srv"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("depends on:  net-dc-ports"), "{text}");
}

/// checks/sync.toml (written by scripts/gen-sync-checks) has exactly one check per rule the
/// engine can report (checks/data/sync-rules.toml), with the table's severity, limit and source;
/// each is judged on its own rule's ldap.sync_rule observation.
#[test]
fn one_sync_check_per_rule_of_the_table() {
    use readyscan::probes::sync::Rules;
    let c = catalog();
    let rules = Rules::shipped();
    let ids = rules.rule_ids();
    let checks: Vec<&Check> = c
        .checks
        .iter()
        .filter(|k| k.probe == "ldap.sync_rule")
        .collect();
    assert_eq!(checks.len(), ids.len(), "one check per rule");
    for (rule, attribute, kind) in &ids {
        let k = check(&c, rule);
        assert_eq!(k.filter.get("rule"), Some(&json!(rule)), "{rule}");
        let want = if rules.is_blocker(kind) {
            Severity::Blocker
        } else {
            Severity::Warning
        };
        assert_eq!(k.severity, want, "{rule}");
        let a = rules.attribute(attribute).unwrap();
        if kind == "too-long" {
            let max = a.max_length.unwrap().to_string();
            assert!(
                k.title.contains(&max) && k.expected.contains(&max),
                "{rule}"
            );
        }
        if kind != "non-routable-suffix" {
            assert_eq!(&*k.reference, a.source, "{rule}");
            assert_eq!(k.community, a.community, "{rule}");
        }
        if a.differs.is_some() && kind == "invalid-characters" {
            assert!(k.expected.contains("this follows Microsoft"), "{rule}");
        }
    }
    assert!(
        !c.checks.iter().any(|k| k.probe == "ldap.sync_objects"),
        "the aggregate checks were replaced by the per-rule ones"
    );
    // The rule's count decides; another rule's observation is not this check's.
    let rule_obs = |rule: &str, objects: u64| {
        obs(
            "ldap.sync_rule",
            &format!("corp.test: {rule}"),
            json!({ "rule": rule, "objects": objects, "share": "of 10 objects read" }),
        )
    };
    let upn = "sync-upn-invalid-characters";
    let found = judge(
        &c,
        upn,
        &[rule_obs(upn, 2), rule_obs("sync-upn-too-long", 0)],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status, Status::Fail);
    assert_eq!(found[0].observed.as_deref(), Some("2 (of 10 objects read)"));
    assert_eq!(status(&c, upn, rule_obs(upn, 0)), Status::Pass);
    assert_eq!(
        status(&c, "sync-upn-too-long", rule_obs("sync-upn-too-long", 1)),
        Status::Warn
    );
}
