//! Several vantage points in one report (`readyscan merge`). Firewall reachability depends on
//! where a scan runs, so network observations keep their vantage (`subject @ vantage`); other
//! observations are deduplicated when the scans agree and kept per vantage when they do not.
//! The merged result is an ordinary observation set, so the merged report.json can be judged
//! again; conflicts are derived from the findings, the same way every time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::evaluate::{Finding, Status};
use crate::observation::{Observation, ObservationSet, ScanInfo, Vantage};

/// Joins a subject and the vantage it was seen from.
pub const SEPARATOR: &str = " @ ";

/// A check whose result differs between vantage points, shown side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conflict {
    pub check_id: String,
    pub title: String,
    pub area: String,
    /// The subject without its vantage.
    pub subject: String,
    pub sides: Vec<Side>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Side {
    pub vantage: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Splits `subject @ vantage`.
pub fn split(subject: &str) -> Option<(&str, &str)> {
    subject.rsplit_once(SEPARATOR)
}

/// Conflicts of a merged report: findings of one check and subject seen from several vantages
/// with different statuses. Reports that are not merged have none.
pub fn conflicts(findings: &[Finding], scan: &ScanInfo) -> Vec<Conflict> {
    if scan.vantages.is_empty() {
        return Vec::new();
    }
    let mut groups: Vec<((&str, &str), Vec<&Finding>)> = Vec::new();
    for f in findings {
        let Some((base, _)) = split(&f.subject) else {
            continue;
        };
        let key = (f.check_id.as_str(), base);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(f),
            None => groups.push((key, vec![f])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, fs)| fs.iter().any(|f| f.status != fs[0].status))
        .map(|((check_id, base), fs)| Conflict {
            check_id: check_id.to_string(),
            title: fs[0].title.clone(),
            area: fs[0].area.clone(),
            subject: base.to_string(),
            sides: fs
                .iter()
                .map(|f| Side {
                    vantage: split(&f.subject)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_default(),
                    status: f.status,
                    observed: f.observed.clone(),
                    reason: f.reason.clone(),
                })
                .collect(),
        })
        .collect()
}

/// Network observations carry the vantage they were made from.
fn is_network(o: &Observation) -> bool {
    o.fields.contains_key("vantage")
}

/// Combines observation sets from several hosts. `inputs` pairs each set with its file name.
pub fn merge(inputs: Vec<(String, ObservationSet)>) -> ObservationSet {
    // Vantage names: the host, made unique when two scans ran on hosts with the same name.
    // Merged inputs keep their names (their subjects carry them); plain scans are named around them.
    let mut vantages: Vec<Vantage> = inputs
        .iter()
        .flat_map(|(_, set)| set.scan.vantages.iter().cloned())
        .collect();
    let mut named: Vec<(String, ObservationSet)> = Vec::new();
    for (file, set) in inputs {
        if !set.scan.vantages.is_empty() {
            // Already a merged report: its network observations carry their vantages; what it
            // agreed on is compared with the others under the names of all its vantages.
            let group: Vec<&str> = set.scan.vantages.iter().map(|v| v.name.as_str()).collect();
            let group = group.join("+");
            named.push((group, set));
            continue;
        }
        let host = if set.scan.host.trim().is_empty() {
            file.clone()
        } else {
            set.scan.host.clone()
        };
        let name = unique(&vantages, &host);
        vantages.push(Vantage {
            name: name.clone(),
            host,
            collected_at: set.scan.collected_at.clone(),
            file,
        });
        named.push((name, set));
    }

    // Group the non-network observations by probe and subject, remembering each vantage.
    let mut merged: Vec<Observation> = Vec::new();
    let mut shared: BTreeMap<(String, String), Vec<(String, Observation)>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for (name, set) in &named {
        for o in &set.observations {
            if split(&o.subject).is_some() {
                merged.push(o.clone());
            } else if is_network(o) {
                let mut o = o.clone();
                o.subject = format!("{}{SEPARATOR}{name}", o.subject);
                o.fields
                    .insert("vantage".into(), Value::from(name.as_str()));
                merged.push(o);
            } else {
                let key = (o.probe.clone(), o.subject.clone());
                if !shared.contains_key(&key) {
                    order.push(key.clone());
                }
                shared
                    .entry(key)
                    .or_default()
                    .push((name.clone(), o.clone()));
            }
        }
    }
    for key in order {
        let Some(seen) = shared.remove(&key) else {
            continue;
        };
        if seen.iter().all(|(_, o)| o == &seen[0].1) {
            merged.push(seen[0].1.clone());
        } else {
            // The scans disagree: keep every answer, each under its vantage.
            for (name, mut o) in seen {
                o.subject = format!("{}{SEPARATOR}{name}", o.subject);
                o.fields.insert("vantage".into(), Value::from(name));
                merged.push(o);
            }
        }
    }

    let mut config = named
        .first()
        .map(|(_, s)| s.scan.config.clone())
        .unwrap_or_default();
    for (_, set) in named.iter().skip(1) {
        let c = &set.scan.config;
        union(&mut config.scopes, &c.scopes);
        union(&mut config.domains, &c.domains);
        union(&mut config.dcs, &c.dcs);
        union(&mut config.dns_servers, &c.dns_servers);
        union(&mut config.upn_suffixes, &c.upn_suffixes);
        union(&mut config.adfs, &c.adfs);
        union(&mut config.mps, &c.mps);
        union(&mut config.ca_certs, &c.ca_certs);
        config.insecure_tls |= c.insecure_tls;
        for (k, v) in &c.resolve {
            config.resolve.entry(k.clone()).or_insert(*v);
        }
    }
    let collected_at = vantages
        .iter()
        .map(|v| v.collected_at.clone())
        .max()
        .unwrap_or_default();
    ObservationSet {
        scan: ScanInfo {
            mode: "merge".into(),
            collected_at,
            host: vantages
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            config,
            vantages,
        },
        observations: merged,
    }
}

fn unique(taken: &[Vantage], wanted: &str) -> String {
    let free = |n: &str| !taken.iter().any(|v| v.name == n);
    if free(wanted) {
        return wanted.to_string();
    }
    (2..)
        .map(|i| format!("{wanted}#{i}"))
        .find(|n| free(n))
        .unwrap_or_else(|| wanted.to_string())
}

fn union(into: &mut Vec<String>, from: &[String]) {
    for s in from {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}
