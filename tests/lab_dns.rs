//! DNS probes against the internal DNS of a real Samba AD DC in a network namespace
//! (fixtures/lab/): the SRV records Samba registers, records added with `samba-lab.sh dns-add`
//! (a correct CNAME, a wrong CNAME target, SRV targets that do not resolve or do not answer) and
//! a missing record. The lab DC has no forwarder, so no query leaves the lab.
//!
//! Needs root and the Samba packages (`fixtures/lab/samba-lab.sh install`). Under CI=true a lab
//! that cannot start fails the test; elsewhere the test says why it skips.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::{json, Value};

const LAB: &str = "rsdns";
const INDEX: &str = "23";

struct Lab {
    env: HashMap<String, String>,
    state: PathBuf,
}

impl Lab {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lab/samba-lab.sh")
    }

    fn run(args: &[&str], state: &Path) -> Result<String, String> {
        let out = Process::new("bash")
            .arg(Self::script())
            .args(args)
            .env("LAB_STATE_DIR", state)
            .output()
            .map_err(|e| format!("cannot run samba-lab.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "samba-lab.sh {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn up() -> Result<Lab, String> {
        let state = std::env::temp_dir().join(format!("readyscan-lab-{LAB}"));
        Self::run(&["up", LAB, "--index", INDEX], &state)?;
        let text = std::fs::read_to_string(state.join("lab.env")).map_err(|e| e.to_string())?;
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(Lab { env, state })
    }

    fn get(&self, key: &str) -> &str {
        self.env
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("lab.env has no {key}"))
    }

    fn dns_add(&self, zone: &str, record: &str, rtype: &str, data: &str) {
        if let Err(e) = Self::run(&["dns-add", LAB, zone, record, rtype, data], &self.state) {
            panic!("{e}");
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Self::run(&["down", LAB], &self.state);
    }
}

/// Why this machine cannot run the lab, if it cannot.
fn cannot_run() -> Option<String> {
    let uid = Process::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root: the lab needs network namespaces".into());
    }
    if !Path::new("/usr/bin/samba-tool").exists() {
        return Some("Samba is not installed: run fixtures/lab/samba-lab.sh install".into());
    }
    None
}

fn finding<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == id && f["subject"] == subject)
        .unwrap_or_else(|| panic!("no finding {id} on {subject}"))
}

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
    if let Some(why) = cannot_run() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the lab cannot run: {why}"
        );
        eprintln!("skipping the Samba DNS lab test: {why}");
        return;
    }
    let lab = match Lab::up() {
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
    let output = Command::cargo_bin("readyscan")
        .unwrap()
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
    let wrong = finding(&report, "dns-intune-registration-cname", &registration);
    assert_eq!(wrong["status"], "fail");
    assert_eq!(wrong["observed"], "enterpriseregistration.example.net");
    let missing = finding(
        &report,
        "dns-intune-enrollment-cname",
        &format!("enterpriseenrollment.{bare}"),
    );
    assert_eq!(missing["status"], "fail");
    let shown = missing["observed"].as_str().unwrap();
    assert!(shown.contains("NXDOMAIN"), "{shown}");
    assert!(
        shown.contains(&format!(
            "EnterpriseEnrollment.{bare}. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.com."
        )),
        "{shown}"
    );
    // Blockers failed: not ready.
    assert_eq!(output.status.code(), Some(1));
}
