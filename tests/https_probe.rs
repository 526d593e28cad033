//! https.endpoint against a TLS server on 127.0.0.1 with a lab CA (rcgen). Every cloud name the
//! built-in checks list is mapped to that server with --target, so nothing leaves loopback.

use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::finding;

struct Lab {
    ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

/// A CA named `ca_name` and a leaf for `names` valid for `days` more days.
fn lab(ca_name: &str, names: &[&str], days: i64) -> Lab {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.distinguished_name
        .push(DnType::OrganizationName, "readyscan test lab");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    ca.not_after = OffsetDateTime::now_utc() + Duration::days(365);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut leaf = CertificateParams::new(names.clone()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, &names[0]);
    leaf.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    // Half a day past the whole days, so the day count does not flip during the test.
    leaf.not_after = OffsetDateTime::now_utc() + Duration::days(days) + Duration::hours(12);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    Lab {
        ca_pem: ca_cert.pem(),
        chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    }
}

/// Serves TLS on 127.0.0.1 in a thread of its own; answers every GET with 204.
fn serve(lab: &Lab) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(lab.chain.clone(), lab.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            // Bounded: the test process ends the thread; each connection gets 10 s at most.
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let mut buf = [0u8; 2048];
                        let _ = tls.read(&mut buf).await;
                        let _ = tls
                            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                            .await;
                        let _ = tls.shutdown().await;
                    },
                ));
            }
        });
    });
    port
}

/// Every host the built-in cloud checks would probe.
fn cloud_hosts() -> Vec<String> {
    let catalog = readyscan::catalog::Catalog::builtin().unwrap();
    let mut hosts: Vec<String> = catalog
        .checks
        .iter()
        .filter(|c| c.filter.get("roles").and_then(Value::as_str) == Some("cloud"))
        .flat_map(|c| {
            c.params["hosts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|h| h.as_str().map(str::to_string))
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    assert!(hosts.iter().any(|h| h == "manage.microsoft.com"));
    hosts
}

fn readyscan(out: &Path) -> Command {
    let mut cmd = common::readyscan();
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["-q", "scan", "--timeout", "3s", "--format", "json", "--out"])
        .arg(out);
    cmd
}

/// A cloud scan with every cloud name on the lab server.
fn cloud_scan(port: u16, ca: Option<&Path>) -> Value {
    cloud_scan_with(port, ca, None)
}

/// As [`cloud_scan`], with `system_store` as the operating system's trust store (SSL_CERT_FILE).
fn cloud_scan_with(port: u16, ca: Option<&Path>, system_store: Option<&Path>) -> Value {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = readyscan(out.path());
    if let Some(store) = system_store {
        cmd.env("SSL_CERT_FILE", store).env_remove("SSL_CERT_DIR");
    }
    cmd.args(["--scope", "intune", "--cloud-endpoints"]);
    for h in cloud_hosts() {
        cmd.arg("--target").arg(format!("{h}=127.0.0.1:{port}"));
    }
    if let Some(ca) = ca {
        cmd.arg("--ca-cert").arg(ca);
    }
    let run = cmd.output().unwrap();
    assert!(
        run.status.code().is_some_and(|c| c != 2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    let others: Vec<&Value> = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["probe"] != "tcp.connect" && o["probe"] != "https.endpoint")
        .collect();
    assert!(
        others.is_empty(),
        "only the lab server is contacted: {others:?}"
    );
    report
}

fn write_ca(dir: &Path, lab: &Lab) -> std::path::PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &lab.ca_pem).unwrap();
    path
}

const MANAGE: &str = "https://manage.microsoft.com:443";

#[test]
fn trusted_with_ca_cert_and_untrusted_without() {
    let hosts = cloud_hosts();
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let lab = lab("Microsoft Azure RSA TLS Issuing CA (lab)", &names, 200);
    let port = serve(&lab);
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path(), &lab);

    let report = cloud_scan(port, Some(&ca));
    let https = finding(&report, "net-intune-https", MANAGE);
    assert_eq!(https["status"], "pass", "{https}");
    let inspection = finding(&report, "net-intune-no-tls-inspection", MANAGE);
    assert_eq!(inspection["status"], "pass", "{inspection}");
    let obs = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "https.endpoint" && o["subject"] == MANAGE)
        .unwrap();
    assert_eq!(obs["fields"]["http_status"], 204, "{obs}");
    assert_eq!(obs["fields"]["proxy"], "none");
    assert_eq!(obs["fields"]["address"], format!("127.0.0.1:{port}"));
    assert!(obs["fields"]["issuer"]
        .as_str()
        .unwrap()
        .contains("Microsoft Azure RSA TLS Issuing CA (lab)"));
    let tcp = finding(&report, "net-intune-endpoints", "manage.microsoft.com:443");
    assert_eq!(tcp["status"], "pass", "{tcp}");

    let report = cloud_scan(port, None);
    let https = finding(&report, "net-intune-https", MANAGE);
    assert_eq!(https["status"], "fail", "{https}");
    let observed = https["observed"].as_str().unwrap();
    assert!(
        observed.starts_with("untrusted (certificate not trusted")
            && observed.contains("UnknownIssuer")
            && observed.contains("--ca-cert")
            && observed.contains("--insecure-tls"),
        "the finding says why and what to do: {observed}"
    );

    // A CA in the operating system's store is trusted without --ca-cert.
    let report = cloud_scan_with(port, None, Some(&ca));
    let https = finding(&report, "net-intune-https", MANAGE);
    assert_eq!(https["status"], "pass", "{https}");
}

#[test]
fn inspecting_issuer_on_a_no_inspection_endpoint_warns() {
    let hosts = cloud_hosts();
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let lab = lab("Contoso Web Gateway Inspection CA", &names, 200);
    let port = serve(&lab);
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path(), &lab);

    let report = cloud_scan(port, Some(&ca));
    // The inspecting CA is trusted on this machine, as a corporate one would be...
    assert_eq!(
        finding(&report, "net-intune-https", MANAGE)["status"],
        "pass"
    );
    // ...but Microsoft does not support inspection on *.manage.microsoft.com.
    let inspection = finding(&report, "net-intune-no-tls-inspection", MANAGE);
    assert_eq!(inspection["status"], "warn", "{inspection}");
    assert!(
        inspection["observed"]
            .as_str()
            .unwrap()
            .starts_with("suspected (")
            && inspection["observed"]
                .as_str()
                .unwrap()
                .contains("Contoso Web Gateway Inspection CA"),
        "{inspection}"
    );
    assert!(inspection["remediation"][0]
        .as_str()
        .unwrap()
        .contains("does not support inspection"));
    // An endpoint without a no-inspection rule is not judged on its issuer.
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !(f["check_id"] == "net-intune-no-tls-inspection"
            && f["subject"] == "https://enterpriseregistration.windows.net:443")));
}

/// Through the library with only the federation port/certificate checks, so the AD FS name's
/// DNS check (which would ask the system resolver) is not part of this test.
#[test]
fn expiring_adfs_certificate_warns_with_days_left() {
    let lab = lab("Readyscan Lab CA", &["sts.lab.test"], 10);
    let port = serve(&lab);
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path(), &lab);
    let mut catalog = readyscan::catalog::Catalog::builtin().unwrap();
    catalog.checks.retain(|c| c.id.starts_with("fed-"));
    assert_eq!(catalog.checks.len(), 4);
    let mut config = readyscan::config::ScanConfig {
        scopes: vec!["federation".into()],
        adfs: vec!["sts.lab.test".into()],
        ca_certs: vec![ca.display().to_string()],
        ..Default::default()
    };
    config.add_target("sts.lab.test", "127.0.0.1".parse().unwrap(), Some(port));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let set = rt
        .block_on(readyscan::scan(config, &catalog, false))
        .expect("the scan starts");
    assert!(
        set.observations
            .iter()
            .all(|o| o.probe == "tcp.connect" || o.probe == "https.endpoint"),
        "{:?}",
        set.observations
    );
    let today = OffsetDateTime::now_utc();
    let report = readyscan::report::Report::build(set, &catalog, today.date(), today);
    let report = serde_json::to_value(&report).unwrap();
    let expiry = finding(
        &report,
        "fed-adfs-certificate-expiry",
        "https://sts.lab.test:443",
    );
    assert_eq!(expiry["status"], "warn", "{expiry}");
    assert!(
        expiry["observed"].as_str().unwrap().starts_with("10 ("),
        "days left shown: {expiry}"
    );
    let trusted = finding(
        &report,
        "fed-adfs-certificate-trusted",
        "https://sts.lab.test:443",
    );
    assert_eq!(trusted["status"], "pass", "{trusted}");
    // The port checks went to the same stand-in (every port of the name maps to the server).
    assert_eq!(
        finding(&report, "fed-adfs-port", "sts.lab.test:443")["status"],
        "pass"
    );
}

#[test]
fn without_cloud_endpoints_no_cloud_probe_runs() {
    let out = tempfile::tempdir().unwrap();
    // Skipped on purpose: not applicable, so it cannot make the verdict incomplete.
    readyscan(out.path())
        .args(["--scope", "intune"])
        .assert()
        .code(0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let probed = report["observations"].as_array().unwrap();
    assert!(
        probed
            .iter()
            .all(|o| o["kind"] == "not_tested" && o["status"] == "not_applicable"),
        "nothing may be probed: {probed:?}"
    );
    let https = finding(&report, "net-intune-https", "cloud endpoints");
    assert_eq!(https["status"], "not_applicable");
    assert_eq!(https["code"], "not_tested");
    assert!(https["reason"]
        .as_str()
        .unwrap()
        .contains("--cloud-endpoints"));
}
