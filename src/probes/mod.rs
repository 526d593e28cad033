//! Probes query the environment. Each is registered by name; checks name the probe and a field.
//!
//! To add a probe: describe it in [`SPECS`] (name, fields, how to give it a target), implement
//! [`Probe`] in a module of its own, and list it in [`registry`].

mod dns;
pub mod resolver;
mod tcp;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::catalog::Check;
use crate::config::ScanConfig;
use crate::observation::Observation;

/// What a probe reports and needs; checks are validated against it.
pub struct ProbeSpec {
    pub name: &'static str,
    pub summary: &'static str,
    /// Fields an observation of this probe may carry.
    pub fields: &'static [&'static str],
    /// Told to the admin when a check of this probe has nothing to look at.
    pub needs: &'static str,
    /// Validates a check's `params` for this probe.
    pub check_params: fn(&Value) -> Result<(), String>,
    /// Whether an observation (already matching the check's filter) is one the check asked
    /// for through its params, e.g. a port in its port set.
    pub applies: fn(&Check, &Observation) -> bool,
}

fn always(_: &Check, _: &Observation) -> bool {
    true
}

fn no_params(p: &Value) -> Result<(), String> {
    match p {
        Value::Null => Ok(()),
        _ => Err("this probe takes no params".into()),
    }
}

/// Every probe a check may name. A probe listed here but missing from [`registry`] is declared
/// (its checks validate) but not collected by this version: its checks report `error`.
pub static SPECS: &[ProbeSpec] = &[
    ProbeSpec {
        name: "ldap.root_dse",
        summary:
            "Anonymous rootDSE read of a domain controller: functional levels and naming contexts",
        fields: &[
            "forest_functionality",
            "forest_level_name",
            "domain_functionality",
            "domain_level_name",
            "domain_controller_functionality",
            "dns_host_name",
            "default_naming_context",
            "root_domain_naming_context",
            "answered_by",
        ],
        needs: "give --dc HOST or --domain NAME",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "dns.srv",
        summary:
            "Active Directory SRV records of a domain: targets, whether they resolve and answer",
        fields: &[
            "name",
            "domain",
            "purpose",
            "forest_root",
            "outcome",
            "detail",
            "targets",
            "unresolved_targets",
            "stale_targets",
            "expected_dcs",
            "missing_dcs",
        ],
        needs: "give --domain NAME",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "dns.cname",
        summary: "CNAME records Intune needs per UPN suffix, aliases in the suffix's zone followed",
        fields: &[
            "name",
            "suffix",
            "purpose",
            "outcome",
            "target",
            "chain",
            "record_to_create",
            "detail",
        ],
        needs: "give --domain NAME or --upn-suffix NAME",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "dns.m365",
        summary: "Microsoft 365 records of a domain: MS=ms verification TXT, MX, autodiscover, SPF",
        fields: &[
            "suffix",
            "txt_outcome",
            "ms_verification",
            "mx_hosts",
            "autodiscover_target",
            "autodiscover_outcome",
            "spf_records",
            "spf_count",
        ],
        needs: "give --domain NAME or --upn-suffix NAME",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "dns.adfs_name",
        summary: "Record type of an AD FS service name (A, AAAA or CNAME)",
        fields: &[
            "name",
            "outcome",
            "record_type",
            "cname_target",
            "addresses",
        ],
        needs: "give --adfs NAME",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "tcp.connect",
        summary:
            "TCP connect to host:port, classified open, closed, filtered, unreachable or unresolved",
        fields: &[
            "host", "port", "address", "roles", "state", "reason", "vantage",
        ],
        needs: "give --dc HOST (or --domain NAME once DC discovery exists)",
        check_params: tcp::check_params,
        applies: tcp::applies,
    },
    ProbeSpec {
        name: "configmgr.mp_list",
        summary:
            "Configuration Manager management point list (MPLIST) with the site's build number",
        fields: &["site_code", "mp_fqdn", "build", "release", "answered_by"],
        needs: "give --mp HOST",
        check_params: no_params,
        applies: always,
    },
];

pub fn spec(name: &str) -> Option<&'static ProbeSpec> {
    SPECS.iter().find(|s| s.name == name)
}

pub fn names() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.name).collect()
}

/// One query a probe will make; equal subjects are asked once.
#[derive(Debug, Clone)]
pub struct Request {
    pub subject: String,
    /// What is known before asking (host, port, roles); kept in the observation even on failure.
    pub fields: Map<String, Value>,
}

/// What a probe may read when planning its queries.
pub struct PlanInput<'a> {
    pub config: &'a ScanConfig,
    /// The in-scope checks that name this probe.
    pub checks: &'a [&'a Check],
    /// Observations of earlier stages (e.g. DCs found by DNS).
    pub prior: &'a [Observation],
}

/// Shared by all probes of a scan.
pub struct ProbeContext {
    pub config: Arc<ScanConfig>,
    pub timeout: Duration,
    /// Where the scan runs from: host name, so reports from several places can be told apart.
    pub vantage: String,
}

/// Why a probe could not observe its subject. The text reaches the report as the reason.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("needs a bind: {0}")]
    NeedsBind(String),
    #[error("{0}")]
    Failed(String),
    /// The subject does not need the check (e.g. a non-routable UPN suffix); not an error.
    #[error("{0}")]
    NotApplicable(String),
}

impl ProbeError {
    /// Stable, machine-readable kind for report.json.
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeError::Timeout(_) => "timeout",
            ProbeError::NeedsBind(_) => "needs_bind",
            ProbeError::Failed(_) => "failed",
            ProbeError::NotApplicable(_) => "not_applicable",
        }
    }
}

#[async_trait]
pub trait Probe: Send + Sync {
    fn spec(&self) -> &'static ProbeSpec;
    /// Earlier stages run first so later probes can use what they found.
    fn stage(&self) -> u8 {
        1
    }
    /// How long one request may take in all, given the scan's per-query timeout; probes that
    /// ask several things in a row (and retry on timeout) need more than one timeout.
    fn budget(&self, timeout: Duration) -> Duration {
        timeout
    }
    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request>;
    async fn observe(
        &self,
        request: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError>;
}

/// The probes this version collects.
pub fn registry() -> Vec<Arc<dyn Probe>> {
    vec![
        Arc::new(tcp::TcpConnect),
        Arc::new(dns::DnsSrv::default()),
        Arc::new(dns::DnsCname::default()),
        Arc::new(dns::DnsM365::default()),
        Arc::new(dns::DnsAdfsName::default()),
    ]
}

/// True when this version can collect the probe (else its checks say "not available yet").
pub fn implemented(name: &str) -> bool {
    registry().iter().any(|p| p.spec().name == name)
}
