//! Kerberos sign-in and zero-config discovery against a real Samba AD DC (its KDC and DNS) in
//! a network namespace: `kinit` with the lab's krb5.conf fills a credential cache of the test's
//! own, then `readyscan scan` with no --bind-user reads the bound checks through GSSAPI.
//!
//! Needs root and the Samba packages (`fixtures/lab/samba-lab.sh install`, which brings krb5-user).

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{first_finding, read_json, Lab};
use serde_json::Value;

const LAB: &str = "rskrb";
const INDEX: &str = "28";

struct Run {
    code: i32,
    stderr: String,
    report: Value,
    html: String,
}

/// A scan with the lab's krb5.conf, the given ticket cache, and no machine sources besides.
fn scan(lab: &Lab, ccache: &str, with_domain: bool, extra: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = common::readyscan();
    cmd.env("KRB5_CONFIG", lab.get("LAB_KRB5_CONF"))
        .env("KRB5CCNAME", ccache)
        .env_remove("READYSCAN_PASSWORD")
        .args(["scan", "--scope", "core", "--timeout", "3s"])
        .args(["--ca-cert", lab.get("LAB_CA_CERT")])
        // Names resolve through the lab DC's DNS only; the DC comes from its SRV record.
        .args(["--dns-server", lab.get("LAB_DC_IP")]);
    if with_domain {
        cmd.args(["--domain", lab.get("LAB_DOMAIN")]);
    }
    let output = cmd
        .args(extra)
        .arg("--out")
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report_path = out.path().join("report.json");
    assert!(report_path.exists(), "no report.json; stderr: {stderr}");
    Run {
        code: output.status.code().unwrap_or(-1),
        stderr,
        report: read_json(&report_path),
        html: std::fs::read_to_string(out.path().join("report.html")).unwrap(),
    }
}

fn observation<'a>(run: &'a Run, probe: &str) -> &'a Value {
    run.report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == probe)
        .unwrap_or_else(|| panic!("no observation of {probe}"))
}

fn kinit(lab: &Lab, ccache: &str) {
    use std::io::Write;
    let user = format!("{}@{}", lab.get("LAB_ADMIN_SAM"), lab.get("LAB_REALM"));
    let mut child = std::process::Command::new("kinit")
        .arg(&user)
        .env("KRB5_CONFIG", lab.get("LAB_KRB5_CONF"))
        .env("KRB5CCNAME", ccache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kinit runs (krb5-user)");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", lab.get("LAB_ADMIN_PASSWORD")).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kinit {user} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kerberos_bind_and_discovery_against_samba() {
    if common::cannot_run("kerberos_bind_and_discovery_against_samba").is_some() {
        return;
    }
    let lab =
        Lab::up(LAB, INDEX, &[]).unwrap_or_else(|e| panic!("the Samba lab did not start: {e}"));
    let tmp = tempfile::tempdir().unwrap();
    let ccache = format!("FILE:{}", tmp.path().join("ccache").display());

    // No ticket yet: auto falls back to anonymous and says so; bound checks are not assessed.
    let before = scan(&lab, &ccache, true, &[]);
    assert!(
        before
            .stderr
            .contains("readyscan: bind: no Kerberos ticket")
            && before.stderr.contains("rootDSE reads only"),
        "{}",
        before.stderr
    );
    let dir = observation(&before, "ldap.directory");
    assert_eq!(dir["status"], "failed", "{dir}");
    assert_eq!(dir["kind"], "needs_bind", "{dir}");
    assert!(
        dir["reason"]
            .as_str()
            .unwrap_or("")
            .contains("no Kerberos ticket"),
        "{dir}"
    );
    assert_ne!(before.code, 0);

    // With a ticket from the lab's KDC: the same scan binds with Kerberos.
    kinit(&lab, &ccache);
    assert!(Path::new(ccache.trim_start_matches("FILE:")).exists());
    let after = scan(&lab, &ccache, true, &[]);
    let principal = format!("{}@{}", lab.get("LAB_ADMIN_SAM"), lab.get("LAB_REALM"));
    assert!(
        after
            .stderr
            .contains(&format!("readyscan: bind: Kerberos as {principal}")),
        "{}",
        after.stderr
    );
    let dir = observation(&after, "ldap.directory");
    assert_eq!(dir["status"], "observed", "{dir}");
    assert_eq!(
        dir["fields"]["bound_as"],
        format!("Kerberos as {principal}"),
        "{dir}"
    );
    let transport = dir["fields"]["transport"].as_str().unwrap();
    assert!(
        transport == "LDAPS" || transport == "StartTLS",
        "Kerberos over TLS, got {transport}"
    );
    for id in ["ad-schema-version", "ad-upn-suffixes-routable"] {
        let f = first_finding(&after.report, id);
        assert_ne!(f["status"], "error", "{id}: {f}");
        assert_ne!(f["status"], "not_assessed", "{id}: {f}");
    }
    assert!(after.html.contains(&format!("Kerberos as {principal}")));

    // Zero-config: no --domain, no --dc; the lab realm in KRB5_CONFIG names the domain.
    let zero = scan(&lab, &ccache, false, &[]);
    assert!(
        zero.stderr.contains(&format!(
            "no --domain or --dc given: scanning {}, from the Kerberos default realm in {}",
            lab.get("LAB_DOMAIN"),
            lab.get("LAB_KRB5_CONF")
        )),
        "{}",
        zero.stderr
    );
    assert_eq!(
        zero.report["scan"]["config"]["domains"][0],
        lab.get("LAB_DOMAIN")
    );
    assert_eq!(observation(&zero, "ldap.directory")["status"], "observed");

    // --bind kerberos without a ticket does not fall back.
    let empty = format!("FILE:{}", tmp.path().join("none").display());
    let explicit = scan(&lab, &empty, true, &["--bind", "kerberos"]);
    assert!(explicit
        .stderr
        .contains("--bind kerberos, but no Kerberos ticket"));
    assert_ne!(explicit.code, 0);
    drop(lab);
}

#[test]
fn nothing_to_find_exits_2_naming_the_flags() {
    let out = tempfile::tempdir().unwrap();
    let assert = common::readyscan()
        .args(["scan", "--out"])
        .arg(out.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no domain to scan") && stderr.contains("--domain NAME or --dc HOST"),
        "{stderr}"
    );
    assert!(!out.path().join("report.json").exists());
}
