//! `tcp.connect`: a TCP connect, classified like nmap's connect scan.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::SocketAddr;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;

use super::{PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

pub struct TcpConnect;

/// `params = { ports = [53, 88, ...] }`, and the check's `filter.roles` names the host role.
pub fn check_params(p: &Value) -> Result<(), String> {
    let ports = p
        .get("ports")
        .and_then(Value::as_array)
        .ok_or("needs ports = [ ... ]")?;
    if ports.is_empty() {
        return Err("the port set is empty".into());
    }
    for port in ports {
        match port.as_u64() {
            Some(n) if (1..=65535).contains(&n) => {}
            _ => return Err(format!("port {port} is outside 1-65535")),
        }
    }
    Ok(())
}

/// A check judges only the ports of its own port set.
pub fn applies(check: &crate::catalog::Check, obs: &crate::observation::Observation) -> bool {
    let port = obs.fields.get("port");
    check
        .params
        .get("ports")
        .and_then(Value::as_array)
        .is_some_and(|ports| port.is_some_and(|p| ports.contains(p)))
}

fn role_of(check: &crate::catalog::Check) -> Option<&str> {
    check.filter.get("roles").and_then(Value::as_str)
}

#[async_trait]
impl Probe for TcpConnect {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("tcp.connect").expect("declared in SPECS")
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        // host:port -> roles that want it, so a port two roles need is probed once.
        let mut wanted: BTreeMap<(String, u16), Vec<String>> = BTreeMap::new();
        for check in input.checks {
            let Some(role) = role_of(check) else { continue };
            let hosts = match role {
                "dc" => &input.config.dcs,
                _ => continue,
            };
            let ports = check.params.get("ports").and_then(Value::as_array);
            for host in hosts {
                for port in ports.into_iter().flatten().filter_map(Value::as_u64) {
                    let roles = wanted
                        .entry((host.to_ascii_lowercase(), port as u16))
                        .or_default();
                    if !roles.iter().any(|r| r == role) {
                        roles.push(role.to_string());
                    }
                }
            }
        }
        wanted
            .into_iter()
            .map(|((host, port), roles)| Request {
                subject: format!("{host}:{port}"),
                fields: json!({ "host": host, "port": port, "roles": roles })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let host = req
            .fields
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let port = req
            .fields
            .get("port")
            .and_then(Value::as_u64)
            .unwrap_or_default() as u16;
        let mut out = Map::new();
        out.insert("vantage".into(), json!(ctx.vantage));
        let addr = match resolve(host, port, ctx).await {
            Ok(a) => a,
            Err(reason) => {
                out.insert("state".into(), json!("unresolved"));
                out.insert("reason".into(), json!(reason));
                return Ok(out);
            }
        };
        out.insert("address".into(), json!(addr.to_string()));
        let (state, reason) =
            match tokio::time::timeout(ctx.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(_)) => ("open", "connected".to_string()),
                Ok(Err(e)) => match e.kind() {
                    ErrorKind::ConnectionRefused => ("closed", "connection refused".to_string()),
                    ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                        ("unreachable", e.to_string())
                    }
                    _ => return Err(ProbeError::Failed(format!("connect to {addr}: {e}"))),
                },
                Err(_) => (
                    "filtered",
                    format!(
                        "no answer within {}",
                        humantime::format_duration(ctx.timeout)
                    ),
                ),
            };
        out.insert("state".into(), json!(state));
        out.insert("reason".into(), json!(reason));
        Ok(out)
    }
}

/// `--target` / `[resolve]` first, so lab stand-ins never fall through to real DNS.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    ctx: &ProbeContext,
) -> Result<SocketAddr, String> {
    if let Some(ip) = ctx.config.resolve.get(host) {
        return Ok(SocketAddr::new(*ip, port));
    }
    if let Ok(ip) = host.parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    let lookup = tokio::time::timeout(ctx.timeout, tokio::net::lookup_host((host, port))).await;
    match lookup {
        Ok(Ok(mut addrs)) => addrs.next().ok_or_else(|| format!("{host} has no address")),
        Ok(Err(e)) => Err(format!("{host} not resolved: {e}")),
        Err(_) => Err(format!("{host} not resolved within the timeout")),
    }
}
