//! Configuration Manager: sites and management points published in AD (`configmgr.ad_sites`),
//! each MP's MPLIST over HTTP (`configmgr.mp_list`), and per-site agreement (`configmgr.site`).

mod mplist;
pub mod releases;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use ldap3::SearchEntry;
use serde_json::{json, Map, Value};

use crate::observation::{Observation, ObservationStatus};
use crate::probes::ldap::{all, connect_bound, first, read_bound, ReadError, ReadOnlyLdap};
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

pub use mplist::{capabilities_version, parse_mplist};

/// The scope a discovered site or a given MP brings into the scan.
pub use crate::vocab::CONFIGMGR_SCOPE as SCOPE;

/// What the release table says of a build, as observation fields (judged on `today`).
pub fn release_fields(build: u32, today: time::Date) -> Map<String, Value> {
    match releases::lookup(build, today) {
        Some(l) => fields(json!({
            "build": build,
            "release": l.release,
            "support_end": l.support_end,
            "support_note": l.note,
            "community": l.community,
            "current_branch": l.current_branch,
            // What co-management is judged on: a supported current-branch release.
            "current_branch_support_end": if l.current_branch { l.support_end.clone() } else { None },
        })),
        None => fields(json!({
            "build": build,
            "release": "older than Configuration Manager 2007",
            "support_end": null,
            "support_note": "support ended",
            "current_branch": false,
            "current_branch_support_end": null,
        })),
    }
}

fn observed_release(build: u32, ctx: &ProbeContext) -> Map<String, Value> {
    let mut out = release_fields(build, time::OffsetDateTime::now_utc().date());
    out.insert("vantage".into(), json!(ctx.vantage));
    out
}

/// Sites and MPs published in CN=System Management (needs a bind and the extended schema).
pub struct AdSites;

#[async_trait]
impl Probe for AdSites {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::AD_SITES
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        super::ldap::plan(input.config)
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let (ldap, _) = connect_bound(req, ctx).await?;
        let (sites, mps, container) = read_bound(ldap, |ldap| Box::pin(read_sites(ldap))).await?;
        let site_codes: BTreeSet<String> = sites
            .iter()
            .filter_map(|s| first(s, "mSSMSSiteCode"))
            .collect();
        let mut mp_list = Vec::new();
        for mp in &mps {
            let host = first(mp, "dNSHostName")
                .or_else(|| first(mp, "mSSMSMPName"))
                .unwrap_or_else(|| mp.dn.clone());
            let version = all(mp, "mSSMSCapabilities")
                .iter()
                .find_map(|c| capabilities_version(c))
                .or_else(|| first(mp, "mSSMSVersion"));
            mp_list.push(json!({
                "host": host.to_ascii_lowercase(),
                "site_code": first(mp, "mSSMSSiteCode"),
                "version": version,
            }));
        }
        let adds: Vec<&str> = if site_codes.is_empty() {
            vec![]
        } else {
            vec![SCOPE]
        };
        Ok(fields(json!({
            "container": container,
            "sites": site_codes,
            "management_points": mp_list,
            "adds_scopes": adds,
        })))
    }
}

/// The sites and MPs under CN=System Management, and whether the container exists.
async fn read_sites(ldap: &mut ReadOnlyLdap) -> Result<Sites, ReadError> {
    let dse = ldap
        .read_entry("", &["defaultNamingContext"])
        .await?
        .ok_or("the rootDSE is empty")?;
    let nc =
        first(&dse, "defaultNamingContext").ok_or("the rootDSE has no defaultNamingContext")?;
    let base = format!("CN=System Management,CN=System,{nc}");
    if ldap.read_entry(&base, &["cn"]).await?.is_none() {
        return Ok((Vec::new(), Vec::new(), false));
    }
    let sites = ldap
        .search(&base, "(objectClass=mSSMSSite)", &["mSSMSSiteCode"])
        .await?;
    let mps = ldap
        .search(
            &base,
            "(objectClass=mSSMSManagementPoint)",
            &[
                "mSSMSMPName",
                "dNSHostName",
                "mSSMSSiteCode",
                "mSSMSVersion",
                "mSSMSCapabilities",
            ],
        )
        .await?;
    Ok((sites, mps, true))
}

/// Sites, MPs and whether CN=System Management exists.
type Sites = (Vec<SearchEntry>, Vec<SearchEntry>, bool);

/// The MPLIST of every MP given with `--mp` or published in AD, plus a version the admin typed.
pub struct MpList;

#[async_trait]
impl Probe for MpList {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::MP_LIST
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut requests: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for mp in &input.config.mps {
            requests.insert(mplist::host_of(mp), fields(json!({ "mp": mp })));
        }
        for obs in input
            .prior
            .iter()
            .filter(|o| o.probe == "configmgr.ad_sites")
        {
            let Some(Value::Array(mps)) = obs.fields.get("management_points") else {
                continue;
            };
            for mp in mps {
                let Some(host) = mp.get("host").and_then(Value::as_str) else {
                    continue;
                };
                let entry = requests
                    .entry(host.to_string())
                    .or_insert_with(|| fields(json!({ "mp": host })));
                entry.insert("published_in_ad".into(), json!(true));
                entry.insert(
                    "ad_site_code".into(),
                    mp.get("site_code").cloned().unwrap_or(Value::Null),
                );
            }
        }
        let mut out: Vec<Request> = requests
            .into_iter()
            .map(|(subject, fields)| Request { subject, fields })
            .collect();
        if let Some(v) = &input.config.configmgr_version {
            out.push(Request {
                subject: "declared by the admin".into(),
                fields: fields(json!({ "declared_version": v })),
            });
        }
        out
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        if let Some(v) = req.fields.get("declared_version").and_then(Value::as_str) {
            let build = releases::build_of(v)
                .ok_or_else(|| ProbeError::Failed(format!("\"{v}\" is not a version")))?;
            let mut out = observed_release(build, ctx);
            out.insert("source".into(), json!("declared, not observed"));
            for key in ["release", "support_note"] {
                if let Some(Value::String(text)) = out.get_mut(key) {
                    text.push_str("; declared by the admin, not observed");
                }
            }
            return Ok(out);
        }
        let mp = req
            .fields
            .get("mp")
            .and_then(Value::as_str)
            .unwrap_or(&req.subject);
        let base = mplist::base_url(mp);
        let client = ctx.services.http()?;
        let (status, body) = mplist::get(
            client,
            &format!("{base}/SMS_MP/.sms_aut?MPLIST"),
            ctx.timeout,
        )
        .await
        .map_err(ProbeError::Failed)?;
        if status != 200 {
            let mut reason = format!("MPLIST answered HTTP {status}");
            if status == 500 {
                let cert = mplist::get(
                    client,
                    &format!("{base}/SMS_MP/.sms_aut?MPCERT"),
                    ctx.timeout,
                )
                .await;
                if matches!(cert, Ok((200, _))) {
                    reason.push_str(
                        " while MPCERT answers 200: the management point is up but its site database is \
                         probably down or unreachable",
                    );
                }
            }
            return Err(ProbeError::Failed(reason));
        }
        let entries = parse_mplist(&body).map_err(ProbeError::Failed)?;
        let host = mplist::host_of(mp);
        let entry = mplist::pick_entry(&entries, &host)?;
        let build = match (entry.build, &entry.version_text) {
            (Some(b), _) => b,
            (None, Some(text)) => {
                return Err(ProbeError::Failed(format!(
                "the MPLIST entry of {} has <Version>{text}</Version>, which is not a build number",
                entry.fqdn
            )))
            }
            (None, None) => {
                return Err(ProbeError::Failed(format!(
                    "the MPLIST entry of {} has no <Version>",
                    entry.fqdn
                )))
            }
        };
        let mut out = observed_release(build, ctx);
        out.insert("source".into(), json!("MPLIST"));
        out.insert("site_code".into(), json!(entry.site_code));
        out.insert("mp_fqdn".into(), json!(entry.fqdn));
        out.insert("answered_by".into(), json!(host));
        Ok(out)
    }
}

/// Per-site judgement from the MP answers: the site's build (its lowest MP build), whether the
/// MPs agree, and which AD entries are stale. No traffic: it reads earlier observations.
pub struct Site;

#[async_trait]
impl Probe for Site {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::SITE
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        site_summaries(input.prior)
            .into_iter()
            .map(|(site, fields)| Request {
                subject: site,
                fields,
            })
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        match req.fields.get("build") {
            Some(Value::Number(_)) => Ok(Map::new()),
            _ => Err(ProbeError::Failed(format!(
                "no management point of {} answered: {}",
                req.subject,
                req.fields
                    .get("failures")
                    .map(crate::observation::display)
                    .unwrap_or_default()
            ))),
        }
    }
}

/// Keys of an MP answer that describe the site's release.
const RELEASE_KEYS: &[&str] = &[
    "build",
    "release",
    "support_end",
    "support_note",
    "community",
    "current_branch",
    "current_branch_support_end",
    "source",
];

#[derive(Default)]
struct SiteAcc {
    builds: BTreeMap<String, u64>,
    lowest: Option<Map<String, Value>>,
    stale: Vec<String>,
    failures: Vec<String>,
    /// MPs published in AD for this site (answering or not).
    published: Vec<String>,
}

/// Groups MP observations by site. A site is judged by its lowest MP build, so one stale or
/// lagging MP cannot hide behind an upgraded one.
pub fn site_summaries(prior: &[Observation]) -> BTreeMap<String, Map<String, Value>> {
    let mut sites: BTreeMap<String, SiteAcc> = BTreeMap::new();
    for obs in prior.iter().filter(|o| o.probe == "configmgr.mp_list") {
        let str_field = |k: &str| obs.fields.get(k).and_then(Value::as_str).map(String::from);
        let in_ad = obs.fields.get("published_in_ad") == Some(&json!(true));
        let ad_site = str_field("ad_site_code");
        match obs.status {
            ObservationStatus::Observed => {
                let site = str_field("site_code").unwrap_or_else(|| obs.subject.clone());
                let build = obs.fields.get("build").and_then(Value::as_u64);
                if in_ad {
                    let home = ad_site.clone().unwrap_or_else(|| site.clone());
                    sites
                        .entry(home)
                        .or_default()
                        .published
                        .push(obs.subject.clone());
                }
                let acc = sites.entry(site.clone()).or_default();
                if let Some(b) = build {
                    acc.builds.insert(obs.subject.clone(), b);
                    let lowest = acc
                        .lowest
                        .as_ref()
                        .and_then(|l| l.get("build"))
                        .and_then(Value::as_u64);
                    if lowest.is_none_or(|l| b < l) {
                        let keep = RELEASE_KEYS
                            .iter()
                            .filter_map(|k| obs.fields.get(*k).map(|v| (k.to_string(), v.clone())))
                            .collect();
                        acc.lowest = Some(keep);
                    }
                }
                if let Some(ad) = ad_site.filter(|ad| in_ad && !ad.eq_ignore_ascii_case(&site)) {
                    let stale = format!(
                        "{} (published in AD for site {ad}, answers for site {site})",
                        obs.subject
                    );
                    sites.entry(ad).or_default().stale.push(stale);
                }
            }
            ObservationStatus::Failed => {
                let site = ad_site.unwrap_or_else(|| obs.subject.clone());
                let reason = obs.reason.clone().unwrap_or_default();
                let acc = sites.entry(site).or_default();
                acc.failures.push(format!("{}: {reason}", obs.subject));
                if in_ad {
                    acc.published.push(obs.subject.clone());
                    acc.stale.push(format!(
                        "{} (published in AD, does not answer: {reason})",
                        obs.subject
                    ));
                }
            }
            ObservationStatus::NotApplicable => {}
        }
    }
    sites
        .into_iter()
        .map(|(site, acc)| {
            let distinct: BTreeSet<u64> = acc.builds.values().copied().collect();
            let mismatch: Vec<String> = if distinct.len() > 1 {
                acc.builds
                    .iter()
                    .map(|(mp, b)| format!("{mp}: {b}"))
                    .collect()
            } else {
                Vec::new()
            };
            // Agreement needs two answers to compare; staleness needs AD entries to check.
            let compared: Vec<&String> = if acc.builds.len() > 1 {
                acc.builds.keys().collect()
            } else {
                Vec::new()
            };
            let mut summary = fields(json!({
                "site_code": site,
                "mps": acc.builds.keys().collect::<Vec<_>>(),
                "compared_mps": compared,
                "published_mps": acc.published,
                "builds": distinct,
                "build_mismatch": mismatch,
                "stale_mps": acc.stale,
                "failures": acc.failures,
            }));
            summary.extend(acc.lowest.unwrap_or_default());
            (site, summary)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp(subject: &str, fields: Value, failed: Option<&str>) -> Observation {
        let fields = fields.as_object().cloned().unwrap_or_default();
        match failed {
            None => Observation::observed("configmgr.mp_list", subject, fields),
            Some(r) => {
                Observation::failed("configmgr.mp_list", subject, "failed", r.into(), fields)
            }
        }
    }

    #[test]
    fn stale_ad_objects() {
        let prior = vec![
            mp(
                "cm01.corp.test",
                json!({"site_code": "P01", "build": 9128, "published_in_ad": true, "ad_site_code": "P01"}),
                None,
            ),
            mp(
                "cm02.corp.test",
                json!({"site_code": "P02", "build": 9128, "published_in_ad": true, "ad_site_code": "P01"}),
                None,
            ),
            mp(
                "cm03.corp.test",
                json!({"published_in_ad": true, "ad_site_code": "P01"}),
                Some("refused"),
            ),
        ];
        let sites = site_summaries(&prior);
        let stale = sites["P01"]["stale_mps"].as_array().unwrap();
        assert_eq!(stale.len(), 2, "{stale:?}");
        assert!(stale[0].as_str().unwrap().contains("answers for site P02"));
        assert!(stale[1]
            .as_str()
            .unwrap()
            .contains("does not answer: refused"));
        assert_eq!(sites["P01"]["build"], 9128);
        assert_eq!(sites["P02"]["stale_mps"], json!([]));
    }
}
