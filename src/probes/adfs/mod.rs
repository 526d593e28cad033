//! AD FS probes: `adfs.metadata` reads the federation metadata document over HTTPS and the
//! service certificate; `adfs.san` turns the certificate's names into one observation per
//! name it must hold, so each missing name is its own finding.

mod fetch;
pub mod metadata;
mod san;
pub mod spec;

pub use san::AdfsSan;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::probes::net::role_hosts;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

pub const METADATA_PATH: &str = "/FederationMetadata/2007-06/FederationMetadata.xml";
pub const OPENID_PATH: &str = "/adfs/.well-known/openid-configuration";
/// Real metadata is tens of kilobytes; a megabyte leaves room without letting a server fill
/// memory.
pub const BODY_CAP: usize = 1024 * 1024;

pub struct AdfsMetadata;

#[async_trait]
impl Probe for AdfsMetadata {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::METADATA
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut hosts: Vec<String> = input
            .checks
            .iter()
            .flat_map(|c| role_hosts("adfs", c, input.config, input.prior))
            .chain(crate::probes::net::discovered_adfs(input.prior))
            .collect();
        hosts.sort();
        hosts.dedup();
        hosts
            .into_iter()
            .map(|host| Request {
                subject: format!("https://{host}{METADATA_PATH}"),
                fields: fields(json!({ "host": host, "port": 443, "roles": ["adfs"] })),
            })
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let host = req.fields.get("host").and_then(Value::as_str).unwrap_or("");
        let answer = fetch::get(host, 443, METADATA_PATH, BODY_CAP, ctx).await?;
        let mut out = Map::new();
        out.insert("http_status".into(), json!(answer.status));
        if let Some(leaf) = answer.leaf.as_deref() {
            let cert = describe(leaf).map_err(|e| {
                ProbeError::Failed(format!("the service certificate is unreadable: {e}"))
            })?;
            out.insert("service_subject".into(), json!(cert.subject));
            out.insert("service_sans".into(), json!(cert.names));
            out.insert("service_not_after".into(), json!(cert.not_after));
        }
        if (300..400).contains(&answer.status) {
            // Redirects are never followed: another host would get our request.
            return Err(ProbeError::Failed(format!(
                "{METADATA_PATH} answered HTTP {} redirecting to {}; redirects are not followed",
                answer.status,
                answer.location.as_deref().unwrap_or("(no Location)")
            )));
        }
        if answer.status != 200 {
            return Err(ProbeError::Failed(format!(
                "{METADATA_PATH} answered HTTP {}",
                answer.status
            )));
        }
        let md = metadata::parse(&answer.body)
            .map_err(|e| ProbeError::Failed(format!("federation metadata: {e}")))?;
        out.insert("entity_id".into(), json!(md.entity_id));
        let signing = certs(&md.signing)?;
        let encryption = certs(&md.encryption)?;
        if let Some(first) = signing.iter().min_by_key(|c| c.days_left) {
            out.insert("signing_days_left".into(), json!(first.days_left));
            out.insert("signing_not_after".into(), json!(first.not_after));
            out.insert("signing_subject".into(), json!(first.subject));
        }
        out.insert(
            "signing_certificates".into(),
            json!(signing
                .iter()
                .map(|c| format!("{} (expires {})", c.subject, c.not_after))
                .collect::<Vec<_>>()),
        );
        if let Some(first) = encryption.iter().min_by_key(|c| c.days_left) {
            out.insert("encryption_days_left".into(), json!(first.days_left));
            out.insert("encryption_not_after".into(), json!(first.not_after));
        }
        let foreign: Vec<&String> = md
            .endpoint_hosts
            .iter()
            .filter(|h| !h.eq_ignore_ascii_case(host))
            .collect();
        out.insert("foreign_endpoint_hosts".into(), json!(foreign));
        out.insert("endpoint_hosts".into(), json!(md.endpoint_hosts));
        // A hint only: AD FS 2016 and later publish OpenID Connect discovery.
        let openid = match fetch::get(host, 443, OPENID_PATH, 64 * 1024, ctx).await {
            Ok(a) if a.status == 200 => "present".to_string(),
            Ok(a) => format!("absent (HTTP {})", a.status),
            Err(e) => format!("not read ({e})"),
        };
        out.insert("openid_configuration".into(), json!(openid));
        Ok(out)
    }
}

pub struct CertInfo {
    pub subject: String,
    /// DNS names of the subject alternative name extension, then the subject CN when absent.
    pub names: Vec<String>,
    pub not_after: String,
    pub days_left: i64,
}

pub fn describe(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let not_after = cert.validity().not_after;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = n {
                names.push(d.to_ascii_lowercase());
            }
        }
    }
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        names,
        not_after: not_after
            .to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| not_after.to_string()),
        days_left: (not_after.timestamp() - now).div_euclid(86_400),
    })
}

fn certs(list: &[Vec<u8>]) -> Result<Vec<CertInfo>, ProbeError> {
    list.iter()
        .map(|der| {
            describe(der).map_err(|e| {
                ProbeError::Failed(format!("a metadata certificate is unreadable: {e}"))
            })
        })
        .collect()
}
