//! The readyscan binary end to end: exit codes, files written, bad input.

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{first_finding, read_json, readyscan};

#[test]
fn demo_before_is_not_ready_and_writes_three_reports() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["scan", "--demo-before", "--out"])
        .arg(out.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Not ready"));
    for f in ["report.html", "report.json", "report.md"] {
        assert!(out.path().join(f).exists(), "{f} missing");
    }
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(report["ready"], false);
    assert_eq!(report["verdict"], "not_ready");
    assert_eq!(report["schema_version"], 1);
    let forest = first_finding(&report, "ad-forest-functional-level");
    assert_eq!(forest["status"], "fail");
    assert_eq!(forest["observed"], "2 (Windows Server 2003)");
    // The before state alone: no comparison.
    assert!(report.get("baseline").is_none());
    assert!(forest.get("change").is_none());
}

#[test]
fn demo_shows_the_rerun_against_the_before_state() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["scan", "--demo", "--out"])
        .arg(out.path())
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("Not ready").and(predicate::str::contains(
                "Progress since 2026-11-02T09:15:00Z",
            )),
        );
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(report["verdict"], "not_ready");
    assert_eq!(report["baseline"]["collected_at"], "2026-11-02T09:15:00Z");
    assert_eq!(report["baseline"]["id"].as_str().unwrap().len(), 64);
    let findings = report["findings"].as_array().unwrap();
    let find = |id: &str, subject: &str| {
        findings
            .iter()
            .find(|f| f["check_id"] == id && f["subject"] == subject)
            .unwrap_or_else(|| panic!("{id} {subject}"))
    };
    let forest = find("ad-forest-functional-level", "corp.contoso.test");
    assert_eq!(forest["status"], "pass");
    assert_eq!(forest["observed"], "7 (Windows Server 2016)");
    assert_eq!(forest["change"]["state"], "resolved");
    assert_eq!(forest["change"]["was"], "fail");
    let smb = find("net-dc-ports", "dc1.corp.contoso.test:445");
    assert_eq!(smb["change"]["state"], "regressed");
    assert_eq!(smb["status"], "fail");
    let hostile = find(
        "dns-intune-enrollment-cname",
        "enterpriseenrollment.fabrikam.test",
    );
    assert_eq!(hostile["change"]["state"], "still_open");
    assert_eq!(
        find("net-dc-ports", "dc2.corp.contoso.test:389")["change"]["state"],
        "new"
    );
    assert_eq!(
        find("dns-dc-srv", "_ldap._tcp.dc._msdcs.corp.contoso.test")["change"]["state"],
        "unchanged"
    );
    // Every state shows in the demo, and the counts add up to the findings.
    let counts = report["baseline"]["counts"].as_object().unwrap();
    for state in ["resolved", "regressed", "still_open", "new", "unchanged"] {
        assert!(
            counts[state].as_u64().unwrap() > 0,
            "{state} missing from the demo"
        );
    }
    let total: u64 = counts.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total as usize, findings.len());
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    // Dates read as dates, with the ISO value in the title.
    let progress = html
        .find("Progress since <time datetime=\"2026-11-02T09:15:00Z\" title=\"2026-11-02T09:15:00Z\">2 November 2026, 09:15 UTC</time>")
        .unwrap();
    assert!(progress < html.find("id=\"checklist-h\"").unwrap());
    assert!(html.contains("<span class=\"change\">Regressed (was Pass)</span>"));
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("## Progress since 2 November 2026, 09:15 UTC"));
    assert!(md.contains("[Regressed (was Pass)]"));
}

#[test]
fn evaluate_round_trip_gives_the_same_findings() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    readyscan()
        .args(["scan", "--demo-before", "--out"])
        .arg(first.path())
        .assert()
        .code(1);
    let report1 = read_json(&first.path().join("report.json"));
    readyscan()
        .args(["evaluate"])
        .arg(first.path().join("report.json"))
        .arg("--as-of")
        .arg(report1["judged_on"].as_str().unwrap())
        .arg("--out")
        .arg(second.path())
        .assert()
        .code(1);
    let report2 = read_json(&second.path().join("report.json"));
    assert_eq!(report1["findings"], report2["findings"]);
    assert_eq!(report1["observations"], report2["observations"]);
    assert_eq!(report2["scan"]["mode"], "evaluate");
}

#[test]
fn ready_environment_exits_0() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["evaluate", "fixtures/scenarios/ready.json", "--out"])
        .arg(out.path())
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("Ready"));
    assert_eq!(read_json(&out.path().join("report.json"))["ready"], true);
}

#[test]
fn unassessed_blocker_exits_3() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["evaluate", "fixtures/scenarios/incomplete.json", "--out"])
        .arg(out.path())
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with("Incomplete"));
    let report = read_json(&out.path().join("report.json"));
    let find = |id: &str| first_finding(&report, id).clone();
    // The blocker that could not be assessed: the DC locator record timed out.
    let timed_out = find("dns-dc-srv");
    assert_eq!(timed_out["status"], "error");
    assert_eq!(timed_out["reason"], "no answer from the resolver within 3s");
    // The cloud checks were not tested on purpose: not applicable, not what makes it incomplete.
    let cloud = find("net-intune-endpoints");
    assert_eq!(cloud["status"], "not_applicable");
    assert_eq!(cloud["code"], "not_tested");
}

#[test]
fn ready_without_cloud_endpoints_says_cloud_was_not_tested() {
    let dir = tempfile::tempdir().unwrap();
    let mut set: Value = serde_json::from_str(
        &std::fs::read_to_string("fixtures/scenarios/incomplete.json").unwrap(),
    )
    .unwrap();
    // incomplete.json without its two DNS timeouts: every blocker assessed, cloud not tested.
    let ready: Value =
        serde_json::from_str(&std::fs::read_to_string("fixtures/scenarios/ready.json").unwrap())
            .unwrap();
    for o in set["observations"].as_array_mut().unwrap() {
        if o["status"] == "failed" {
            *o = ready["observations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["subject"] == o["subject"])
                .unwrap()
                .clone();
        }
    }
    let input = dir.path().join("no-cloud.json");
    std::fs::write(&input, serde_json::to_string(&set).unwrap()).unwrap();
    let out = dir.path().join("out");
    readyscan()
        .arg("evaluate")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(
            predicate::str::starts_with("Ready (cloud connectivity not tested):")
                .and(predicate::str::contains("add --cloud-endpoints")),
        );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Verdict:</span> Ready (cloud connectivity not tested)</h1>"));
    assert!(html.contains("Cloud connectivity: not tested from this host."));
    assert!(html.contains("<code>--cloud-endpoints</code>"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| Cloud connectivity | not tested from this host"));
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["verdict"], "ready");
}

#[test]
fn live_scan_without_targets_exits_2_or_scans_the_hosts_domain() {
    // Nothing named and nothing found on this host (the helper hides the machine's own
    // resolv.conf, host name and krb5.conf): exit 2 naming the flags, no report.
    let out = tempfile::tempdir().unwrap();
    let assert = readyscan()
        .args(["scan", "--scope", "core", "--timeout", "500ms", "--out"])
        .arg(out.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("give --domain NAME or --dc HOST"),
        "{stderr}"
    );
    assert!(!out.path().join("report.json").exists());

    // The host's name gives its domain: it is scanned and said so. `.invalid` names are
    // answered NXDOMAIN by the resolver itself (RFC 6761), so no DC is found, nothing is
    // connected to, and the missing SRV records fail (exit 1).
    readyscan()
        .env("READYSCAN_HOST_FQDN", "ws1.corp.invalid")
        .args(["scan", "--scope", "core", "--timeout", "500ms"])
        .args(["--dns-server", "127.0.0.1:9", "--out"])
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no --domain or --dc given: scanning corp.invalid, from this host's name ws1.corp.invalid",
        ));
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(report["verdict"], "not_ready");
    assert_eq!(report["scan"]["config"]["domains"][0], "corp.invalid");
    assert_eq!(
        first_finding(&report, "dns-dc-srv")["status"],
        "fail",
        "the discovered domain was looked up"
    );
    let probed: Vec<&Value> = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["probe"] == "tcp.connect" || o["probe"] == "https.endpoint")
        .filter(|o| o["kind"] != "not_tested" && o["status"] == "observed")
        .collect();
    assert!(probed.is_empty(), "{probed:?}");
}

#[test]
fn out_of_scope_checks_are_not_applicable() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["scan", "--demo", "--scope", "core", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
    let report = read_json(&out.path().join("report.json"));
    let cm = first_finding(&report, "cm-site-version");
    assert_eq!(cm["status"], "not_applicable");
}

#[test]
fn hostile_observed_value_is_escaped() {
    // The demo is realistic; the hostile values live in a test fixture derived from it.
    let demo = readyscan::demo::BEFORE;
    assert!(
        !demo.contains("alert("),
        "the demo carries no hostile value"
    );
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["evaluate", "fixtures/scenarios/hostile.json", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.fabrikam.test"));
    assert!(html.contains("&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;"));
    assert!(!html.contains("<script>alert(1)") && !html.contains("<img src=x"));
    // Exactly one script element: our own, allowed by hash in the CSP.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("Content-Security-Policy"));
    // Handlebars escapes the quotes in the attribute; the browser reads them back.
    assert!(html.contains("default-src &#x27;none&#x27;"));
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    // Every < of an environment string is escaped.
    let raw_tag = regex::Regex::new(r"(^|[^\\])<(script|img)").unwrap();
    assert!(!raw_tag.is_match(&md), "a raw tag in report.md");
    // Shown as text in Markdown, readable in the raw file: a backslash escape, not &lt;.
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "{md}");
    assert!(!md.contains("&lt;"));
}

#[test]
fn format_flag_chooses_files() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(["scan", "--demo", "--format", "json", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
    assert!(out.path().join("report.json").exists());
    assert!(!out.path().join("report.html").exists());
}

fn bad_input(args: &[&str], message: &str) {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args(args)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
}

#[test]
fn bad_flags_exit_2_and_name_the_flag() {
    bad_input(
        &["scan", "--timeout", "fast"],
        "--timeout: \"fast\" is not a duration",
    );
    bad_input(
        &["scan", "--timeout", "0s"],
        "--timeout: must be more than zero",
    );
    bad_input(
        &["scan", "--concurrency", "0"],
        "--concurrency: must be at least 1",
    );
    bad_input(
        &["scan", "--target", "dc1"],
        "--target: \"dc1\" is not HOST=ADDR",
    );
    bad_input(
        &["scan", "--target", "dc1=10.0.0.300"],
        "--target: \"10.0.0.300\"",
    );
    bad_input(
        &["scan", "--target", "login.example=127.0.0.1:70000"],
        "--target: \"127.0.0.1:70000\" is not an IP address (ADDR or ADDR:PORT, port 1-65535)",
    );
    bad_input(
        &["scan", "--target", "login.example=127.0.0.1:0"],
        "--target: \"127.0.0.1:0\": port 0 is outside 1-65535",
    );
    bad_input(
        &["scan", "--per-host", "0"],
        "--per-host: must be at least 1",
    );
    bad_input(
        &["scan", "--demo", "--scope", "cloud"],
        "--scope: unknown scope \"cloud\"",
    );
    bad_input(
        &["scan", "--demo", "--format", "pdf"],
        "--format: unknown format \"pdf\"",
    );
    bad_input(
        &["scan", "--no-such-flag"],
        "unexpected argument '--no-such-flag'",
    );
    bad_input(&["evaluate", "x.json", "--as-of", "tomorrow"], "");
}

#[test]
fn bad_config_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("scan.toml");
    std::fs::write(&cfg, "dcs = [\"dc1\"]\ntimeout = \"2s\"\nretries = 3\n").unwrap();
    bad_input(
        &["scan", "--config", cfg.to_str().unwrap()],
        &format!("{}:3:1: unknown field `retries`", cfg.display()),
    );
    std::fs::write(&cfg, "timeout = \"soon\"\n").unwrap();
    bad_input(
        &["scan", "--config", cfg.to_str().unwrap()],
        "timeout: \"soon\" is not a duration",
    );
    std::fs::write(&cfg, "[resolve]\n\"login.example\" = \"not-an-ip\"\n").unwrap();
    bad_input(
        &["scan", "--config", cfg.to_str().unwrap()],
        "resolve.\"login.example\"",
    );
    bad_input(
        &["scan", "--config", "/nonexistent/scan.toml"],
        "/nonexistent/scan.toml: cannot read",
    );
}

#[test]
fn broken_check_dir_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "[[check]]\nid = \"x\"\nmystery = 1\n",
    )
    .unwrap();
    let broken = dir.path().join("broken.toml");
    bad_input(
        &["scan", "--demo", "--checks", dir.path().to_str().unwrap()],
        &format!("{}:3:1: unknown field `mystery`", broken.display()),
    );
    readyscan()
        .args(["checks", "validate"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.toml:3:1"));
}

#[test]
fn bad_port_sets_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let check = |params: &str| {
        format!(
            "[[check]]\nid = \"net-mine\"\ntitle = \"t\"\narea = \"network\"\nscopes = [\"core\"]\n\
             severity = \"blocker\"\nprobe = \"tcp.connect\"\nfilter = {{ roles = \"dc\" }}\n\
             params = {params}\nfield = \"state\"\nrequirement = {{ equals = \"open\" }}\n\
             expected = \"open\"\nremediation = [\"Open it.\"]\n\
             reference = \"https://learn.microsoft.com/x\"\nsource = \"kb\"\n"
        )
    };
    let file = dir.path().join("ports.toml");
    for (params, message) in [
        ("{ ports = [] }", "the port set is empty"),
        ("{ ports = [443, 65536] }", "port 65536 is outside 1-65535"),
        (
            "{ ranges = [\"0-10\"] }",
            "range \"0-10\" is not \"FROM-TO\" within 1-65535",
        ),
    ] {
        std::fs::write(&file, check(params)).unwrap();
        bad_input(
            &[
                "scan",
                "--dc",
                "dc1.lab.test",
                "--checks",
                dir.path().to_str().unwrap(),
            ],
            &format!(
                "{}:9:10: bad params for probe tcp.connect: {message}",
                file.display()
            ),
        );
    }
}

#[test]
fn malformed_input_json_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("obs.json");
    std::fs::write(
        &input,
        "{\n  \"observations\": [],\n  \"scan\": { \"mode\": 3 }\n}\n",
    )
    .unwrap();
    bad_input(
        &["evaluate", input.to_str().unwrap()],
        &format!("{}:3:", input.display()),
    );
    std::fs::write(
        &input,
        "{\"schema_version\": 99, \"scan\": {}, \"observations\": []}",
    )
    .unwrap();
    bad_input(
        &["evaluate", input.to_str().unwrap()],
        "schema_version 99 is newer",
    );
}

#[test]
fn checks_commands() {
    readyscan()
        .args(["checks", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("ad-forest-functional-level")
                .and(predicate::str::contains("cm-site-version")),
        );
    let out = readyscan()
        .args(["checks", "list", "--json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "net-dc-ports"));
    readyscan()
        .args(["checks", "show", "cm-site-version"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("at_least")
                .not()
                .and(predicate::str::contains(">= 7958")),
        );
    readyscan()
        .args(["checks", "show", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no check with id \"nope\""));
    readyscan()
        .args(["checks", "validate", "checks"])
        .assert()
        .success()
        .stdout(predicate::str::contains("all valid"));
}

#[test]
fn schema_describes_the_report() {
    let out = readyscan().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in [
        "schema_version",
        "ready",
        "findings",
        "observations",
        "summary",
        "generated_at",
    ] {
        assert!(props.contains_key(key), "schema lacks {key}");
    }
}

#[test]
fn help_documents_exit_codes() {
    readyscan()
        .args(["scan", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("3  incomplete"));
}

#[test]
fn a_ca_cert_that_is_not_pem_stops_the_scan_before_any_probe() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("not-a-ca.pem");
    std::fs::write(&ca, "this is not a certificate\n").unwrap();
    let out = dir.path().join("out");
    let assert = readyscan()
        .args(["scan", "--dc", "127.0.0.1", "--scope", "core", "--ca-cert"])
        .arg(&ca)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("--ca-cert {}: no PEM certificate", ca.display())),
        "{stderr}"
    );
    // Said once, and nothing was written: the trust roots are built before probing.
    assert_eq!(stderr.matches("no PEM certificate").count(), 1, "{stderr}");
    assert!(!out.join("report.json").exists());
}

#[test]
fn a_config_file_reports_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("scan.toml");
    std::fs::write(
        &cfg,
        "timeout = \"soon\"\nconcurrency = 0\ndns_servers = [\"dns.example\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let assert = readyscan()
        .args(["scan", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let name = cfg.display().to_string();
    for want in [
        format!("{name}:1:11: timeout: \"soon\" is not a duration"),
        format!("{name}:2:15: concurrency: must be at least 1"),
        format!("{name}:3:16: dns_servers: \"dns.example\" is not ADDR"),
    ] {
        assert!(stderr.contains(&want), "missing {want:?} in {stderr}");
    }
}

#[test]
fn a_bind_user_without_a_password_source_exits_2_without_a_terminal() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .env_remove("READYSCAN_PASSWORD")
        .args([
            "scan",
            "--dc",
            "127.0.0.1",
            "--bind-user",
            "svc@corp.example",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--bind-user svc@corp.example: no password")
                .and(predicate::str::contains("READYSCAN_PASSWORD"))
                .and(predicate::str::contains("--password-stdin")),
        );
    assert!(
        !out.path().join("report.json").exists(),
        "nothing was scanned"
    );
}

#[test]
fn verbose_shows_readyscan_steps_without_escape_codes() {
    let out = tempfile::tempdir().unwrap();
    let assert = readyscan()
        .args(["-v", "scan", "--dc", "127.0.0.1", "--scope", "core"])
        .args(["--timeout", "300ms", "--format", "json", "--out"])
        .arg(out.path())
        .assert();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("probing probe=\"ldap.root_dse\" subject=127.0.0.1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("took="),
        "each probe's end and duration: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );
}

#[test]
fn sync_page_size_out_of_bounds_is_exit_2_naming_the_flag_or_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for n in ["0", "100001"] {
        let assert = readyscan()
            .args(["scan", "--dc", "127.0.0.1", "--scope", "core"])
            .args(["--sync-page-size", n])
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&format!(
                "--sync-page-size: {n} is not a page size from 1 to 100000"
            )),
            "{stderr}"
        );
    }
    let conf = dir.path().join("scan.toml");
    std::fs::write(&conf, "dcs = [\"127.0.0.1\"]\nsync_page_size = 0\n").unwrap();
    let assert = readyscan()
        .args(["scan", "--scope", "core", "--config"])
        .arg(&conf)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("scan.toml:2:18: sync_page_size: 0 is not a page size"),
        "{stderr}"
    );
    assert!(!out.join("report.json").exists());
}

#[test]
fn a_bind_method_that_contradicts_bind_user_exits_2_naming_the_flag() {
    let out = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            &["--bind", "simple"][..],
            "a simple bind needs --bind-user USER",
        ),
        (
            &["--bind", "kerberos", "--bind-user", "u@corp.example"][..],
            "kerberos uses the current sign-in and binds without --bind-user",
        ),
    ] {
        let assert = readyscan()
            .args(["scan", "--dc", "127.0.0.1", "--scope", "core"])
            .args(args)
            .arg("--out")
            .arg(out.path())
            .env("READYSCAN_PASSWORD", "not-used")
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains("--bind") && stderr.contains(message),
            "{stderr}"
        );
        assert!(!out.path().join("report.json").exists());
    }
}

/// Past 2,000 findings both layouts stay readable: a checklist item lists its first 200
/// subjects and counts the rest, and "All results" summarizes the big checks; report.json and
/// checklist.csv keep every subject.
#[test]
fn a_large_report_lists_200_subjects_per_item_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let obs = std::process::Command::new("python3")
        .arg("scripts/synthetic-findings.py")
        .arg("5000")
        .output()
        .expect("python3 runs");
    assert!(obs.status.success());
    let obs_path = dir.path().join("obs.json");
    std::fs::write(&obs_path, &obs.stdout).unwrap();
    let out = dir.path().join("out");
    readyscan()
        .arg("evaluate")
        .arg(&obs_path)
        .args(["--format", "json,html,md,csv", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let report = read_json(&out.join("report.json"));
    let failed_ports = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "net-dc-ports" && f["status"] == "fail")
        .count();
    assert!(failed_ports > 400, "{failed_ports}");
    let more = format!("and {} more subjects", failed_ports - 200);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&more), "{more}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&more), "{more}");
    assert!(md.contains("checks with more than 20 results show one row per status"));
    // The checklist item's observed list: 200 subjects (the demo's dc1 among them), then the count.
    let item = md.split("- Check: net-dc-ports").nth(1).unwrap();
    let listed = item
        .split("- Source:")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  - ") && !l.starts_with("  - and "))
        .count();
    assert_eq!(listed, 200);
    let csv = std::fs::read_to_string(out.join("checklist.csv")).unwrap();
    assert!(
        csv.matches("net-dc-ports").count() >= failed_ports,
        "csv rows"
    );
}
