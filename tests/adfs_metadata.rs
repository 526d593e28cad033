//! adfs.metadata and adfs.san against a loopback AD FS stand-in (tokio + rustls, rcgen
//! certificates). fs.contoso.test is mapped to 127.0.0.1 with --target: nothing leaves loopback.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{finding, read_json, readyscan};

const FS: &str = "fs.contoso.test";
/// Markup and terminal controls, as a hostile certificate might carry them.
const HOSTILE_CN: &str = "<script>alert(1)</script>\u{1b}]0;pwned\u{7}";
const HOSTILE_SAN: &str = "<img src=x onerror=alert(2)>.contoso.test";

/// What the stand-in serves at the metadata path.
enum Body {
    Metadata,
    Malformed,
    Oversized,
    /// A redirect to another host (never followed).
    Redirect,
}

struct Lab {
    ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    /// The token-signing certificate (DER), valid 10 more days.
    signing: Vec<u8>,
}

fn lab() -> Lab {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "readyscan lab CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    // The service certificate covers the FS and contoso.test's registration name, not
    // fabrikam.test's.
    let mut leaf = CertificateParams::new(vec![
        FS.to_string(),
        "enterpriseregistration.contoso.test".to_string(),
    ])
    .unwrap();
    leaf.subject_alt_names
        .push(SanType::DnsName(HOSTILE_SAN.try_into().unwrap()));
    leaf.distinguished_name.push(DnType::CommonName, FS);
    leaf.distinguished_name
        .push(DnType::OrganizationName, HOSTILE_CN);
    leaf.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    leaf.not_after = OffsetDateTime::now_utc() + Duration::days(300);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();

    let mut ts = CertificateParams::new(Vec::<String>::new()).unwrap();
    ts.distinguished_name
        .push(DnType::CommonName, format!("ADFS Signing - {HOSTILE_CN}"));
    ts.not_before = OffsetDateTime::now_utc() - Duration::days(355);
    // Half a day past the whole days, so the count does not flip during the test.
    ts.not_after = OffsetDateTime::now_utc() + Duration::days(10) + Duration::hours(12);
    let ts_cert = ts.self_signed(&KeyPair::generate().unwrap()).unwrap();
    Lab {
        ca_pem: ca_cert.pem(),
        chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        signing: ts_cert.der().to_vec(),
    }
}

fn metadata(signing: &[u8]) -> String {
    let cert = base64::engine::general_purpose::STANDARD.encode(signing);
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_x" entityID="http://{FS}/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
 <RoleDescriptor xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706" xsi:type="fed:SecurityTokenServiceType" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  <fed:PassiveRequestorEndpoint><EndpointReference xmlns="http://www.w3.org/2005/08/addressing"><Address>https://{FS}/adfs/ls/</Address></EndpointReference></fed:PassiveRequestorEndpoint>
 </RoleDescriptor>
 <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://{FS}/adfs/ls/"/>
  <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://old-fs.contoso.test/adfs/ls/"/>
 </IDPSSODescriptor>
</EntityDescriptor>"#
    )
}

/// Serves TLS on 127.0.0.1 in its own thread: the metadata path per `body`, 404 elsewhere.
fn serve(lab: &Lab, body: Body) -> u16 {
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
    let document: Arc<Vec<u8>> = Arc::new(match body {
        Body::Metadata => metadata(&lab.signing).into_bytes(),
        Body::Malformed => {
            b"<EntityDescriptor entityID=\"x\"><RoleDescriptor></EntityDescriptor>".to_vec()
        }
        Body::Oversized => {
            let mut d = metadata(&lab.signing).into_bytes();
            d.extend(std::iter::repeat_n(b' ', 2 * 1024 * 1024));
            d
        }
        Body::Redirect => Vec::new(),
    });
    let redirect = document.is_empty();
    let document: Arc<Vec<u8>> = Arc::new(if redirect {
        Vec::new()
    } else {
        document.to_vec()
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let document = document.clone();
                tokio::spawn(tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let mut buf = [0u8; 4096];
                        let n = tls.read(&mut buf).await.unwrap_or(0);
                        let head = String::from_utf8_lossy(&buf[..n]).to_string();
                        if redirect {
                            let _ = tls
                                .write_all(b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example/md.xml\r\nContent-Length: 0\r\n\r\n")
                                .await;
                        } else if head.starts_with("GET /FederationMetadata/2007-06/FederationMetadata.xml ") {
                            let h = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                document.len()
                            );
                            let _ = tls.write_all(h.as_bytes()).await;
                            let _ = tls.write_all(&document).await;
                        } else {
                            let _ = tls
                                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .await;
                        }
                        let _ = tls.shutdown().await;
                    },
                ));
            }
        });
    });
    port
}

/// A federation scan of the stand-in; returns (report.json, the output directory's files).
fn scan(lab: &Lab, port: u16, out: &Path) -> (Value, String) {
    let ca = out.join("ca.pem");
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let run = readyscan()
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .args(["scan", "--scope", "federation", "--timeout", "3s"])
        .args(["--format", "html,json,md,csv,junit", "--out"])
        .arg(out.join("report"))
        .args(["--adfs", FS, "--target"])
        .arg(format!("{FS}=127.0.0.1:{port}"))
        .args([
            "--upn-suffix",
            "contoso.test",
            "--upn-suffix",
            "fabrikam.test",
        ])
        .arg("--ca-cert")
        .arg(&ca)
        .output()
        .unwrap();
    assert!(
        run.status.code().is_some_and(|c| c != 2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    (read_json(&out.join("report/report.json")), stdout)
}

fn metadata_subject() -> String {
    format!("https://{FS}/FederationMetadata/2007-06/FederationMetadata.xml")
}

#[test]
fn expiring_signing_certificate_and_missing_registration_name() {
    let lab = lab();
    let port = serve(&lab, Body::Metadata);
    let dir = tempfile::tempdir().unwrap();
    let (report, stdout) = scan(&lab, port, dir.path());
    let subject = metadata_subject();

    let readable = finding(&report, "adfs-metadata-readable", &subject);
    assert_eq!(readable["status"], "pass", "{readable}");
    let soon = finding(&report, "adfs-token-signing-expiry", &subject);
    assert_eq!(soon["status"], "warn", "{soon}");
    let obs = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "adfs.metadata")
        .unwrap();
    assert_eq!(obs["fields"]["signing_days_left"], 10, "{obs}");
    assert_eq!(
        obs["fields"]["entity_id"],
        format!("http://{FS}/adfs/services/trust")
    );
    assert_eq!(obs["fields"]["openid_configuration"], "absent (HTTP 404)");
    assert!(soon["observed"].as_str().unwrap().contains("10"), "{soon}");
    let expired = finding(&report, "adfs-token-signing-expired", &subject);
    assert_eq!(expired["status"], "pass", "{expired}");
    let foreign = finding(&report, "adfs-metadata-endpoints-same-host", &subject);
    assert_eq!(foreign["status"], "warn", "{foreign}");
    assert!(
        foreign.to_string().contains("old-fs.contoso.test"),
        "{foreign}"
    );

    let name = finding(&report, "adfs-service-cert-name", &format!("{FS}: {FS}"));
    assert_eq!(name["status"], "pass", "{name}");
    let ok = finding(
        &report,
        "adfs-service-cert-enterpriseregistration",
        &format!("{FS}: enterpriseregistration.contoso.test"),
    );
    assert_eq!(ok["status"], "pass", "{ok}");
    let missing = finding(
        &report,
        "adfs-service-cert-enterpriseregistration",
        &format!("{FS}: enterpriseregistration.fabrikam.test"),
    );
    assert_eq!(missing["status"], "warn", "{missing}");
    assert!(
        missing
            .to_string()
            .contains("Add enterpriseregistration.fabrikam.test"),
        "the remediation names the exact SAN: {missing}"
    );
    let certauth = finding(
        &report,
        "adfs-service-cert-certauth",
        &format!("{FS}: certauth.{FS}"),
    );
    assert_eq!(certauth["status"], "info", "{certauth}");

    // Hostile certificate values: kept in report.json, never raw markup or controls elsewhere.
    let json = std::fs::read_to_string(dir.path().join("report/report.json")).unwrap();
    assert!(
        json.contains("<script>alert(1)</script>"),
        "report.json keeps the value"
    );
    let html = std::fs::read_to_string(dir.path().join("report/report.html")).unwrap();
    assert!(html.contains("enterpriseregistration.fabrikam.test"));
    assert!(!html.contains("<script>alert(1)"), "escaped in HTML");
    assert!(!html.contains("<img src=x"), "escaped in HTML");
    for (file, text) in [
        (
            "report.md",
            std::fs::read_to_string(dir.path().join("report/report.md")).unwrap(),
        ),
        (
            "checklist.csv",
            std::fs::read_to_string(dir.path().join("report/checklist.csv")).unwrap(),
        ),
        (
            "junit.xml",
            std::fs::read_to_string(dir.path().join("report/junit.xml")).unwrap(),
        ),
        ("stdout", stdout),
    ] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{file} has raw controls"
        );
    }
    let junit = std::fs::read_to_string(dir.path().join("report/junit.xml")).unwrap();
    assert!(
        !junit.contains("<script>") && !junit.contains("<img src"),
        "escaped in junit.xml"
    );
    roxmltree_free_check(&junit);
}

/// junit.xml stays well-formed XML with hostile values inside.
fn roxmltree_free_check(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("junit.xml is not well-formed: {e}"),
        }
    }
}

#[test]
fn malformed_and_oversized_metadata_are_errors() {
    for (body, words) in [
        (Body::Malformed, "not well-formed XML"),
        (Body::Oversized, "larger than"),
        (
            Body::Redirect,
            "elsewhere.example/md.xml; redirects are not followed",
        ),
    ] {
        let lab = lab();
        let port = serve(&lab, body);
        let dir = tempfile::tempdir().unwrap();
        let (report, _) = scan(&lab, port, dir.path());
        let f = finding(&report, "adfs-token-signing-expiry", &metadata_subject());
        assert_eq!(f["status"], "error", "{f}");
        assert!(f.to_string().contains(words), "{words}: {f}");
        // No certificate names were read, so no SAN finding claims anything.
        assert!(!report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |f| f["check_id"] == "adfs-service-cert-enterpriseregistration"
                    && f["status"] == "pass"
            ));
    }
}
