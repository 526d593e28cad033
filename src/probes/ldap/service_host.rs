//! `ldap.service_host`: one observation per enterprise CA, Exchange server and AD FS server
//! that `ldap.services` found, with its OS judged against the Windows Server table and Exchange
//! versions against checks/data/exchange-releases.toml. No traffic.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{dc::dc_fields, spec};
use crate::observation::{Observation, ObservationStatus};
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

const EXCHANGE: &str = include_str!("../../../checks/data/exchange-releases.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeRelease {
    version: String,
    #[serde(default)]
    min_build: u32,
    release: String,
    #[serde(default)]
    support_end: Option<String>,
    #[serde(default)]
    community: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    release: Vec<ExchangeRelease>,
}

/// (release, support end, community) for a serialNumber such as "Version 15.1 (Build 2507.6)".
pub fn exchange_release(serial: &str) -> Option<(String, Option<String>, bool)> {
    let rest = serial.trim().strip_prefix("Version ")?;
    let (version, build) = rest.split_once(" (Build ")?;
    let build: u32 = build.split(['.', ')']).next()?.trim().parse().ok()?;
    let rows = toml::from_str::<Table>(EXCHANGE).ok()?.release;
    rows.iter()
        .filter(|r| r.version == version.trim() && build >= r.min_build)
        .max_by_key(|r| r.min_build)
        .map(|r| (r.release.clone(), r.support_end.clone(), r.community))
}

pub struct ServiceHost;

#[async_trait]
impl Probe for ServiceHost {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::SERVICE_HOST
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        plan_from(input.prior, time::OffsetDateTime::now_utc().date())
    }

    async fn observe(
        &self,
        _req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        Ok(Map::new())
    }
}

pub fn plan_from(prior: &[Observation], today: time::Date) -> Vec<Request> {
    let mut out = Vec::new();
    let list = |o: &Observation, k: &str| -> Vec<Value> {
        o.fields
            .get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for obs in prior
        .iter()
        .filter(|o| o.probe == "ldap.services" && o.status == ObservationStatus::Observed)
    {
        for ca in list(obs, "enterprise_cas") {
            let mut f = host_fields(&obs.subject, &ca, today);
            f.insert("kind".into(), json!("ca"));
            for k in [
                "name",
                "templates",
                "ca_subject",
                "ca_not_after",
                "ca_days_left",
                "key_bits",
                "ca_error",
            ] {
                if let Some(v) = ca.get(k) {
                    f.insert(k.into(), v.clone());
                }
            }
            let name = ca.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(Request {
                subject: format!("CA {name}"),
                fields: f,
            });
        }
        for server in list(obs, "adfs_servers") {
            let mut f = host_fields(&obs.subject, &server, today);
            f.insert("kind".into(), json!("adfs_server"));
            let host = f
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            out.push(Request {
                subject: format!("AD FS server {host}"),
                fields: f,
            });
        }
        for ex in list(obs, "exchange_servers") {
            let name = ex.get("name").and_then(Value::as_str).unwrap_or("?");
            let serial = ex.get("serial_number").and_then(Value::as_str);
            let mut f = fields(json!({
                "kind": "exchange",
                "name": name,
                "serial_number": serial,
                "exch_version": ex.get("exch_version"),
            }));
            match serial.and_then(exchange_release) {
                Some((release, end, community)) => f.extend(fields(json!({
                    "exchange_release": release,
                    "support_end": end.unwrap_or_else(|| "9999-12-31".into()),
                    "community": community,
                }))),
                None => {
                    f.insert(
                        "exchange_release".into(),
                        json!(format!("unknown ({})", serial.unwrap_or("no serialNumber"))),
                    );
                }
            }
            out.push(Request {
                subject: format!("Exchange {name}"),
                fields: f,
            });
        }
    }
    out
}

fn host_fields(domain: &str, v: &Value, today: time::Date) -> Map<String, Value> {
    let mut f = dc_fields(domain, v, today);
    f.insert(
        "computer_found".into(),
        v.get("computer_found").cloned().unwrap_or(json!(false)),
    );
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn exchange_versions() {
        let r = |s| exchange_release(s).map(|(r, e, _)| (r, e));
        assert_eq!(
            r("Version 15.1 (Build 2507.6)"),
            Some(("Exchange Server 2016".into(), Some("2025-10-14".into())))
        );
        assert_eq!(
            r("Version 15.2 (Build 1544.4)").unwrap().0,
            "Exchange Server 2019"
        );
        assert!(r("Version 15.2 (Build 2562.17)")
            .unwrap()
            .0
            .contains("Subscription"));
        assert_eq!(r("Version 8.3 (Build 83.6)"), None);
        assert_eq!(r("garbage"), None);
    }

    #[test]
    fn one_request_per_service_host() {
        let obs: Observation = serde_json::from_value(json!({
            "probe": "ldap.services", "subject": "lab.test", "status": "observed",
            "fields": {
                "enterprise_cas": [{"name": "Lab CA", "host": "ca1.lab.test", "ca_days_left": 200,
                    "operating_system": "Windows Server 2012 R2 Standard",
                    "operating_system_version": "6.3 (9600)", "computer_found": true}],
                "adfs_servers": [{"host": "adfs1.lab.test", "operating_system": null,
                    "operating_system_version": null, "computer_found": false}],
                "exchange_servers": [{"name": "EX1", "serial_number": "Version 15.1 (Build 2507.6)"}]
            }
        }))
        .unwrap();
        let reqs = plan_from(&[obs], date!(2026 - 12 - 02));
        let subjects: Vec<&str> = reqs.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(
            subjects,
            ["CA Lab CA", "AD FS server adfs1.lab.test", "Exchange EX1"]
        );
        assert_eq!(reqs[0].fields["support_end"], "2023-10-10");
        assert_eq!(reqs[0].fields["ca_days_left"], 200);
        assert_eq!(reqs[2].fields["support_end"], "2025-10-14");
    }
}
