//! `ldap.sync_objects` against a real Samba AD DC (fixtures/lab/): planted objects with known
//! synchronization problems, found on exactly those objects. Needs root and Samba.

mod common;

use common::Lab;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;

const LAB: &str = "rssync";
const INDEX: &str = "26";

fn user(dn_ou: &str, cn: &str, attrs: &[(&str, &str)]) -> String {
    let mut s = format!("dn: CN={cn},{dn_ou}\nobjectClass: user\n");
    if !attrs.iter().any(|(k, _)| *k == "sAMAccountName") {
        let sam: String = cn.chars().take(20).collect();
        s.push_str(&format!("sAMAccountName: {sam}\n"));
    }
    for (k, v) in attrs {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s.push('\n');
    s
}

fn dns(rows: &[Value], rule: &str) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| r["rule"] == rule)
        .map(|r| r["dn"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sync_objects_against_samba() {
    if common::cannot_run("sync_objects_against_samba").is_some() {
        return;
    }
    let lab =
        Lab::up(LAB, INDEX, &[]).unwrap_or_else(|e| panic!("the Samba lab did not start: {e}"));
    let base = lab.get("LAB_BASE_DN").to_string();
    let bad = format!("OU=SyncBad,{base}");
    let clean = format!("OU=SyncClean,{base}");
    let mut ldif = format!(
        "dn: {bad}\nobjectClass: organizationalUnit\n\ndn: {clean}\nobjectClass: organizationalUnit\n\n"
    );
    ldif += &user(
        &bad,
        "badchars",
        &[("userPrincipalName", "bad(1)@contoso.com")],
    );
    ldif += &user(
        &bad,
        "nonroutable",
        &[("userPrincipalName", "nr1@corp.local")],
    );
    for (cn, p) in [
        ("dupa", "SMTP:shared@contoso.com"),
        ("dupb", "smtp:SHARED@contoso.com"),
        ("dupc", "smtp:Shared@Contoso.com"),
    ] {
        ldif += &user(
            &bad,
            cn,
            &[
                ("userPrincipalName", &format!("{cn}@contoso.com")),
                ("proxyAddresses", p),
            ],
        );
    }
    for cn in ["maila", "mailb"] {
        ldif += &user(
            &bad,
            cn,
            &[
                ("userPrincipalName", &format!("{cn}@contoso.com")),
                ("mail", "same.mail@contoso.com"),
            ],
        );
    }
    // Samba enforces displayName's schema maximum (256); sAMAccountName's is 256, Microsoft's 20.
    let long = "L".repeat(21);
    ldif += &user(
        &bad,
        "longname",
        &[
            ("userPrincipalName", "longname@contoso.com"),
            ("sAMAccountName", &long),
        ],
    );
    // Skipped by IdFix's rules: never reported even with a broken UPN.
    ldif += &user(
        &bad,
        "HealthMailboxabc",
        &[("userPrincipalName", "hm(1)@contoso.com")],
    );
    ldif += &user(
        &bad,
        "legacy$",
        &[("userPrincipalName", "lg(1)@contoso.com")],
    );
    // A computer is a subclass of user: the pass's filter leaves it out, broken UPN or not.
    ldif += &format!(
        "dn: CN=pcbad,{bad}\nobjectClass: computer\nsAMAccountName: pcbad$\nuserPrincipalName: pc(1)@contoso.com\n\n"
    );
    for i in 0..200 {
        let cn = format!("clean{i}");
        ldif += &user(
            &clean,
            &cn,
            &[
                ("userPrincipalName", &format!("{cn}@contoso.com")),
                ("mail", &format!("{cn}@contoso.com")),
                ("proxyAddresses", &format!("SMTP:{cn}@contoso.com")),
                ("displayName", &format!("Clean User {i}")),
            ],
        );
    }
    lab.cmd_stdin("ldif-add", &ldif);

    let out = tempfile::tempdir().unwrap();
    let fqdn = lab.get("LAB_DC_FQDN");
    let target = format!("{fqdn}={}", lab.get("LAB_DC_IP"));
    let output = Command::cargo_bin("readyscan")
        .unwrap()
        .args([
            "scan",
            "--scope",
            "core",
            "--timeout",
            "5s",
            "--target",
            &target,
            "--dc",
            fqdn,
        ])
        .args([
            "--domain",
            lab.get("LAB_DOMAIN"),
            "--ca-cert",
            lab.get("LAB_CA_CERT"),
        ])
        .args([
            "--dns-server",
            lab.get("LAB_DC_IP"),
            "--ldap-security",
            "ldaps",
            // Several pages of the paged search for a few hundred objects.
            "--sync-page-size",
            "50",
        ])
        .args(["--bind-user", lab.get("LAB_ADMIN_USER")])
        .env("READYSCAN_PASSWORD", lab.get("LAB_ADMIN_PASSWORD"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(out.path().join("report.json")).unwrap_or_default();
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "no report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let obs = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.sync_objects")
        .expect("an ldap.sync_objects observation");
    assert_eq!(obs["status"], "observed", "{obs}");
    let f = &obs["fields"];
    assert!(
        f["objects_read"].as_u64().unwrap() >= 212,
        "{}",
        f["objects_read"]
    );
    assert!(f["objects_skipped"].as_u64().unwrap() >= 2);
    // One domain: read over the domain's LDAPS port, not the global catalog.
    assert_eq!(f["domains_in_forest"], 1, "{f}");
    assert_eq!(f["global_catalog"], false);
    assert_eq!(f["transport"], "LDAPS");
    assert_eq!(f["page_size"], 50);
    let rows = f["rows"].as_array().unwrap();
    let dn = |cn: &str| format!("CN={cn},{bad}");
    let set = |cns: &[&str]| cns.iter().map(|c| dn(c)).collect::<BTreeSet<_>>();
    assert_eq!(dns(rows, "sync-upn-invalid-characters"), set(&["badchars"]));
    assert_eq!(
        dns(rows, "sync-upn-non-routable-suffix"),
        set(&["nonroutable"])
    );
    assert_eq!(
        dns(rows, "sync-proxyaddresses-duplicate"),
        set(&["dupa", "dupb", "dupc"])
    );
    assert_eq!(dns(rows, "sync-mail-duplicate"), set(&["maila", "mailb"]));
    assert_eq!(
        dns(rows, "sync-samaccountname-too-long"),
        set(&["longname"])
    );
    let dup = f["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "sync-proxyaddresses-duplicate")
        .expect("the proxyAddresses duplicate set");
    // The first holder (in the directory's order) comes from the second, by-value lookup.
    let mut members: BTreeSet<String> = dup["others"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    let first = dup["first_dn"]
        .as_str()
        .expect("the first holder was looked up");
    assert!(members.insert(first.to_string()), "{dup}");
    assert_eq!(members, set(&["dupa", "dupb", "dupc"]));
    let suggested = rows
        .iter()
        .find(|r| r["rule"] == "sync-upn-invalid-characters")
        .unwrap();
    assert_eq!(suggested["suggested"], "bad1@contoso.com");
    for r in rows {
        let d = r["dn"].as_str().unwrap();
        assert!(!d.contains("OU=SyncClean"), "a clean object reported: {r}");
        assert!(
            !d.contains("HealthMailbox") && !d.contains("legacy$"),
            "a skipped object reported: {r}"
        );
    }
    let finding = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["check_id"] == id)
            .unwrap_or_else(|| panic!("no finding {id}"))
            .clone()
    };
    // One finding per rule: its status, object count and example DNs are the planted ones.
    let planted: &[(&str, &str, &[&str])] = &[
        ("sync-upn-invalid-characters", "fail", &["badchars"]),
        ("sync-upn-non-routable-suffix", "fail", &["nonroutable"]),
        (
            "sync-proxyaddresses-duplicate",
            "fail",
            &["dupa", "dupb", "dupc"],
        ),
        ("sync-mail-duplicate", "fail", &["maila", "mailb"]),
        ("sync-samaccountname-too-long", "warn", &["longname"]),
    ];
    let read = f["objects_read"].as_u64().unwrap();
    for (rule, status, cns) in planted {
        let x = finding(rule);
        assert_eq!(x["status"], *status, "{x}");
        assert_eq!(
            x["observed"],
            format!("{} (of {read} objects read)", cns.len()),
            "{x}"
        );
        let rule_obs = report["observations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["probe"] == "ldap.sync_rule" && o["fields"]["rule"] == *rule)
            .unwrap_or_else(|| panic!("no ldap.sync_rule observation for {rule}"));
        let examples = rule_obs["fields"]["examples"].as_array().unwrap();
        assert_eq!(dns(examples, rule), set(cns), "{rule}");
    }
    // Every other rule passes: no false positives on the clean, skipped or computer objects.
    let sync_findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["check_id"].as_str().unwrap().starts_with("sync-"))
        .collect();
    assert_eq!(sync_findings.len(), 35, "one finding per rule");
    for x in sync_findings {
        if !planted.iter().any(|(r, _, _)| x["check_id"] == *r) {
            assert_eq!(x["status"], "pass", "{x}");
        }
    }
    assert!(
        rows.iter()
            .all(|r| !r["dn"].as_str().unwrap().contains("CN=pcbad")),
        "a computer object was judged"
    );
}
