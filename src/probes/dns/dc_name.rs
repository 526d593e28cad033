//! `dns.dc_name`: whether each `--dc` name resolves, so a mistyped or unregistered name is one
//! finding about the name instead of a firewall failure on every DC port.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::spec;
use crate::probes::{fields, net, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

pub struct DnsDcName;

#[async_trait]
impl Probe for DnsDcName {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::DC_NAME
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut names: Vec<String> = input
            .config
            .dcs
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            // An address needs no name lookup.
            .filter(|d| !d.is_empty() && d.parse::<std::net::IpAddr>().is_err())
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
        let name = req
            .fields
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Port 389 only picks a --target mapping; no packet goes to the DC.
        Ok(match net::resolve(name, 389, ctx).await {
            Ok(addr) => fields(json!({
                "name": name,
                "resolved": true,
                "address": addr.ip().to_string(),
                "detail": format!("resolves to {}", addr.ip()),
            })),
            Err(reason) => fields(json!({
                "name": name,
                "resolved": false,
                "address": null,
                "detail": reason,
            })),
        })
    }
}
