//! DNS probes: Active Directory SRV records (`dns.srv`), Intune enrollment CNAMEs per UPN suffix
//! (`dns.cname`), Microsoft 365 domain records (`dns.m365`) and AD FS service names
//! (`dns.adfs_name`).
//!
//! A missing record is an observation (`outcome` nxdomain / nodata, the value null): the check
//! fails and says what to create. A server that times out, fails or refuses is a `ProbeError`:
//! the finding is `error`, never `fail`.

mod adfs_name;
mod cname;
mod m365;
pub mod spec;
mod srv;

pub use adfs_name::DnsAdfsName;
pub use cname::DnsCname;
pub use m365::DnsM365;
pub use srv::DnsSrv;

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::SocketAddr;

use hickory_resolver::proto::rr::{RData, RecordType};
use serde_json::Value;

use crate::observation::{Observation, ObservationStatus};
use crate::probes::names::{self, normalise as normalize};
use crate::probes::resolver::{DnsFailure, Outcome};
use crate::probes::{PlanInput, ProbeError, Request};

/// SRV targets of one record that are resolved and connected to.
const MAX_TARGETS: usize = 64;
/// Hops followed inside the suffix's own zone before the CNAME chain is called a loop.
const MAX_HOPS: usize = 8;

fn to_error(f: DnsFailure) -> ProbeError {
    ProbeError::Failed(f.message)
}

fn text<'a>(req: &'a Request, key: &str) -> &'a str {
    req.fields
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `DC=corp,DC=contoso,DC=test` -> `corp.contoso.test`.
fn dn_to_domain(dn: &str) -> Option<String> {
    let labels: Vec<&str> = dn
        .split(',')
        .filter_map(|rdn| {
            let (k, v) = rdn.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("dc").then_some(v.trim())
        })
        .collect();
    (!labels.is_empty()).then(|| normalize(&labels.join(".")))
}

/// Observations of the LDAP probes (any `ldap.*`), which may not exist in this version.
fn ldap_observations(prior: &[Observation]) -> impl Iterator<Item = &Observation> {
    prior
        .iter()
        .filter(|o| o.probe.starts_with("ldap.") && o.status == ObservationStatus::Observed)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(normalize)
            .collect(),
        Some(Value::String(s)) => vec![normalize(s)],
        _ => Vec::new(),
    }
}

/// AD domains: `--domain`, plus the default naming context an LDAP probe read.
fn domains(input: &PlanInput<'_>) -> Vec<String> {
    let mut out: BTreeSet<String> = input.config.domains.iter().map(|d| normalize(d)).collect();
    for o in ldap_observations(input.prior) {
        if let Some(d) = o
            .fields
            .get("default_naming_context")
            .and_then(Value::as_str)
            .and_then(dn_to_domain)
        {
            out.insert(d);
        }
    }
    out.retain(|d| !d.is_empty());
    out.into_iter().collect()
}

/// UPN suffixes: `--upn-suffix`, `--domain`, and the suffixes an LDAP probe found.
fn suffixes(input: &PlanInput<'_>) -> Vec<String> {
    let mut out: BTreeSet<String> = input
        .config
        .upn_suffixes
        .iter()
        .chain(&input.config.domains)
        .map(|s| normalize(s))
        .collect();
    for o in ldap_observations(input.prior) {
        out.extend(strings(o.fields.get("upn_suffixes")));
    }
    out.retain(|s| !s.is_empty());
    out.into_iter().collect()
}

/// `.test` and `.example` are reserved (RFC 6761) and so non-routable for Entra ID, but labs
/// and documentation live there: the DNS probes still query them.
const LAB_TLDS: &[&str] = &["test", "example"];

/// Why a UPN suffix cannot carry Intune or Microsoft 365 records, if it cannot: the shared rule
/// of [`names::non_routable`], lab names excepted. Such a suffix is never queried.
pub fn non_routable(suffix: &str) -> Option<String> {
    let s = normalize(suffix);
    if LAB_TLDS.iter().any(|t| s.ends_with(&format!(".{t}"))) {
        return None;
    }
    names::non_routable(&s).map(|why| {
        format!("{why}: Intune and Microsoft 365 need a UPN suffix you own in public DNS (add a routable suffix and give it to the users first)")
    })
}

/// The first label of the name a purpose queries. What it should point at is the checks'
/// business (checks/dns.toml), not the probe's.
fn record_label(purpose: &str) -> &'static str {
    match purpose {
        "enrollment" => "EnterpriseEnrollment",
        _ => "EnterpriseRegistration",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routable_rule() {
        assert!(non_routable("corp.local").is_some());
        assert!(non_routable("CONTOSO").is_some());
        assert!(non_routable("ad.contoso.internal.").is_some());
        assert!(non_routable("x.home.arpa").is_some());
        assert!(non_routable("contoso.example").is_none());
        assert!(non_routable("contoso.com").is_none());
        assert!(non_routable("lab.readyscan.test").is_none());
        // A label that merely contains a reserved word is fine.
        assert!(non_routable("local.contoso.com").is_none());
    }

    #[test]
    fn naming_contexts() {
        assert_eq!(
            dn_to_domain("DC=Corp,DC=Contoso,DC=test").as_deref(),
            Some("corp.contoso.test")
        );
        assert_eq!(dn_to_domain("CN=Configuration"), None);
    }
}
