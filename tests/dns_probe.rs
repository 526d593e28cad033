//! DNS probes against an in-process DNS server on 127.0.0.1 (hickory-server loading the zone
//! files in fixtures/dns/), and against raw UDP responders that answer SERVFAIL / REFUSED or
//! never answer. Nothing here asks a public resolver or a public name.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_server::proto::op::{Message, ResponseCode};
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::store::file::{FileConfig, FileZoneHandler};
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;
use serde_json::{json, Value};

use readyscan::catalog::Catalog as Checks;
use readyscan::config::ScanConfig;
use readyscan::evaluate::{evaluate, Finding, Status};
use readyscan::observation::{Observation, ObservationSet, ObservationStatus};

const ZONES: &[(&str, &str)] = &[
    ("lab.test.", "lab.test.zone"),
    ("contoso.test.", "contoso.test.zone"),
    ("fabrikam.test.", "fabrikam.test.zone"),
    ("tailspin.test.", "tailspin.test.zone"),
    ("northwind.test.", "northwind.test.zone"),
    ("loop.test.", "loop.test.zone"),
];

/// The server runs as long as this lives.
struct ZoneServer {
    addr: SocketAddr,
    _server: Server<Catalog>,
    _dir: tempfile::TempDir,
}

async fn zone_server(open: u16, closed: u16) -> ZoneServer {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::new();
    for (origin, file) in ZONES {
        let text = std::fs::read_to_string(format!("fixtures/dns/{file}"))
            .unwrap()
            .replace("{OPEN}", &open.to_string())
            .replace("{CLOSED}", &closed.to_string());
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let origin = Name::from_ascii(origin).unwrap();
        let zone = FileZoneHandler::try_from_config(
            origin.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
            None,
            &FileConfig { zone_path: path },
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let handlers: Vec<Arc<dyn ZoneHandler>> = vec![Arc::new(zone)];
        catalog.upsert(LowerName::new(&origin), handlers);
    }
    // UDP and TCP on the same port, as resolvers expect; retry if the TCP port is taken.
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let Ok(tcp) = tokio::net::TcpListener::bind(addr).await else {
            continue;
        };
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 16);
        return ZoneServer {
            addr,
            _server: server,
            _dir: dir,
        };
    }
    panic!("no free loopback port pair for the DNS server");
}

/// A UDP responder: answers with `code(query name)`, or stays silent when that is None; counts
/// the queries per name.
async fn raw_responder(
    code: fn(&str) -> Option<ResponseCode>,
) -> (SocketAddr, Arc<Mutex<HashMap<String, usize>>>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counter = seen.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let Some(query) = request.queries.first() else {
                continue;
            };
            let name = query.name().to_ascii().to_ascii_lowercase();
            *counter.lock().unwrap().entry(name.clone()).or_default() += 1;
            if let Some(rcode) = code(&name) {
                let mut response =
                    Message::error_msg(request.metadata.id, request.metadata.op_code, rcode);
                response.queries = request.queries.clone();
                if let Ok(bytes) = response.to_vec() {
                    let _ = socket.send_to(&bytes, from).await;
                }
            }
        }
    });
    (addr, seen)
}

fn scan_config(server: SocketAddr, timeout: Duration) -> ScanConfig {
    ScanConfig {
        scopes: vec!["core".into(), "intune".into(), "federation".into()],
        dns_servers: vec![server.to_string()],
        timeout,
        ..ScanConfig::default()
    }
}

struct Scan {
    set: ObservationSet,
    findings: Vec<Finding>,
}

impl Scan {
    async fn run(config: ScanConfig) -> Scan {
        let checks = Checks::builtin().unwrap();
        let set = readyscan::scan(config, &checks, false)
            .await
            .expect("the scan starts");
        let findings = evaluate(
            &checks,
            &set.observations,
            &set.scan.config.scopes,
            time::OffsetDateTime::now_utc().date(),
        );
        Scan { set, findings }
    }

    fn obs(&self, probe: &str, subject: &str) -> &Observation {
        self.set
            .observations
            .iter()
            .find(|o| o.probe == probe && o.subject == subject)
            .unwrap_or_else(|| panic!("no {probe} observation of {subject}: {:#?}", self.set))
    }

    fn field(&self, probe: &str, subject: &str, field: &str) -> Value {
        self.obs(probe, subject)
            .fields
            .get(field)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn finding(&self, check: &str, subject: &str) -> &Finding {
        self.findings
            .iter()
            .find(|f| f.check_id == check && f.subject == subject)
            .unwrap_or_else(|| panic!("no finding {check} on {subject}"))
    }

    fn status(&self, check: &str, subject: &str) -> Status {
        self.finding(check, subject).status
    }
}

#[tokio::test]
async fn zone_server_covers_srv_cname_m365_and_adfs() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = zone_server(open, closed).await;
    let mut config = scan_config(server.addr, Duration::from_secs(2));
    config.domains = vec!["lab.test".into()];
    config.upn_suffixes = [
        "contoso.test",
        "fabrikam.test",
        "Tailspin.Test.",
        "northwind.test",
        "loop.test",
        "corp.local",
    ]
    .map(String::from)
    .to_vec();
    config.adfs = ["sts.contoso.test", "fs.contoso.test", "nope.contoso.test"]
        .map(String::from)
        .to_vec();
    config.dcs = vec!["dc1.lab.test".into(), "dc3.lab.test".into()];
    // tcp.connect also probes these DCs: keep it on loopback.
    config.resolve = [
        ("dc1.lab.test".to_string(), "127.0.0.1".parse().unwrap()),
        ("dc3.lab.test".to_string(), "127.0.0.1".parse().unwrap()),
    ]
    .into();
    let scan = Scan::run(config).await;

    // --- SRV: present, unresolved target, stale target, DC missing from the locator records.
    let dc = "_ldap._tcp.dc._msdcs.lab.test";
    assert_eq!(scan.field("dns.srv", dc, "outcome"), "answer");
    assert_eq!(
        scan.field("dns.srv", dc, "targets"),
        json!([
            format!("dc1.lab.test:{open}"),
            format!("dc2.lab.test:{closed}"),
            "dc9.lab.test:389"
        ])
    );
    assert_eq!(
        scan.field("dns.srv", dc, "unresolved_targets"),
        json!(["dc9.lab.test (NXDOMAIN)"])
    );
    assert_eq!(
        scan.field("dns.srv", dc, "stale_targets"),
        json!([format!("dc2.lab.test:{closed} (connection refused)")])
    );
    assert_eq!(
        scan.field("dns.srv", dc, "missing_dcs"),
        json!(["dc3.lab.test"])
    );
    assert_eq!(scan.status("dns-dc-srv", dc), Status::Pass);
    assert_eq!(scan.status("dns-dc-srv-targets-resolve", dc), Status::Fail);
    assert_eq!(scan.status("dns-dc-srv-stale", dc), Status::Warn);
    assert_eq!(scan.status("dns-dc-srv-missing-dcs", dc), Status::Warn);
    // tcp.connect probes the DCs the SRV records name, resolved by --dns-server (not the
    // system resolver): dc2 has an address, dc9 has none.
    assert_eq!(
        scan.field("tcp.connect", "dc2.lab.test:389", "address"),
        "127.0.0.1:389"
    );
    assert_eq!(
        scan.field("tcp.connect", "dc9.lab.test:389", "state"),
        "unresolved"
    );

    // Upper-case target in the zone: normalised, answers, all clean.
    let kerberos = "_kerberos._tcp.lab.test";
    assert_eq!(
        scan.field("dns.srv", kerberos, "targets"),
        json!([format!("dc1.lab.test:{open}")])
    );
    for check in [
        "dns-dc-srv",
        "dns-dc-srv-targets-resolve",
        "dns-dc-srv-stale",
    ] {
        assert_eq!(scan.status(check, kerberos), Status::Pass, "{check}");
    }

    // NODATA (the name has a TXT record) and NXDOMAIN are told apart, and both fail.
    let kpasswd = "_kpasswd._tcp.lab.test";
    assert_eq!(scan.field("dns.srv", kpasswd, "outcome"), "nodata");
    assert_eq!(scan.status("dns-dc-srv", kpasswd), Status::Fail);
    let observed = scan
        .finding("dns-dc-srv", kpasswd)
        .observed
        .clone()
        .unwrap();
    assert!(observed.contains("NODATA"), "{observed}");
    let gc = "_gc._tcp.lab.test";
    assert_eq!(scan.field("dns.srv", gc, "outcome"), "nxdomain");
    assert_eq!(scan.status("dns-dc-srv", gc), Status::Fail);
    assert!(scan
        .field("dns.srv", gc, "forest_root")
        .as_str()
        .unwrap()
        .contains("assumed"));

    // --- Intune CNAMEs.
    let e = "enterpriseenrollment.contoso.test";
    assert_eq!(
        scan.field("dns.cname", e, "target"),
        "enterpriseenrollment-s.manage.microsoft.com"
    );
    assert_eq!(scan.status("dns-intune-enrollment-cname", e), Status::Pass);
    assert_eq!(
        scan.status("dns-intune-enrollment-cname-preferred", e),
        Status::Pass
    );

    // Wrong target: found and expected both shown.
    let r = "enterpriseregistration.contoso.test";
    let wrong = scan.finding("dns-intune-registration-cname", r);
    assert_eq!(
        wrong.status,
        Status::Warn,
        "the CNAMEs are optional: warnings"
    );
    assert_eq!(wrong.observed.as_deref(), Some("login.contoso.test"));
    assert!(wrong
        .expected
        .contains("EnterpriseRegistration.windows.net"));

    // A chain inside the suffix's zone, ending at the target with a user prompt.
    let e = "enterpriseenrollment.fabrikam.test";
    assert_eq!(
        scan.field("dns.cname", e, "chain"),
        json!([
            "enroll.fabrikam.test",
            "enterpriseenrollment.manage.microsoft.com"
        ])
    );
    assert_eq!(scan.status("dns-intune-enrollment-cname", e), Status::Pass);
    let preferred = scan.finding("dns-intune-enrollment-cname-preferred", e);
    assert_eq!(preferred.status, Status::Warn);
    assert!(preferred
        .observed
        .as_deref()
        .unwrap()
        .contains("via enroll.fabrikam.test"));

    // NODATA: the name exists as a host record only; the steps spell out the record to create.
    let r = "enterpriseregistration.fabrikam.test";
    assert_eq!(scan.field("dns.cname", r, "outcome"), "nodata");
    assert_eq!(scan.field("dns.cname", r, "target"), Value::Null);
    let steps = scan
        .finding("dns-intune-registration-cname", r)
        .remediation
        .join("\n");
    assert!(
        steps.contains(
            "EnterpriseRegistration.fabrikam.test. 3600 IN CNAME EnterpriseRegistration.windows.net."
        ),
        "{steps}"
    );
    assert_eq!(
        scan.status("dns-intune-registration-cname", r),
        Status::Warn
    );

    // NXDOMAIN: missing record fails, naming the record to create.
    let e = "enterpriseenrollment.northwind.test";
    assert_eq!(scan.field("dns.cname", e, "outcome"), "nxdomain");
    let missing = scan.finding("dns-intune-enrollment-cname", e);
    assert_eq!(missing.status, Status::Warn);
    let shown = missing.observed.as_deref().unwrap();
    assert!(shown.contains("NXDOMAIN"), "{shown}");
    assert!(
        missing.remediation[0].contains(
            "EnterpriseEnrollment.northwind.test. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.com."
        ),
        "{:?}",
        missing.remediation
    );

    // Case and trailing dot differences in the suffix, the names and the targets.
    for (check, subject) in [
        (
            "dns-intune-enrollment-cname-preferred",
            "enterpriseenrollment.tailspin.test",
        ),
        (
            "dns-intune-registration-cname",
            "enterpriseregistration.tailspin.test",
        ),
    ] {
        assert_eq!(scan.status(check, subject), Status::Pass, "{check}");
    }

    // A loop is reported as a probe error, not followed for ever.
    let looped = scan.obs("dns.cname", "enterpriseenrollment.loop.test");
    assert_eq!(looped.status, ObservationStatus::Failed);
    assert!(looped.reason.as_deref().unwrap().contains("loop"));
    assert_eq!(
        scan.status(
            "dns-intune-enrollment-cname",
            "enterpriseenrollment.loop.test"
        ),
        Status::Error
    );

    // A non-routable suffix is not applicable, with the reason, and is never queried.
    let local = scan.obs("dns.cname", "enterpriseenrollment.corp.local");
    assert_eq!(local.status, ObservationStatus::NotApplicable);
    assert!(local.reason.as_deref().unwrap().contains(".local"));
    assert_eq!(
        scan.status(
            "dns-intune-enrollment-cname",
            "enterpriseenrollment.corp.local"
        ),
        Status::NotApplicable
    );
    assert_eq!(
        scan.obs("dns.m365", "corp.local").status,
        ObservationStatus::NotApplicable
    );

    // --- Microsoft 365 records.
    assert_eq!(
        scan.field("dns.m365", "contoso.test", "ms_verification"),
        json!(["MS=ms12345678"])
    );
    assert_eq!(scan.field("dns.m365", "contoso.test", "spf_count"), 2);
    assert_eq!(scan.status("m365-spf-single", "contoso.test"), Status::Warn);
    assert_eq!(
        scan.status("m365-domain-verification-txt", "contoso.test"),
        Status::Pass
    );
    assert_eq!(scan.status("m365-mx", "contoso.test"), Status::Pass);
    assert_eq!(
        scan.status("m365-autodiscover-cname", "contoso.test"),
        Status::Pass
    );
    for check in [
        "m365-domain-verification-txt",
        "m365-mx",
        "m365-autodiscover-cname",
    ] {
        assert_eq!(
            scan.status(check, "northwind.test"),
            Status::Info,
            "{check}"
        );
    }
    // No SPF record: information from m365-spf-record; nothing for m365-spf-single to count.
    assert_eq!(
        scan.status("m365-spf-record", "northwind.test"),
        Status::Info
    );
    assert_eq!(
        scan.status("m365-spf-single", "northwind.test"),
        Status::NotApplicable
    );

    // --- AD FS service names.
    assert_eq!(
        scan.field("dns.adfs_name", "sts.contoso.test", "record_type"),
        "CNAME"
    );
    let sts = scan.finding("dns-adfs-a-record", "sts.contoso.test");
    assert_eq!(sts.status, Status::Fail);
    assert_eq!(sts.observed.as_deref(), Some("CNAME (adfs1.contoso.test)"));
    assert_eq!(
        scan.status("dns-adfs-a-record", "fs.contoso.test"),
        Status::Pass
    );
    assert_eq!(
        scan.field("dns.adfs_name", "nope.contoso.test", "outcome"),
        "nxdomain"
    );
    assert_eq!(
        scan.status("dns-adfs-a-record", "nope.contoso.test"),
        Status::Fail
    );
    drop(listener);
}

fn servfail_or_refused(name: &str) -> Option<ResponseCode> {
    Some(if name.starts_with("enterpriseenrollment.") {
        ResponseCode::ServFail
    } else {
        ResponseCode::Refused
    })
}

#[tokio::test]
async fn servfail_and_refused_are_errors_and_not_retried() {
    let (addr, seen) = raw_responder(servfail_or_refused).await;
    let mut config = scan_config(addr, Duration::from_secs(2));
    config.upn_suffixes = vec!["contoso.test".into()];
    let scan = Scan::run(config).await;

    let e = scan.obs("dns.cname", "enterpriseenrollment.contoso.test");
    assert_eq!(e.status, ObservationStatus::Failed);
    assert!(e.reason.as_deref().unwrap().contains("SERVFAIL"), "{e:?}");
    let r = scan.obs("dns.cname", "enterpriseregistration.contoso.test");
    assert!(r.reason.as_deref().unwrap().contains("REFUSED"), "{r:?}");
    for (check, subject) in [
        (
            "dns-intune-enrollment-cname",
            "enterpriseenrollment.contoso.test",
        ),
        (
            "dns-intune-registration-cname",
            "enterpriseregistration.contoso.test",
        ),
    ] {
        assert_eq!(scan.status(check, subject), Status::Error, "{check}");
    }
    // An answer, even a failing one, is not retried.
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.get("enterpriseenrollment.contoso.test."),
        Some(&1),
        "{seen:?}"
    );
    assert_eq!(
        seen.get("enterpriseregistration.contoso.test."),
        Some(&1),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_gives_error_not_fail() {
    let (addr, seen) = raw_responder(|_| None).await;
    let timeout = Duration::from_millis(300);
    let mut config = scan_config(addr, timeout);
    config.upn_suffixes = vec!["contoso.test".into()];
    config.domains = vec!["lab.test".into()];
    let started = Instant::now();
    let scan = Scan::run(config).await;
    // Two attempts of 300 ms per query, queries of a stage in parallel.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let e = scan.obs("dns.cname", "enterpriseenrollment.contoso.test");
    assert_eq!(e.status, ObservationStatus::Failed);
    let reason = e.reason.as_deref().unwrap();
    // Tried twice; or once, another query having found the server silent meanwhile; or not
    // sent at all because an earlier query (DC discovery) had.
    assert!(reason.starts_with("timeout"), "{reason}");
    assert!(
        reason.contains("tried 2 times")
            || reason.contains("tried once; the servers answered no other query meanwhile")
            || reason.contains("not asked"),
        "{reason}"
    );
    assert_eq!(
        scan.status(
            "dns-intune-enrollment-cname",
            "enterpriseenrollment.contoso.test"
        ),
        Status::Error
    );
    assert_eq!(
        scan.status("dns-dc-srv", "_ldap._tcp.dc._msdcs.lab.test"),
        Status::Error
    );
    // Not a single fail: a silent resolver says nothing about the records.
    assert!(
        scan.findings
            .iter()
            .all(|f| f.status != Status::Fail || f.area != "dns"),
        "{:#?}",
        scan.findings
    );
    // A query is sent again after its first timeout unless the server was found silent
    // meanwhile; never a third time, and none after the server was found silent.
    let seen = seen.lock().unwrap().clone();
    assert!(seen.values().any(|&n| n == 2), "{seen:?}");
    assert!(seen.values().all(|&n| n <= 2), "{seen:?}");
}

#[test]
fn bad_dns_server_flag_exits_2_naming_it() {
    let out = tempfile::tempdir().unwrap();
    let assert = assert_cmd::Command::cargo_bin("readyscan")
        .unwrap()
        .args(["scan", "--dns-server", "dns.corp.example", "--out"])
        .arg(out.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--dns-server"), "{stderr}");
    assert!(stderr.contains("dns.corp.example"), "{stderr}");
}

#[tokio::test]
async fn servers_that_went_silent_are_not_asked_again_in_the_scan() {
    use hickory_resolver::proto::rr::RecordType;
    use readyscan::probes::resolver::{Dns, FailureKind};
    let (addr, seen) = raw_responder(|_| None).await;
    let timeout = Duration::from_millis(200);
    let dns = Dns::new(&scan_config(addr, timeout), timeout).unwrap();
    let first = dns.query("a.lab.test", RecordType::SRV).await.unwrap_err();
    assert!(first.message.contains("tried 2 times"), "{first}");
    // The next lookup of a chain: a timeout at once, and nothing sent.
    let second = dns.query("b.lab.test", RecordType::A).await.unwrap_err();
    assert_eq!(second.kind, FailureKind::Timeout);
    assert!(second.message.contains("not asked"), "{second}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.get("a.lab.test."), Some(&2), "{seen:?}");
    assert_eq!(seen.get("b.lab.test."), None, "{seen:?}");
}

#[tokio::test]
async fn a_server_that_answers_other_names_meanwhile_is_still_asked() {
    use hickory_resolver::proto::rr::RecordType;
    use readyscan::probes::resolver::{Dns, Outcome};
    // A dead forwarder: local names answered, outside names never.
    let (addr, seen) =
        raw_responder(|n| n.ends_with("lab.test.").then_some(ResponseCode::NXDomain)).await;
    let timeout = Duration::from_millis(200);
    let dns = Dns::new(&scan_config(addr, timeout), timeout).unwrap();
    let (outside, local) = tokio::join!(dns.query("x.example.test", RecordType::CNAME), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        dns.query("a.lab.test", RecordType::SRV).await
    });
    assert!(outside.unwrap_err().message.contains("tried 2 times"));
    assert_eq!(local.unwrap(), Outcome::NxDomain);
    let again = dns.query("y.example.test", RecordType::CNAME).await;
    assert!(again.unwrap_err().message.contains("tried 2 times"));
    assert_eq!(seen.lock().unwrap().get("y.example.test."), Some(&2));
}
