//! `dns.srv`: the SRV records of a domain, whether their targets resolve and answer.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::spec;
use super::*;
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// `dns.srv`: the SRV records of a domain, whether their targets resolve and answer.
pub struct DnsSrv;

/// (record prefix, purpose, at the forest root)
const SRV_RECORDS: &[(&str, &str, bool)] = &[
    ("_ldap._tcp.dc._msdcs", "dc-locator", false),
    ("_ldap._tcp", "ldap", false),
    ("_ldap._tcp.pdc._msdcs", "pdc", false),
    ("_kerberos._tcp", "kerberos", false),
    ("_kpasswd._tcp", "kpasswd", false),
    ("_gc._tcp", "gc", true),
];

fn forest_root(domain: &str, prior: &[Observation]) -> (String, &'static str) {
    let mut roots = ldap_observations(prior).filter_map(|o| {
        let own = o
            .fields
            .get("default_naming_context")
            .and_then(Value::as_str)
            .and_then(dn_to_domain);
        let root = o
            .fields
            .get("root_domain_naming_context")
            .and_then(Value::as_str)
            .and_then(dn_to_domain)?;
        Some((own.as_deref() == Some(domain), root))
    });
    let all: Vec<(bool, String)> = roots.by_ref().collect();
    if let Some((_, r)) = all.iter().find(|(own, _)| *own) {
        return (r.clone(), "ldap");
    }
    if let Some((_, r)) = all.first() {
        return (r.clone(), "ldap");
    }
    (domain.to_string(), "assumed")
}

/// DCs the scan knows of in `domain`: `--dc` names and what LDAP reported.
fn known_dcs(domain: &str, input: &PlanInput<'_>) -> Vec<String> {
    let mut out: BTreeSet<String> = input.config.dcs.iter().map(|d| normalize(d)).collect();
    for o in ldap_observations(input.prior) {
        out.extend(strings(o.fields.get("domain_controllers")));
        out.extend(strings(o.fields.get("dns_host_name")));
    }
    let tail = format!(".{domain}");
    out.into_iter()
        .filter(|d| d.ends_with(&tail) && d.parse::<std::net::IpAddr>().is_err())
        .collect()
}

#[async_trait]
impl Probe for DnsSrv {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::SRV
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        let mut out = Vec::new();
        for domain in domains(input) {
            let dcs = known_dcs(&domain, input);
            for (prefix, purpose, at_root) in SRV_RECORDS {
                let (zone, root_source) = if *at_root {
                    forest_root(&domain, input.prior)
                } else {
                    (domain.clone(), "")
                };
                let name = format!("{prefix}.{zone}");
                let mut f = fields(json!({ "name": name, "domain": zone, "purpose": purpose }));
                if matches!(*purpose, "dc-locator" | "ldap") {
                    f.insert("expected_dcs".into(), json!(dcs));
                }
                if root_source == "assumed" {
                    f.insert(
                        "forest_root".into(),
                        json!(format!(
                            "{zone} (assumed: no LDAP observation named the forest root)"
                        )),
                    );
                } else if *at_root {
                    f.insert("forest_root".into(), json!(zone));
                }
                out.push(Request {
                    subject: name,
                    fields: f,
                });
            }
        }
        out
    }

    fn read_ahead(&self, input: &PlanInput<'_>) -> Vec<(String, RecordType)> {
        self.plan(input)
            .into_iter()
            .map(|r| (r.subject, RecordType::SRV))
            .collect()
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let dns = ctx.services.dns()?;
        let name = text(req, "name");
        let expected = strings(req.fields.get("expected_dcs"));
        let outcome = dns.query(name, RecordType::SRV).await.map_err(to_error)?;
        let targets = crate::probes::resolver::srv_targets(&outcome);
        let found = targets.len();
        // A hostile or broken server must not turn one record into thousands of lookups.
        let targets: BTreeSet<(String, u16)> = targets.into_iter().take(MAX_TARGETS).collect();
        let mut out = Map::new();
        out.insert("outcome".into(), json!(outcome.as_str()));
        out.insert(
            "detail".into(),
            match &outcome {
                Outcome::Answer(_) if found > MAX_TARGETS => json!(format!(
                    "{found} targets; the first {MAX_TARGETS} (by name) were checked"
                )),
                Outcome::NxDomain => json!(format!("NXDOMAIN: {name} does not exist")),
                Outcome::NoData => json!(format!("NODATA: {name} exists but has no SRV record")),
                Outcome::Answer(_) if targets.is_empty() => json!("the SRV answer has no target"),
                Outcome::Answer(_) => Value::Null,
            },
        );
        out.insert(
            "targets".into(),
            json!(targets
                .iter()
                .map(|(h, p)| format!("{h}:{p}"))
                .collect::<Vec<_>>()),
        );
        let hosts: BTreeSet<&String> = targets.iter().map(|(h, _)| h).collect();
        let missing: Vec<&String> = expected.iter().filter(|d| !hosts.contains(d)).collect();
        if req.fields.contains_key("expected_dcs") {
            out.insert("missing_dcs".into(), json!(missing));
        }

        // Every target must resolve; a lookup the server cannot answer leaves it unassessed.
        let mut lookups = tokio::task::JoinSet::new();
        for host in &hosts {
            let (dns, host) = (dns.clone(), (*host).clone());
            lookups.spawn(async move {
                let r = dns.addresses(&host).await;
                (host, r)
            });
        }
        let mut unresolved = Vec::new();
        let mut addrs = std::collections::BTreeMap::new();
        while let Some(done) = lookups.join_next().await {
            let Ok((host, result)) = done else {
                return Err(ProbeError::Failed("an address lookup task failed".into()));
            };
            let (outcome, ips) = result
                .map_err(|e| ProbeError::Failed(format!("SRV target {host} of {name}: {e}")))?;
            match ips.first() {
                Some(ip) => {
                    addrs.insert(host, *ip);
                }
                None => unresolved.push(format!(
                    "{host} ({})",
                    match outcome {
                        Outcome::NxDomain => "NXDOMAIN",
                        _ => "NODATA: no A or AAAA record",
                    }
                )),
            }
        }
        unresolved.sort_by(|a, b| crate::vocab::natural_cmp(a, b));
        out.insert("unresolved_targets".into(), json!(unresolved));

        // A target that resolves but does not take connections is a stale record.
        let mut connects = tokio::task::JoinSet::new();
        for (host, port) in &targets {
            let ip = ctx
                .config
                .resolve
                .get(host)
                .copied()
                .or_else(|| addrs.get(host).copied());
            let Some(ip) = ip else { continue };
            let (host, port, timeout) = (host.clone(), *port, ctx.timeout);
            let services = ctx.services.clone();
            connects.spawn(async move {
                let addr = SocketAddr::new(ip, port);
                let dead = match services.connect(addr, timeout).await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => {
                        Some("connection refused".to_string())
                    }
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(silent) => Some(silent.to_string()),
                };
                dead.map(|why| format!("{host}:{port} ({why})"))
            });
        }
        let mut stale: Vec<String> = connects.join_all().await.into_iter().flatten().collect();
        stale.sort_by(|a, b| crate::vocab::natural_cmp(a, b));
        out.insert("stale_targets".into(), json!(stale));
        Ok(out)
    }
}
