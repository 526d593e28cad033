//! Observations: what the probes saw, as plain data that can be saved and judged again offline.
//! Reading saved sets ([`read`]), combining sets from several hosts ([`merge`]) and the
//! `subject @ vantage` convention ([`subject`]) live here, beside the data they handle.

pub mod merge;
pub mod read;
pub mod subject;

pub use read::{parse_observations, read_observations, InputError, SCHEMA_VERSION};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::ScanConfig;

/// One probe's answer about one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Observation {
    /// Probe name, e.g. `ldap.root_dse`.
    pub probe: String,
    /// What was looked at: a domain, a host:port, a DNS name, a site.
    pub subject: String,
    pub status: ObservationStatus,
    /// Why the probe failed or why the subject needs no check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Machine-readable failure kind (`timeout`, `needs_bind`, `failed`, `limit`, `not_applicable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// What checks compare; on failure, only what was known before asking (host, role, purpose).
    #[serde(default)]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObservationStatus {
    /// The probe answered.
    Observed,
    /// The probe could not tell; checks on this subject become `error` with the reason.
    Failed,
    /// The subject does not need the check (e.g. a non-routable UPN suffix).
    NotApplicable,
}

impl Observation {
    pub fn observed(probe: &str, subject: &str, fields: Map<String, Value>) -> Self {
        Observation {
            probe: probe.into(),
            subject: subject.into(),
            status: ObservationStatus::Observed,
            reason: None,
            kind: None,
            fields,
        }
    }

    pub fn failed(
        probe: &str,
        subject: &str,
        kind: &str,
        reason: String,
        fields: Map<String, Value>,
    ) -> Self {
        Observation {
            probe: probe.into(),
            subject: subject.into(),
            status: ObservationStatus::Failed,
            reason: Some(reason),
            kind: Some(kind.into()),
            fields,
        }
    }
}

/// Where and when a scan ran. The host is the vantage point for network results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScanInfo {
    /// `live`, `demo` or `evaluate`.
    pub mode: String,
    /// When the observations were collected (RFC 3339, UTC).
    pub collected_at: String,
    /// The scanning host's name.
    pub host: String,
    pub config: ScanConfig,
    /// In a merged report (`readyscan merge`): the scans combined, one per vantage point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vantages: Vec<Vantage>,
}

/// One scan that went into a merged report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Vantage {
    /// The name its network results carry (`subject @ name`): the host, made unique.
    pub name: String,
    pub host: String,
    pub collected_at: String,
    /// The input file as named on the command line.
    pub file: String,
}

/// A saved set of observations: a fixture, or the part of report.json that `evaluate` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObservationSet {
    pub scan: ScanInfo,
    pub observations: Vec<Observation>,
}

/// A value as a reader sees it: strings bare, lists comma-separated.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}
