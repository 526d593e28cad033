//! `ldap.sync_objects`: every user, group and contact judged against the synchronization rules
//! (checks/data/sync-rules.toml) in one streamed paged search; only the engine's tallies stay.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::observation::{Observation, ObservationStatus};
use crate::probes::sync::{Entry, Forest, Pass, Rules, Summary};
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

use super::{all, connect_bound, connect_bound_gc, first, read_bound, ReadError, ReadOnlyLdap};

pub struct SyncObjects;

/// Fix-list rows kept in the observation; more are counted as dropped.
pub const ROW_LIMIT: usize = 50_000;
/// Duplicate sets whose first holder is looked up by value after the pass.
pub const LOOKUPS: usize = 1000;

/// Users, groups and contacts; computer is a subclass of user and is left out.
pub const FILTER: &str =
    "(|(&(objectClass=user)(!(objectClass=computer)))(objectClass=group)(objectClass=contact))";

/// systemFlags of a crossRef naming a domain NC (FLAG_CR_NTDS_DOMAIN, MS-ADTS 2.2.18).
const CR_NTDS_DOMAIN: i64 = 0x2;

/// Read over the global catalog when the forest has more than one domain: one pass sees every
/// domain's objects (and duplicates across them); else the domain itself.
pub fn use_global_catalog(domains: usize) -> bool {
    domains > 1
}

/// Where the pass reads: the domain's NC, or the whole global catalog (base "").
pub fn search_base(base: &str, global_catalog: bool) -> &str {
    if global_catalog {
        ""
    } else {
        base
    }
}

/// The domains of the forest (domain crossRefs under CN=Partitions); 1 when unreadable.
pub async fn forest_domains(ldap: &mut ReadOnlyLdap) -> Result<usize, ReadError> {
    let Some(dse) = ldap.read_entry("", &["configurationNamingContext"]).await? else {
        return Ok(1);
    };
    let Some(config) = first(&dse, "configurationNamingContext") else {
        return Ok(1);
    };
    let crossrefs = ldap
        .search(
            &format!("CN=Partitions,{config}"),
            "(objectClass=crossRef)",
            &["systemFlags"],
        )
        .await?;
    let domains = crossrefs
        .iter()
        .filter(|c| super::int(c, "systemFlags").is_some_and(|f| f & CR_NTDS_DOMAIN != 0))
        .count();
    Ok(domains.max(1))
}

pub fn entry_of(e: ldap3::SearchEntry) -> Entry {
    let object_class = all(&e, "objectClass").pop().unwrap_or_default();
    let cn = first(&e, "cn");
    let critical =
        first(&e, "isCriticalSystemObject").is_some_and(|v| v.eq_ignore_ascii_case("TRUE"));
    Entry {
        dn: e.dn,
        object_class,
        cn,
        critical,
        attrs: e.attrs.into_iter().collect(),
    }
}

/// The whole pass on one bound connection: stream, then look up first holders of duplicates.
pub async fn read_sync(
    ldap: &mut ReadOnlyLdap,
    page: i32,
    global_catalog: bool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(Summary, String), ReadError> {
    let root = ldap.read_entry("", &["defaultNamingContext"]).await?;
    let base = root
        .as_ref()
        .and_then(|r| first(r, "defaultNamingContext"))
        .ok_or_else(|| ReadError::Failed("the rootDSE names no defaultNamingContext".into()))?;
    let suffixes = upn_suffixes(ldap, &base).await;
    let rules = Rules::shipped();
    let names = rules.attributes_to_read();
    let attrs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut pass = Pass::new(&rules, Forest { suffixes }, ROW_LIMIT);
    let under = search_base(&base, global_catalog).to_string();
    let streamed = ldap
        .search_each(&under, FILTER, &attrs, page, |e| {
            pass.feed(&entry_of(e));
            if pass.read() % 256 == 0 {
                progress(pass.read());
            }
            Ok(())
        })
        .await;
    progress(pass.read());
    if let Err(e) = streamed {
        let read = pass.read();
        let place = if global_catalog {
            "the global catalog".to_string()
        } else {
            base.clone()
        };
        return Err(ReadError::Failed(format!(
            "the synchronization pass under {place} stopped after {read} objects: {e}"
        )));
    }
    for (ordinal, attr, value, others) in pass.pending().into_iter().take(LOOKUPS) {
        let filter = format!("({attr}={})", ldap3::ldap_escape(value.as_str()));
        let mut holders = Vec::new();
        ldap.search_each(&under, &filter, &["distinguishedName"], page, |e| {
            holders.push(e.dn);
            Ok(())
        })
        .await?;
        holders.retain(|dn| !others.contains(dn));
        if let [dn] = holders.as_slice() {
            pass.resolve(ordinal, dn);
        }
    }
    Ok((pass.finish(), base))
}

/// The domain's DNS name and the forest's extra UPN suffixes, for suggested values.
async fn upn_suffixes(ldap: &mut ReadOnlyLdap, base: &str) -> Vec<String> {
    let mut out = vec![super::dns_name_of(base)];
    let config = ldap.read_entry("", &["configurationNamingContext"]).await;
    let partitions = config
        .ok()
        .flatten()
        .and_then(|c| first(&c, "configurationNamingContext"))
        .map(|c| format!("CN=Partitions,{c}"));
    if let Some(p) = partitions {
        if let Ok(Some(e)) = ldap.read_entry(&p, &["uPNSuffixes"]).await {
            out.extend(all(&e, "uPNSuffixes"));
        }
    }
    out
}

/// The progress message during the pass: objects read so far and the rate.
pub fn progress_text(read: u64, elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        (read as f64 / secs).round() as u64
    } else {
        0
    };
    format!("directory sync: {read} objects read ({rate}/s)")
}

pub fn summary_fields(s: &Summary, rules: &Rules) -> Map<String, Value> {
    let skipped: u64 = s.skipped.values().sum();
    let skip_rules: Vec<Value> = rules
        .skip
        .iter()
        .map(|k| json!({ "id": k.id, "what": k.what, "objects": s.skipped.get(&k.id).copied().unwrap_or(0), "community": k.community }))
        .collect();
    let blockers: Vec<&str> = s
        .rules
        .iter()
        .filter(|t| t.blocker)
        .map(|t| t.rule.as_str())
        .collect();
    let warnings: Vec<&str> = s
        .rules
        .iter()
        .filter(|t| !t.blocker)
        .map(|t| t.rule.as_str())
        .collect();
    fields(json!({
        "objects_read": s.read,
        "objects_skipped": skipped,
        "objects_with_problems": s.with_problems,
        "blocker_objects": s.blocker_objects,
        "warning_objects": s.with_problems - s.blocker_objects,
        "blocker_rules": blockers,
        "warning_rules": warnings,
        "skip_rules": skip_rules,
        "rules": s.rules,
        "duplicates": s.duplicates,
        "rows": s.rows,
        "rows_dropped": s.rows_dropped,
        "rules_source": rules.source.get("microsoft"),
    }))
}

#[async_trait]
impl Probe for SyncObjects {
    fn spec(&self) -> &'static ProbeSpec {
        &super::spec::SYNC_OBJECTS
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        super::plan(input.config)
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let page = i32::try_from(ctx.config.sync_page_size).unwrap_or(i32::MAX);
        let bar = ctx.progress.clone();
        let started = std::time::Instant::now();
        let ticker = |bar: indicatif::ProgressBar| {
            move |n: u64| bar.set_message(progress_text(n, started.elapsed()))
        };
        // One connection when the forest has one domain: count its domains, then stream.
        let (ldap, transport) = connect_bound(req, ctx).await?;
        let mut dc = ldap.dc.clone();
        let mut tick = ticker(bar.clone());
        let first = read_bound(ldap, move |ldap| {
            Box::pin(async move {
                // A forest whose partitions cannot be read is read as one domain.
                let domains = forest_domains(ldap).await.ok();
                if use_global_catalog(domains.unwrap_or(1)) {
                    return Ok((domains, None));
                }
                let pass = read_sync(ldap, page, false, &mut tick).await?;
                Ok((domains, Some(pass)))
            })
        })
        .await;
        let (domains, pass) = match first {
            Ok(v) => v,
            Err(e) => {
                bar.set_message("");
                return Err(e);
            }
        };
        let gc = pass.is_none();
        let (read, transport) = match pass {
            Some(p) => (Ok(p), transport),
            None => {
                let (ldap, transport) = connect_bound_gc(req, ctx).await?;
                dc = ldap.dc.clone();
                let mut tick = ticker(bar.clone());
                let read = read_bound(ldap, move |ldap| {
                    Box::pin(async move { read_sync(ldap, page, true, &mut tick).await })
                })
                .await;
                (read, transport)
            }
        };
        bar.set_message("");
        let (summary, base) = read?;
        let mut out = summary_fields(&summary, &Rules::shipped());
        out.insert("base".into(), json!(base));
        out.insert("page_size".into(), json!(page));
        out.insert("domains_in_forest".into(), json!(domains));
        out.insert("global_catalog".into(), json!(gc));
        out.insert("answered_by".into(), json!(dc));
        out.insert("transport".into(), json!(transport.to_string()));
        Ok(out)
    }
}

/// DNs shown in a per-rule finding's remediation step (the section and the CSV list them all).
pub const FIRST_OBJECTS: usize = 3;

pub struct SyncRule;

#[async_trait]
impl Probe for SyncRule {
    fn spec(&self) -> &'static ProbeSpec {
        &super::spec::SYNC_RULE
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        rule_plan(input.prior, &Rules::shipped())
    }

    async fn observe(
        &self,
        req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        super::carried(req, "sync", "the synchronization pass failed")
    }
}

/// One request per rule of the table for each pass (a rule no object breaks counts 0); a failed
/// pass passes its reason on to every rule.
pub fn rule_plan(prior: &[Observation], rules: &Rules) -> Vec<Request> {
    let mut out = Vec::new();
    for obs in prior.iter().filter(|o| o.probe == "ldap.sync_objects") {
        if obs.status == ObservationStatus::NotApplicable {
            continue;
        }
        let tallies = obs.fields.get("rules").and_then(Value::as_array);
        let read = obs.fields.get("objects_read").and_then(Value::as_u64);
        for (rule, attribute, kind) in rules.rule_ids() {
            let subject = format!("{}: {rule}", obs.subject);
            let mut f = fields(json!({
                "base": obs.fields.get("base").cloned().unwrap_or(json!(obs.subject)),
                "rule": rule,
                "attribute": attribute,
                "kind": kind,
                "blocker": rules.is_blocker(&kind),
            }));
            if obs.status == ObservationStatus::Failed {
                f.insert("sync_error".into(), json!(obs.reason));
                f.insert("sync_kind".into(), json!(obs.kind));
                out.push(Request { subject, fields: f });
                continue;
            }
            let tally = tallies
                .into_iter()
                .flatten()
                .find(|t| t.get("rule").and_then(Value::as_str) == Some(rule.as_str()));
            let objects = tally
                .and_then(|t| t.get("objects"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let examples = tally
                .and_then(|t| t.get("examples"))
                .cloned()
                .unwrap_or(json!([]));
            let mut first: Vec<&str> = Vec::new();
            for dn in examples
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("dn").and_then(Value::as_str))
            {
                if !first.contains(&dn) && first.len() < FIRST_OBJECTS {
                    first.push(dn);
                }
            }
            f.insert("objects".into(), json!(objects));
            f.insert("objects_read".into(), json!(read));
            let share = read.map(|r| format!("of {r} objects read"));
            f.insert("share".into(), json!(share));
            f.insert("first_objects".into(), json!(first));
            f.insert("examples".into(), examples);
            out.push(Request { subject, fields: f });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_catalog_only_for_a_forest_of_several_domains() {
        assert!(!use_global_catalog(0));
        assert!(!use_global_catalog(1));
        assert!(use_global_catalog(2));
        assert_eq!(search_base("DC=corp,DC=test", false), "DC=corp,DC=test");
        assert_eq!(search_base("DC=corp,DC=test", true), "");
        use super::super::Transport;
        assert_eq!(Transport::Ldaps.port_for(true), 3269);
        assert_eq!(Transport::StartTls.port_for(true), 3268);
        assert_eq!(Transport::Plain.port_for(true), 3268);
        assert_eq!(Transport::Ldaps.port_for(false), 636);
        assert_eq!(Transport::Plain.port_for(false), 389);
    }

    #[test]
    fn the_filter_leaves_computers_out() {
        assert!(FILTER.contains("(&(objectClass=user)(!(objectClass=computer)))"));
        assert!(FILTER.contains("(objectClass=group)") && FILTER.contains("(objectClass=contact)"));
    }

    #[test]
    fn progress_says_objects_and_rate() {
        let t = progress_text(5000, std::time::Duration::from_secs(2));
        assert_eq!(t, "directory sync: 5000 objects read (2500/s)");
        assert_eq!(
            progress_text(0, std::time::Duration::ZERO),
            "directory sync: 0 objects read (0/s)"
        );
    }

    #[test]
    fn one_request_per_rule_with_zero_counts_and_failures_passed_on() {
        let rules = Rules::shipped();
        let pass = Observation::observed(
            "ldap.sync_objects",
            "corp.test",
            fields(json!({
                "base": "DC=corp,DC=test",
                "objects_read": 7,
                "rules": [{
                    "rule": "sync-upn-invalid-characters", "attribute": "userPrincipalName",
                    "blocker": true, "objects": 2,
                    "examples": [
                        { "dn": "CN=a,DC=corp,DC=test", "value": "a(1)@x.com" },
                        { "dn": "CN=a,DC=corp,DC=test", "value": "a(2)@x.com" },
                        { "dn": "CN=b,DC=corp,DC=test", "value": "b(1)@x.com" },
                    ],
                }],
            })),
        );
        let plan = rule_plan(std::slice::from_ref(&pass), &rules);
        assert_eq!(plan.len(), rules.rule_ids().len());
        let upn = plan
            .iter()
            .find(|r| r.subject == "corp.test: sync-upn-invalid-characters")
            .unwrap();
        assert_eq!(upn.fields["objects"], 2);
        assert_eq!(upn.fields["share"], "of 7 objects read");
        assert_eq!(
            upn.fields["first_objects"],
            json!(["CN=a,DC=corp,DC=test", "CN=b,DC=corp,DC=test"])
        );
        let other = plan
            .iter()
            .find(|r| r.fields["rule"] == "sync-mail-duplicate")
            .unwrap();
        assert_eq!(other.fields["objects"], 0);
        assert_eq!(other.fields["examples"], json!([]));

        let failed = Observation::failed(
            "ldap.sync_objects",
            "corp.test",
            "failed",
            "stopped after 300 objects".into(),
            Map::new(),
        );
        let plan = rule_plan(&[failed], &rules);
        assert_eq!(plan.len(), rules.rule_ids().len());
        assert!(plan
            .iter()
            .all(|r| r.fields["sync_error"] == "stopped after 300 objects"));
    }
}
