//! `dns.adfs_name`: the record type of an AD FS service name.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::spec;
use super::*;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// `dns.adfs_name`: whether an AD FS service name is a host (A) record or an alias.
pub struct DnsAdfsName;

#[async_trait]
impl Probe for DnsAdfsName {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::ADFS_NAME
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut names: Vec<String> = input
            .config
            .adfs
            .iter()
            .cloned()
            .chain(crate::probes::net::discovered_adfs(input.prior))
            .map(|n| normalize(&n))
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
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
        let dns = ctx.services.dns()?;
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
