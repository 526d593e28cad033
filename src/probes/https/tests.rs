//! Tests of `https.endpoint` against loopback TLS servers and proxies.

use super::spec::check_params;
use super::*;
use crate::config::ScanConfig;

fn env(p: Option<&str>, n: Option<&str>) -> ProxyEnv {
    ProxyEnv {
        https_proxy: p.map(str::to_string),
        no_proxy: n.map(str::to_string),
    }
}

#[test]
fn proxies_from_the_environment() {
    assert!(proxy_for("a.example", &env(None, None)).is_none());
    let p = proxy_for(
        "a.example",
        &env(Some("http://user:pw@proxy.lan:3128/"), None),
    )
    .unwrap();
    assert_eq!(p.addr, "proxy.lan:3128");
    assert!(!p.shown.contains("pw"), "credentials must not be shown");
    assert_eq!(
        proxy_for("x.lan", &env(Some("proxy.lan"), None))
            .unwrap()
            .addr,
        "proxy.lan:80"
    );
    let np = Some(".manage.example,login.example");
    assert!(proxy_for("eu.manage.example", &env(Some("p:1"), np)).is_none());
    assert!(proxy_for("login.example", &env(Some("p:1"), np)).is_none());
    assert!(proxy_for("graph.example", &env(Some("p:1"), np)).is_some());
    assert!(proxy_for("any", &env(Some("p:1"), Some("*"))).is_none());
}

#[test]
fn params() {
    assert!(check_params(&Value::Null).is_ok());
    assert!(check_params(&json!({"hosts": ["a.example"], "port": 443, "public_issuers": ["Microsoft"], "no_inspection": true})).is_ok());
    assert!(check_params(&json!({"port": 0})).is_err());
    assert!(check_params(&json!({"public_issuers": []})).is_err());
    assert!(check_params(&json!({"path": "x"})).is_err());
    assert!(check_params(&json!({"colour": 1})).is_err());
}

/// A lab CA and a TLS server for `name` on 127.0.0.1 answering 200; returns (port, CA PEM).
async fn tls_server(name: &str) -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                let mut buf = [0u8; 1024];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            }
        }
    });
    (port, ca_cert.pem())
}

/// A CONNECT proxy on 127.0.0.1 that sends every tunnel to `to` (it never resolves names)
/// and records the CONNECT line; `status` other than 200 refuses.
async fn proxy(to: u16, status: u16, seen: Arc<Mutex<String>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 512];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            *seen.lock().unwrap() = line;
            let answer = format!("HTTP/1.1 {status} X\r\nVia: lab\r\n\r\n");
            let _ = client.write_all(answer.as_bytes()).await;
            if status == 200 {
                let mut server = TcpStream::connect(("127.0.0.1", to)).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        }
    });
    port
}

fn request(host: &str) -> Request {
    Request {
        subject: format!("https://{host}:443"),
        fields: json!({"host": host, "port": 443, "path": "/", "roles": ["adfs"],
                       "public_issuers": [], "no_inspection": false})
        .as_object()
        .cloned()
        .unwrap(),
    }
}

#[tokio::test]
async fn through_a_connect_proxy_and_refused_by_one() {
    let (server, ca_pem) = tls_server("proxied.lab.test").await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let config = ScanConfig {
        ca_certs: vec![ca.display().to_string()],
        ..ScanConfig::default()
    };
    let ctx = ProbeContext {
        services: Arc::new(crate::probes::Services::build(&config).unwrap()),
        config: Arc::new(config),
        timeout: std::time::Duration::from_secs(5),
        vantage: "test-host".into(),
        secrets: Default::default(),
        progress: indicatif::ProgressBar::hidden(),
    };
    let seen = Arc::new(Mutex::new(String::new()));
    let port = proxy(server, 200, seen.clone()).await;
    let via = env(
        Some(&format!("http://user:secret@127.0.0.1:{port}")),
        Some("other.lab.test"),
    );
    let out = observe_with(&request("proxied.lab.test"), &ctx, &via)
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        "CONNECT proxied.lab.test:443 HTTP/1.1"
    );
    assert_eq!(out["proxy"], format!("http://127.0.0.1:{port}"));
    assert_eq!(out["tls"], "trusted", "{out:?}");
    assert_eq!(out["http_status"], 200);
    assert!(!serde_json::to_string(&out).unwrap().contains("secret"));

    let refusing = proxy(server, 403, Arc::new(Mutex::new(String::new()))).await;
    let refused = env(Some(&format!("127.0.0.1:{refusing}")), None);
    let err = observe_with(&request("proxied.lab.test"), &ctx, &refused)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("refused CONNECT proxied.lab.test:443 with HTTP 403"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_is_not_tls_is_an_error_not_a_panic() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let _ = c.write_all(&[0xff; 4096]).await;
        }
    });
    let mut config = ScanConfig::default();
    config.add_target("garbage.lab.test", "127.0.0.1".parse().unwrap(), Some(port));
    let ctx = ProbeContext {
        services: Arc::new(crate::probes::Services::build(&config).unwrap()),
        config: Arc::new(config),
        timeout: std::time::Duration::from_secs(3),
        vantage: "t".into(),
        secrets: Default::default(),
        progress: indicatif::ProgressBar::hidden(),
    };
    let err = observe_with(&request("garbage.lab.test"), &ctx, &env(None, None))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("TLS handshake with garbage.lab.test:443"),
        "{err}"
    );
}
