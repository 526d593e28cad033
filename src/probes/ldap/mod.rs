//! Active Directory over LDAP: `ldap.root_dse` (anonymous) and `ldap.directory` (needs a bind).

mod bound;
mod conn;
mod contain;
pub mod limits;
pub mod spec;

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

pub use bound::{connect_bound, read_bound, BoxedRead};
pub use conn::{BindError, ReadOnlyLdap, Transport};
pub use contain::in_ldap_client;
pub use limits::{ReadBudget, ReadError};

use crate::config::ScanConfig;
use crate::probes::names::non_routable;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// Functional level values (MS-ADTS 3.1.1.3.2) and their Windows Server names.
const LEVELS: &[(i64, &str)] = &[
    (0, "Windows 2000"),
    (1, "Windows Server 2003 interim"),
    (2, "Windows Server 2003"),
    (3, "Windows Server 2008"),
    (4, "Windows Server 2008 R2"),
    (5, "Windows Server 2012"),
    (6, "Windows Server 2012 R2"),
    (7, "Windows Server 2016 or later"),
    (10, "Windows Server 2025"),
];

/// objectVersion of the schema ("Find the Active Directory schema version").
const SCHEMA_VERSIONS: &[(i64, &str)] = &[
    (13, "Windows 2000"),
    (30, "Windows Server 2003"),
    (31, "Windows Server 2003 R2"),
    (44, "Windows Server 2008"),
    (47, "Windows Server 2008 R2"),
    (56, "Windows Server 2012"),
    (69, "Windows Server 2012 R2"),
    (87, "Windows Server 2016"),
    (88, "Windows Server 2019 / 2022"),
    (91, "Windows Server 2025"),
];

/// trustAttributes bit: the trust is a forest trust (MS-ADTS 6.1.6.7.9).
const TRUST_FOREST_TRANSITIVE: i64 = 0x8;

fn name_of(table: &[(i64, &str)], value: Option<i64>) -> Value {
    value
        .and_then(|v| table.iter().find(|(n, _)| *n == v).map(|(_, s)| json!(s)))
        .unwrap_or(Value::Null)
}

pub struct RootDse;
pub struct Directory;

/// One query per domain (DCs tried in order) or, without `--domain`, one per DC.
pub fn plan(config: &ScanConfig) -> Vec<Request> {
    let dcs: Vec<Value> = config.dcs.iter().map(|d| json!(d)).collect();
    if config.domains.is_empty() {
        return config
            .dcs
            .iter()
            .map(|dc| Request {
                subject: dc.to_ascii_lowercase(),
                fields: fields(json!({ "dcs": [dc] })),
            })
            .collect();
    }
    config
        .domains
        .iter()
        .map(|d| Request {
            subject: d.to_ascii_lowercase(),
            fields: fields(json!({ "domain": d, "dcs": dcs })),
        })
        .collect()
}

/// The DCs to ask: those given with `--dc`, else those the domain's locator SRV record names
/// (through `--dns-server` or the system resolver).
pub(super) async fn dcs_for(
    req: &Request,
    ctx: &ProbeContext,
) -> Result<(Vec<String>, &'static str), ProbeError> {
    let given: Vec<String> = req
        .fields
        .get("dcs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if !given.is_empty() {
        return Ok((given, "--dc"));
    }
    let Some(domain) = req.fields.get("domain").and_then(Value::as_str) else {
        return Err(ProbeError::Failed(format!(
            "no domain controller to ask for {}: give --dc HOST or --domain NAME",
            req.subject
        )));
    };
    let name = format!("_ldap._tcp.dc._msdcs.{domain}");
    let dns = ctx.services.dns()?;
    let outcome = dns
        .query(&name, hickory_resolver::proto::rr::RecordType::SRV)
        .await
        .map_err(|e| {
            ProbeError::Failed(format!("cannot discover DCs of {domain} ({name} SRV): {e}"))
        })?;
    let found: Vec<String> = super::resolver::srv_targets(&outcome)
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    if found.is_empty() {
        return Err(ProbeError::Failed(format!(
            "no domain controller found for {domain}: {name} has no SRV target ({}); give --dc HOST",
            outcome.as_str()
        )));
    }
    Ok((found, "DNS SRV"))
}

pub fn first(entry: &ldap3::SearchEntry, attr: &str) -> Option<String> {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first().cloned())
}

pub fn all(entry: &ldap3::SearchEntry, attr: &str) -> Vec<String> {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn int(entry: &ldap3::SearchEntry, attr: &str) -> Option<i64> {
    first(entry, attr).and_then(|v| v.trim().parse().ok())
}

const ROOT_DSE_ATTRS: &[&str] = &[
    "forestFunctionality",
    "domainFunctionality",
    "domainControllerFunctionality",
    "dnsHostName",
    "defaultNamingContext",
    "rootDomainNamingContext",
    "configurationNamingContext",
    "schemaNamingContext",
];

fn root_dse_fields(entry: &ldap3::SearchEntry) -> Map<String, Value> {
    let forest = int(entry, "forestFunctionality");
    let domain = int(entry, "domainFunctionality");
    fields(json!({
        "forest_functionality": forest,
        "forest_level_name": name_of(LEVELS, forest),
        "domain_functionality": domain,
        "domain_level_name": name_of(LEVELS, domain),
        "domain_controller_functionality": int(entry, "domainControllerFunctionality"),
        "dns_host_name": first(entry, "dnsHostName"),
        "default_naming_context": first(entry, "defaultNamingContext"),
        "root_domain_naming_context": first(entry, "rootDomainNamingContext"),
        "configuration_naming_context": first(entry, "configurationNamingContext"),
        "schema_naming_context": first(entry, "schemaNamingContext"),
    }))
}

#[async_trait]
impl Probe for RootDse {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::ROOT_DSE
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        plan(input.config)
    }

    /// Anonymous: plain LDAP first (the rootDSE is public), LDAPS if 389 is closed. Each attempt
    /// runs in its own task: a panic inside ldap3 fails that attempt, and the next is tried.
    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let tls = ctx.services.tls.clone();
        let budget = ReadBudget::default();
        let mut errors = Vec::new();
        let (dcs, found_by) = dcs_for(req, ctx).await?;
        for dc in dcs {
            for transport in [Transport::Plain, Transport::Ldaps] {
                let (ctx, tls, budget) = (ctx.clone(), tls.clone(), budget.clone());
                let read = contain::attempt(transport.place(&dc), {
                    let dc = dc.clone();
                    async move {
                        let mut ldap =
                            ReadOnlyLdap::connect(&dc, transport, &ctx, Some(tls), budget).await?;
                        let entry = ldap.read_entry("", ROOT_DSE_ATTRS).await;
                        ldap.unbind().await;
                        entry?.ok_or_else(|| format!("{dc}: the rootDSE is empty").into())
                    }
                });
                match read.await {
                    Ok(entry) => {
                        let mut out = root_dse_fields(&entry);
                        out.insert("answered_by".into(), json!(dc));
                        out.insert("dc_found_by".into(), json!(found_by));
                        out.insert("transport".into(), json!(transport.to_string()));
                        return Ok(out);
                    }
                    // A limit ends the probe: the budget is the probe's, not the attempt's.
                    Err(ReadError::Limit(e)) => return Err(ProbeError::Limit(e)),
                    Err(ReadError::Failed(e)) => errors.push(e),
                }
            }
        }
        Err(ProbeError::Failed(errors.join("; ")))
    }
}

#[async_trait]
impl Probe for Directory {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::DIRECTORY
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        plan(input.config)
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let (ldap, transport) = connect_bound(req, ctx).await?;
        let dc = ldap.dc.clone();
        let mut out = read_bound(ldap, |ldap| Box::pin(read_directory(ldap))).await?;
        out.insert("answered_by".into(), json!(dc));
        out.insert("transport".into(), json!(transport.to_string()));
        Ok(out)
    }
}

async fn read_directory(ldap: &mut ReadOnlyLdap) -> Result<Map<String, Value>, ReadError> {
    let dse = ldap
        .read_entry("", ROOT_DSE_ATTRS)
        .await?
        .ok_or("the rootDSE is empty")?;
    let domain_nc =
        first(&dse, "defaultNamingContext").ok_or("the rootDSE has no defaultNamingContext")?;
    let config_nc = first(&dse, "configurationNamingContext")
        .ok_or("the rootDSE has no configurationNamingContext")?;
    let schema_nc =
        first(&dse, "schemaNamingContext").unwrap_or_else(|| format!("CN=Schema,{config_nc}"));

    let schema_version = ldap
        .read_entry(&schema_nc, &["objectVersion"])
        .await?
        .and_then(|e| int(&e, "objectVersion"));

    let trusts = ldap
        .search(
            &format!("CN=System,{domain_nc}"),
            "(objectClass=trustedDomain)",
            &[
                "trustPartner",
                "trustAttributes",
                "trustDirection",
                "trustType",
            ],
        )
        .await?;
    let mut forest_trusts = Vec::new();
    let mut trust_list = Vec::new();
    for t in &trusts {
        let partner = first(t, "trustPartner").unwrap_or_else(|| t.dn.clone());
        let attrs = int(t, "trustAttributes").unwrap_or(0);
        let direction = match int(t, "trustDirection") {
            Some(1) => "inbound",
            Some(2) => "outbound",
            Some(3) => "two-way",
            _ => "disabled",
        };
        let forest = attrs & TRUST_FOREST_TRANSITIVE != 0;
        if forest {
            forest_trusts.push(partner.clone());
        }
        let kind = if forest { "forest trust" } else { "trust" };
        trust_list.push(format!("{partner} ({kind}, {direction})"));
    }

    let partitions = format!("CN=Partitions,{config_nc}");
    let mut upn_suffixes: Vec<String> = ldap
        .read_entry(&partitions, &["uPNSuffixes"])
        .await?
        .map(|e| all(&e, "uPNSuffixes"))
        .unwrap_or_default();
    let domains = ldap
        .search(
            &partitions,
            "(&(objectClass=crossRef)(nETBIOSName=*))",
            &["dnsRoot"],
        )
        .await?;
    for d in &domains {
        upn_suffixes.extend(all(d, "dnsRoot"));
    }
    let mut seen = HashMap::new();
    upn_suffixes.retain(|s| seen.insert(s.to_ascii_lowercase(), ()).is_none());
    let non_routable: Vec<String> = upn_suffixes
        .iter()
        .filter_map(|s| non_routable(s).map(|_| s.clone()))
        .collect();

    let dcs = ldap
        .search(
            &domain_nc,
            "(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))",
            &["dNSHostName", "operatingSystem", "operatingSystemVersion"],
        )
        .await?;
    let mut dc_names = Vec::new();
    let mut dc_os = Vec::new();
    let mut old_dcs = Vec::new();
    for dc in &dcs {
        let name = first(dc, "dNSHostName").unwrap_or_else(|| dc.dn.clone());
        let os = first(dc, "operatingSystem").unwrap_or_else(|| "unknown".into());
        if older_than_2008(&os) {
            old_dcs.push(format!("{name} ({os})"));
        }
        dc_os.push(format!("{name}: {os}"));
        dc_names.push(name);
    }

    let adfs = ldap
        .read_entry(
            &format!("CN=ADFS,CN=Microsoft,CN=Program Data,{domain_nc}"),
            &["cn"],
        )
        .await?
        .is_some();
    let system_management = ldap
        .read_entry(
            &format!("CN=System Management,CN=System,{domain_nc}"),
            &["cn"],
        )
        .await?
        .is_some();
    let recycle_bin = ldap
        .read_entry(
            &format!("CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,{config_nc}"),
            &["msDS-EnabledFeatureBL"],
        )
        .await?
        .is_some_and(|e| !all(&e, "msDS-EnabledFeatureBL").is_empty());

    let mut out = root_dse_fields(&dse);
    out.extend(fields(json!({
        "schema_version": schema_version,
        "schema_version_name": name_of(SCHEMA_VERSIONS, schema_version),
        "trusts": trust_list,
        "forest_trusts": forest_trusts,
        "topology": if forest_trusts.is_empty() { "single forest" } else { "multiple forests" },
        "upn_suffixes": upn_suffixes,
        "non_routable_upn_suffixes": non_routable,
        "domain_controllers": dc_names,
        "dc_operating_systems": dc_os,
        "old_dcs": old_dcs,
        "adfs_container": adfs,
        "system_management_container": system_management,
        "recycle_bin_enabled": recycle_bin,
    })));
    Ok(out)
}

/// Windows 2000, Server 2003 (R2) and NT are older than 2008; anything else (Samba too) is not.
fn older_than_2008(os: &str) -> bool {
    let os = os.to_ascii_lowercase();
    os.contains("windows") && (os.contains("2000") || os.contains("2003") || os.contains(" nt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names() {
        assert_eq!(name_of(LEVELS, Some(3)), json!("Windows Server 2008"));
        assert_eq!(name_of(LEVELS, Some(99)), Value::Null);
        assert_eq!(
            name_of(SCHEMA_VERSIONS, Some(47)),
            json!("Windows Server 2008 R2")
        );
    }

    #[test]
    fn old_dc_rule() {
        assert!(older_than_2008("Windows Server 2003 R2 Enterprise"));
        assert!(older_than_2008("Windows 2000 Server"));
        assert!(!older_than_2008("Windows Server 2008 R2 Standard"));
        assert!(!older_than_2008("Samba"));
    }
}
