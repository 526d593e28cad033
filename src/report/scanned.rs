//! What a scan looked at, for the report header and the console summary: domains, DCs, DNS
//! servers, how the directory was bound and over what. Derived from the saved config and
//! observations, so a re-evaluated scan shows the same; the password is never part of either.

use serde::Serialize;
use serde_json::Value;

use crate::observation::{Observation, ObservationStatus, ScanInfo};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Scanned {
    pub domains: Vec<String>,
    pub dcs: Vec<String>,
    pub dns_servers: String,
    /// "simple bind as USER", "anonymous (rootDSE only)", with "rejected" when it was.
    pub bind: String,
    /// The LDAP transport of the bound read, else of the rootDSE read.
    pub ldap_transport: String,
}

impl Scanned {
    pub fn of(scan: &ScanInfo, observations: &[Observation]) -> Scanned {
        let observed = |probe: &'static str| {
            observations
                .iter()
                .filter(move |o| o.probe == probe && o.status == ObservationStatus::Observed)
        };
        let text = |o: &Observation, k: &str| {
            o.fields
                .get(k)
                .and_then(Value::as_str)
                .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
        };
        let mut domains = scan.config.domains.clone();
        domains.extend(observed("ldap.root_dse").filter_map(|o| text(o, "domain_dns_name")));
        let mut dcs = scan.config.dcs.clone();
        dcs.extend(observed("ldap.root_dse").filter_map(|o| text(o, "answered_by")));
        let dns_servers = if scan.config.dns_servers.is_empty() {
            "the system resolver".to_string()
        } else {
            scan.config.dns_servers.join(", ")
        };
        let rejected = observations
            .iter()
            .any(|o| o.kind.as_deref() == Some("bind_rejected"));
        let bound_as = observed("ldap.directory")
            .find_map(|o| o.fields.get("bound_as")?.as_str().map(String::from));
        let bind = match &scan.config.bind_user {
            _ if bound_as.is_some() => bound_as.unwrap_or_default(),
            Some(user) if rejected => format!("simple bind as {user}: rejected"),
            Some(user) => format!("simple bind as {user}"),
            // A saved set from before the bind user was recorded.
            None if observed("ldap.directory").next().is_some() => "bound".to_string(),
            None => "anonymous (rootDSE only)".to_string(),
        };
        let transport = |probe| {
            observed(probe).find_map(|o| o.fields.get("transport")?.as_str().map(String::from))
        };
        let ldap_transport = transport("ldap.directory")
            .or_else(|| transport("ldap.root_dse"))
            .unwrap_or_else(|| "none (no DC answered)".to_string());
        Scanned {
            domains: tidy(domains),
            dcs: tidy(dcs),
            dns_servers,
            bind,
            ldap_transport,
        }
    }
}

/// Lower-cased, sorted, each once.
fn tidy(mut names: Vec<String>) -> Vec<String> {
    for n in &mut names {
        *n = n.trim().trim_end_matches('.').to_ascii_lowercase();
    }
    names.retain(|n| !n.is_empty());
    names.sort();
    names.dedup();
    names
}
