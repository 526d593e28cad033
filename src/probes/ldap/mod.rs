//! Active Directory over LDAP: `ldap.root_dse` (anonymous) and `ldap.directory` (needs a bind).

mod bound;
pub mod clients;
mod computers;
mod conn;
mod contain;
mod dc;
mod directory;
mod forest;
pub mod limits;
mod service_host;
mod services_ad;
pub mod spec;
pub mod sync;
pub mod windows;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

pub(crate) use bound::connect_bound_to;
pub use bound::{connect_bound, connect_bound_gc, read_bound, BoxedRead};
pub use computers::{Computers, OsRelease};
pub use conn::{BindError, ReadOnlyLdap, Transport};
pub use contain::in_ldap_client;
pub use dc::{dc_fields, Dc};
pub use forest::{Domain, Forest};
pub use limits::{ReadBudget, ReadError};
pub use service_host::ServiceHost;
pub use services_ad::Services;
pub use sync::{SyncObjects, SyncRule};

use crate::config::ScanConfig;
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
pub(crate) const SCHEMA_VERSIONS: &[(i64, &str)] = &[
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

pub(crate) fn name_of(table: &[(i64, &str)], value: Option<i64>) -> Value {
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

/// The DCs to ask, how they were found, and the `--dc` names that did not resolve (with why):
/// those given with `--dc`; else, or when none of them resolves, those the domain's locator
/// SRV record names (through `--dns-server` or the system resolver).
pub(super) async fn dcs_for(req: &Request, ctx: &ProbeContext) -> Result<Found, ProbeError> {
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
    let domain = req.fields.get("domain").and_then(Value::as_str);
    let mut unresolved = Vec::new();
    for dc in &given {
        if let Err(e) = super::net::resolve(dc, 389, ctx).await {
            unresolved.push((dc.clone(), e));
        }
    }
    let fallback = domain.filter(|_| unresolved.len() == given.len());
    if !given.is_empty() && fallback.is_none() {
        return Ok(Found {
            dcs: given,
            by: "--dc",
            unresolved,
        });
    }
    let Some(domain) = domain else {
        return Err(ProbeError::Failed(format!(
            "no domain controller to ask for {}: give --dc HOST or --domain NAME",
            req.subject
        )));
    };
    if !unresolved.is_empty() {
        tracing::info!("no --dc name resolved; trying the DCs of {domain}'s SRV record");
    }
    let name = format!("_ldap._tcp.dc._msdcs.{domain}");
    let dns = ctx.services.dns()?;
    let outcome = dns
        .query(&name, hickory_resolver::proto::rr::RecordType::SRV)
        .await
        .map_err(|e| {
            let mut why = format!("cannot discover DCs of {domain} ({name} SRV): {e}");
            for (_, e) in &unresolved {
                why = format!("{e}; {why}");
            }
            ProbeError::Failed(why)
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
    Ok(Found {
        dcs: found,
        by: "DNS SRV",
        unresolved,
    })
}

/// What [`dcs_for`] found.
pub(super) struct Found {
    pub dcs: Vec<String>,
    pub by: &'static str,
    /// `--dc` names that did not resolve, with the resolver's reason.
    pub unresolved: Vec<(String, String)>,
}

/// What a probe derived from another's read answers: nothing of its own, or that read's
/// failure, carried in the request as `<from>_error` and `<from>_kind` (a missing bind stays
/// "needs a bind"; anything else says which read failed).
pub(crate) fn carried(
    req: &Request,
    from: &str,
    what_failed: &str,
) -> Result<Map<String, Value>, ProbeError> {
    let field = |k: &str| req.fields.get(&format!("{from}_{k}"));
    match field("error").and_then(Value::as_str) {
        None => Ok(Map::new()),
        Some(e) if field("kind") == Some(&json!("needs_bind")) => Err(ProbeError::NeedsBind(
            e.trim_start_matches("needs a bind: ").into(),
        )),
        Some(e) => Err(ProbeError::Failed(format!("{what_failed}: {e}"))),
    }
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

pub(crate) fn int(entry: &ldap3::SearchEntry, attr: &str) -> Option<i64> {
    first(entry, attr).and_then(|v| v.trim().parse().ok())
}

pub(crate) const ROOT_DSE_ATTRS: &[&str] = &[
    "forestFunctionality",
    "domainFunctionality",
    "domainControllerFunctionality",
    "dnsHostName",
    "defaultNamingContext",
    "rootDomainNamingContext",
    "configurationNamingContext",
    "schemaNamingContext",
];

/// `DC=corp,DC=contoso,DC=test` -> `corp.contoso.test`.
pub(crate) fn dns_name_of(nc: &str) -> String {
    nc.split(',')
        .filter_map(|rdn| {
            let (k, v) = rdn.trim().split_once('=')?;
            k.eq_ignore_ascii_case("DC")
                .then(|| v.trim().to_ascii_lowercase())
        })
        .collect::<Vec<_>>()
        .join(".")
}

pub(crate) fn root_dse_fields(entry: &ldap3::SearchEntry) -> Map<String, Value> {
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
        // DNS names for the steps (Set-ADForestMode -Identity ...).
        "domain_dns_name": first(entry, "defaultNamingContext").map(|nc| dns_name_of(&nc)),
        "forest_dns_name": first(entry, "rootDomainNamingContext").map(|nc| dns_name_of(&nc)),
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

    /// Anonymous, over plain LDAP and LDAPS side by side (the rootDSE is public): a filtered
    /// 389 costs no timeout when 636 answers. Plain LDAP's answer is preferred when it comes
    /// within [`PLAIN_GRACE`] of LDAPS's, so reports do not depend on which won a close race.
    /// Each attempt runs in its own task: a panic inside ldap3 fails that attempt only.
    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let budget = ReadBudget::default();
        let mut errors = Vec::new();
        let found = dcs_for(req, ctx).await?;
        let (found_by, unresolved) = (found.by, found.unresolved);
        for dc in found.dcs {
            let read = |transport| read_root_dse(dc.clone(), transport, ctx, budget.clone());
            let (plain, ldaps) = (read(Transport::Plain), read(Transport::Ldaps));
            tokio::pin!(plain, ldaps);
            let mut plain_error = None;
            let answer = tokio::select! {
                p = &mut plain => match p {
                    Ok(entry) => Ok((Transport::Plain, entry)),
                    Err(e) => {
                        plain_error = Some(e);
                        ldaps.await.map(|e| (Transport::Ldaps, e))
                    }
                },
                l = &mut ldaps => match l {
                    Ok(entry) => match tokio::time::timeout(PLAIN_GRACE, &mut plain).await {
                        Ok(Ok(p)) => Ok((Transport::Plain, p)),
                        Ok(Err(e)) => {
                            plain_error = Some(e);
                            Ok((Transport::Ldaps, entry))
                        }
                        Err(_) => Ok((Transport::Ldaps, entry)),
                    },
                    Err(e) => plain.await.map(|p| (Transport::Plain, p)).map_err(|p| {
                        plain_error = Some(p);
                        e
                    }),
                },
            };
            match answer {
                Ok((transport, entry)) => {
                    let mut out = root_dse_fields(&entry);
                    out.insert("answered_by".into(), json!(dc));
                    out.insert("dc_found_by".into(), json!(found_by));
                    let names: Vec<&str> = unresolved.iter().map(|(n, _)| n.as_str()).collect();
                    let why: Vec<&str> = unresolved.iter().map(|(_, e)| e.as_str()).collect();
                    out.insert("unresolved_dcs".into(), json!(names));
                    out.insert("unresolved_detail".into(), json!(why.join("; ")));
                    out.insert("transport".into(), json!(transport.to_string()));
                    return Ok(out);
                }
                Err(e) => {
                    // Plain LDAP's reason first, as when the two ran one after the other.
                    for e in plain_error.into_iter().chain([e]) {
                        match e {
                            // A limit ends the probe: the budget is the probe's, not the attempt's.
                            ReadError::Limit(e) => return Err(ProbeError::Limit(e)),
                            ReadError::Failed(e) => errors.push(e),
                        }
                    }
                }
            }
        }
        Err(ProbeError::Failed(errors.join("; ")))
    }
}

/// How long a plain LDAP rootDSE answer may trail an LDAPS one and still be preferred.
const PLAIN_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

/// One anonymous rootDSE read over `transport`, in a task of its own.
async fn read_root_dse(
    dc: String,
    transport: Transport,
    ctx: &ProbeContext,
    budget: ReadBudget,
) -> Result<ldap3::SearchEntry, ReadError> {
    let (ctx, tls) = (ctx.clone(), ctx.services.tls.clone());
    contain::attempt(transport.place(&dc), async move {
        let mut ldap = ReadOnlyLdap::connect(&dc, transport, &ctx, Some(tls), budget).await?;
        let entry = ldap.read_entry("", ROOT_DSE_ATTRS).await;
        ldap.unbind().await;
        entry?.ok_or_else(|| format!("{dc}: the rootDSE is empty").into())
    })
    .await
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
        let bound_as = ldap.bound_as.clone();
        // The forest root may be read from another DC: the read takes the scan's context along.
        let scan = ctx.clone();
        let mut out = read_bound(ldap, move |ldap| {
            Box::pin(async move { directory::read_directory(ldap, &scan).await })
        })
        .await?;
        out.insert("answered_by".into(), json!(dc));
        out.insert("transport".into(), json!(transport.to_string()));
        out.insert("bound_as".into(), json!(bound_as));
        Ok(out)
    }
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
}
