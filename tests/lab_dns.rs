//! DNS probes against the internal DNS of a real Samba AD DC in a network namespace
//! (fixtures/lab/): the SRV records Samba registers, records added with `samba-lab.sh dns-add`
//! (a correct CNAME, a wrong CNAME target, SRV targets that do not resolve or do not answer) and
//! a missing record. The lab DC has no forwarder, so no query leaves the lab.
//!
//! Needs root and the Samba packages (`fixtures/lab/samba-lab.sh install`). Under CI=true a lab
//! that cannot start fails the test; elsewhere the test says why it skips.

mod common;

use common::{finding, Lab};

use serde_json::{json, Value};

const LAB: &str = "rsdns";
const INDEX: &str = "23";

fn observation<'a>(report: &'a Value, probe: &str, subject: &str) -> &'a Value {
    report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == probe && o["subject"] == subject)
        .unwrap_or_else(|| panic!("no {probe} observation of {subject}"))
}

#[test]
fn samba_dns_srv_health_and_intune_cnames() {
    if common::cannot_run("samba_dns_srv_health_and_intune_cnames").is_some() {
        return;
    }
    let lab = match Lab::up(LAB, INDEX, &[]) {
        Ok(lab) => lab,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("{e}"),
        Err(e) => {
            eprintln!("skipping the Samba DNS lab test: the lab did not start: {e}");
            return;
        }
    };
    let domain = lab.get("LAB_DOMAIN").to_string();
    let fqdn = lab.get("LAB_DC_FQDN").to_string();
    let dc_ip = lab.get("LAB_DC_IP").to_string();
    let host_ip = lab.get("LAB_HOST_IP").to_string();

    // Intune records in the domain's zone: one right, one pointing elsewhere.
    lab.dns_add(
        &domain,
        "EnterpriseEnrollment",
        "CNAME",
        "EnterpriseEnrollment-s.manage.microsoft.com",
    );
    lab.dns_add(
        &domain,
        "EnterpriseRegistration",
        "CNAME",
        "enterpriseregistration.example.net",
    );
    // Kerberos SRV records of retired DCs: dc9 has no host record, dc8 resolves to the host
    // side of the lab link, where nothing listens on 88.
    lab.dns_add(&domain, "dc8", "A", &host_ip);
    lab.dns_add(
        &domain,
        "_kerberos._tcp",
        "SRV",
        &format!("dc8.{domain} 88 0 100"),
    );
    lab.dns_add(
        &domain,
        "_kerberos._tcp",
        "SRV",
        &format!("dc9.{domain} 88 0 100"),
    );

    let out = tempfile::tempdir().unwrap();
    // A suffix inside the lab zone that has no records: NXDOMAIN from the DC.
    let bare = format!("bare.{domain}");
    let output = common::readyscan()
        .args(["scan", "--scope", "core,intune", "--timeout", "3s"])
        .args(["--dc", &fqdn, "--target", &format!("{fqdn}={dc_ip}")])
        .args(["--domain", &domain, "--dns-server", &dc_ip])
        .args(["--upn-suffix", &bare])
        .args(["--ca-cert", lab.get("LAB_CA_CERT")])
        .arg("--out")
        .arg(out.path())
        .env_remove("READYSCAN_PASSWORD")
        .output()
        .unwrap();
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("report.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| {
        panic!(
            "no report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });

    // SRV records Samba registered for its DC: present, resolving, answering.
    let locator = format!("_ldap._tcp.dc._msdcs.{domain}");
    let dc = fqdn.to_ascii_lowercase();
    let obs = observation(&report, "dns.srv", &locator);
    assert_eq!(
        obs["fields"]["targets"],
        json!([format!("{dc}:389")]),
        "{obs}"
    );
    assert_eq!(obs["fields"]["missing_dcs"], json!([]), "{obs}");
    for check in [
        "dns-dc-srv",
        "dns-dc-srv-targets-resolve",
        "dns-dc-srv-stale",
        "dns-dc-srv-missing-dcs",
    ] {
        assert_eq!(
            finding(&report, check, &locator)["status"],
            "pass",
            "{check}"
        );
    }
    // The forest root comes from the rootDSE the LDAP probe read.
    let gc = format!("_gc._tcp.{domain}");
    assert_eq!(
        observation(&report, "dns.srv", &gc)["fields"]["forest_root"],
        domain
    );
    assert_eq!(finding(&report, "dns-dc-srv", &gc)["status"], "pass");

    // Kerberos: the live DC plus the two added records of retired DCs.
    let kerberos = format!("_kerberos._tcp.{domain}");
    let k = &observation(&report, "dns.srv", &kerberos)["fields"];
    assert_eq!(
        k["unresolved_targets"],
        json!([format!("dc9.{domain} (NXDOMAIN)")]),
        "{k}"
    );
    let stale = k["stale_targets"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{k}");
    assert!(
        stale[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("dc8.{domain}:88 (")),
        "{k}"
    );
    assert_eq!(
        finding(&report, "dns-dc-srv-targets-resolve", &kerberos)["status"],
        "fail"
    );
    assert_eq!(
        finding(&report, "dns-dc-srv-stale", &kerberos)["status"],
        "warn"
    );

    // Intune CNAMEs: right, wrong target (found vs expected), missing (record to create).
    let enrollment = format!("enterpriseenrollment.{domain}");
    assert_eq!(
        finding(&report, "dns-intune-enrollment-cname", &enrollment)["status"],
        "pass"
    );
    let registration = format!("enterpriseregistration.{domain}");
    // Optional records (Intune: "the CNAME configuration is optional"): warnings.
    let wrong = finding(&report, "dns-intune-registration-cname", &registration);
    assert_eq!(wrong["status"], "warn");
    assert_eq!(wrong["observed"], "enterpriseregistration.example.net");
    let missing = finding(
        &report,
        "dns-intune-enrollment-cname",
        &format!("enterpriseenrollment.{bare}"),
    );
    assert_eq!(missing["status"], "warn");
    let steps = missing["remediation"][0].as_str().unwrap();
    assert!(
        steps.contains(&format!(
            "create: EnterpriseEnrollment.{bare}. 3600 IN CNAME"
        )),
        "{steps}"
    );
    let shown = missing["observed"].as_str().unwrap();
    assert!(shown.contains("NXDOMAIN"), "{shown}");
    assert!(
        steps.contains(&format!(
            "EnterpriseEnrollment.{bare}. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.com."
        )),
        "{steps}"
    );
    // Blockers failed (the SRV target that does not resolve): not ready.
    assert_eq!(output.status.code(), Some(1));
}
