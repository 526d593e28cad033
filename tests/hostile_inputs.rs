//! Local inputs and hostile strings that must not be turned against the user (issue 18): input
//! files read only when regular and bounded, output files never written through a planted
//! symlink, escape sequences never reaching a terminal or a text report raw, numeric bounds,
//! and names resolved only through the scan's resolution order. Everything runs on loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::proto::op::{Message, MessageType, ResponseCode};
use hickory_server::proto::rr::{rdata::A, RData, Record, RecordType};
use predicates::prelude::*;
use readyscan::catalog::Catalog;
use readyscan::config::ScanConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{read_json, readyscan};

/// Hostile text: an OSC title change, a bell, a screen clear, a bidi override, a NUL.
const HOSTILE: &str = "x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}gpj.exe\u{0}\u{9b}31m\u{2067}y";

/// Any control character a terminal or reader could act on: C0 (but line breaks and tabs), C1,
/// and the bidi overrides and isolates.
fn has_raw_controls(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// The demo's "before" report with a hostile value in one observation field.
fn hostile_set(dir: &std::path::Path) -> std::path::PathBuf {
    let mut set: serde_json::Value = serde_json::from_str(readyscan::demo::BEFORE).unwrap();
    let obs = set["observations"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["fields"].get("forest_level_name").is_some())
        .expect("a rootDSE observation in the demo");
    obs["fields"]["forest_level_name"] = serde_json::Value::from(HOSTILE);
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::to_string_pretty(&set).unwrap()).unwrap();
    path
}

#[test]
fn control_characters_never_reach_text_reports_or_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_set(dir.path());
    let out = dir.path().join("out");
    let assert = readyscan()
        .args(["evaluate", "--format", "html,json,md,csv,junit", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(!has_raw_controls(&stdout), "{stdout:?}");
    // report.json keeps the value exactly (JSON escapes it); the text formats do not carry it raw.
    let json = read_json(&out.join("report.json"));
    let kept = json["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|o| {
            o["fields"]["forest_level_name"]
                .as_str()
                .filter(|v| v.contains("pwned"))
        })
        .expect("the hostile observation is in report.json");
    assert_eq!(kept, HOSTILE, "report.json keeps the value exactly");
    for file in ["report.html", "report.md", "checklist.csv", "junit.xml"] {
        let body = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!has_raw_controls(&body), "{file} carries a raw control");
        assert!(body.contains("pwned"), "{file} lost the visible text");
    }

    // diff prints environment strings: escaped, never obeyed.
    let mut report = json.clone();
    report["findings"][0]["subject"] = serde_json::Value::from(HOSTILE);
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, serde_json::to_string(&report).unwrap()).unwrap();
    let assert = readyscan()
        .arg("diff")
        .arg(out.join("report.json"))
        .arg(&newer)
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(!has_raw_controls(&stdout), "{stdout:?}");
    assert!(stdout.contains("\\x1b]0;pwned"), "{stdout}");
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_in_the_output_folder_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    for name in ["report.html", "report.json", "report.md"] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    readyscan()
        .args(["scan", "--demo-before", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for name in ["report.html", "report.json", "report.md"] {
        let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is a fresh file");
    }
}

#[cfg(unix)]
#[test]
fn special_files_and_bad_bytes_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A FIFO named like a check file would block a plain read forever.
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).unwrap();
    let fifo = checks.join("trap.toml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    readyscan()
        .args(["checks", "validate"])
        .arg(&checks)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("trap.toml: not a regular file"));
    for args in [
        ["scan", "--config", "/dev/zero"],
        ["scan", "--exceptions", "/dev/zero"],
    ] {
        readyscan()
            .args(args)
            .arg("--out")
            .arg(&out)
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("/dev/zero: not a regular file"));
    }
    // diff and --baseline are as strict as evaluate: bad UTF-8 is named by its offset.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"schema_version\": 1, \"x\": \"\xff\"}").unwrap();
    for args in [
        vec![
            "diff".to_string(),
            bad.display().to_string(),
            bad.display().to_string(),
        ],
        vec![
            "scan".into(),
            "--demo".into(),
            "--baseline".into(),
            bad.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ],
        vec![
            "evaluate".into(),
            bad.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ],
    ] {
        readyscan()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "bad.json: byte 28: not UTF-8 text",
            ))
            // Said once, not once per wrapping error.
            .stderr(predicate::function(|e: &str| {
                e.matches("not UTF-8").count() == 1
            }));
    }
}

#[test]
fn numeric_flags_have_bounds() {
    let dir = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            vec!["--concurrency", "4611686018427387904"],
            "--concurrency: 4611686018427387904 is more than the maximum of 65536",
        ),
        (
            vec!["--per-host", "100000"],
            "--per-host: 100000 is more than the maximum",
        ),
        (
            vec!["--timeout", "2h"],
            "--timeout: \"2h\" is longer than the 1h maximum",
        ),
        (
            vec!["--timeout", "500000000000years"],
            "--timeout: \"500000000000years\"",
        ),
    ] {
        readyscan()
            .arg("scan")
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

/// A DNS server on loopback: answers A queries for `answers`, stays silent for everything else
/// when `silent`, and logs every name asked.
async fn dns_server(
    answers: Vec<(&'static str, [u8; 4])>,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let Some(query) = request.queries.first().cloned() else {
                continue;
            };
            let name = query.name().to_ascii().to_ascii_lowercase();
            seen.lock().unwrap().push(name.clone());
            let Some((_, ip)) = answers.iter().find(|(n, _)| format!("{n}.") == name) else {
                continue; // silent: the resolver must time out
            };
            let mut response = Message::error_msg(
                request.metadata.id,
                request.metadata.op_code,
                ResponseCode::NoError,
            );
            response.metadata.message_type = MessageType::Response;
            response.queries = request.queries.clone();
            if query.query_type() == RecordType::A {
                response.answers.push(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::A(A::new(ip[0], ip[1], ip[2], ip[3])),
                ));
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, from).await;
            }
        }
    });
    (addr, log)
}

#[tokio::test]
async fn a_silent_dns_server_makes_ports_unresolved_not_filtered() {
    let (dns, log) = dns_server(Vec::new()).await;
    let catalog = Catalog::from_sources(vec![(
        "t.toml".into(),
        common::port_check("net-t", "dc", "{ ports = [389] }"),
    )])
    .unwrap();
    let config = ScanConfig {
        scopes: vec!["core".into()],
        dcs: vec!["dc.silent.test".into()],
        dns_servers: vec![dns.to_string()],
        timeout: Duration::from_millis(300),
        ..ScanConfig::default()
    };
    let set = readyscan::scan(config, &catalog, false)
        .await
        .expect("the scan starts");
    let obs = set
        .observations
        .iter()
        .find(|o| o.probe == "tcp.connect" && o.subject == "dc.silent.test:389")
        .expect("the port was planned");
    assert_eq!(obs.fields["state"], "unresolved", "{obs:?}");
    let reason = obs.fields["reason"].as_str().unwrap();
    assert!(reason.contains("dc.silent.test not resolved"), "{reason}");
    assert!(!reason.contains("no answer within"), "{reason}");
    assert!(log.lock().unwrap().iter().any(|n| n == "dc.silent.test."));
}

/// A management point on loopback answering MPLIST for `fqdn`.
async fn management_point(fqdn: &'static str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf).await;
                let body = format!(
                    r#"<MPList><MP Name="MP" FQDN="{fqdn}" SiteCode="LAB"><Version>9128</Version></MP></MPList>"#
                );
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(head.as_bytes()).await;
                let _ = c.write_all(body.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn the_mplist_fetch_resolves_through_the_dns_server_given() {
    let (dns, log) = dns_server(vec![("mp.lab.test", [127, 0, 0, 1])]).await;
    let port = management_point("mp.lab.test").await;
    let catalog = Catalog::builtin().unwrap();
    let config = ScanConfig {
        scopes: vec!["configmgr".into()],
        mps: vec![format!("mp.lab.test:{port}")],
        dns_servers: vec![dns.to_string()],
        timeout: Duration::from_secs(2),
        ..ScanConfig::default()
    };
    let set = readyscan::scan(config, &catalog, false)
        .await
        .expect("the scan starts");
    let mp = set
        .observations
        .iter()
        .find(|o| o.probe == "configmgr.mp_list")
        .expect("an MPLIST observation");
    // mp.lab.test exists only in this server: an answer proves the name was resolved there.
    assert_eq!(
        mp.fields.get("build"),
        Some(&serde_json::json!(9128)),
        "{mp:?}"
    );
    assert!(log.lock().unwrap().iter().any(|n| n == "mp.lab.test."));
}
