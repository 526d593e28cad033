//! `dns.m365`: the Microsoft 365 records of a UPN suffix.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::spec;
use super::*;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// `dns.m365`: the records Microsoft 365 asks for on a domain (verification TXT, MX,
/// autodiscover, SPF).
pub struct DnsM365;

#[async_trait]
impl Probe for DnsM365 {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::M365
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
        let dns = ctx.services.dns()?;
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
