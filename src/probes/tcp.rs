//! `tcp.connect`: a TCP connect, classified like nmap's connect scan.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;

use super::{PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};
use crate::catalog::Check;
use crate::config::ScanConfig;
use crate::observation::{Observation, ObservationStatus};

pub struct TcpConnect;

/// `params = { ports = [53, 88], ranges = ["49664-49668"], hosts = ["name"] }`; the check's
/// `filter.roles` names the host role. `hosts` are the role's hosts for role "cloud".
pub fn check_params(p: &Value) -> Result<(), String> {
    let Value::Object(map) = p else {
        return Err("needs params = { ports = [ ... ] }".into());
    };
    if let Some(k) = map
        .keys()
        .find(|k| !["ports", "ranges", "hosts"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown param \"{k}\" (expected ports, ranges, hosts)"
        ));
    }
    port_set(p)?;
    check_hosts(p)
}

/// Validates `hosts = ["name", ...]` when present.
pub fn check_hosts(p: &Value) -> Result<(), String> {
    match p.get("hosts") {
        None => Ok(()),
        Some(Value::Array(hosts)) => {
            for h in hosts {
                match h.as_str() {
                    Some(s) if !s.trim().is_empty() && !s.contains([' ', '/', ':']) => {}
                    _ => return Err(format!("host {h} is not a host name")),
                }
            }
            Ok(())
        }
        Some(other) => Err(format!("hosts must be a list of names, not {other}")),
    }
}

/// The ports of `ports` and `ranges` ("FROM-TO"); never empty, each in 1-65535.
pub fn port_set(p: &Value) -> Result<BTreeSet<u16>, String> {
    let mut set = BTreeSet::new();
    let port = |v: &Value| match v.as_u64() {
        Some(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!("port {v} is outside 1-65535")),
    };
    match p.get("ports") {
        None => {}
        Some(Value::Array(ports)) => {
            for v in ports {
                set.insert(port(v)?);
            }
        }
        Some(other) => return Err(format!("ports must be a list, not {other}")),
    }
    match p.get("ranges") {
        None => {}
        Some(Value::Array(ranges)) => {
            for r in ranges {
                let bad = || format!("range {r} is not \"FROM-TO\" within 1-65535");
                let (a, b) = r.as_str().and_then(|s| s.split_once('-')).ok_or_else(bad)?;
                let (a, b): (u16, u16) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                );
                if a == 0 || a > b {
                    return Err(bad());
                }
                set.extend(a..=b);
            }
        }
        Some(other) => return Err(format!("ranges must be a list, not {other}")),
    }
    if set.is_empty() {
        return Err("the port set is empty".into());
    }
    Ok(set)
}

/// A check judges only the ports of its own port set (and the hosts it lists, if it lists any).
pub fn applies(check: &Check, obs: &Observation) -> bool {
    let port = obs.fields.get("port").and_then(Value::as_u64);
    let port_ok = port.is_some_and(|p| in_port_set(&check.params, p));
    let host = obs.fields.get("host").and_then(Value::as_str).unwrap_or("");
    let host_ok = match check.params.get("hosts").and_then(Value::as_array) {
        Some(hosts) => hosts
            .iter()
            .filter_map(Value::as_str)
            .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(host)),
        None => true,
    };
    port_ok && host_ok
}

/// Membership without building the set: called once per check and observation.
fn in_port_set(p: &Value, port: u64) -> bool {
    let listed = p
        .get("ports")
        .and_then(Value::as_array)
        .is_some_and(|ports| ports.iter().any(|v| v.as_u64() == Some(port)));
    listed
        || p.get("ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str()?.split_once('-'))
            .any(|(a, b)| {
                let (a, b) = (a.trim().parse::<u64>(), b.trim().parse::<u64>());
                matches!((a, b), (Ok(a), Ok(b)) if (a..=b).contains(&port))
            })
}

pub fn role_of(check: &Check) -> Option<&str> {
    check.filter.get("roles").and_then(Value::as_str)
}

/// The hosts that play `role` (dc, configmgr, adfs, cloud): from the config, earlier probes, or (cloud) the check's params.
/// Cloud hosts are public names: only when the admin asked with `--cloud-endpoints`.
pub fn role_hosts(
    role: &str,
    check: &Check,
    config: &ScanConfig,
    prior: &[Observation],
) -> Vec<String> {
    let mut hosts: Vec<String> = match role {
        "dc" => config
            .dcs
            .iter()
            .cloned()
            .chain(discovered_dcs(prior))
            .collect(),
        "configmgr" => config
            .mps
            .iter()
            .map(|m| strip_port(m))
            .chain(discovered_mps(prior))
            .collect(),
        "adfs" => config.adfs.clone(),
        "cloud" if config.cloud_endpoints => check
            .params
            .get("hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    for h in &mut hosts {
        *h = h.trim().trim_end_matches('.').to_ascii_lowercase();
    }
    hosts.retain(|h| !h.is_empty());
    hosts.sort();
    hosts.dedup();
    hosts
}

/// DCs found by earlier probes: rootDSE `dns_host_name`, SRV `targets` (strings or objects with
/// a `target`/`name`). Read defensively: those probes' shapes are theirs to change.
fn discovered_dcs(prior: &[Observation]) -> Vec<String> {
    let mut out = Vec::new();
    for o in prior
        .iter()
        .filter(|o| o.status == ObservationStatus::Observed)
    {
        match o.probe.as_str() {
            "ldap.root_dse" => {
                if let Some(h) = o.fields.get("dns_host_name").and_then(Value::as_str) {
                    out.push(h.to_string());
                }
            }
            "dns.srv" => {
                for t in o
                    .fields
                    .get("targets")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = match t {
                        Value::String(s) => Some(s.as_str()),
                        Value::Object(m) => m
                            .get("target")
                            .or_else(|| m.get("name"))
                            .and_then(Value::as_str),
                        _ => None,
                    };
                    if let Some(n) = name {
                        out.push(strip_port(n));
                    }
                }
            }
            _ => {}
        }
    }
    out.retain(|h| !h.is_empty() && !h.contains(char::is_whitespace));
    out
}

/// Management points published in AD (`configmgr.ad_sites` field `management_points`, items
/// with a `host`), read defensively.
fn discovered_mps(prior: &[Observation]) -> Vec<String> {
    prior
        .iter()
        .filter(|o| o.status == ObservationStatus::Observed && o.probe == "configmgr.ad_sites")
        .filter_map(|o| o.fields.get("management_points").and_then(Value::as_array))
        .flatten()
        .filter_map(|mp| match mp {
            Value::String(s) => Some(strip_port(s)),
            Value::Object(m) => m.get("host").and_then(Value::as_str).map(strip_port),
            _ => None,
        })
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .collect()
}

/// `host:port` -> `host` (IPv6 literals in brackets kept whole).
fn strip_port(s: &str) -> String {
    let s = s.trim();
    if s.parse::<IpAddr>().is_ok() {
        return s.to_string();
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match s.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => h.to_string(),
        _ => s.to_string(),
    }
}

#[async_trait]
impl Probe for TcpConnect {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("tcp.connect").expect("declared in SPECS")
    }

    /// After the directory and DNS probes, so the DCs they found are probed too (when those
    /// probes run for their own checks; tcp.connect does not ask for them).
    fn stage(&self) -> u8 {
        3
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        // host:port -> roles that want it, so a port two roles need is probed once.
        let mut wanted: BTreeMap<(String, u16), Vec<String>> = BTreeMap::new();
        for check in input.checks {
            let Some(role) = role_of(check) else { continue };
            let Ok(ports) = port_set(&check.params) else {
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
        wanted
            .into_iter()
            .map(|((host, port), roles)| Request {
                subject: format!("{host}:{port}"),
                fields: super::fields(json!({ "host": host, "port": port, "roles": roles })),
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
        if let Some(src) = source_address(addr) {
            out.insert("source".into(), json!(src.to_string()));
        }
        let (state, reason) =
            match tokio::time::timeout(ctx.timeout, TcpStream::connect(addr)).await {
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

/// The source address the kernel would pick for `dest`: a connected UDP socket sends nothing.
pub fn source_address(dest: SocketAddr) -> Option<IpAddr> {
    let bind: SocketAddr = if dest.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    let sock = std::net::UdpSocket::bind(bind).ok()?;
    sock.connect(dest).ok()?;
    sock.local_addr().ok().map(|a| a.ip())
}

/// `--target` / `[resolve]` first, so lab stand-ins never fall through to real DNS.
pub async fn resolve(host: &str, port: u16, ctx: &ProbeContext) -> Result<SocketAddr, String> {
    if let Some(addr) = ctx.config.mapped(host, port) {
        return Ok(addr);
    }
    if let Ok(ip) = host.parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    // The DNS servers the admin named answer for names too, not only for the DNS checks.
    if !ctx.config.dns_servers.is_empty() {
        let dns = super::resolver::Dns::new(&ctx.config, ctx.timeout)?;
        return match dns.addresses(host).await {
            Ok((_, addrs)) => addrs
                .first()
                .map(|ip| SocketAddr::new(*ip, port))
                .ok_or_else(|| format!("{host} has no address (asked {})", dns.servers())),
            Err(e) => Err(format!("{host} not resolved: {e}")),
        };
    }
    let lookup = tokio::time::timeout(ctx.timeout, tokio::net::lookup_host((host, port))).await;
    match lookup {
        Ok(Ok(mut addrs)) => addrs.next().ok_or_else(|| format!("{host} has no address")),
        Ok(Err(e)) => Err(format!("{host} not resolved: {e}")),
        Err(_) => Err(format!("{host} not resolved within the timeout")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_sets() {
        let s = port_set(&json!({"ports": [443, 80], "ranges": ["49664-49666"]})).unwrap();
        assert_eq!(
            s.into_iter().collect::<Vec<_>>(),
            vec![80, 443, 49664, 49665, 49666]
        );
        assert!(port_set(&json!({"ports": []})).is_err());
        assert!(port_set(&json!({"ports": [0]})).is_err());
        assert!(port_set(&json!({"ports": [65536]})).is_err());
        assert!(port_set(&json!({"ranges": ["9-3"]})).is_err());
        assert!(port_set(&json!({"ranges": ["1-70000"]})).is_err());
        assert!(check_params(&json!({"ports": [1], "color": 1})).is_err());
        let p = json!({"ports": [443], "ranges": ["49664-49668"]});
        assert!(in_port_set(&p, 443) && in_port_set(&p, 49666) && !in_port_set(&p, 80));
        assert!(check_params(&json!({"ports": [1], "hosts": ["a b"]})).is_err());
    }

    #[test]
    fn discovered_dcs_are_read_defensively() {
        let mut root = Map::new();
        root.insert("dns_host_name".into(), json!("DC2.lab.test"));
        let mut srv = Map::new();
        srv.insert(
            "targets".into(),
            json!(["dc3.lab.test.", {"target": "dc4.lab.test", "port": 389}, 7, "dc5:389"]),
        );
        let prior = vec![
            Observation::observed("ldap.root_dse", "x", root),
            Observation::observed("dns.srv", "y", srv),
            Observation::failed("dns.srv", "z", "timeout", "t".into(), Map::new()),
        ];
        assert_eq!(
            discovered_dcs(&prior),
            vec!["DC2.lab.test", "dc3.lab.test.", "dc4.lab.test", "dc5"]
        );
        let mut sites = Map::new();
        sites.insert(
            "management_points".into(),
            json!([{"host": "mp1.lab.test", "site_code": "LAB"}, {"x": 1}, "mp2.lab.test:443"]),
        );
        let prior = vec![Observation::observed("configmgr.ad_sites", "s", sites)];
        assert_eq!(discovered_mps(&prior), vec!["mp1.lab.test", "mp2.lab.test"]);
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("mp.lab:443"), "mp.lab");
    }
}
