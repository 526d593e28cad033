//! The computer inventory (ldap.computers, ldap.os_release) against a real Samba AD DC with
//! planted computer objects (fixtures/lab/samba-lab.sh computer-add).
//!
//! Needs root and the Samba packages; under CI=true a lab that cannot start fails the test.

mod common;

use common::{finding, Lab};

use serde_json::Value;

const LAB: &str = "rsinv";
const INDEX: &str = "26";
const PASSWORD_ENV: &str = "READYSCAN_PASSWORD";

/// Now as a FILETIME (100 ns since 1601), as AD writes lastLogonTimestamp.
fn filetime_now() -> u64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (unix + 11_644_473_600) * 10_000_000
}

fn scan(lab: &Lab, password: &str) -> Value {
    let out = tempfile::tempdir().unwrap();
    let fqdn = lab.get("LAB_DC_FQDN");
    let target = format!("{fqdn}={}", lab.get("LAB_DC_IP"));
    let output = common::readyscan()
        .args(["scan", "--scope", "core,intune", "--timeout", "3s"])
        .args(["--target", &target, "--dc", fqdn])
        .args(["--domain", lab.get("LAB_DOMAIN")])
        .args(["--ca-cert", lab.get("LAB_CA_CERT")])
        .args(["--dns-server", lab.get("LAB_DC_IP")])
        .args(["--ldap-security", "ldaps"])
        .args(["--bind-user", lab.get("LAB_ADMIN_USER")])
        .env(PASSWORD_ENV, password)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(out.path().join("report.json")).unwrap_or_else(|e| {
        panic!(
            "no report.json ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn group<'a>(report: &'a Value, subject: &str) -> &'a Value {
    report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.os_release" && o["subject"] == subject)
        .unwrap_or_else(|| panic!("no ldap.os_release on {subject}"))
}

#[test]
fn computers_by_release_against_samba() {
    if common::cannot_run("computers_by_release_against_samba").is_some() {
        return;
    }
    let lab =
        Lab::up(LAB, INDEX, &[]).unwrap_or_else(|e| panic!("the Samba lab did not start: {e}"));
    let now = filetime_now().to_string();
    let old = "132223104000000000"; // 2020-01-01
    let seen = |cn: &str, os: &str, v: &str| {
        lab.cmd("computer-add", &[cn, os, v, "--last-logon", &now]);
    };
    seen("pc-w7", "Windows 7 Professional", "6.1 (7601)");
    seen("pc-w10", "Windows 10 Pro", "10.0 (19045)");
    seen("pc-w11a", "Windows 11 Enterprise", "10.0 (22631)");
    seen("pc-w11b", "Windows 11 Enterprise", "10.0 (26100)");
    seen("srv-12r2", "Windows Server 2012 R2 Standard", "6.3 (9600)");
    seen("srv-22", "Windows Server 2022 Datacenter", "10.0 (20348)");
    lab.cmd(
        "computer-add",
        &[
            "pc-off",
            "Windows 10 Pro",
            "10.0 (19045)",
            "--disabled",
            "--last-logon",
            &now,
        ],
    );
    lab.cmd(
        "computer-add",
        &[
            "pc-old",
            "Windows 11 Enterprise",
            "10.0 (26100)",
            "--last-logon",
            old,
        ],
    );

    let password = lab.get("LAB_ADMIN_PASSWORD").to_string();
    let report = scan(&lab, &password);
    let domain = lab.get("LAB_DOMAIN").to_ascii_lowercase();
    let realm = domain.clone();
    let inv = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.computers")
        .expect("an ldap.computers observation");
    assert_eq!(inv["status"], "observed", "{inv}");
    let f = &inv["fields"];
    assert_eq!(f["disabled_skipped"], 1, "{f}");
    // pc-old, plus the DC itself if Samba gave it no recent lastLogonTimestamp.
    assert!(f["stale"].as_u64().unwrap() >= 1, "{f}");
    assert!(f["computers_read"].as_u64().unwrap() >= 9, "{f}");

    let today = time::OffsetDateTime::now_utc().date().to_string();
    let cases = [
        ("Windows 7 SP1 (all editions)", "pc-w7", "2020-01-14"),
        ("Windows 10 22H2 (all editions)", "pc-w10", "2025-10-14"),
        (
            "Windows 11 23H2 (Enterprise/Education)",
            "pc-w11a",
            "2026-11-10",
        ),
        (
            "Windows 11 24H2 (Enterprise/Education)",
            "pc-w11b",
            "2027-10-12",
        ),
        ("Windows Server 2012 R2", "srv-12r2", "2023-10-10"),
        ("Windows Server 2022", "srv-22", "2031-10-14"),
    ];
    for (release, host, end) in cases {
        let subject = format!("{domain}: {release}");
        let g = group(&report, &subject);
        assert_eq!(g["fields"]["count"], 1, "{g}");
        assert_eq!(
            g["fields"]["names"],
            serde_json::json!([format!("{host}.{realm}")]),
            "{g}"
        );
        assert_eq!(g["fields"]["support_end"], end, "{g}");
        let want = if today.as_str() > end { "warn" } else { "pass" };
        let found = finding(&report, "inv-os-release-support", &subject);
        assert_eq!(found["status"], want, "{found}");
    }
    // The disabled Windows 10 is not counted; the stale 24H2 machine is counted apart.
    let w11b = group(
        &report,
        &format!("{domain}: Windows 11 24H2 (Enterprise/Education)"),
    );
    assert_eq!(w11b["fields"]["stale"], 1, "{w11b}");

    // The forest: the lab's own DC is listed under CN=Sites with its site and as writable.
    let forest = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.forest")
        .expect("an ldap.forest observation");
    assert_eq!(forest["status"], "observed", "{forest}");
    let dcs = forest["fields"]["forest_dcs"].as_array().unwrap();
    let me = dcs
        .iter()
        .find(|d| {
            d["host"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(lab.get("LAB_DC_FQDN"))
        })
        .unwrap_or_else(|| panic!("the lab DC is not in {dcs:?}"));
    assert_eq!(me["site"], "Default-First-Site-Name", "{me}");
    assert_eq!(me["writable"], true, "{me}");
    assert_eq!(me["domain"], domain.as_str(), "{me}");
    let d = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.domain" && o["subject"] == domain.as_str())
        .expect("an ldap.domain observation for the lab domain");
    assert_eq!(d["fields"]["writable_dcs"], 1, "{d}");
    assert_eq!(
        d["fields"]["dcs_per_site"],
        serde_json::json!(["Default-First-Site-Name: 1"])
    );
    assert_eq!(
        finding(&report, "inv-domain-writable-dc", &domain)["status"],
        "pass"
    );
    assert_eq!(
        finding(&report, "inv-domain-netbios-no-period", &domain)["status"],
        "pass"
    );
    assert!(!report.to_string().contains(&password));
}
