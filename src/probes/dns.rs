//! DNS probes: Active Directory SRV records (`dns.srv`), Intune enrollment CNAMEs per UPN suffix
//! (`dns.cname`), Microsoft 365 domain records (`dns.m365`) and AD FS service names
//! (`dns.adfs_name`).
//!
//! A missing record is an observation (`outcome` nxdomain / nodata, the value null): the check
//! fails and says what to create. A server that times out, fails or refuses is a `ProbeError`:
//! the finding is `error`, never `fail`.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::proto::rr::{RData, RecordType};
use serde_json::{json, Map, Value};
use tokio::sync::OnceCell;

use super::names::{self, normalise as normalize};
use super::resolver::{Dns, DnsFailure, Outcome};
use super::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};
use crate::observation::{Observation, ObservationStatus};

/// Probes whose UPN suffixes, naming contexts and DC names the DNS probes use when present.
const LDAP_PROBES: &[&str] = &["ldap.root_dse", "ldap.directory"];
/// SRV targets of one record that are resolved and connected to.
const MAX_TARGETS: usize = 64;
/// Hops followed inside the suffix's own zone before the CNAME chain is called a loop.
const MAX_HOPS: usize = 8;
/// Time-to-live the Intune documentation gives for the records to create.
const TTL_SECONDS: u32 = 3600;

/// The resolver of one scan, built on first use with the scan's servers and timeout.
#[derive(Default)]
struct Shared(OnceCell<Result<Arc<Dns>, String>>);

impl Shared {
    async fn get(&self, ctx: &ProbeContext) -> Result<Arc<Dns>, ProbeError> {
        self.0
            .get_or_init(|| async { Dns::new(&ctx.config, ctx.timeout).map(Arc::new) })
            .await
            .clone()
            .map_err(ProbeError::Failed)
    }
}

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

fn first_label_title(purpose: &str) -> (&'static str, &'static str) {
    match purpose {
        "enrollment" => (
            "EnterpriseEnrollment",
            "EnterpriseEnrollment-s.manage.microsoft.com",
        ),
        _ => (
            "EnterpriseRegistration",
            "EnterpriseRegistration.windows.net",
        ),
    }
}

// ---------------------------------------------------------------------------------------------

/// `dns.srv`: the SRV records of a domain, whether their targets resolve and answer.
#[derive(Default)]
pub struct DnsSrv(Shared);

/// (record prefix, purpose, at the forest root)
const SRV_RECORDS: &[(&str, &str, bool)] = &[
    ("_ldap._tcp.dc._msdcs", "dc-locator", false),
    ("_ldap._tcp", "ldap", false),
    ("_ldap._tcp.pdc._msdcs", "pdc", false),
    ("_kerberos._tcp", "kerberos", false),
    ("_kpasswd._tcp", "kpasswd", false),
    ("_gc._tcp", "gc", true),
];

fn forest_root(domain: &str, prior: &[Observation]) -> (String, &'static str) {
    let mut roots = ldap_observations(prior).filter_map(|o| {
        let own = o
            .fields
            .get("default_naming_context")
            .and_then(Value::as_str)
            .and_then(dn_to_domain);
        let root = o
            .fields
            .get("root_domain_naming_context")
            .and_then(Value::as_str)
            .and_then(dn_to_domain)?;
        Some((own.as_deref() == Some(domain), root))
    });
    let all: Vec<(bool, String)> = roots.by_ref().collect();
    if let Some((_, r)) = all.iter().find(|(own, _)| *own) {
        return (r.clone(), "ldap");
    }
    if let Some((_, r)) = all.first() {
        return (r.clone(), "ldap");
    }
    (domain.to_string(), "assumed")
}

/// DCs the scan knows of in `domain`: `--dc` names and what LDAP reported.
fn known_dcs(domain: &str, input: &PlanInput<'_>) -> Vec<String> {
    let mut out: BTreeSet<String> = input.config.dcs.iter().map(|d| normalize(d)).collect();
    for o in ldap_observations(input.prior) {
        out.extend(strings(o.fields.get("domain_controllers")));
        out.extend(strings(o.fields.get("dns_host_name")));
    }
    let tail = format!(".{domain}");
    out.into_iter()
        .filter(|d| d.ends_with(&tail) && d.parse::<std::net::IpAddr>().is_err())
        .collect()
}

#[async_trait]
impl Probe for DnsSrv {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("dns.srv").expect("declared in SPECS")
    }

    fn stage(&self) -> u8 {
        2
    }

    fn reads(&self) -> &'static [&'static str] {
        LDAP_PROBES
    }

    /// SRV query, address lookups and connects, each with a retry budget.
    fn time_budget(&self, timeout: Duration) -> Duration {
        timeout * 5
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut out = Vec::new();
        for domain in domains(input) {
            let dcs = known_dcs(&domain, input);
            for (prefix, purpose, at_root) in SRV_RECORDS {
                let (zone, root_source) = if *at_root {
                    forest_root(&domain, input.prior)
                } else {
                    (domain.clone(), "")
                };
                let name = format!("{prefix}.{zone}");
                let mut f = fields(json!({ "name": name, "domain": zone, "purpose": purpose }));
                if matches!(*purpose, "dc-locator" | "ldap") {
                    f.insert("expected_dcs".into(), json!(dcs));
                }
                if root_source == "assumed" {
                    f.insert(
                        "forest_root".into(),
                        json!(format!(
                            "{zone} (assumed: no LDAP observation named the forest root)"
                        )),
                    );
                } else if *at_root {
                    f.insert("forest_root".into(), json!(zone));
                }
                out.push(Request {
                    subject: name,
                    fields: f,
                });
            }
        }
        out
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let dns = self.0.get(ctx).await?;
        let name = text(req, "name");
        let expected = strings(req.fields.get("expected_dcs"));
        let outcome = dns.query(name, RecordType::SRV).await.map_err(to_error)?;
        let targets = super::resolver::srv_targets(&outcome);
        let found = targets.len();
        // A hostile or broken server must not turn one record into thousands of lookups.
        let targets: BTreeSet<(String, u16)> = targets.into_iter().take(MAX_TARGETS).collect();
        let mut out = Map::new();
        out.insert("outcome".into(), json!(outcome.as_str()));
        out.insert(
            "detail".into(),
            match &outcome {
                Outcome::Answer(_) if found > MAX_TARGETS => json!(format!(
                    "{found} targets; the first {MAX_TARGETS} (by name) were checked"
                )),
                Outcome::NxDomain => json!(format!("NXDOMAIN: {name} does not exist")),
                Outcome::NoData => json!(format!("NODATA: {name} exists but has no SRV record")),
                Outcome::Answer(_) if targets.is_empty() => json!("the SRV answer has no target"),
                Outcome::Answer(_) => Value::Null,
            },
        );
        out.insert(
            "targets".into(),
            json!(targets
                .iter()
                .map(|(h, p)| format!("{h}:{p}"))
                .collect::<Vec<_>>()),
        );
        let hosts: BTreeSet<&String> = targets.iter().map(|(h, _)| h).collect();
        let missing: Vec<&String> = expected.iter().filter(|d| !hosts.contains(d)).collect();
        if req.fields.contains_key("expected_dcs") {
            out.insert("missing_dcs".into(), json!(missing));
        }

        // Every target must resolve; a lookup the server cannot answer leaves it unassessed.
        let mut lookups = tokio::task::JoinSet::new();
        for host in &hosts {
            let (dns, host) = (dns.clone(), (*host).clone());
            lookups.spawn(async move {
                let r = dns.addresses(&host).await;
                (host, r)
            });
        }
        let mut unresolved = Vec::new();
        let mut addrs = std::collections::BTreeMap::new();
        while let Some(done) = lookups.join_next().await {
            let Ok((host, result)) = done else {
                return Err(ProbeError::Failed("an address lookup task failed".into()));
            };
            let (outcome, ips) = result
                .map_err(|e| ProbeError::Failed(format!("SRV target {host} of {name}: {e}")))?;
            match ips.first() {
                Some(ip) => {
                    addrs.insert(host, *ip);
                }
                None => unresolved.push(format!(
                    "{host} ({})",
                    match outcome {
                        Outcome::NxDomain => "NXDOMAIN",
                        _ => "NODATA: no A or AAAA record",
                    }
                )),
            }
        }
        unresolved.sort();
        out.insert("unresolved_targets".into(), json!(unresolved));

        // A target that resolves but does not take connections is a stale record.
        let mut connects = tokio::task::JoinSet::new();
        for (host, port) in &targets {
            let ip = ctx
                .config
                .resolve
                .get(host)
                .copied()
                .or_else(|| addrs.get(host).copied());
            let Some(ip) = ip else { continue };
            let (host, port, timeout) = (host.clone(), *port, ctx.timeout);
            connects.spawn(async move {
                let addr = SocketAddr::new(ip, port);
                let dead = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr))
                    .await
                {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => {
                        Some("connection refused".to_string())
                    }
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(_) => Some(format!(
                        "no answer within {}",
                        humantime::format_duration(timeout)
                    )),
                };
                dead.map(|why| format!("{host}:{port} ({why})"))
            });
        }
        let mut stale: Vec<String> = connects.join_all().await.into_iter().flatten().collect();
        stale.sort();
        out.insert("stale_targets".into(), json!(stale));
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------

/// `dns.cname`: EnterpriseEnrollment / EnterpriseRegistration CNAMEs of each UPN suffix.
#[derive(Default)]
pub struct DnsCname(Shared);

#[async_trait]
impl Probe for DnsCname {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("dns.cname").expect("declared in SPECS")
    }

    fn stage(&self) -> u8 {
        2
    }

    fn reads(&self) -> &'static [&'static str] {
        LDAP_PROBES
    }

    /// A chain of aliases inside the suffix's zone takes a query per hop.
    fn time_budget(&self, timeout: Duration) -> Duration {
        timeout * 4
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut out = Vec::new();
        for suffix in suffixes(input) {
            for purpose in ["enrollment", "registration"] {
                let (label, _) = first_label_title(purpose);
                let name = format!("{}.{suffix}", label.to_ascii_lowercase());
                out.push(Request {
                    subject: name.clone(),
                    fields: fields(json!({ "name": name, "suffix": suffix, "purpose": purpose })),
                });
            }
        }
        out
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let suffix = text(req, "suffix");
        if let Some(why) = non_routable(suffix) {
            return Err(ProbeError::NotApplicable(why));
        }
        let dns = self.0.get(ctx).await?;
        let name = normalize(text(req, "name"));
        let (label, want) = first_label_title(text(req, "purpose"));

        // Follow aliases while they stay in the suffix's own zone; the first name outside it
        // is what the record points at. Microsoft's names are never queried.
        let own = |n: &str| n == suffix || n.ends_with(&format!(".{suffix}"));
        let mut chain: Vec<String> = Vec::new();
        let mut current = name.clone();
        let mut first_outcome = None;
        loop {
            let outcome = dns
                .query(&current, RecordType::CNAME)
                .await
                .map_err(to_error)?;
            if first_outcome.is_none() {
                first_outcome = Some(outcome.clone());
            }
            let target = outcome.records().iter().find_map(|r| match &r.data {
                RData::CNAME(c) => Some(normalize(&c.0.to_ascii())),
                _ => None,
            });
            let Some(target) = target else { break };
            if target == name || chain.contains(&target) || chain.len() >= MAX_HOPS {
                chain.push(target);
                return Err(ProbeError::Failed(format!(
                    "CNAME loop or chain longer than {MAX_HOPS}: {name} -> {}",
                    chain.join(" -> ")
                )));
            }
            chain.push(target.clone());
            if !own(&target) {
                break;
            }
            current = target;
        }

        let mut out = Map::new();
        let record = format!("{label}.{suffix}. {TTL_SECONDS} IN CNAME {want}.");
        match (chain.last(), first_outcome.unwrap_or(Outcome::NoData)) {
            (Some(target), _) => {
                out.insert("outcome".into(), json!("answer"));
                out.insert("target".into(), json!(target));
                out.insert("chain".into(), json!(chain));
                out.insert(
                    "detail".into(),
                    if chain.len() > 1 {
                        json!(format!("via {}", chain[..chain.len() - 1].join(", ")))
                    } else {
                        Value::Null
                    },
                );
            }
            (None, missing) => {
                let why = match missing {
                    Outcome::NxDomain => format!("NXDOMAIN: {name} does not exist"),
                    _ => format!("NODATA: {name} exists but has no CNAME"),
                };
                out.insert("outcome".into(), json!(missing.as_str()));
                out.insert("target".into(), Value::Null);
                out.insert("chain".into(), json!([]));
                out.insert("record_to_create".into(), json!(record));
                out.insert("detail".into(), json!(format!("{why}; create {record}")));
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------

/// `dns.m365`: the records Microsoft 365 asks for on a domain (verification TXT, MX,
/// autodiscover, SPF).
#[derive(Default)]
pub struct DnsM365(Shared);

#[async_trait]
impl Probe for DnsM365 {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("dns.m365").expect("declared in SPECS")
    }

    fn stage(&self) -> u8 {
        2
    }

    fn reads(&self) -> &'static [&'static str] {
        LDAP_PROBES
    }

    fn time_budget(&self, timeout: Duration) -> Duration {
        timeout * 2
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        suffixes(input)
            .into_iter()
            .map(|suffix| Request {
                subject: suffix.clone(),
                fields: fields(json!({ "suffix": suffix })),
            })
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let suffix = text(req, "suffix");
        if let Some(why) = non_routable(suffix) {
            return Err(ProbeError::NotApplicable(why));
        }
        let dns = self.0.get(ctx).await?;
        let autodiscover = format!("autodiscover.{suffix}");
        let (txt, mx, cname) = tokio::join!(
            dns.query(suffix, RecordType::TXT),
            dns.query(suffix, RecordType::MX),
            dns.query(&autodiscover, RecordType::CNAME),
        );
        let (txt, mx, cname) = (
            txt.map_err(to_error)?,
            mx.map_err(to_error)?,
            cname.map_err(to_error)?,
        );
        let texts: Vec<String> = txt
            .records()
            .iter()
            .filter_map(|r| match &r.data {
                // A TXT record's strings are one value, split only for length.
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect();
        let verification: Vec<&String> = texts
            .iter()
            .filter(|t| t.trim().to_ascii_lowercase().starts_with("ms=ms"))
            .collect();
        let spf: Vec<&String> = texts
            .iter()
            .filter(|t| {
                let t = t.trim().to_ascii_lowercase();
                t == "v=spf1" || t.starts_with("v=spf1 ")
            })
            .collect();
        let mut mx_hosts: Vec<(u16, String)> = mx
            .records()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(m) => Some((m.preference, normalize(&m.exchange.to_ascii()))),
                _ => None,
            })
            .collect();
        mx_hosts.sort();
        let autodiscover_target = cname.records().iter().find_map(|r| match &r.data {
            RData::CNAME(c) => Some(normalize(&c.0.to_ascii())),
            _ => None,
        });
        let or_null = |v: Vec<String>| if v.is_empty() { Value::Null } else { json!(v) };
        Ok(fields(json!({
            "txt_outcome": txt.as_str(),
            "ms_verification": or_null(verification.into_iter().cloned().collect()),
            "mx_hosts": or_null(mx_hosts.into_iter().map(|(p, h)| format!("{p} {h}")).collect()),
            "autodiscover_target": autodiscover_target,
            "autodiscover_outcome": cname.as_str(),
            "spf_records": or_null(spf.iter().map(|s| s.to_string()).collect()),
            "spf_count": spf.len(),
        })))
    }
}

// ---------------------------------------------------------------------------------------------

/// `dns.adfs_name`: whether an AD FS service name is a host (A) record or an alias.
#[derive(Default)]
pub struct DnsAdfsName(Shared);

#[async_trait]
impl Probe for DnsAdfsName {
    fn spec(&self) -> &'static ProbeSpec {
        super::spec("dns.adfs_name").expect("declared in SPECS")
    }

    fn stage(&self) -> u8 {
        2
    }

    fn time_budget(&self, timeout: Duration) -> Duration {
        timeout * 4
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        input
            .config
            .adfs
            .iter()
            .map(|n| normalize(n))
            .filter(|n| !n.is_empty())
            .map(|name| Request {
                subject: name.clone(),
                fields: fields(json!({ "name": name })),
            })
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let dns = self.0.get(ctx).await?;
        let name = text(req, "name");
        // Asked as CNAME first, so an alias is seen as such and its target never chased.
        let cname = dns.query(name, RecordType::CNAME).await.map_err(to_error)?;
        if let Some(target) = cname.records().iter().find_map(|r| match &r.data {
            RData::CNAME(c) => Some(normalize(&c.0.to_ascii())),
            _ => None,
        }) {
            return Ok(fields(json!({
                "outcome": "answer",
                "record_type": "CNAME",
                "cname_target": target,
                "addresses": [],
            })));
        }
        let (outcome, ips) = dns.addresses(name).await.map_err(to_error)?;
        let has_v4 = ips.iter().any(|ip| ip.is_ipv4());
        let record_type = match (&outcome, has_v4) {
            (Outcome::Answer(_), true) => json!("A"),
            (Outcome::Answer(_), false) => json!("AAAA"),
            _ => Value::Null,
        };
        Ok(fields(json!({
            "outcome": outcome.as_str(),
            "record_type": record_type,
            "cname_target": null,
            "addresses": ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })))
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
