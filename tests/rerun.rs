//! Re-runs after remediation: baseline comparison, `diff`, exceptions, checklist.csv, junit.xml
//! and `merge`, through the binary as an administrator would use them.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{finding, read_json, readyscan};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `evaluate INPUT` with extra args into a fresh directory; returns (exit code, report, dir).
fn evaluate(input: &Path, extra: &[&str]) -> (i32, Value, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let output = readyscan()
        .arg("evaluate")
        .arg(input)
        .args(["--as-of", "2026-11-23"])
        .args(extra)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    assert_ne!(
        code,
        2,
        "bad input: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_json(&out.path().join("report.json"));
    (code, report, out)
}

/// The demo's before state as a report.json in `dir`.
fn before_report(dir: &Path) -> PathBuf {
    let input = write(dir, "before-obs.json", readyscan::demo::BEFORE);
    let (code, _, out) = evaluate(&input, &[]);
    assert_eq!(code, 1);
    let path = dir.join("before-report.json");
    std::fs::copy(out.path().join("report.json"), &path).unwrap();
    path
}

fn after_obs(dir: &Path) -> PathBuf {
    write(dir, "after-obs.json", readyscan::demo::AFTER)
}

#[test]
fn baseline_gives_every_finding_a_change_state() {
    let dir = tempfile::tempdir().unwrap();
    let before = before_report(dir.path());
    let (code, report, _out) = evaluate(
        &after_obs(dir.path()),
        &["--baseline", before.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let state = |id, subject| finding(&report, id, subject)["change"]["state"].clone();
    assert_eq!(state("cm-site-version", "P01"), "resolved");
    // error (not assessed) to pass is resolved too.
    assert_eq!(
        state(
            "dns-intune-registration-cname",
            "enterpriseregistration.fabrikam.test"
        ),
        "resolved"
    );
    assert_eq!(
        state("net-dc-ports", "dc1.corp.contoso.test:445"),
        "regressed"
    );
    assert_eq!(
        state("ad-upn-suffixes-routable", "corp.contoso.test"),
        "still_open"
    );
    assert_eq!(state("net-dc-ports", "dc2.corp.contoso.test:53"), "new");
    assert_eq!(
        state("net-dc-ports", "dc1.corp.contoso.test:53"),
        "unchanged"
    );
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["change"]["state"].is_string()));
    let b = &report["baseline"];
    assert_eq!(b["collected_at"], "2026-11-02T09:15:00Z");
    assert_eq!(b["host"], "admin-ws01");
    let bytes = std::fs::read(&before).unwrap();
    assert_eq!(
        b["id"],
        readyscan::postprocess::baseline::sha256_hex(&bytes)
    );
    assert_eq!(b["counts"]["regressed"], 1);
    // Only the retired DC's own findings are no longer reported.
    let dropped = b["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 3, "{dropped:?}");
    assert!(dropped
        .iter()
        .all(|d| d["subject"] == "dc0.corp.contoso.test"));
}

#[test]
fn baseline_with_unknown_check_and_renamed_subject() {
    let dir = tempfile::tempdir().unwrap();
    let before = before_report(dir.path());
    let mut old = read_json(&before);
    for f in old["findings"].as_array_mut().unwrap() {
        if f["check_id"] == "ad-recycle-bin" {
            f["check_id"] = "ad-retired-check".into();
        }
        if f["check_id"] == "cm-site-version" {
            f["subject"] = "P00".into();
        }
    }
    let edited = write(
        dir.path(),
        "edited.json",
        &serde_json::to_string_pretty(&old).unwrap(),
    );
    let (_, report, _out) = evaluate(
        &after_obs(dir.path()),
        &["--baseline", edited.to_str().unwrap()],
    );
    // Not paired with anything, so new; the old entries are listed as no longer reported.
    assert_eq!(
        finding(&report, "ad-recycle-bin", "corp.contoso.test")["change"]["state"],
        "new"
    );
    assert_eq!(
        finding(&report, "cm-site-version", "P01")["change"]["state"],
        "new"
    );
    let dropped: Vec<&Value> = report["baseline"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["subject"] != "dc0.corp.contoso.test")
        .collect();
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    let retired = dropped
        .iter()
        .find(|d| d["check_id"] == "ad-retired-check")
        .unwrap();
    assert!(retired["reason"]
        .as_str()
        .unwrap()
        .contains("not in this catalog"));
    let renamed = dropped
        .iter()
        .find(|d| d["check_id"] == "cm-site-version")
        .unwrap();
    assert_eq!(renamed["subject"], "P00");
    assert_eq!(renamed["status"], "fail");
    assert!(renamed["reason"]
        .as_str()
        .unwrap()
        .contains("subject renamed"));
}

#[test]
fn baseline_schema_mismatch_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let before = before_report(dir.path());
    let mut old = read_json(&before);
    let after = after_obs(dir.path());
    for (version, message) in [
        (
            99,
            "schema_version 99 is newer than this readyscan understands",
        ),
        (
            0,
            "schema_version 0 is older than this readyscan can compare",
        ),
    ] {
        old["schema_version"] = version.into();
        let file = write(
            dir.path(),
            "old.json",
            &serde_json::to_string(&old).unwrap(),
        );
        readyscan()
            .arg("evaluate")
            .arg(&after)
            .arg("--baseline")
            .arg(&file)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "--baseline: {}: {message}",
                file.display()
            )));
    }
    // An observation set is not a report: say so instead of comparing with nothing.
    readyscan()
        .arg("diff")
        .arg(&after)
        .arg(&before)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a readyscan report.json"));
    let broken = write(
        dir.path(),
        "broken.json",
        "{\n  \"schema_version\": 1,\n  oops\n}",
    );
    readyscan()
        .arg("diff")
        .arg(&broken)
        .arg(&before)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:3:", broken.display())));
}

#[test]
fn diff_formats_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let before = before_report(dir.path());
    let (_, after_report, after_out) = evaluate(&after_obs(dir.path()), &[]);
    let after = after_out.path().join("report.json");
    // Counted independently of readyscan: open before (same check and subject), pass now.
    let old = read_json(&before);
    let open = ["fail", "error", "warn"];
    let resolved = after_report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "pass")
        .filter(|f| {
            old["findings"].as_array().unwrap().iter().any(|o| {
                o["check_id"] == f["check_id"]
                    && o["subject"] == f["subject"]
                    && open.contains(&o["status"].as_str().unwrap())
            })
        })
        .count();
    assert!(resolved > 5, "the demo resolves most items");
    readyscan()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("Progress since 2026-11-02T09:15:00Z")
                .and(predicate::str::contains(format!("resolved {resolved} · regressed 1")))
                .and(
                    predicate::str::is_match(
                        r"(?m)^Regressed:\n +pass -> fail +net-dc-ports  dc1\.corp\.contoso\.test:445",
                    )
                    .unwrap(),
                ),
        );
    readyscan()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .arg("--fail-on-regression")
        .assert()
        .code(1);
    // The same report against itself: nothing regressed, so the flag does not fire.
    readyscan()
        .arg("diff")
        .arg(&after)
        .arg(&after)
        .arg("--fail-on-regression")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("regressed 0"));
    let out = readyscan()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["counts"]["resolved"], resolved);
    assert_eq!(diff["old"]["collected_at"], "2026-11-02T09:15:00Z");
    let smb = diff["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"] == "dc1.corp.contoso.test:445")
        .unwrap();
    assert_eq!(smb["state"], "regressed");
    assert_eq!(smb["was"], "pass");
    readyscan()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .args(["--format", "md"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("| Regressed | pass | fail | net-dc-ports |")
                // Environment strings are escaped in Markdown.
                .and(predicate::str::contains("<script>").not()),
        );
    readyscan()
        .arg("diff")
        .arg(&before)
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.json: cannot read"));
}

#[test]
fn fail_on_regression_turns_a_ready_run_into_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, ready_out) = evaluate(Path::new("fixtures/scenarios/ready.json"), &[]);
    assert_eq!(code, 0);
    let baseline = ready_out.path().join("report.json");
    // A warning check that passed now fails: still ready, but a regression.
    let mut set = read_json(Path::new("fixtures/scenarios/ready.json"));
    let mut changed = false;
    for o in set["observations"].as_array_mut().unwrap() {
        if o["probe"] == "ldap.directory" {
            o["fields"]["non_routable_upn_suffixes"] = serde_json::json!(["corp.local"]);
            changed = true;
        }
    }
    assert!(changed, "ready.json has no ldap.directory observation");
    let input = write(
        dir.path(),
        "now.json",
        &serde_json::to_string(&set).unwrap(),
    );
    let b = baseline.to_str().unwrap();
    let (code, report, _o) = evaluate(&input, &["--baseline", b]);
    assert_eq!(code, 0);
    assert_eq!(report["baseline"]["counts"]["regressed"], 1);
    let (code, _, _o) = evaluate(&input, &["--baseline", b, "--fail-on-regression"]);
    assert_eq!(code, 1);
    readyscan()
        .arg("evaluate")
        .arg(&input)
        .arg("--fail-on-regression")
        .arg("--out")
        .arg(dir.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--fail-on-regression: needs --baseline",
        ));
}

const EXCEPTIONS: &str = r#"# Accepted risks for the onboarding
[[exception]]
check = "cm-site-version"
justification = "Upgrade to 2409 booked, change CHG-1"
approver = "J. Doe, CISO"
expires = 2099-01-31T23:59:59+01:00

[[exception]]
check = "dns-intune-enrollment-cname"
subject = "EnterpriseEnrollment.*"
justification = "Public zone owned by the parent company, \"ticket\" 42"
approver = "J. Doe"
expires = 2099-12-31
timezone = "UTC"

[[exception]]
check = "net-dc-ports-ldaps"
subject = "dc1.corp.contoso.test:*"
justification = "Segmented network; clients use dc2"
approver = "Network team"
expires = "2099-01-01T00:00:00Z"

[[exception]]
check = "dns-intune-registration-cname"
subject = "enterpriseregistration.fabrikam.test"
justification = "fabrikam.test is not onboarded"
approver = "J. Doe"
expires = 2099-01-01
timezone = "+01:00"

[[exception]]
check = "ad-forest-functional-level"
justification = "Was accepted until the DC upgrade"
approver = "J. Doe"
expires = 2020-01-01T00:00:00Z

[[exception]]
check = "ad-recycle-bin"
justification = "Informational only"
approver = "J. Doe"
expires = 2099-01-01T00:00:00Z

[[exception]]
check = "dns-dc-srv-targets-resolve"
justification = "dc0 is being decommissioned"
approver = "J. Doe"
expires = 2099-01-01T00:00:00Z

[[exception]]
check = "ad-dc-os-version"
subject = "dc0.*"
justification = "dc0 is being decommissioned"
approver = "J. Doe"
expires = 2099-01-01T00:00:00Z

[[exception]]
check = "sync-proxyaddresses-duplicate"
justification = "directory team fixes sync-errors.csv, change CHG-7"
approver = "J. Doe"
expires = 2099-01-01T00:00:00Z

[[exception]]
check = "sync-upn-invalid-characters"
justification = "directory team fixes sync-errors.csv, change CHG-7"
approver = "J. Doe"
expires = 2099-01-01T00:00:00Z

[[exception]]
check = "sync-upn-non-routable-suffix"
justification = "directory team fixes sync-errors.csv, change CHG-7"
approver = "J. Doe"
expires = 2099-01-01T00:00:00Z
"#;

#[test]
fn exceptions_active_expired_unmatched() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "before.json", readyscan::demo::BEFORE);
    let file = write(dir.path(), "exceptions.toml", EXCEPTIONS);
    let f = file.to_str().unwrap();
    let (code, report, out) = evaluate(&input, &["--exceptions", f]);
    // The forest's exception expired, so its failure still blocks.
    assert_eq!(code, 1);
    assert_eq!(report["verdict"], "not_ready");
    let forest = finding(&report, "ad-forest-functional-level", "corp.contoso.test");
    assert_eq!(forest["status"], "fail");
    assert_eq!(forest["exception"]["expired"], true);
    let cm = finding(&report, "cm-site-version", "P01");
    assert_eq!(cm["status"], "fail", "an exception keeps the real status");
    assert_eq!(cm["exception"]["expired"], false);
    assert_eq!(cm["exception"]["line"], 2);
    assert_eq!(cm["exception"]["approver"], "J. Doe, CISO");
    assert_eq!(cm["exception"]["expires"], "2099-01-31T23:59:59+01:00");
    let dns = finding(
        &report,
        "dns-intune-enrollment-cname",
        "enterpriseenrollment.fabrikam.test",
    );
    assert_eq!(dns["exception"]["expires"], "2099-12-31T23:59:59Z");
    // Only open findings are excepted: passing ports carry nothing.
    assert!(finding(&report, "net-dc-ports", "dc1.corp.contoso.test:53")
        .get("exception")
        .is_none());
    let x = &report["exceptions"];
    // cm 1, enrollment CNAMEs 2, dc1 LDAPS ports 2, registration 1, SRV targets 1, dc0's OS 1,
    // directory sync 3 (one per broken blocker rule).
    assert_eq!(x["applied"], 11);
    assert_eq!(x["entries"], 11);
    assert_eq!(x["expired"][0]["check"], "ad-forest-functional-level");
    assert_eq!(x["expired"][0]["line"], 31);
    let unmatched: Vec<&str> = x["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["check"].as_str().unwrap())
        .collect();
    assert_eq!(unmatched, vec!["ad-recycle-bin"]);
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("Accepted risks"));
    assert!(html.contains("expired: no longer applies"));
    assert!(html.contains("Exceptions that matched nothing"));
    assert!(html.contains("&quot;ticket&quot; 42"));

    // With the forest's exception in force, every failed blocker is an accepted risk: ready.
    let renewed = EXCEPTIONS.replace("2020-01-01T00:00:00Z", "2099-06-30T12:00:00-05:00");
    let file = write(dir.path(), "renewed.toml", &renewed);
    let (code, report, out) = evaluate(&input, &["--exceptions", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(report["verdict"], "ready");
    let blockers: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "blocker" && (f["status"] == "fail" || f["status"] == "error"))
        .collect();
    assert!(blockers.len() >= 4, "{blockers:?}");
    // Still failing, every one of them, but each under an exception in force.
    for f in &blockers {
        assert_eq!(f["exception"]["expired"], false, "{f}");
    }
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains(&format!(
        "the verdict above does not count {} failed or unassessed blockers",
        blockers.len()
    )));
}

#[test]
fn malformed_exceptions_exit_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "before.json", readyscan::demo::BEFORE);
    let entry =
        "[[exception]]\ncheck = \"cm-site-version\"\njustification = \"j\"\napprover = \"a\"\n";
    for (body, message) in [
        (
            format!("{entry}expires = 2099-01-01\n"),
            ":5:11: expires: give the time zone",
        ),
        (
            format!("{entry}expires = 2099-01-01T10:00:00\n"),
            ":5:11: expires: give the time zone",
        ),
        (
            format!("{entry}expires = 2099-01-01\ntimezone = \"Europe/Berlin\"\n"),
            "zone names are not supported",
        ),
        (
            format!("{entry}expires = 2099-01-01T00:00:00Z\nowner = \"x\"\n"),
            ":6:1: unknown field `owner`",
        ),
        (
            entry.replace("cm-site-version", "cm-site-verison")
                + "expires = 2099-01-01T00:00:00Z\n",
            ":2:9: check: no check with id \"cm-site-verison\"",
        ),
        (
            entry.replace("\"a\"", "\"  \"") + "expires = 2099-01-01T00:00:00Z\n",
            ":4:12: approver: must not be empty",
        ),
        (entry.to_string(), "missing field `expires`"),
        (
            format!("{entry}expires = \"next year\"\n"),
            ":5:11: expires: \"next year\" is not a date",
        ),
    ] {
        let file = write(dir.path(), "bad.toml", &body);
        readyscan()
            .arg("evaluate")
            .arg(&input)
            .arg("--exceptions")
            .arg(&file)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "--exceptions: {}",
                file.display()
            )))
            .stderr(predicate::str::contains(message));
    }
    assert!(
        !dir.path().join("out").exists(),
        "nothing written on bad input"
    );
    // A live scan checks the file before it sends anything.
    let started = std::time::Instant::now();
    readyscan()
        .args([
            "scan",
            "--dc",
            "127.0.0.1",
            "--timeout",
            "2s",
            "--exceptions",
        ])
        .arg(dir.path().join("missing.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--exceptions:")
                .and(predicate::str::contains("missing.toml: cannot read")),
        );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(!dir.path().join("out").exists());
}

/// Strings a spreadsheet or a CSV parser could trip over.
const HOSTILE: &str = "=HYPERLINK(\"http://x.test\",\"a, b\")\r\n\"quoted\", line2\n<b>&";

fn hostile_before(dir: &Path) -> PathBuf {
    let fixture = std::fs::read_to_string("fixtures/scenarios/hostile.json").unwrap();
    // The CNAME target (a warning) and an unresolved SRV target (a failure).
    let text = fixture
        .replace(
            "\"<script>alert(1)</script>.fabrikam.test\"",
            &serde_json::to_string(HOSTILE).unwrap(),
        )
        .replace(
            "\"<img src=x onerror=alert(2)>.corp.contoso.test (NXDOMAIN)\"",
            &serde_json::to_string(HOSTILE).unwrap(),
        );
    assert_eq!(
        text.matches("HYPERLINK").count(),
        3,
        "both hostile values replaced"
    );
    write(dir, "hostile.json", &text)
}

#[test]
fn checklist_csv_round_trips_hostile_strings() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_before(dir.path());
    let (_, report, out) = evaluate(&input, &["--format", "json,csv"]);
    assert!(!out.path().join("report.html").exists());
    let bytes = std::fs::read(out.path().join("checklist.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for col in [
        "Check",
        "Subject",
        "Severity",
        "Observed",
        "Expected",
        "Remediation",
        "Reference",
        "Owner",
        "Due date",
        "Status",
        "Notes",
    ] {
        assert!(header.iter().any(|h| h == col), "no column {col}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let open = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| ["fail", "error", "warn"].contains(&f["status"].as_str().unwrap()))
        .count();
    assert_eq!(rows.len(), open);
    let hostile = rows
        .iter()
        .find(|r| &r[col("Subject")] == "enterpriseenrollment.fabrikam.test")
        .unwrap();
    // Exact round trip, with the apostrophe that keeps Excel from running the formula.
    assert_eq!(&hostile[col("Observed")], format!("'{HOSTILE}"));
    assert_eq!(&hostile[col("Check ID")], "dns-intune-enrollment-cname");
    assert!(hostile[col("Remediation")].starts_with("1. "));
    assert!(hostile[col("Remediation")].contains("\n2. "));
    for team in ["Owner", "Due date", "Status", "Notes"] {
        assert_eq!(&hostile[col(team)], "");
    }
    assert_eq!(readyscan::render::csv_cell("-1+1"), "'-1+1");
    assert_eq!(readyscan::render::csv_cell("dc1:445"), "dc1:445");
}

#[test]
fn junit_parses_back_with_the_right_counts() {
    use quick_xml::events::Event;
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_before(dir.path());
    let (_, report, out) = evaluate(&input, &["--format", "json,junit"]);
    let xml = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let n = |s: &str| findings.iter().filter(|f| f["status"] == s).count();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let mut root: Option<(usize, usize, usize)> = None;
    let mut messages = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"testsuites" => {
                        let num = |k| attr(k).unwrap().parse::<usize>().unwrap();
                        root = Some((num("tests"), num("failures"), num("errors")));
                    }
                    b"testcase" => cases += 1,
                    b"failure" => {
                        failures += 1;
                        messages.push(attr("message").unwrap());
                    }
                    b"error" => errors += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(cases, findings.len());
    assert_eq!(failures, n("fail"));
    assert_eq!(errors, n("error"));
    assert_eq!(skipped, n("not_applicable"));
    assert_eq!(root, Some((findings.len(), n("fail"), n("error"))));
    // Attribute values come back exactly, newlines included.
    assert!(
        messages.iter().any(|m| m.starts_with(HOSTILE)),
        "{messages:?}"
    );
    assert!(!xml.contains("<b>"));
}

fn with_host(text: &str, host: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["scan"]["host"] = host.into();
    for o in v["observations"].as_array_mut().unwrap() {
        if o["fields"].get("vantage").is_some() {
            o["fields"]["vantage"] = host.into();
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn merge_keeps_vantages_dedupes_the_rest_and_shows_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", readyscan::demo::BEFORE);
    // A second host where LDAPS is reachable and the management point reports another build.
    let mut b: Value =
        serde_json::from_str(&with_host(readyscan::demo::BEFORE, "branch-ws02")).unwrap();
    for o in b["observations"].as_array_mut().unwrap() {
        if o["subject"] == "dc1.corp.contoso.test:636" {
            o["fields"]["state"] = "open".into();
            o["fields"]["reason"] = "connected".into();
        }
        if o["probe"] == "configmgr.site" {
            o["fields"]["build"] = 9141.into();
            o["fields"]["support_end"] = "2027-05-12".into();
            o["fields"]["current_branch_support_end"] = "2027-05-12".into();
        }
    }
    let b = write(dir.path(), "b.json", &serde_json::to_string(&b).unwrap());
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .arg("merge")
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "Conflict: net-dc-ports-ldaps on dc1.corp.contoso.test:636: warn from admin-ws01, pass from branch-ws02",
        ));
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(report["scan"]["mode"], "merge");
    assert_eq!(report["scan"]["vantages"].as_array().unwrap().len(), 2);
    // Network findings keep their vantage.
    assert_eq!(
        finding(
            &report,
            "net-dc-ports-ldaps",
            "dc1.corp.contoso.test:636 @ admin-ws01"
        )["status"],
        "warn"
    );
    assert_eq!(
        finding(
            &report,
            "net-dc-ports-ldaps",
            "dc1.corp.contoso.test:636 @ branch-ws02"
        )["status"],
        "pass"
    );
    // Agreeing directory answers are deduplicated.
    let forest: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "ad-forest-functional-level")
        .collect();
    assert_eq!(forest.len(), 1);
    assert_eq!(forest[0]["subject"], "corp.contoso.test");
    let conflicts = report["conflicts"].as_array().unwrap();
    let keys: Vec<(&str, &str)> = conflicts
        .iter()
        .map(|c| {
            (
                c["check_id"].as_str().unwrap(),
                c["subject"].as_str().unwrap(),
            )
        })
        .collect();
    // The site build differs, so both checks on it conflict; the management point answer
    // (HTTP from the scanning host) keeps its vantage like the ports.
    assert_eq!(
        keys,
        vec![
            ("cm-site-version", "P01"),
            ("cm-co-management", "P01"),
            ("cm-support", "P01"),
            ("net-dc-ports-ldaps", "dc1.corp.contoso.test:636"),
        ]
    );
    assert!(report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["subject"] == "cm01.corp.contoso.test @ branch-ws02"));
    let cm = &conflicts[0];
    assert_eq!(cm["sides"][0]["vantage"], "admin-ws01");
    assert_eq!(cm["sides"][0]["status"], "fail");
    assert_eq!(cm["sides"][1]["status"], "pass");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("Results that differ between vantage points"));
    assert!(html.contains("From branch-ws02"));
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("Fail from admin-ws01"));

    // The merged report can be judged again and gives the same findings and conflicts.
    let (code, again, _o) = evaluate(&out.path().join("report.json"), &[]);
    assert_eq!(code, 1);
    assert_eq!(again["findings"], report["findings"]);
    assert_eq!(again["conflicts"], report["conflicts"]);

    // An exception names the subject without its vantage and covers it from every vantage.
    let file = write(
        dir.path(),
        "ex.toml",
        "[[exception]]\ncheck = \"net-dc-ports-ldaps\"\nsubject = \"dc1.corp.contoso.test:636\"\n\
         justification = \"j\"\napprover = \"a\"\nexpires = 2099-01-01T00:00:00Z\n",
    );
    let (_, excepted, _o) = evaluate(
        &out.path().join("report.json"),
        &["--exceptions", file.to_str().unwrap()],
    );
    let ldaps = finding(
        &excepted,
        "net-dc-ports-ldaps",
        "dc1.corp.contoso.test:636 @ admin-ws01",
    );
    assert_eq!(ldaps["exception"]["expired"], false);
    assert_eq!(excepted["exceptions"]["applied"], 1);
}

#[test]
fn merge_names_same_host_scans_apart() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", readyscan::demo::BEFORE);
    let b = write(dir.path(), "b.json", readyscan::demo::BEFORE);
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .arg("merge")
        .arg(&a)
        .arg(&b)
        .args(["--format", "json", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
    let report = read_json(&out.path().join("report.json"));
    let names: Vec<&str> = report["scan"]["vantages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin-ws01", "admin-ws01#2"]);
    finding(
        &report,
        "net-dc-ports",
        "dc1.corp.contoso.test:53 @ admin-ws01#2",
    );
    assert!(report.get("conflicts").is_none(), "identical scans agree");
    readyscan()
        .arg("merge")
        .arg(&a)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2);
}

/// The demo re-run with exceptions in Markdown, at fixed times, so the layout of the progress,
/// accepted-risk and badge additions is reviewed when it changes.
#[test]
fn rerun_report_md_snapshot() {
    use readyscan::catalog::Catalog;
    use readyscan::render::{formats, View};
    use readyscan::report::Report;
    use time::macros::{date, datetime};

    let catalog = Catalog::builtin().unwrap();
    let baseline = readyscan::demo::baseline(&catalog, date!(2026 - 11 - 23)).unwrap();
    let now = datetime!(2026-11-23 10:00 UTC);
    let exceptions = readyscan::postprocess::exceptions::Exceptions::parse(
        r#"[[exception]]
check = "ad-upn-suffixes-routable"
justification = "corp.contoso.local users are not synchronised"
approver = "J. Doe, CISO"
expires = 2027-03-31
timezone = "UTC"

[[exception]]
check = "net-dc-ports"
subject = "*:445"
justification = "SMB blocked during the audit window"
approver = "Network team"
expires = 2026-11-20T18:00:00+01:00

[[exception]]
check = "cm-site-version"
justification = "Upgrade booked"
approver = "J. Doe"
expires = 2027-01-01T00:00:00Z
"#,
        "exceptions.toml",
        &catalog,
    )
    .unwrap();
    // The library's one pipeline, as the binary runs it.
    let report = Report::judge(
        readyscan::demo::after().unwrap(),
        &catalog,
        &readyscan::report::Judging {
            today: date!(2026 - 11 - 23),
            now,
            exceptions: Some(&exceptions),
            baseline: Some(&baseline),
        },
    );
    assert_eq!(report.exceptions.as_ref().unwrap().applied, 1);
    let json = serde_json::to_string_pretty(&report).unwrap();
    let view = View::new(&report, &json);
    let md = formats()
        .into_iter()
        .find(|f| f.name() == "md")
        .unwrap()
        .render(&view)
        .unwrap()
        .replace(&report.catalog_version, "[catalog]");
    let md = regex::Regex::new("[0-9a-f]{64}")
        .unwrap()
        .replace_all(&md, "[sha256]");
    insta::assert_snapshot!(md);
}

#[test]
fn a_merged_report_merges_again_with_a_third_scan() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", readyscan::demo::BEFORE);
    let b = write(
        dir.path(),
        "b.json",
        &with_host(readyscan::demo::BEFORE, "branch-ws02"),
    );
    let c = write(
        dir.path(),
        "c.json",
        &with_host(readyscan::demo::BEFORE, "dmz-ws03"),
    );
    let ab = tempfile::tempdir().unwrap();
    readyscan()
        .arg("merge")
        .arg(&a)
        .arg(&b)
        .args(["--format", "json", "--out"])
        .arg(ab.path())
        .assert()
        .code(1);
    let abc = tempfile::tempdir().unwrap();
    readyscan()
        .arg("merge")
        .arg(ab.path().join("report.json"))
        .arg(&c)
        .args(["--format", "json", "--out"])
        .arg(abc.path())
        .assert()
        .code(1);
    let report = read_json(&abc.path().join("report.json"));
    let names: Vec<&str> = report["scan"]["vantages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin-ws01", "branch-ws02", "dmz-ws03"]);
    for host in &names {
        finding(
            &report,
            "net-dc-ports",
            &format!("dc1.corp.contoso.test:445 @ {host}"),
        );
    }
    // The three agree on the directory: one finding, no vantage, no conflict.
    let forest = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "ad-forest-functional-level")
        .count();
    assert_eq!(forest, 1);
    assert!(report.get("conflicts").is_none());
}
