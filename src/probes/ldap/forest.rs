//! `ldap.forest`: every domain of the forest (crossRef objects under CN=Partitions) and every
//! DC (nTDSDSA objects under CN=Sites) from the configuration NC, and `ldap.domain`: one
//! observation per domain (NetBIOS name, domain level, writable DCs), derived without traffic.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{connect_bound, first, int, name_of, read_bound, spec, ReadError, ReadOnlyLdap};
use super::{dns_name_of, LEVELS};
use crate::observation::{Observation, ObservationStatus};
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// systemFlags of a crossRef naming a domain NC (FLAG_CR_NTDS_DOMAIN, MS-ADTS 2.2.18).
const CR_NTDS_DOMAIN: i64 = 0x2;

/// The value of the RDN at `depth` of a DN: "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Site" -> 1 = "DC1".
fn rdn(dn: &str, depth: usize) -> Option<String> {
    let part = dn.split(',').nth(depth)?;
    Some(part.split_once('=')?.1.trim().to_string())
}

/// The parent DN.
fn parent(dn: &str) -> &str {
    dn.split_once(',').map(|(_, p)| p).unwrap_or("")
}

/// One DC from its nTDSDSA entry, its server object and its computer object (when readable).
async fn dc_of(ldap: &mut ReadOnlyLdap, dsa: &ldap3::SearchEntry) -> Value {
    let server_dn = parent(&dsa.dn).to_string();
    let server = ldap
        .read_entry(&server_dn, &["dNSHostName", "serverReference"])
        .await
        .ok()
        .flatten();
    let host = server
        .as_ref()
        .and_then(|s| first(s, "dNSHostName"))
        .or_else(|| rdn(&dsa.dn, 1))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let category = first(dsa, "objectCategory").unwrap_or_default();
    let rodc = match first(dsa, "msDS-isRODC") {
        Some(v) => v.eq_ignore_ascii_case("TRUE"),
        None => category.to_ascii_uppercase().starts_with("CN=NTDS-DSA-RO,"),
    };
    // Samba may not have msDS-HasDomainNCs: then the master NC that is neither
    // configuration, schema nor an application partition.
    let domain_nc = first(dsa, "msDS-HasDomainNCs").or_else(|| {
        dsa.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("hasMasterNCs"))
            .and_then(|(_, v)| {
                v.iter()
                    .find(|nc| nc.to_ascii_uppercase().starts_with("DC="))
                    .cloned()
            })
    });
    let computer = match server.as_ref().and_then(|s| first(s, "serverReference")) {
        Some(dn) => ldap
            .read_entry(&dn, &["operatingSystem", "operatingSystemVersion"])
            .await
            .ok()
            .flatten(),
        None => None,
    };
    json!({
        "host": host,
        "site": rdn(&dsa.dn, 3),
        "rodc": rodc,
        "writable": !rodc,
        "behavior_version": int(dsa, "msDS-Behavior-Version"),
        "domain": domain_nc.as_deref().map(dns_name_of),
        "operating_system": computer.as_ref().and_then(|c| first(c, "operatingSystem")),
        "operating_system_version": computer.as_ref().and_then(|c| first(c, "operatingSystemVersion")),
    })
}

pub(crate) async fn read_forest(ldap: &mut ReadOnlyLdap) -> Result<Map<String, Value>, ReadError> {
    let dse = ldap
        .read_entry("", &["configurationNamingContext"])
        .await?
        .ok_or("the rootDSE is empty")?;
    let config = first(&dse, "configurationNamingContext")
        .ok_or("the rootDSE has no configurationNamingContext")?;
    let crossrefs = ldap
        .search(
            &format!("CN=Partitions,{config}"),
            "(objectClass=crossRef)",
            &["nETBIOSName", "dnsRoot", "nCName", "systemFlags"],
        )
        .await?;
    let mut domains = Vec::new();
    for cr in crossrefs
        .iter()
        .filter(|c| int(c, "systemFlags").is_some_and(|f| f & CR_NTDS_DOMAIN != 0))
    {
        let nc = first(cr, "nCName").unwrap_or_default();
        // The level lives on the domain's NC head: readable here for this DC's own domain (or
        // a global catalog); another domain's head may answer with a referral.
        let head = ldap
            .read_entry(&nc, &["msDS-Behavior-Version"])
            .await
            .ok()
            .flatten();
        let level = head.as_ref().and_then(|h| int(h, "msDS-Behavior-Version"));
        let netbios = first(cr, "nETBIOSName");
        domains.push(json!({
            "dns_root": first(cr, "dnsRoot").map(|d| d.to_ascii_lowercase()),
            "netbios": netbios,
            "netbios_has_period": netbios.as_deref().map(|n| n.contains('.')),
            "naming_context": nc,
            "domain_functionality": level,
            "domain_level_name": name_of(LEVELS, level),
        }));
    }
    let dsas = ldap
        .search(
            &format!("CN=Sites,{config}"),
            "(objectClass=nTDSDSA)",
            &[
                "msDS-isRODC",
                "objectCategory",
                "msDS-Behavior-Version",
                "msDS-HasDomainNCs",
                "hasMasterNCs",
            ],
        )
        .await?;
    let mut dcs = Vec::new();
    for dsa in &dsas {
        dcs.push(dc_of(ldap, dsa).await);
    }
    Ok(fields(json!({
        "configuration_naming_context": config,
        "domains": domains,
        "forest_dcs": dcs,
    })))
}

pub struct Forest;

#[async_trait]
impl Probe for Forest {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::FOREST
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        super::plan(input.config)
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let (ldap, transport) = connect_bound(req, ctx).await?;
        let dc = ldap.dc.clone();
        let mut out = read_bound(ldap, move |ldap| {
            Box::pin(async move { read_forest(ldap).await })
        })
        .await?;
        out.insert("answered_by".into(), json!(dc));
        out.insert("transport".into(), json!(transport.to_string()));
        Ok(out)
    }
}

/// The fields of one domain: its crossRef values and the DCs of the forest that hold it.
pub fn domain_fields(domain: &Value, dcs: &[Value]) -> Map<String, Value> {
    let root = domain["dns_root"].as_str().unwrap_or_default();
    let mine: Vec<&Value> = dcs.iter().filter(|d| d["domain"] == root).collect();
    let writable = mine.iter().filter(|d| d["writable"] == true).count();
    let mut sites: Vec<String> = mine
        .iter()
        .map(|d| {
            let site = d["site"].as_str().unwrap_or("?");
            let n = mine.iter().filter(|x| x["site"] == d["site"]).count();
            format!("{site}: {n}")
        })
        .collect();
    sites.sort();
    sites.dedup();
    let mut out = domain.as_object().cloned().unwrap_or_default();
    out.extend(fields(json!({
        "writable_dcs": writable,
        "rodcs": mine.len() - writable,
        "dc_hosts": mine.iter().map(|d| d["host"].clone()).collect::<Vec<_>>(),
        "dcs_per_site": sites,
    })));
    out
}

pub struct Domain;

#[async_trait]
impl Probe for Domain {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::DOMAIN
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        domain_plan(input.prior)
    }

    async fn observe(
        &self,
        req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        super::carried(
            req,
            "forest",
            "the read of the forest's partitions and sites failed",
        )
    }
}

/// One request per domain of each forest read; a failed read passes its reason on.
pub fn domain_plan(prior: &[Observation]) -> Vec<Request> {
    let mut out = Vec::new();
    for obs in prior.iter().filter(|o| o.probe == "ldap.forest") {
        match obs.status {
            ObservationStatus::Observed => {
                let dcs: Vec<Value> = obs
                    .fields
                    .get("forest_dcs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let domains = obs.fields.get("domains").and_then(Value::as_array);
                for d in domains.into_iter().flatten() {
                    let subject = d["dns_root"].as_str().unwrap_or("?").to_string();
                    out.push(Request {
                        subject,
                        fields: domain_fields(d, &dcs),
                    });
                }
            }
            ObservationStatus::Failed => out.push(Request {
                subject: obs.subject.clone(),
                fields: fields(json!({
                    "forest_error": obs.reason,
                    "forest_kind": obs.kind,
                })),
            }),
            ObservationStatus::NotApplicable => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_sites() {
        let dsa = "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=test";
        assert_eq!(rdn(dsa, 1).as_deref(), Some("DC1"));
        assert_eq!(rdn(dsa, 3).as_deref(), Some("Default-First-Site-Name"));
        assert!(parent(dsa).starts_with("CN=DC1,CN=Servers"));
    }

    #[test]
    fn writable_dcs_and_sites_per_domain() {
        let domain =
            json!({"dns_root": "corp.test", "netbios": "CORP", "netbios_has_period": false});
        let dcs = vec![
            json!({"host": "dc1.corp.test", "site": "HQ", "writable": true, "domain": "corp.test"}),
            json!({"host": "ro1.corp.test", "site": "Branch", "writable": false, "domain": "corp.test"}),
            json!({"host": "dc2.corp.test", "site": "HQ", "writable": true, "domain": "corp.test"}),
            json!({"host": "dc1.eu.corp.test", "site": "HQ", "writable": true, "domain": "eu.corp.test"}),
        ];
        let f = domain_fields(&domain, &dcs);
        assert_eq!(f["writable_dcs"], 2);
        assert_eq!(f["rodcs"], 1);
        assert_eq!(f["dcs_per_site"], json!(["Branch: 1", "HQ: 2"]));
        let ro_only = domain_fields(&domain, &dcs[1..2]);
        assert_eq!(ro_only["writable_dcs"], 0);
    }
}
