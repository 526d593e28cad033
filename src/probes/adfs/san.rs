//! `adfs.san`: the names the AD FS service certificate must carry, one observation each.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::spec;
use crate::observation::Observation;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

pub struct AdfsSan;

#[async_trait]
impl Probe for AdfsSan {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::SAN
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let suffixes = upn_suffixes(&input.config.upn_suffixes, input.prior);
        let mut out = Vec::new();
        for obs in input.prior.iter().filter(|o| o.probe == "adfs.metadata") {
            let Some(names) = obs.fields.get("service_sans").and_then(Value::as_array) else {
                continue;
            };
            let names: Vec<String> = names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let host = obs.fields.get("host").and_then(Value::as_str).unwrap_or("");
            // The service name may be in the subject instead of the SANs (AD FS requirements).
            let cn = obs
                .fields
                .get("service_subject")
                .and_then(Value::as_str)
                .and_then(subject_cn);
            let mut wanted = vec![(host.to_string(), "service")];
            wanted.extend(suffixes.iter().map(|s| {
                (
                    format!("enterpriseregistration.{s}"),
                    "enterpriseregistration",
                )
            }));
            wanted.push((format!("certauth.{host}"), "certauth"));
            for (name, kind) in wanted {
                out.push(Request {
                    subject: format!("{host}: {name}"),
                    fields: fields(json!({
                        "host": host,
                        "name": name,
                        "kind": kind,
                        "in_certificate": covers(&names, &name)
                            || (kind == "service" && cn.as_deref().is_some_and(|c| covers(&[c.to_string()], &name))),
                        "certificate_names": names,
                    })),
                });
            }
        }
        out
    }

    async fn observe(
        &self,
        _req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        // Everything was known at planning; no traffic.
        Ok(Map::new())
    }
}

/// `--upn-suffix` names and the routable suffixes a bind found, lower case, unique.
fn upn_suffixes(given: &[String], prior: &[Observation]) -> Vec<String> {
    let mut out: Vec<String> = given.to_vec();
    for obs in prior.iter().filter(|o| o.probe == "ldap.directory") {
        let non_routable: Vec<&str> = obs
            .fields
            .get("non_routable_upn_suffixes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out.extend(
            obs.fields
                .get("upn_suffixes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|s| !non_routable.iter().any(|n| n.eq_ignore_ascii_case(s)))
                .map(str::to_string),
        );
    }
    for s in &mut out {
        *s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    }
    out.retain(|s| !s.is_empty());
    out.sort();
    out.dedup();
    out
}

/// The CN of a subject as x509-parser writes it (`CN=fs.contoso.com, O=...`).
fn subject_cn(subject: &str) -> Option<String> {
    subject
        .split(", ")
        .find_map(|p| p.strip_prefix("CN="))
        .map(|c| c.trim().to_ascii_lowercase())
}

/// Whether a certificate's DNS names cover `name`; a wildcard covers one left-most label.
pub fn covers(names: &[String], name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        match n.strip_prefix("*.") {
            Some(rest) => name
                .split_once('.')
                .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
            None => n == name,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        let names = vec!["*.contoso.com".to_string(), "fs.fabrikam.com".to_string()];
        assert!(covers(&names, "enterpriseregistration.contoso.com"));
        assert!(!covers(&names, "a.b.contoso.com"));
        assert!(!covers(&names, "contoso.com"));
        assert!(covers(&names, "FS.fabrikam.com"));
        assert!(!covers(&names, "certauth.fs.fabrikam.com"));
    }
}
