//! `https.endpoint`: TLS handshake and one GET to an HTTPS endpoint; certificate issuer and
//! expiry, proxy in the path, and whether the issuer suggests TLS inspection.
//!
//! The handshake always completes (the trust verdict is recorded, not enforced) so an untrusted
//! or inspecting certificate can be described. Only a bare `GET path` with no credentials is sent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

mod proxy;
pub mod spec;
mod verify;

use async_trait::async_trait;
use rustls::pki_types::ServerName;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use self::proxy::{env_proxy, proxy_for, ProxyEnv};
use self::spec::{port_of, strings};
use crate::probes::net::{cloud_hosts, resolve, role_hosts};
use crate::probes::{
    cloud_not_tested, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request,
};

pub struct HttpsEndpoint;

/// Most bytes read of a proxy's or server's answer head: a hostile server cannot make us buffer.
const HEAD_CAP: usize = 16 * 1024;

#[async_trait]
impl Probe for HttpsEndpoint {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::SPEC
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        // One request per host:port; the checks' issuer lists and no-inspection flags merge.
        let mut wanted: BTreeMap<(String, u16), Map<String, Value>> = BTreeMap::new();
        let mut not_tested: Vec<String> = Vec::new();
        for check in input.checks {
            let Some(role) = check.role() else { continue };
            if role == "cloud" && !input.config.cloud_endpoints {
                not_tested.extend(cloud_hosts(check));
                continue;
            }
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
        let mut out: Vec<Request> = wanted
            .into_iter()
            .map(|((host, port), fields)| Request {
                subject: format!("https://{host}:{port}"),
                fields,
            })
            .collect();
        if !not_tested.is_empty() {
            out.push(cloud_not_tested(not_tested));
        }
        out
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
    // The exchange's own timeout starts once the name is resolved: a slow DNS answer is not
    // taken from the connect (the spec's budget allows for both).
    let deadline = Instant::now() + ctx.timeout;
    let tcp = within(deadline, ctx, TcpStream::connect(&connect_to))
        .await?
        .map_err(|e| ProbeError::Failed(format!("TCP connect to {connect_to}: {e}")))?;
    if let Ok(peer) = tcp.peer_addr() {
        out.insert("address".into(), json!(peer.to_string()));
        if let Some(src) = ctx.services.source_address(peer) {
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
    let tls_config = verify::client_config(ctx.services.roots.clone(), verdict.clone())?;
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

#[cfg(test)]
mod tests;
