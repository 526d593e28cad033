//! Active Directory probes against a real Samba AD DC in a network namespace (fixtures/lab/).
//!
//! Needs root and the Samba packages (`fixtures/lab/samba-lab.sh install`). Under CI=true a lab
//! that cannot start fails the test; elsewhere the test says why it skips.

mod common;

use common::{first_finding, Lab};

use serde_json::Value;

const LAB: &str = "rsad";
const INDEX: &str = "21";
const PASSWORD_ENV: &str = "READYSCAN_PASSWORD";

struct Scan {
    code: i32,
    report: Value,
    stdout: String,
    stderr: String,
    files: String,
}

impl Scan {
    fn finding(&self, id: &str) -> &Value {
        self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check_id"] == id)
            .unwrap_or_else(|| panic!("no finding {id}"))
    }

    fn observation(&self, probe: &str) -> &Value {
        self.report["observations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["probe"] == probe)
            .unwrap_or_else(|| panic!("no observation of {probe}"))
    }
}

fn scan(lab: &Lab, extra: &[&str], password: Option<&str>) -> Scan {
    scan_dc(lab, extra, password, true)
}

/// `with_dc` false: the DC is found through the lab DNS's locator SRV record.
fn scan_dc(lab: &Lab, extra: &[&str], password: Option<&str>, with_dc: bool) -> Scan {
    let out = tempfile::tempdir().unwrap();
    let fqdn = lab.get("LAB_DC_FQDN");
    let target = format!("{fqdn}={}", lab.get("LAB_DC_IP"));
    let mut cmd = common::readyscan();
    cmd.args([
        "scan",
        "--scope",
        "core",
        "--timeout",
        "3s",
        "--target",
        &target,
    ]);
    if with_dc {
        cmd.args(["--dc", fqdn]);
    }
    cmd.args([
        "--domain",
        lab.get("LAB_DOMAIN"),
        "--ca-cert",
        lab.get("LAB_CA_CERT"),
        // The DNS probes ask the lab DC, never the machine's resolver.
        "--dns-server",
        lab.get("LAB_DC_IP"),
    ])
    .args(extra)
    .arg("--out")
    .arg(out.path())
    .env_remove(PASSWORD_ENV);
    if let Some(p) = password {
        cmd.args(["--bind-user", lab.get("LAB_ADMIN_USER")])
            .env(PASSWORD_ENV, p);
    }
    let output = cmd.output().unwrap();
    let mut files = String::new();
    for f in ["report.json", "report.html", "report.md"] {
        files.push_str(&std::fs::read_to_string(out.path().join(f)).unwrap_or_default());
    }
    let report = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("report.json")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    Scan {
        code: output.status.code().unwrap_or(-1),
        report,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        files,
    }
}

/// Failed binds the lab DC has logged so far (its auth audit lines).
fn failed_binds(lab: &Lab) -> usize {
    // The audit line is written as the bind is answered; give the log a moment to catch up.
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::read_to_string(lab.state.join("samba.log"))
        .unwrap_or_default()
        .matches("NT_STATUS_WRONG_PASSWORD")
        .count()
}

#[test]
fn active_directory_against_samba() {
    if common::cannot_run("active_directory_against_samba").is_some() {
        return;
    }
    let lab = Lab::up(LAB, INDEX, &["--level", "2003"])
        .unwrap_or_else(|e| panic!("the Samba lab did not start: {e}"));
    let password = lab.get("LAB_ADMIN_PASSWORD").to_string();

    // Level 2003, bound over LDAPS with the lab CA: the forest check fails with its remediation.
    let s = scan(&lab, &["--ldap-security", "ldaps"], Some(&password));
    assert_eq!(s.code, 1, "stdout {} stderr {}", s.stdout, s.stderr);
    let forest = s.finding("ad-forest-functional-level");
    assert_eq!(forest["status"], "fail");
    assert_eq!(forest["observed"], "2 (Windows Server 2003)");
    assert_eq!(forest["subject"], lab.get("LAB_DOMAIN"));
    assert!(forest["remediation"].as_array().unwrap().len() >= 2);
    assert_eq!(
        s.finding("ad-forest-functional-level-entra-connect")["status"],
        "pass"
    );
    let dse = s.observation("ldap.root_dse");
    assert_eq!(dse["fields"]["answered_by"], lab.get("LAB_DC_FQDN"));
    assert_eq!(
        dse["fields"]["transport"], "plain LDAP",
        "anonymous rootDSE over 389"
    );
    let dir = s.observation("ldap.directory");
    assert_eq!(dir["status"], "observed", "{dir}");
    assert_eq!(dir["fields"]["transport"], "LDAPS");
    assert!(
        dir["fields"]["schema_version"].as_i64().unwrap() >= 30,
        "{dir}"
    );
    let dcs = dir["fields"]["domain_controllers"].as_array().unwrap();
    assert!(
        dcs.iter().any(|d| d
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(lab.get("LAB_DC_FQDN"))),
        "{dir}"
    );
    assert_eq!(s.finding("ad-forest-topology")["status"], "pass");
    // Samba's DC says "Samba": information, and no Windows release or support judged.
    let os = s.finding("ad-dc-os-windows");
    assert_eq!(os["status"], "info", "{os}");
    assert!(
        os["observed"].as_str().unwrap().starts_with("Samba"),
        "{os}"
    );
    assert_eq!(s.finding("ad-dc-os-version")["status"], "not_applicable");
    assert_eq!(s.finding("ad-dc-os-support")["status"], "not_applicable");
    // The lab domain ends in .test, which is not routable.
    assert_eq!(s.finding("ad-upn-suffixes-routable")["status"], "warn");
    assert!(
        !s.files.contains(&password)
            && !s.stdout.contains(&password)
            && !s.stderr.contains(&password)
    );

    // Without --dc, the DC comes from the lab DNS's _ldap._tcp.dc._msdcs SRV record.
    let s = scan_dc(&lab, &[], Some(&password), false);
    let dse = s.observation("ldap.root_dse");
    assert_eq!(dse["fields"]["dc_found_by"], "DNS SRV", "{dse}");
    assert!(
        dse["fields"]["answered_by"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(lab.get("LAB_DC_FQDN")),
        "{dse}"
    );
    assert_eq!(s.finding("ad-forest-functional-level")["status"], "fail");
    assert_eq!(s.observation("ldap.directory")["status"], "observed");

    // A --dc that does not resolve: one finding about the name, the DC from SRV is scanned,
    // and no port of the bad name is judged as a firewall problem.
    let ghost_name = format!("nosuch.{}", lab.get("LAB_DOMAIN"));
    let s = scan_dc(&lab, &["--dc", &ghost_name], Some(&password), false);
    let name = s.finding("dns-dc-name-resolves");
    assert_eq!(name["status"], "fail", "{name}");
    assert!(
        name["observed"].as_str().unwrap().contains(&ghost_name),
        "{name}"
    );
    assert!(s.stderr.contains(&ghost_name), "{}", s.stderr);
    let dse = s.observation("ldap.root_dse");
    assert_eq!(dse["fields"]["dc_found_by"], "DNS SRV", "{dse}");
    assert_eq!(s.finding("ad-forest-functional-level")["status"], "fail");
    for f in s.report["findings"].as_array().unwrap() {
        let subject = f["subject"].as_str().unwrap_or_default();
        if subject.starts_with(&format!("{ghost_name}:")) {
            assert_ne!(
                f["status"], "fail",
                "a port of an unresolvable name failed: {f}"
            );
            assert_ne!(
                f["status"], "warn",
                "a port of an unresolvable name warned: {f}"
            );
        }
    }

    // The DC given by address is scanned once: not again under the name its rootDSE gives.
    let s = scan_dc(
        &lab,
        &["--dc", lab.get("LAB_DC_IP")],
        Some(&password),
        false,
    );
    let ports: Vec<&str> = s.report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["probe"] == "tcp.connect" && o["fields"]["port"] == 389)
        .filter_map(|o| o["subject"].as_str())
        .collect();
    assert_eq!(
        ports,
        vec![format!("{}:389", lab.get("LAB_DC_IP"))],
        "{ports:?}"
    );

    // StartTLS on 389 binds too.
    let s = scan(&lab, &["--ldap-security", "starttls"], Some(&password));
    assert_eq!(
        s.observation("ldap.directory")["fields"]["transport"],
        "StartTLS"
    );

    // A simple bind over plain LDAP is refused: the finding says what to do instead.
    let s = scan(&lab, &["--ldap-security", "plain"], Some(&password));
    let topo = s.finding("ad-forest-topology");
    assert_eq!(topo["status"], "error");
    let reason = topo["reason"].as_str().unwrap();
    assert!(
        reason.contains("strongerAuthRequired") && reason.contains("--ldap-security ldaps"),
        "{reason}"
    );

    // A wrong password: one failed bind on the wire (Samba's auth audit log, which the lab
    // turns on, has one NT_STATUS_WRONG_PASSWORD line per failed bind), a line on stderr, an
    // exit code that is not "ready", a clear error finding, and the password appears nowhere.
    let before = failed_binds(&lab);
    let wrong = "Wr0ng-Secret-Value-42";
    let s = scan(&lab, &["--scope", "configmgr"], Some(wrong));
    assert_eq!(failed_binds(&lab), before + 1, "one failed bind per scan");
    assert_ne!(s.code, 0, "{}", s.stderr);
    assert!(
        s.stderr.contains("rejected by") && s.stderr.contains("invalid credentials (49)"),
        "{}",
        s.stderr
    );
    let topo = s.finding("ad-forest-topology");
    assert_eq!(topo["status"], "error");
    assert_eq!(topo["code"], "bind_rejected", "{topo}");
    assert!(
        topo["reason"]
            .as_str()
            .unwrap()
            .contains("invalid credentials (49)"),
        "{topo}"
    );
    for (name, text) in [
        ("report files", &s.files),
        ("stdout", &s.stdout),
        ("stderr", &s.stderr),
    ] {
        assert!(!text.contains(wrong), "the password leaked into {name}");
    }

    // No bind at all: bound checks say they need one, the anonymous check still works.
    let s = scan(&lab, &[], None);
    assert_eq!(s.finding("ad-forest-topology")["status"], "error");
    assert!(s.finding("ad-forest-topology")["reason"]
        .as_str()
        .unwrap()
        .contains("needs a bind"));
    assert_eq!(s.finding("ad-forest-functional-level")["status"], "fail");

    // A trust and a routable UPN suffix added to the lab show up. An external trust reaches
    // another forest too; a trust inside the forest does not.
    lab.cmd("trust-add", &["partner.example.org", "PARTNER"]);
    lab.cmd(
        "trust-add",
        &["tailspin.example.net", "TAILSPIN", "--attributes", "0"],
    );
    lab.cmd(
        "trust-add",
        &["child.lab.readyscan.test", "CHILD", "--attributes", "0x20"],
    );
    lab.cmd("upn-add", &["contoso.com"]);
    let s = scan(&lab, &[], Some(&password));
    let dir = &s.observation("ldap.directory")["fields"];
    assert_eq!(dir["topology"], "multiple forests", "{dir}");
    assert!(
        dir["upn_suffixes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "contoso.com"),
        "{dir}"
    );
    let topo = s.finding("ad-forest-topology");
    assert_eq!(topo["status"], "info");
    let seen = topo["observed"].as_str().unwrap();
    assert!(
        seen.contains("partner.example.org (forest trust)"),
        "{topo}"
    );
    assert!(
        seen.contains("tailspin.example.net (external trust)"),
        "{topo}"
    );
    assert!(!seen.contains("child.lab.readyscan.test"), "{topo}");

    // Raised to 2008 R2 in place: the headline check passes.
    lab.cmd("level", &["2008_R2"]);
    let s = scan(&lab, &[], Some(&password));
    let forest = s.finding("ad-forest-functional-level");
    assert_eq!(forest["status"], "pass", "{forest}");
    assert_eq!(forest["observed"], "4 (Windows Server 2008 R2)");

    // An address in the lab's subnet where no DC listens: an error finding, within the timeout.
    let started = std::time::Instant::now();
    let out = tempfile::tempdir().unwrap();
    let ghost = format!("10.231.{}.99", common::slotted_index(INDEX));
    let output = common::readyscan()
        .args([
            "scan",
            "--scope",
            "core",
            "--timeout",
            "2s",
            "--dc",
            &ghost,
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    // Its ports are filtered too (exit 1); never a crash or bad input.
    assert!(
        matches!(output.status.code(), Some(1) | Some(3)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let forest = first_finding(&report, "ad-forest-functional-level");
    assert_eq!(forest["status"], "error");
    assert!(
        forest["reason"].as_str().unwrap().contains(&ghost),
        "{forest}"
    );
}
