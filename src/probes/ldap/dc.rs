//! `ldap.dc`: one observation per domain controller the bound directory read listed, with its
//! operating system judged against checks/data/windows-server-releases.toml. No traffic.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{spec, windows};
use crate::observation::{Observation, ObservationStatus};
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

pub struct Dc;

/// The fields of one DC entry (`host`, `operating_system`, `operating_system_version`).
pub fn dc_fields(domain: &str, dc: &Value, today: time::Date) -> Map<String, Value> {
    let text = |k: &str| dc.get(k).and_then(Value::as_str).map(str::to_string);
    let os = text("operating_system");
    let version = text("operating_system_version");
    let windows = os
        .as_deref()
        .is_some_and(|o| o.to_ascii_lowercase().contains("windows"));
    let family = match &os {
        _ if windows => "Windows".to_string(),
        Some(o) if !o.trim().is_empty() => o.trim().to_string(),
        _ => "unknown (no operatingSystem)".to_string(),
    };
    let mut out = fields(json!({
        "host": text("host"),
        "domain": domain,
        "operating_system": os,
        "operating_system_version": version,
        "os_family": family,
    }));
    let build = version
        .as_deref()
        .and_then(windows::build_of)
        .filter(|_| windows);
    if let Some(build) = build {
        let l = windows::lookup(build, today);
        out.extend(fields(json!({
            "build": build,
            "release": l.release,
            "support_end": l.support_end,
            "support_note": l.note,
            "community": l.community,
        })));
    }
    out
}

#[async_trait]
impl Probe for Dc {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::DC
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let today = time::OffsetDateTime::now_utc().date();
        plan_from(input.prior, today)
    }

    async fn observe(
        &self,
        req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        super::carried(
            req,
            "directory",
            "the directory read that lists the domain controllers failed",
        )
    }
}

/// One request per DC of each observed directory; a failed directory read passes its reason on.
pub fn plan_from(prior: &[Observation], today: time::Date) -> Vec<Request> {
    let mut out = Vec::new();
    for obs in prior.iter().filter(|o| o.probe == "ldap.directory") {
        match obs.status {
            ObservationStatus::Observed => {
                let dcs = obs.fields.get("dcs").and_then(Value::as_array);
                for dc in dcs.into_iter().flatten() {
                    let f = dc_fields(&obs.subject, dc, today);
                    let Some(host) = f.get("host").and_then(Value::as_str) else {
                        continue;
                    };
                    out.push(Request {
                        subject: host.to_string(),
                        fields: f.clone(),
                    });
                }
            }
            ObservationStatus::Failed => out.push(Request {
                subject: obs.subject.clone(),
                // The DCs the directory read tried, so a blocked port on one of them is seen.
                fields: fields(json!({
                    "domain": obs.subject,
                    "dcs": obs.fields.get("dcs").cloned().unwrap_or(Value::Null),
                    "directory_error": obs.reason,
                    "directory_kind": obs.kind,
                })),
            }),
            ObservationStatus::NotApplicable => {}
        }
    }
    // The DCs of the other domains of the forest (ldap.forest's nTDSDSA read), each once.
    let forest = prior
        .iter()
        .filter(|o| o.probe == "ldap.forest" && o.status == ObservationStatus::Observed);
    for obs in forest {
        let dcs = obs.fields.get("forest_dcs").and_then(Value::as_array);
        for dc in dcs.into_iter().flatten() {
            let domain = dc
                .get("domain")
                .and_then(Value::as_str)
                .unwrap_or(&obs.subject);
            let f = dc_fields(domain, dc, today);
            let Some(host) = f.get("host").and_then(Value::as_str) else {
                continue;
            };
            if out.iter().any(|r| r.subject.eq_ignore_ascii_case(host)) {
                continue;
            }
            out.push(Request {
                subject: host.to_string(),
                fields: f.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn samba_and_windows() {
        let today = date!(2026 - 12 - 02);
        let samba = dc_fields(
            "lab.test",
            &json!({"host": "dc1.lab.test", "operating_system": "Samba", "operating_system_version": "4.17.12-Debian"}),
            today,
        );
        assert_eq!(samba["os_family"], "Samba");
        assert!(!samba.contains_key("build"));
        let w = dc_fields(
            "corp.test",
            &json!({"host": "dc2.corp.test", "operating_system": "Windows Server 2012 R2 Standard", "operating_system_version": "6.3 (9600)"}),
            today,
        );
        assert_eq!(w["os_family"], "Windows");
        assert_eq!(w["build"], 9600);
        assert_eq!(w["support_end"], "2023-10-10");
    }

    #[test]
    fn forest_dcs_of_other_domains_are_judged_once() {
        let today = date!(2026 - 12 - 02);
        let mut dir = Map::new();
        dir.insert(
            "dcs".into(),
            json!([{"host": "DC1.corp.test", "operating_system": "Windows Server 2019 Standard",
                    "operating_system_version": "10.0 (17763)"}]),
        );
        let mut forest = Map::new();
        forest.insert(
            "forest_dcs".into(),
            json!([
                {"host": "dc1.corp.test", "domain": "corp.test"},
                {"host": "rodc1.branch.corp.test", "domain": "branch.corp.test",
                 "operating_system": "Windows Server 2012 R2 Standard",
                 "operating_system_version": "6.3 (9600)"}
            ]),
        );
        let prior = vec![
            Observation::observed("ldap.directory", "corp.test", dir),
            Observation::observed("ldap.forest", "corp.test", forest),
        ];
        let plan = plan_from(&prior, today);
        let hosts: Vec<&str> = plan.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(hosts, ["DC1.corp.test", "rodc1.branch.corp.test"]);
        assert_eq!(plan[1].fields["domain"], "branch.corp.test");
        assert_eq!(plan[1].fields["support_end"], "2023-10-10");
    }
}
