//! `tcp.connect`: a TCP connect, classified like nmap's connect scan.

use std::collections::BTreeMap;
use std::io::ErrorKind;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

pub mod spec;

use self::spec::port_set;
use crate::probes::net::{cloud_hosts, resolve, role_hosts};
use crate::probes::{
    cloud_not_tested, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request,
};

pub struct TcpConnect;

#[async_trait]
impl Probe for TcpConnect {
    fn frees_host_slot_when_slow(&self) -> bool {
        true
    }

    fn plans_early(&self) -> bool {
        true
    }

    fn spec(&self) -> &'static ProbeSpec {
        &spec::SPEC
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        // host:port -> roles that want it, so a port two roles need is probed once.
        let mut wanted: BTreeMap<(String, u16), Vec<String>> = BTreeMap::new();
        let mut not_tested: Vec<String> = Vec::new();
        for check in input.checks {
            let Some(role) = check.role() else { continue };
            if role == "cloud" && !input.config.cloud_endpoints {
                not_tested.extend(cloud_hosts(check));
                continue;
            }
            let Ok(ports) = port_set(check.params) else {
                continue;
            };
            for host in role_hosts(role, check, input.config, input.prior) {
                for &port in &ports {
                    let roles = wanted.entry((host.clone(), port)).or_default();
                    if !roles.iter().any(|r| r == role) {
                        roles.push(role.to_string());
                    }
                }
            }
        }
        let mut out: Vec<Request> = wanted
            .into_iter()
            .map(|((host, port), roles)| Request {
                subject: format!("{host}:{port}"),
                fields: super::fields(json!({ "host": host, "port": port, "roles": roles })),
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
        if let Some(src) = ctx.services.source_address(addr) {
            out.insert("source".into(), json!(src.to_string()));
        }
        let (state, reason) = match ctx.services.connect(addr, ctx.timeout).await {
            Ok(Ok(stream)) => {
                // The address the kernel really used, when it differs from the route guess.
                if let Ok(local) = stream.local_addr() {
                    out.insert("source".into(), json!(local.ip().to_string()));
                }
                ("open", "connected".to_string())
            }
            Ok(Err(e)) => match e.kind() {
                ErrorKind::ConnectionRefused => ("closed", "connection refused".to_string()),
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    ("unreachable", e.to_string())
                }
                _ => return Err(ProbeError::Failed(format!("connect to {addr}: {e}"))),
            },
            Err(silent) => ("filtered", silent.to_string()),
        };
        out.insert("state".into(), json!(state));
        out.insert("reason".into(), json!(reason));
        Ok(out)
    }
}
