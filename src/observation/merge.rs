//! Several vantage points in one report (`readyscan merge`). Firewall reachability depends on
//! where a scan runs, so network observations keep their vantage (`subject @ vantage`); other
//! observations are deduplicated when the scans agree and kept per vantage when they do not.
//! The merged result is an ordinary observation set, so the merged report.json can be judged
//! again; conflicts are derived from its findings afterwards (`postprocess::conflicts`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::subject::{split, with_vantage};
use super::{Observation, ObservationSet, ScanInfo, Vantage};

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
                o.subject = with_vantage(&o.subject, name);
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
                o.subject = with_vantage(&o.subject, &name);
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
