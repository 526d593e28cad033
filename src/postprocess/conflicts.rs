//! Vantage conflicts of a merged report: one check and subject seen with different statuses
//! from different scanning hosts, shown side by side.

use serde::{Deserialize, Serialize};

use crate::evaluate::{Finding, Status};
use crate::observation::subject::split;
use crate::observation::ScanInfo;

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
            title: fs[0].title.to_string(),
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
