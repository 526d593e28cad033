//! `ldap.services` (bound reads, no writes): AD FS service accounts and gMSAs by their
//! `host/<federation service name>` SPN, the AD FS DKM container, the AD FS servers named by a
//! gMSA's `msDS-HostServiceAccountBL`, the enterprise CAs (`pKIEnrollmentService`) and the
//! Exchange servers of the configuration partition, each host with its computer object's OS.

use ldap3::SearchEntry;
use serde_json::{json, Map, Value};

use super::conn::ReadOnlyLdap;
use super::limits::ReadError;
use super::{all, first};
use crate::probes::fields;

/// Accounts that are not computers (or are gMSAs, which are computer-derived) with a host SPN.
pub const ADFS_ACCOUNT_FILTER: &str = "(&(servicePrincipalName=host/*)\
    (|(objectClass=msDS-GroupManagedServiceAccount)(!(objectClass=computer))))";
const HOST_ATTRS: &[&str] = &["dNSHostName", "operatingSystem", "operatingSystemVersion"];

/// Federation service names in a list of SPNs: `host/<fqdn>` (port dropped), lower case.
pub fn adfs_names(spns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = spns
        .iter()
        .filter_map(|s| {
            let (class, rest) = s.split_once('/')?;
            if !class.eq_ignore_ascii_case("host") {
                return None;
            }
            let name = rest.split([':', '/']).next()?.trim_end_matches('.');
            name.contains('.').then(|| name.to_ascii_lowercase())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A CA certificate's expiry, days left and RSA/EC key size.
pub fn ca_cert_fields(der: &[u8]) -> Map<String, Value> {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let not_after = cert.validity().not_after;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let bits = cert
                .public_key()
                .parsed()
                .map(|k| k.key_size())
                .unwrap_or(0);
            fields(json!({
                "ca_subject": cert.subject().to_string(),
                "ca_not_after": not_after
                    .to_datetime()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_else(|_| not_after.to_string()),
                "ca_days_left": (not_after.timestamp() - now).div_euclid(86_400),
                "key_bits": bits,
            }))
        }
        Err(e) => fields(json!({ "ca_error": format!("cACertificate unreadable: {e}") })),
    }
}

fn binary(entry: &SearchEntry, attr: &str) -> Option<Vec<u8>> {
    entry
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first().cloned())
        .or_else(|| first(entry, attr).map(String::into_bytes))
}

fn host_value(entry: Option<&SearchEntry>, fallback: &str) -> Value {
    let text = |a: &str| entry.and_then(|e| first(e, a));
    json!({
        "host": text("dNSHostName").unwrap_or_else(|| fallback.to_string()).to_ascii_lowercase(),
        "operating_system": text("operatingSystem"),
        "operating_system_version": text("operatingSystemVersion"),
        "computer_found": entry.is_some(),
    })
}

/// The computer object of `host` in the domain, for its operating system.
async fn computer(
    ldap: &mut ReadOnlyLdap,
    domain_nc: &str,
    host: &str,
) -> Result<Option<SearchEntry>, ReadError> {
    let filter = format!(
        "(&(objectClass=computer)(dNSHostName={}))",
        ldap3::ldap_escape(host)
    );
    Ok(ldap
        .search(domain_nc, &filter, HOST_ATTRS)
        .await?
        .into_iter()
        .next())
}

/// `named`: AD FS servers given with `--adfs-server`, looked up like those a gMSA names.
pub async fn read_services(
    ldap: &mut ReadOnlyLdap,
    named: &[String],
) -> Result<Map<String, Value>, ReadError> {
    let dse = ldap
        .read_entry("", &["defaultNamingContext", "configurationNamingContext"])
        .await?
        .ok_or_else(|| ReadError::Failed("the rootDSE is empty".into()))?;
    let domain_nc = first(&dse, "defaultNamingContext")
        .ok_or_else(|| ReadError::Failed("the rootDSE has no defaultNamingContext".into()))?;
    let config_nc = first(&dse, "configurationNamingContext")
        .ok_or_else(|| ReadError::Failed("the rootDSE has no configurationNamingContext".into()))?;

    // AD FS: accounts with host/<fs> SPNs, the servers a gMSA names, the DKM container.
    let accounts = ldap
        .search(
            &domain_nc,
            ADFS_ACCOUNT_FILTER,
            &[
                "sAMAccountName",
                "servicePrincipalName",
                "msDS-HostServiceAccountBL",
            ],
        )
        .await?;
    let mut adfs_accounts = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut server_dns: Vec<String> = Vec::new();
    for a in &accounts {
        let found = adfs_names(&all(a, "servicePrincipalName"));
        if found.is_empty() {
            continue;
        }
        names.extend(found.iter().cloned());
        let bl = all(a, "msDS-HostServiceAccountBL");
        server_dns.extend(bl.iter().cloned());
        adfs_accounts.push(json!({
            "account": first(a, "sAMAccountName").unwrap_or_else(|| a.dn.clone()),
            "federation_names": found,
            "host_servers": bl,
        }));
    }
    names.sort();
    names.dedup();
    let mut adfs_servers = Vec::new();
    for dn in server_dns {
        let entry = ldap.read_entry(&dn, HOST_ATTRS).await?;
        adfs_servers.push(host_value(entry.as_ref(), &dn));
    }
    for host in named {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if adfs_servers.iter().any(|s| s["host"] == host.as_str()) {
            continue;
        }
        let entry = computer(ldap, &domain_nc, &host).await?;
        adfs_servers.push(host_value(entry.as_ref(), &host));
    }
    let dkm_dn = format!("CN=ADFS,CN=Microsoft,CN=Program Data,{domain_nc}");
    let dkm = ldap.read_entry(&dkm_dn, &["cn"]).await?.is_some();

    // Enterprise CAs.
    let pki = format!("CN=Enrollment Services,CN=Public Key Services,CN=Services,{config_nc}");
    let cas = ldap
        .search(
            &pki,
            "(objectClass=pKIEnrollmentService)",
            &["cn", "dNSHostName", "certificateTemplates", "cACertificate"],
        )
        .await?;
    let mut enterprise_cas = Vec::new();
    for ca in &cas {
        let host = first(ca, "dNSHostName").unwrap_or_default();
        let mut f = fields(json!({
            "name": first(ca, "cn").unwrap_or_else(|| ca.dn.clone()),
            "templates": all(ca, "certificateTemplates"),
        }));
        if let Some(der) = binary(ca, "cACertificate") {
            f.extend(ca_cert_fields(&der));
        }
        let computer_entry = if host.is_empty() {
            None
        } else {
            computer(ldap, &domain_nc, &host).await?
        };
        if let Value::Object(h) = host_value(computer_entry.as_ref(), &host) {
            f.extend(h);
        }
        enterprise_cas.push(Value::Object(f));
    }

    // Exchange servers (the container exists only where the Exchange schema was prepared).
    let exchange = format!("CN=Microsoft Exchange,CN=Services,{config_nc}");
    let servers = ldap
        .search(
            &exchange,
            "(objectClass=msExchExchangeServer)",
            &["cn", "serialNumber", "msExchVersion", "networkAddress"],
        )
        .await?;
    let exchange_servers: Vec<Value> = servers
        .iter()
        .map(|s| {
            json!({
                "name": first(s, "cn").unwrap_or_else(|| s.dn.clone()),
                "serial_number": first(s, "serialNumber"),
                "exch_version": first(s, "msExchVersion"),
            })
        })
        .collect();

    Ok(fields(json!({
        "domain_naming_context": domain_nc,
        "configuration_naming_context": config_nc,
        "adfs_accounts": adfs_accounts,
        "adfs_names": names,
        "adfs_servers": adfs_servers,
        "dkm_container": dkm,
        "enterprise_cas": enterprise_cas,
        "enterprise_ca_count": cas.len(),
        "exchange_server_names": exchange_servers
            .iter()
            .map(|s| format!(
                "{} ({})",
                s["name"].as_str().unwrap_or("?"),
                s["serial_number"].as_str().unwrap_or("no serialNumber")
            ))
            .collect::<Vec<_>>(),
        "exchange_servers": exchange_servers,
    })))
}

/// The `ldap.services` probe: the same requests as `ldap.directory` (per domain or DC).
pub struct Services;

#[async_trait::async_trait]
impl crate::probes::Probe for Services {
    fn spec(&self) -> &'static crate::probes::ProbeSpec {
        &super::spec::SERVICES
    }

    fn plan(&self, input: &crate::probes::PlanInput<'_>) -> Vec<crate::probes::Request> {
        super::plan(input.config)
    }

    async fn observe(
        &self,
        req: &crate::probes::Request,
        ctx: &crate::probes::ProbeContext,
    ) -> Result<Map<String, Value>, crate::probes::ProbeError> {
        let (ldap, transport) = super::connect_bound(req, ctx).await?;
        let dc = ldap.dc.clone();
        let named = ctx.config.adfs_servers.clone();
        let mut out = super::read_bound(ldap, move |ldap| {
            Box::pin(async move { read_services(ldap, &named).await })
        })
        .await?;
        out.insert("answered_by".into(), json!(dc));
        out.insert("transport".into(), json!(transport.to_string()));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federation_names_from_spns() {
        let spns = vec![
            "host/fs.contoso.com".to_string(),
            "HOST/FS.contoso.com:443".to_string(),
            "http/fs.contoso.com".to_string(),
            "host/ADFS01".to_string(),
        ];
        assert_eq!(adfs_names(&spns), vec!["fs.contoso.com"]);
    }
}
