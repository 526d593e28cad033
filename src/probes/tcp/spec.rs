//! The specs of the tcp probes: their fields, stage and time budget, as checks see them.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::observation::Observation;
use crate::probes::spec::{is_not_tested, Ask, ProbeSpec};

/// `tcp.connect`: after the directory and DNS probes, so the DCs they found are probed too.
/// Budget: a name lookup (A and AAAA side by side, each retried once on timeout) before the
/// connect's own timeout, so a silent DNS server reads as `unresolved`, not as a filtered port.
pub static SPEC: ProbeSpec = ProbeSpec {
    name: "tcp.connect",
    summary:
        "TCP connect to host:port, classified open, closed, filtered, unreachable or unresolved",
    fields: &[
        "host", "port", "address", "roles", "state", "reason", "vantage", "source",
    ],
    needs: "give --dc HOST (or --domain NAME once DC discovery exists), --mp HOST or \
            --adfs NAME for those roles, and --cloud-endpoints for Microsoft's endpoints",
    stage: 3,
    reads: &[],
    budget: 3,
    check_params,
    applies,
};

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
pub fn applies(check: &Ask<'_>, obs: &Observation) -> bool {
    if is_not_tested(obs) {
        return true;
    }
    let port = obs.fields.get("port").and_then(Value::as_u64);
    let port_ok = port.is_some_and(|p| in_port_set(check.params, p));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
