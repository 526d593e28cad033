//! The specs of the https probes: their fields, stage and time budget, as checks see them.

use serde_json::Value;

use crate::observation::Observation;
use crate::probes::spec::{is_not_tested, Ask, ProbeSpec};
use crate::probes::tcp::spec::check_hosts;

/// `https.endpoint`. Budget: a name lookup (two timeouts at most), then connect, TLS and GET.
pub static SPEC: ProbeSpec = ProbeSpec {
    name: "https.endpoint",
    summary:
        "TLS handshake and GET to an HTTPS endpoint: trust, issuer, expiry, proxy, TLS inspection",
    fields: &[
        "host",
        "port",
        "path",
        "address",
        "roles",
        "vantage",
        "source",
        "proxy",
        "tls",
        "tls_detail",
        "tls_version",
        "insecure_tls",
        "issuer",
        "subject_name",
        "not_after",
        "days_to_expiry",
        "tls_inspection",
        "public_issuers",
        "no_inspection",
        "http_status",
        "http_error",
    ],
    needs: "give --cloud-endpoints (Microsoft's endpoints, or lab stand-ins via --target) \
            or --adfs NAME",
    stage: 3,
    reads: &[],
    budget: 4,
    check_params,
    applies,
};

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

pub fn port_of(check: &Ask<'_>) -> u16 {
    check
        .params
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(443)
}

pub fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A check judges the endpoints it listed (or all of its role's hosts) on its own port.
pub fn applies(check: &Ask<'_>, obs: &Observation) -> bool {
    if is_not_tested(obs) {
        return true;
    }
    let port_ok = obs.fields.get("port").and_then(Value::as_u64) == Some(port_of(check) as u64);
    let hosts = strings(check.params.get("hosts"));
    let host = obs.fields.get("host").and_then(Value::as_str).unwrap_or("");
    port_ok && (hosts.is_empty() || hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
}
