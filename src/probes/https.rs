//! `https.endpoint`: TLS handshake and one GET to an HTTPS endpoint; certificate issuer and
//! expiry, proxy in the path, and whether the issuer suggests TLS inspection.
//!
//! The handshake always completes (the trust verdict is recorded, not enforced) so an untrusted
//! or inspecting certificate can be described. Only a bare `GET path` with no credentials is sent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tcp::{check_hosts, resolve, role_hosts, role_of, source_address};
use super::{PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};
use crate::catalog::Check;
use crate::config::ScanConfig;
use crate::observation::Observation;

pub struct HttpsEndpoint;

/// Most bytes read of a proxy's or server's answer head: a hostile server cannot make us buffer.
const HEAD_CAP: usize = 16 * 1024;

/// `params = { hosts = [...], port = 443, path = "/", public_issuers = ["Microsoft"],
/// no_inspection = true }`; all optional. `hosts` are the role's hosts for role "cloud".
pub fn check_params(p: &Value) -> Result<(), String> {
    let map = match p {
        Value::Null => return Ok(()),
        Value::Object(m) => m,
        other => return Err(format!("params must be a table, not {other}")),
    };
    const KEYS: &[&str] = &["hosts", "port", "path", "public_issuers", "no_inspection"];
    if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown param \"{k}\" (expected {})",
            KEYS.join(", ")
        ));
    }
    check_hosts(p)?;
    if let Some(port) = map.get("port") {
        match port.as_u64() {
            Some(n) if (1..=65535).contains(&n) => {}
            _ => return Err(format!("port {port} is outside 1-65535")),
        }
    }
    if let Some(path) = map.get("path") {
        if !path
            .as_str()
            .is_some_and(|s| s.starts_with('/') && !s.contains(char::is_whitespace))
        {
            return Err(format!("path {path} must start with / and have no spaces"));
        }
    }
    if let Some(list) = map.get("public_issuers") {
        let ok = list.as_array().is_some_and(|l| {
            !l.is_empty()
                && l.iter()
                    .all(|i| i.as_str().is_some_and(|s| !s.trim().is_empty()))
        });
        if !ok {
            return Err("public_issuers must be a non-empty list of names".into());
        }
    }
    if map.get("no_inspection").is_some_and(|v| !v.is_boolean()) {
        return Err("no_inspection must be true or false".into());
    }
    Ok(())
}

fn port_of(check: &Check) -> u16 {
    check
        .params
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(443)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A check judges the endpoints it listed (or all of its role's hosts) on its own port.
pub fn applies(check: &Check, obs: &Observation) -> bool {
    let port_ok = obs.fields.get("port").and_then(Value::as_u64) == Some(port_of(check) as u64);
    let hosts = strings(check.params.get("hosts"));
    let host = obs.fields.get("host").and_then(Value::as_str).unwrap_or("");
    port_ok && (hosts.is_empty() || hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
}

#[async_trait]
impl Probe for HttpsEndpoint {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("https.endpoint").expect("declared in SPECS")
    }

    fn stage(&self) -> u8 {
        3
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        // One request per host:port; the checks' issuer lists and no-inspection flags merge.
        let mut wanted: BTreeMap<(String, u16), Map<String, Value>> = BTreeMap::new();
        for check in input.checks {
            let Some(role) = role_of(check) else { continue };
            let port = port_of(check);
            let path = check
                .params
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("/");
            for host in role_hosts(role, check, input.config, input.prior) {
                let f = wanted.entry((host.clone(), port)).or_insert_with(|| {
                    let mut m = Map::new();
                    m.insert("host".into(), json!(host));
                    m.insert("port".into(), json!(port));
                    m.insert("path".into(), json!(path));
                    m.insert("roles".into(), json!([]));
                    m.insert("public_issuers".into(), json!([]));
                    m.insert("no_inspection".into(), json!(false));
                    m
                });
                push_unique(f, "roles", role);
                for i in strings(check.params.get("public_issuers")) {
                    push_unique(f, "public_issuers", &i);
                }
                if check.params.get("no_inspection") == Some(&Value::Bool(true)) {
                    f.insert("no_inspection".into(), json!(true));
                }
            }
        }
        wanted
            .into_iter()
            .map(|((host, port), fields)| Request {
                subject: format!("https://{host}:{port}"),
                fields,
            })
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        observe_with(req, ctx, &env_proxy()).await
    }
}

/// The probe with the proxy settings given, so tests need not touch the process environment.
async fn observe_with(
    req: &Request,
    ctx: &ProbeContext,
    proxy_env: &ProxyEnv,
) -> Result<Map<String, Value>, ProbeError> {
    let deadline = Instant::now() + ctx.timeout;
    let get = |k: &str| req.fields.get(k).and_then(Value::as_str).unwrap_or("");
    let (host, path) = (get("host").to_string(), get("path").to_string());
    let port = req
        .fields
        .get("port")
        .and_then(Value::as_u64)
        .unwrap_or(443) as u16;
    let mut out = Map::new();
    out.insert("vantage".into(), json!(ctx.vantage));

    // A --target mapping means "this address, directly": never via a proxy.
    let proxy = if ctx.config.mapped(&host, port).is_some() {
        None
    } else {
        proxy_for(&host, proxy_env)
    };
    out.insert(
        "proxy".into(),
        json!(proxy
            .as_ref()
            .map(|p| p.shown.clone())
            .unwrap_or("none".into())),
    );
    let connect_to = match &proxy {
        Some(p) => p.addr.clone(),
        None => resolve(&host, port, ctx)
            .await
            .map_err(ProbeError::Failed)?
            .to_string(),
    };
    let tcp = within(deadline, ctx, TcpStream::connect(&connect_to))
        .await?
        .map_err(|e| ProbeError::Failed(format!("TCP connect to {connect_to}: {e}")))?;
    if let Ok(peer) = tcp.peer_addr() {
        out.insert("address".into(), json!(peer.to_string()));
        if let Some(src) = source_address(peer) {
            out.insert("source".into(), json!(src.to_string()));
        }
    }
    let mut tcp = tcp;
    if proxy.is_some() {
        let connect = format!(
                "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: readyscan\r\n\r\n"
            );
        within(deadline, ctx, tcp.write_all(connect.as_bytes()))
            .await?
            .map_err(|e| ProbeError::Failed(format!("proxy {connect_to}: {e}")))?;
        let status = within(deadline, ctx, read_status(&mut tcp)).await??;
        if status != 200 {
            return Err(ProbeError::Failed(format!(
                "proxy {connect_to} refused CONNECT {host}:{port} with HTTP {status}"
            )));
        }
    }

    let verdict = Arc::new(Mutex::new(None));
    let tls_config = client_config(&ctx.config, verdict.clone())?;
    let name = ServerName::try_from(host.clone())
        .map_err(|_| ProbeError::Failed(format!("\"{host}\" is not a valid TLS server name")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config));
    let mut tls = within(deadline, ctx, connector.connect(name, tcp))
        .await?
        .map_err(|e| ProbeError::Failed(format!("TLS handshake with {host}:{port}: {e}")))?;

    let (_, conn) = tls.get_ref();
    if let Some(v) = conn.protocol_version().and_then(|v| v.as_str()) {
        out.insert("tls_version".into(), json!(v));
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    let trust: Option<Result<(), String>> = verdict.lock().map(|v| v.clone()).unwrap_or(None);
    let (tls_state, detail) = match trust {
        Some(Ok(())) => ("trusted", "certificate chain verified".to_string()),
        Some(Err(e)) => ("untrusted", e),
        None => ("untrusted", "the certificate was not checked".to_string()),
    };
    out.insert("tls".into(), json!(tls_state));
    out.insert("tls_detail".into(), json!(detail));
    if ctx.config.insecure_tls {
        out.insert(
            "insecure_tls".into(),
            json!("certificate checks switched off by --insecure-tls"),
        );
    }

    let issuers = strings(req.fields.get("public_issuers"));
    match leaf.as_deref().map(describe_cert) {
        Some(Ok(cert)) => {
            out.insert("issuer".into(), json!(cert.issuer));
            out.insert("subject_name".into(), json!(cert.subject));
            out.insert("not_after".into(), json!(cert.not_after));
            out.insert("days_to_expiry".into(), json!(cert.days_left));
            let inspection = if issuers.is_empty() {
                "not judged"
            } else if issuers
                .iter()
                .any(|i| cert.issuer.to_lowercase().contains(&i.to_lowercase()))
            {
                "none"
            } else {
                "suspected"
            };
            out.insert("tls_inspection".into(), json!(inspection));
        }
        Some(Err(e)) => {
            out.insert("tls_inspection".into(), json!("unknown"));
            out.insert(
                "tls_detail".into(),
                json!(format!("{detail}; certificate unreadable: {e}")),
            );
        }
        None => {
            out.insert("tls_inspection".into(), json!("unknown"));
        }
    }

    let get = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: readyscan\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
    let sent = within(deadline, ctx, tls.write_all(get.as_bytes())).await;
    let status = match sent {
        Ok(Ok(())) => within(deadline, ctx, read_status(&mut tls)).await,
        Ok(Err(e)) => Ok(Err(ProbeError::Failed(e.to_string()))),
        Err(e) => Err(e),
    };
    match status {
        Ok(Ok(code)) => {
            out.insert("http_status".into(), json!(code));
        }
        Ok(Err(e)) | Err(e) => {
            out.insert("http_error".into(), json!(e.to_string()));
        }
    }
    Ok(out)
}

fn push_unique(f: &mut Map<String, Value>, key: &str, item: &str) {
    if let Some(Value::Array(list)) = f.get_mut(key) {
        if !list.iter().any(|v| v.as_str() == Some(item)) {
            list.push(json!(item));
        }
    }
}

async fn within<T>(
    deadline: Instant,
    ctx: &ProbeContext,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, ProbeError> {
    let left = deadline.saturating_duration_since(Instant::now());
    tokio::time::timeout(left, fut)
        .await
        .map_err(|_| ProbeError::Timeout(ctx.timeout))
}

/// Reads an HTTP response head (capped) and returns its status code.
async fn read_status<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<u16, ProbeError> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") {
        if head.len() >= HEAD_CAP {
            return Err(ProbeError::Failed("answer head too long".into()));
        }
        let n = s
            .read(&mut buf)
            .await
            .map_err(|e| ProbeError::Failed(format!("reading the answer: {e}")))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    match (
        parts.next(),
        parts.next().and_then(|c| c.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => {
            // Drain the rest of the head so a proxy's CONNECT answer is not mixed into TLS.
            if !head.windows(4).any(|w| w == b"\r\n\r\n") {
                while head.len() < HEAD_CAP {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
            Ok(code)
        }
        _ => Err(ProbeError::Failed(format!(
            "not an HTTP answer: {:?}",
            line.chars().take(60).collect::<String>()
        ))),
    }
}

struct CertInfo {
    issuer: String,
    subject: String,
    not_after: String,
    days_left: i64,
}

fn describe_cert(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let not_after = cert.validity().not_after;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let secs = not_after.timestamp() - now;
    Ok(CertInfo {
        issuer: cert.issuer().to_string(),
        subject: cert.subject().to_string(),
        not_after: not_after
            .to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| not_after.to_string()),
        days_left: secs.div_euclid(86_400),
    })
}

/// A proxy from the environment, shown without credentials.
struct Proxy {
    addr: String,
    shown: String,
}

struct ProxyEnv {
    https_proxy: Option<String>,
    no_proxy: Option<String>,
}

fn env_proxy() -> ProxyEnv {
    let var = |a: &str, b: &str| {
        std::env::var(a)
            .or_else(|_| std::env::var(b))
            .ok()
            .filter(|v| !v.trim().is_empty())
    };
    ProxyEnv {
        https_proxy: var("HTTPS_PROXY", "https_proxy").or_else(|| var("ALL_PROXY", "all_proxy")),
        no_proxy: var("NO_PROXY", "no_proxy"),
    }
}

/// The proxy HTTPS to `host` goes through, honouring NO_PROXY (`*`, names and `.suffix`es).
fn proxy_for(host: &str, env: &ProxyEnv) -> Option<Proxy> {
    let raw = env.https_proxy.as_deref()?.trim();
    let host = host.to_ascii_lowercase();
    if let Some(list) = &env.no_proxy {
        for entry in list.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            let bare = entry.trim_start_matches("*.").trim_start_matches('.');
            if entry == "*"
                || (!bare.is_empty() && (host == bare || host.ends_with(&format!(".{bare}"))))
            {
                return None;
            }
        }
    }
    let rest = raw.split_once("://").map(|(_, r)| r).unwrap_or(raw);
    let rest = rest.split('/').next().unwrap_or(rest);
    // Credentials in the URL never reach the report.
    let hostport = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    if hostport.is_empty() {
        return None;
    }
    let addr = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    Some(Proxy {
        shown: format!("http://{addr}"),
        addr,
    })
}

fn client_config(
    config: &ScanConfig,
    verdict: Arc<Mutex<Option<Result<(), String>>>>,
) -> Result<rustls::ClientConfig, ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let store = super::tls::roots(config).map_err(ProbeError::Failed)?;
    let inner = if store.is_empty() {
        None
    } else {
        WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .ok()
    };
    let verifier = Recording {
        inner,
        provider: provider.clone(),
        verdict,
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Failed(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// Verifies the chain as rustls would, records the outcome and lets the handshake finish, so
/// the report can say who issued an untrusted certificate. Handshake signatures stay enforced.
#[derive(Debug)]
struct Recording {
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    verdict: Arc<Mutex<Option<Result<(), String>>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
                .map(|_| ())
                .map_err(|e| format!("certificate not trusted: {e}")),
            None => Err("certificate not trusted: no CA certificates to trust (system store empty; give --ca-cert)".into()),
        };
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(result);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ctx = ProbeContext {
            config: Arc::new(ScanConfig {
                ca_certs: vec![ca.display().to_string()],
                ..ScanConfig::default()
            }),
            timeout: std::time::Duration::from_secs(5),
            vantage: "test-host".into(),
            secrets: Default::default(),
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
            config: Arc::new(config),
            timeout: std::time::Duration::from_secs(3),
            vantage: "t".into(),
            secrets: Default::default(),
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
}
