//! ldap.services and ldap.service_host against a real Samba AD DC (fixtures/lab/): an AD FS
//! service account with a host/fs.<realm> SPN, the DKM container, an AD FS server computer, an
//! enterprise CA (pKIEnrollmentService) and its host, planted by `samba-lab.sh pki-add`.
//! Samba's schema has no Exchange classes: Exchange reading is tested from data
//! (src/probes/ldap/service_host.rs).

mod common;

use common::Lab;

use serde_json::Value;

const LAB: &str = "rspki";
const INDEX: &str = "25";
const PASSWORD_ENV: &str = "READYSCAN_PASSWORD";

fn finding<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == id && f["subject"] == subject)
        .unwrap_or_else(|| panic!("no finding {id} on {subject}: {report}"))
}

#[test]
fn pki_and_adfs_discovery_against_samba() {
    if common::cannot_run("pki_and_adfs_discovery_against_samba").is_some() {
        return;
    }
    let lab =
        Lab::up(LAB, INDEX, &[]).unwrap_or_else(|e| panic!("the Samba lab did not start: {e}"));
    let domain = lab.get("LAB_DOMAIN").to_string();
    let fs = format!("fs.{domain}");
    let ca_host = format!("ca1.{domain}");
    lab.cmd(
        "pki-add",
        &[&fs, "Lab Issuing CA", &ca_host, "--ca-days", "200"],
    );

    let out = tempfile::tempdir().unwrap();
    let fqdn = lab.get("LAB_DC_FQDN");
    let output = common::readyscan()
        .args([
            "scan",
            "--scope",
            "pki,federation",
            "--timeout",
            "3s",
            "--format",
            "json",
        ])
        .args(["--target", &format!("{fqdn}={}", lab.get("LAB_DC_IP"))])
        .args(["--dc", fqdn, "--domain", &domain])
        .args([
            "--ca-cert",
            lab.get("LAB_CA_CERT"),
            "--dns-server",
            lab.get("LAB_DC_IP"),
        ])
        // A server named by hand is looked up like one a gMSA names (the CA host stands in).
        .args(["--adfs-server", &ca_host])
        .args(["--bind-user", lab.get("LAB_ADMIN_USER")])
        .env(PASSWORD_ENV, lab.get("LAB_ADMIN_PASSWORD"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(2), "{stderr}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let obs = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.services")
        .expect("an ldap.services observation");
    assert_eq!(obs["status"], "observed", "{obs}");
    let f = &obs["fields"];
    assert_eq!(f["adfs_names"], serde_json::json!([fs]), "{f}");
    assert_eq!(f["dkm_container"], true, "{f}");
    assert_eq!(f["enterprise_ca_count"], 1, "{f}");
    assert_eq!(f["exchange_servers"], serde_json::json!([]), "{f}");
    assert_eq!(f["exchange_server_names"], serde_json::json!([]), "{f}");
    let ca = &f["enterprise_cas"][0];
    assert_eq!(ca["name"], "Lab Issuing CA");
    assert_eq!(ca["host"], ca_host);
    assert_eq!(ca["key_bits"], 2048);
    assert_eq!(ca["computer_found"], true);
    assert!(ca["templates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "WebServer"));
    let days = ca["ca_days_left"].as_i64().unwrap();
    assert!((198..=200).contains(&days), "{ca}");

    let exists = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check_id"] == "pki-enterprise-ca-exists")
        .unwrap();
    assert_eq!(exists["status"], "pass", "{exists}");
    // 200 days is under the year readyscan asks for; the host runs 2012 R2 (ended 2023-10-10).
    let valid = finding(&report, "pki-ca-certificate-valid", "CA Lab Issuing CA");
    assert_eq!(valid["status"], "warn", "{valid}");
    let os = finding(&report, "pki-ca-host-os-supported", "CA Lab Issuing CA");
    assert_eq!(os["status"], "warn", "{os}");
    assert!(os["observed"].as_str().unwrap().contains("2012 R2"), "{os}");
    let retired = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check_id"] == "exchange-intune-connector-retired")
        .unwrap();
    assert_eq!(
        retired["status"], "pass",
        "no Exchange in the lab: {retired}"
    );

    // The AD FS server named by msDS-HostServiceAccount, if Samba keeps the back link.
    let server = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check_id"] == "adfs-server-os-supported");
    if let Some(server) = server {
        assert_eq!(server["subject"], format!("AD FS server adfs1.{domain}"));
        assert_eq!(
            server["status"], "pass",
            "2016 is supported until 2027: {server}"
        );
    } else {
        eprintln!(
            "note: Samba kept no msDS-HostServiceAccountBL: {}",
            f["adfs_servers"]
        );
    }
    let named = finding(
        &report,
        "adfs-server-os-supported",
        &format!("AD FS server {ca_host}"),
    );
    assert!(
        named["observed"].as_str().unwrap().contains("2012 R2"),
        "{named}"
    );
    // The discovered name is probed for metadata like an --adfs name (nothing answers there).
    assert!(
        report["observations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["probe"] == "adfs.metadata" && o["fields"]["host"] == fs.as_str()),
        "the found name joins the metadata probe"
    );
    // ... and the AD FS port, certificate and DNS probes, as an --adfs name would.
    let observations = report["observations"].as_array().unwrap();
    let probed = |probe: &str| {
        observations.iter().any(|o| {
            o["probe"] == probe && o["subject"].as_str().unwrap_or("").starts_with(fs.as_str())
        })
    };
    assert!(
        probed("tcp.connect"),
        "the found name joins the AD FS ports"
    );
    assert!(
        probed("dns.adfs_name"),
        "the found name joins the AD FS DNS check"
    );
}
