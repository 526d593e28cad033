//! Configuration Manager discovery end to end: a Samba AD DC with the ConfigMgr schema extension
//! (fixtures/lab/configmgr-schema.ldif, lab OIDs) publishes a site and its management points, and
//! the test's own HTTP server on the lab's host-side address answers MPLIST for some of them.
//!
//! Needs root and the Samba packages (`fixtures/lab/samba-lab.sh install`). Under CI=true a lab
//! that cannot start fails the test; elsewhere the test says why it skips.

mod common;

use common::Lab;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

const LAB: &str = "rscm";
const INDEX: &str = "22";
const PASSWORD_ENV: &str = "READYSCAN_PASSWORD";

/// Fake management points on one address: the answer is chosen by the Host header, as IIS
/// would with several names on one box. Stops when dropped.
struct MpServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MpServer {
    /// `answers`: host -> (site code, build) its MPLIST reports.
    fn start(listener: TcpListener, answers: HashMap<String, (String, u32)>) -> MpServer {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((sock, _)) => answer(sock, &answers),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        MpServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for MpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut sock: TcpStream, answers: &HashMap<String, (String, u32)>) {
    let _ = sock.set_nonblocking(false);
    let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let host = request
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then(|| v.trim())
        })
        .unwrap_or("");
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let (status, body) = match answers.get(&host) {
        Some((site, build)) if path == "/SMS_MP/.sms_aut?MPLIST" => (
            "200 OK",
            format!(
                r#"<MPList><MP Name="{}" FQDN="{host}" SiteCode="{site}"><Version>{build}</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP></MPList>"#,
                host.split('.').next().unwrap_or("").to_uppercase()
            ),
        ),
        _ => ("404 Not Found", String::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = sock.write_all(head.as_bytes());
    let _ = sock.write_all(body.as_bytes());
}

fn findings<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == id)
        .collect()
}

fn finding<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    findings(report, id)
        .into_iter()
        .find(|f| f["subject"] == subject)
        .unwrap_or_else(|| panic!("no finding {id} on {subject}: {:#?}", findings(report, id)))
}

#[test]
fn configmgr_discovered_in_samba_ad() {
    if common::cannot_run("configmgr_discovered_in_samba_ad").is_some() {
        return;
    }
    let lab = Lab::up(LAB, INDEX, &["--level", "2008_R2"])
        .unwrap_or_else(|e| panic!("the Samba lab did not start: {e}"));
    let started = Instant::now();
    lab.cmd("cm-schema", &[]);
    // Idempotent: a second run finds the classes and the container.
    lab.cmd("cm-schema", &[]);
    let domain = lab.get("LAB_DOMAIN").to_string();
    let cm01 = format!("cm01.{domain}");
    let cm02 = format!("cm02.{domain}");
    let cm03 = format!("cm03.{domain}");
    // A bare '&' in the capabilities XML, as real sites publish now and then.
    let caps = "<ClientOperationalSettings><Version>5.00.7804.1000</Version>\
                <SiteName>Lab & Test</SiteName><SiteCode>P01</SiteCode></ClientOperationalSettings>";
    lab.cmd(
        "cm-add",
        &["P01", &cm01, "5.00.7804.1000", "--capabilities-xml", caps],
    );
    lab.cmd("cm-add", &["P01", &cm02, "5.00.7958.1000"]);
    lab.cmd("cm-add", &["P01", &cm03, "5.00.9128.1000"]);
    let setup = started.elapsed();

    // Published MPs have no port: the probe asks http://<mp>/ on 80, so the test's server
    // takes port 80 of the lab's host-side address (the test's own address, not a public one).
    let host_ip = lab.get("LAB_HOST_IP").to_string();
    let listener = TcpListener::bind((host_ip.as_str(), 80)).unwrap_or_else(|e| {
        panic!("cannot listen on {host_ip}:80 (is a server listening on 0.0.0.0:80?): {e}")
    });
    let _server = MpServer::start(
        listener,
        HashMap::from([
            (cm01.clone(), ("P01".to_string(), 7804)),
            (cm03.clone(), ("P02".to_string(), 9128)),
        ]),
    );

    let password = lab.get("LAB_ADMIN_PASSWORD").to_string();
    let fqdn = lab.get("LAB_DC_FQDN");
    let dc_ip = lab.get("LAB_DC_IP");
    let out = tempfile::tempdir().unwrap();
    let scan_started = Instant::now();
    // cm02 points at the DC, where nothing listens on 80: refused at once.
    let output = common::readyscan()
        .args(["scan", "--timeout", "3s", "--dc", fqdn])
        .args(["--target", &format!("{fqdn}={dc_ip}")])
        .args(["--target", &format!("{cm01}={host_ip}")])
        .args(["--target", &format!("{cm02}={dc_ip}")])
        .args(["--target", &format!("{cm03}={host_ip}")])
        .args(["--bind-user", lab.get("LAB_ADMIN_USER")])
        .args(["--ca-cert", lab.get("LAB_CA_CERT")])
        // The DNS probes ask the lab DC, never the machine's resolver.
        .args(["--dns-server", dc_ip])
        .arg("--out")
        .arg(out.path())
        .env(PASSWORD_ENV, &password)
        .output()
        .unwrap();
    let scan_time = scan_started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stdout.contains("panicked"),
        "{stderr}"
    );
    // cm-site-version fails for P01: exit 1 (findings), not a crash or bad input.
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout {stdout} stderr {stderr}"
    );
    assert!(scan_time < Duration::from_secs(60), "took {scan_time:?}");
    let text = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    for f in ["report.json", "report.html", "report.md"] {
        let body = std::fs::read_to_string(out.path().join(f)).unwrap();
        assert!(!body.contains(&password), "the password leaked into {f}");
    }
    assert!(!stdout.contains(&password) && !stderr.contains(&password));

    // Neither --scope configmgr nor --mp: discovery in AD brought the scope in.
    let scopes = report["scan"]["config"]["scopes"].as_array().unwrap();
    assert!(scopes.iter().any(|s| s == "configmgr"), "{scopes:?}");
    assert!(
        report["scan"]["config"]["mps"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "no --mp was given"
    );

    let ad = finding(&report, "cm-ad-sites", fqdn);
    assert_eq!(ad["status"], "pass", "{ad}");
    assert_eq!(ad["observed"], "P01", "{ad}");
    let obs = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "configmgr.ad_sites")
        .unwrap();
    let mps = obs["fields"]["management_points"].as_array().unwrap();
    assert_eq!(mps.len(), 3, "{obs}");
    let mp01 = mps.iter().find(|m| m["host"] == cm01.as_str()).unwrap();
    assert_eq!(mp01["site_code"], "P01");
    // Read from the capabilities XML despite its bare '&'.
    assert_eq!(mp01["version"], "5.00.7804.1000", "{mp01}");

    let version = finding(&report, "cm-site-version", "P01");
    assert_eq!(version["status"], "fail", "{version}");
    assert_eq!(version["observed"], "7804 (2012 SP1)", "{version}");
    assert!(!version["remediation"].as_array().unwrap().is_empty());

    let stale = finding(&report, "cm-stale-mp", "P01");
    assert_eq!(stale["status"], "warn", "{stale}");
    let observed = stale["observed"].as_str().unwrap();
    assert!(
        observed.contains(&format!("{cm02} (published in AD, does not answer")),
        "{observed}"
    );
    assert!(
        observed.contains(&format!(
            "{cm03} (published in AD for site P01, answers for site P02)"
        )),
        "{observed}"
    );
    assert!(
        !observed.contains(&cm01),
        "cm01 answers for P01: {observed}"
    );
    // cm03 reports its own site, judged on its own build.
    let p02 = finding(&report, "cm-site-version", "P02");
    assert_eq!(p02["status"], "pass", "{p02}");
    assert_eq!(p02["observed"], "9128 (2403)", "{p02}");
    eprintln!("lab setup {setup:?} (after up), scan {scan_time:?}");
}
