//! The bound read behind `ldap.directory`: schema version, trusts (of the forest root, so a scan
//! bound in a child domain still sees the forest's trusts), UPN suffixes, domain controllers and
//! their operating systems, and the AD FS, System Management and Recycle Bin containers.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::conn::ReadOnlyLdap;
use super::limits::ReadError;
use super::{
    all, connect_bound_to, dns_name_of, first, int, name_of, root_dse_fields, ROOT_DSE_ATTRS,
    SCHEMA_VERSIONS,
};
use crate::probes::names::non_routable;
use crate::probes::{fields, ProbeContext};

/// trustAttributes bits (MS-ADTS 6.1.6.7.9): a forest trust, and a trust inside the forest
/// (parent-child, tree root).
const TRUST_FOREST_TRANSITIVE: i64 = 0x8;
const TRUST_WITHIN_FOREST: i64 = 0x20;
/// trustType 3: a trust to an MIT Kerberos realm, not to an Active Directory forest.
const TRUST_TYPE_MIT: i64 = 3;

const TRUST_ATTRS: &[&str] = &[
    "trustPartner",
    "trustAttributes",
    "trustDirection",
    "trustType",
];

/// How a trust counts for the topology.
#[derive(Debug, PartialEq)]
pub(crate) enum TrustKind {
    /// A forest trust: another forest.
    Forest,
    /// An external trust to a domain of another forest: another forest too.
    External,
    /// Parent-child or tree-root: the same forest.
    WithinForest,
    /// An MIT Kerberos realm: not an AD forest.
    Realm,
}

pub(crate) fn trust_kind(attributes: i64, trust_type: Option<i64>) -> TrustKind {
    if attributes & TRUST_FOREST_TRANSITIVE != 0 {
        TrustKind::Forest
    } else if attributes & TRUST_WITHIN_FOREST != 0 {
        TrustKind::WithinForest
    } else if trust_type == Some(TRUST_TYPE_MIT) {
        TrustKind::Realm
    } else {
        TrustKind::External
    }
}

/// The trusts of the forest root and, when bound in another domain, of that domain too (its
/// own external trusts). The forest root's are read from a root DC when the bound DC is not one.
async fn read_trusts(
    ldap: &mut ReadOnlyLdap,
    domain_nc: &str,
    root_nc: &str,
    ctx: &ProbeContext,
) -> Result<(Vec<ldap3::SearchEntry>, Result<String, String>), ReadError> {
    let filter = "(objectClass=trustedDomain)";
    let mut entries = match ldap
        .search(&format!("CN=System,{domain_nc}"), filter, TRUST_ATTRS)
        .await
    {
        Ok(e) => e,
        // A limit ends the probe: the connection may still be streaming what it cut off.
        Err(ReadError::Limit(m)) => return Err(ReadError::Limit(m)),
        Err(e) => return Ok((Vec::new(), Err(e.to_string()))),
    };
    if root_nc.eq_ignore_ascii_case(domain_nc) {
        return Ok((entries, Ok(format!("CN=System,{root_nc}"))));
    }
    let root = dns_name_of(root_nc);
    let read_root = async {
        let mut root_ldap = connect_bound_to(&root, ctx)
            .await
            .map_err(|e| e.to_string())?;
        let found = root_ldap
            .search(&format!("CN=System,{root_nc}"), filter, TRUST_ATTRS)
            .await;
        root_ldap.unbind().await;
        found.map_err(|e| e.to_string())
    };
    Ok(match read_root.await {
        Ok(root_entries) => {
            entries.extend(root_entries);
            (
                entries,
                Ok(format!(
                    "CN=System,{root_nc} (via {root}) and CN=System,{domain_nc}"
                )),
            )
        }
        Err(e) => (
            entries,
            Err(format!("the forest root {root} could not be read: {e}")),
        ),
    })
}

/// The trust fields: every trust, those that reach another forest, and the topology.
pub(crate) fn trust_fields(
    trusts: &[ldap3::SearchEntry],
    read: Result<String, String>,
) -> Map<String, Value> {
    let mut other_forests: Vec<String> = Vec::new();
    let mut list = Vec::new();
    for t in trusts {
        let partner = first(t, "trustPartner").unwrap_or_else(|| t.dn.clone());
        let direction = match int(t, "trustDirection") {
            Some(1) => "inbound",
            Some(2) => "outbound",
            Some(3) => "two-way",
            _ => "disabled",
        };
        let kind = trust_kind(int(t, "trustAttributes").unwrap_or(0), int(t, "trustType"));
        let label = match kind {
            TrustKind::Forest => "forest trust",
            TrustKind::External => "external trust",
            TrustKind::WithinForest => "within the forest",
            TrustKind::Realm => "Kerberos realm",
        };
        let entry = format!("{partner} ({label}, {direction})");
        if list.contains(&entry) {
            continue;
        }
        if matches!(kind, TrustKind::Forest | TrustKind::External) {
            other_forests.push(format!("{partner} ({label})"));
        }
        list.push(entry);
    }
    match read {
        Ok(from) => fields(json!({
            "trusts": list,
            "forest_trusts": other_forests,
            "trusts_read": true,
            "trusts_read_from": from,
            "topology": if other_forests.is_empty() { "single forest (no trust to another forest)" } else { "multiple forests" },
        })),
        Err(e) => fields(json!({
            "trusts": list,
            "forest_trusts": null,
            "trusts_read": false,
            "trusts_read_from": null,
            "topology": format!("unknown: {e}"),
        })),
    }
}

/// One domain controller as the directory describes it; `ldap.dc` judges its OS.
fn dc_entry(dc: &ldap3::SearchEntry) -> Value {
    json!({
        "host": first(dc, "dNSHostName").unwrap_or_else(|| dc.dn.clone()).to_ascii_lowercase(),
        "operating_system": first(dc, "operatingSystem"),
        "operating_system_version": first(dc, "operatingSystemVersion"),
    })
}

pub(crate) async fn read_directory(
    ldap: &mut ReadOnlyLdap,
    ctx: &ProbeContext,
) -> Result<Map<String, Value>, ReadError> {
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
    let root_nc = first(&dse, "rootDomainNamingContext").unwrap_or_else(|| domain_nc.clone());

    let schema_version = ldap
        .read_entry(&schema_nc, &["objectVersion"])
        .await?
        .and_then(|e| int(&e, "objectVersion"));

    let (trusts, trusts_read) = read_trusts(ldap, &domain_nc, &root_nc, ctx).await?;

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
    let dc_entries: Vec<Value> = dcs.iter().map(dc_entry).collect();
    let dc_names: Vec<Value> = dc_entries.iter().map(|d| d["host"].clone()).collect();
    let dc_os: Vec<String> = dc_entries
        .iter()
        .map(|d| {
            let os = d["operating_system"].as_str().unwrap_or("unknown");
            let version = d["operating_system_version"]
                .as_str()
                .unwrap_or("no version");
            format!("{}: {os} {version}", d["host"].as_str().unwrap_or(""))
        })
        .collect();

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
        "upn_suffixes": upn_suffixes,
        "non_routable_upn_suffixes": non_routable,
        "domain_controllers": dc_names,
        "dcs": dc_entries,
        "dc_operating_systems": dc_os,
        "adfs_container": adfs,
        "system_management_container": system_management,
        "recycle_bin_enabled": recycle_bin,
    })));
    out.extend(trust_fields(&trusts, trusts_read));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(partner: &str, attrs: i64, ty: i64) -> ldap3::SearchEntry {
        let mut a = HashMap::new();
        a.insert("trustPartner".to_string(), vec![partner.to_string()]);
        a.insert("trustAttributes".to_string(), vec![attrs.to_string()]);
        a.insert("trustDirection".to_string(), vec!["3".to_string()]);
        a.insert("trustType".to_string(), vec![ty.to_string()]);
        ldap3::SearchEntry {
            dn: format!("CN={partner},CN=System,DC=corp,DC=test"),
            attrs: a,
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn trust_kinds_and_topology() {
        assert_eq!(trust_kind(0x8, Some(2)), TrustKind::Forest);
        assert_eq!(trust_kind(0x20, Some(2)), TrustKind::WithinForest);
        assert_eq!(trust_kind(0, Some(2)), TrustKind::External);
        assert_eq!(trust_kind(0x4, Some(1)), TrustKind::External);
        assert_eq!(trust_kind(0, Some(3)), TrustKind::Realm);
        let within = [trust("child.corp.test", 0x20, 2)];
        let f = trust_fields(&within, Ok("CN=System,DC=corp,DC=test".into()));
        assert_eq!(f["forest_trusts"], json!([]));
        let ext = [
            trust("child.corp.test", 0x20, 2),
            trust("fabrikam.test", 0, 2),
        ];
        let f = trust_fields(&ext, Ok("x".into()));
        assert_eq!(f["topology"], "multiple forests");
        assert_eq!(
            f["forest_trusts"],
            json!(["fabrikam.test (external trust)"])
        );
        let f = trust_fields(&[], Err("refused".into()));
        assert_eq!(f["forest_trusts"], Value::Null);
        assert_eq!(f["trusts_read"], false);
    }

    #[test]
    fn naming_context_to_dns_name() {
        assert_eq!(
            dns_name_of("DC=Corp,DC=Contoso,DC=test"),
            "corp.contoso.test"
        );
        assert_eq!(dns_name_of("OU=x,DC=a"), "a");
    }
}
