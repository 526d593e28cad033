//! Names and addresses every network probe shares: how a host name becomes an address
//! (`--target`, then `--dns-server`, then the system), the source address a connect would use,
//! and which hosts play a role (DC, ConfigMgr, AD FS, cloud).

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use crate::config::ScanConfig;
use crate::observation::{Observation, ObservationStatus};
use crate::probes::spec::Ask;
use crate::probes::ProbeContext;

/// The hosts that play `role` (dc, configmgr, adfs, cloud): from the config, earlier probes, or (cloud) the check's params.
/// Cloud hosts are public names: only when the admin asked with `--cloud-endpoints`.
pub fn role_hosts(
    role: &str,
    check: &Ask<'_>,
    config: &ScanConfig,
    prior: &[Observation],
) -> Vec<String> {
    let mut hosts: Vec<String> = match role {
        "dc" => {
            // A DC given by address answers with its name: probing both would scan it twice.
            let aliases = address_aliases(&config.dcs, prior);
            config
                .dcs
                .iter()
                .cloned()
                .chain(
                    discovered_dcs(prior)
                        .into_iter()
                        .filter(|n| !aliases.contains(&normal(n))),
                )
                .collect()
        }
        "configmgr" => config
            .mps
            .iter()
            .map(|m| strip_port(m))
            .chain(discovered_mps(prior))
            .collect(),
        "adfs" => config
            .adfs
            .iter()
            .cloned()
            .chain(discovered_adfs(prior))
            .collect(),
        "cloud" if config.cloud_endpoints => cloud_hosts(check),
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

/// The public hosts a cloud check lists (`params.hosts`).
pub fn cloud_hosts(check: &Ask<'_>) -> Vec<String> {
    check
        .params
        .get("hosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// DCs found by earlier probes: rootDSE `dns_host_name`, SRV `targets` (strings or objects with
/// a `target`/`name`). Read defensively: those probes' shapes are theirs to change.
/// The rootDSE host names of the DCs given as addresses with `--dc`.
fn address_aliases(dcs: &[String], prior: &[Observation]) -> Vec<String> {
    prior
        .iter()
        .filter(|o| o.probe == "ldap.root_dse" && o.status == ObservationStatus::Observed)
        .filter(|o| {
            o.fields
                .get("answered_by")
                .and_then(Value::as_str)
                .is_some_and(|a| {
                    a.parse::<std::net::IpAddr>().is_ok() && dcs.iter().any(|d| d == a)
                })
        })
        .filter_map(|o| o.fields.get("dns_host_name").and_then(Value::as_str))
        .map(normal)
        .collect()
}

fn normal(host: &str) -> String {
    strip_port(host)
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

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
/// Federation service names a bound read found (`ldap.services` adfs_names): they join --adfs
/// for every AD FS probe (ports, certificate, DNS, metadata).
pub fn discovered_adfs(prior: &[Observation]) -> Vec<String> {
    prior
        .iter()
        .filter(|o| o.probe == "ldap.services" && o.status == ObservationStatus::Observed)
        .filter_map(|o| o.fields.get("adfs_names").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
        .collect()
}

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
        let dns = ctx.services.dns().map_err(|e| e.to_string())?;
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
    use serde_json::{json, Map};

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
