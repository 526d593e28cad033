//! `dns.cname`: the Intune enrollment CNAMEs of a UPN suffix.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::spec;
use super::*;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// `dns.cname`: EnterpriseEnrollment / EnterpriseRegistration CNAMEs of each UPN suffix.
pub struct DnsCname;

#[async_trait]
impl Probe for DnsCname {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::CNAME
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut out = Vec::new();
        for suffix in suffixes(input) {
            for purpose in ["enrollment", "registration"] {
                let label = record_label(purpose);
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
        let dns = ctx.services.dns()?;
        let name = normalize(text(req, "name"));

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
                // The record to create is in the check's steps, filled with this suffix.
                out.insert("detail".into(), json!(why));
            }
        }
        Ok(out)
    }
}
