//! Probes query the environment. Each is registered by name; checks name the probe and a field.
//!
//! To add a probe: describe it in [`SPECS`] (name, fields, how to give it a target), implement
//! [`Probe`] in a module of its own, and list it in [`registry`].

mod configmgr;
mod dns;
mod https;
mod ldap;
pub mod names;
pub mod resolver;
mod tcp;
pub mod tls;

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
            "configuration_naming_context",
            "schema_naming_context",
            "answered_by",
            "dc_found_by",
            "transport",
        ],
        needs: "give --dc HOST or --domain NAME",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "ldap.directory",
        summary: "Bound LDAP reads: schema version, trusts, UPN suffixes, domain controllers, containers",
        fields: &[
            "forest_functionality",
            "forest_level_name",
            "domain_functionality",
            "domain_level_name",
            "domain_controller_functionality",
            "dns_host_name",
            "default_naming_context",
            "root_domain_naming_context",
            "configuration_naming_context",
            "schema_naming_context",
            "schema_version",
            "schema_version_name",
            "trusts",
            "forest_trusts",
            "topology",
            "upn_suffixes",
            "non_routable_upn_suffixes",
            "domain_controllers",
            "dc_operating_systems",
            "old_dcs",
            "adfs_container",
            "system_management_container",
            "recycle_bin_enabled",
            "answered_by",
            "transport",
        ],
        needs: "give --dc HOST and --bind-user USER (password in READYSCAN_PASSWORD or --password-stdin)",
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
            "host", "port", "address", "roles", "state", "reason", "vantage", "source",
        ],
        needs: "give --dc HOST (or --domain NAME once DC discovery exists), --mp HOST or \
                --adfs NAME for those roles, and --cloud-endpoints for Microsoft's endpoints",
        check_params: tcp::check_params,
        applies: tcp::applies,
    },
    ProbeSpec {
        name: "https.endpoint",
        summary: "TLS handshake and GET to an HTTPS endpoint: trust, issuer, expiry, proxy, TLS inspection",
        fields: &[
            "host",
            "port",
            "path",
            "address",
            "roles",
            "vantage",
            "source",
            "proxy",
            "tls",
            "tls_detail",
            "tls_version",
            "insecure_tls",
            "issuer",
            "subject_name",
            "not_after",
            "days_to_expiry",
            "tls_inspection",
            "public_issuers",
            "no_inspection",
            "http_status",
            "http_error",
        ],
        needs: "give --cloud-endpoints (Microsoft's endpoints, or lab stand-ins via --target) \
                or --adfs NAME",
        check_params: https::check_params,
        applies: https::applies,
    },
    ProbeSpec {
        name: "configmgr.ad_sites",
        summary: "Configuration Manager sites and management points published in Active Directory",
        fields: &["container", "sites", "management_points", "adds_scopes"],
        needs: "give --dc HOST and --bind-user USER",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "configmgr.mp_list",
        summary: "A management point's MPLIST over HTTP (build number), or the version the admin declared",
        fields: &[
            "build",
            "release",
            "support_end",
            "support_note",
            "community",
            "source",
            "site_code",
            "mp_fqdn",
            "answered_by",
            "published_in_ad",
            "ad_site_code",
            "vantage",
        ],
        needs: "give --mp HOST, or --configmgr-version 5.00.NNNN.NNNN, or a bind to discover MPs in AD",
        check_params: no_params,
        applies: always,
    },
    ProbeSpec {
        name: "configmgr.site",
        summary: "Per site: its build (the lowest of its MPs), whether the MPs agree, which AD entries are stale",
        fields: &[
            "site_code",
            "mps",
            "builds",
            "build_mismatch",
            "stale_mps",
            "failures",
            "build",
            "release",
            "support_end",
            "support_note",
            "community",
            "source",
        ],
        needs: "needs at least one management point answer (--mp HOST or AD discovery)",
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

/// A JSON object literal as observation fields (`json!({...})` in, a map out).
pub(crate) fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
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

/// Secrets for the probes. Kept out of ScanConfig so they never reach a report; Debug hides them.
#[derive(Clone, Default)]
pub struct Secrets {
    pub bind_password: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = if self.bind_password.is_some() {
            "[set]"
        } else {
            "[none]"
        };
        write!(f, "Secrets {{ bind_password: {shown} }}")
    }
}

/// Shared by all probes of a scan.
pub struct ProbeContext {
    pub config: Arc<ScanConfig>,
    pub secrets: Secrets,
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
    /// Probes whose observations this one plans from; the runner runs them when this one is needed.
    fn reads(&self) -> &'static [&'static str] {
        &[]
    }
    /// How long the runner lets one request take; probes that make several round trips
    /// (bind, then searches) get more than one timeout.
    fn time_budget(&self, timeout: Duration) -> Duration {
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
        Arc::new(https::HttpsEndpoint),
        Arc::new(ldap::RootDse),
        Arc::new(ldap::Directory),
        Arc::new(configmgr::AdSites),
        Arc::new(configmgr::MpList),
        Arc::new(configmgr::Site),
        Arc::new(dns::DnsSrv::default()),
        Arc::new(dns::DnsCname::default()),
        Arc::new(dns::DnsM365::default()),
        Arc::new(dns::DnsAdfsName::default()),
    ]
}

/// The scopes a scan covers: those asked for, plus those its targets and findings bring in
/// (`--mp` or a ConfigMgr site found in AD brings in configmgr).
pub fn effective_scopes(config: &ScanConfig, observations: &[Observation]) -> Vec<String> {
    let mut scopes = config.scopes.clone();
    let mut add = |s: &str| {
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_string());
        }
    };
    if !config.mps.is_empty() || config.configmgr_version.is_some() {
        add(configmgr::SCOPE);
    }
    for obs in observations {
        if let Some(Value::Array(extra)) = obs.fields.get("adds_scopes") {
            extra.iter().filter_map(Value::as_str).for_each(&mut add);
        }
    }
    scopes
}

/// True when this version can collect the probe (else its checks say "not available yet").
pub fn implemented(name: &str) -> bool {
    registry().iter().any(|p| p.spec().name == name)
}

pub(crate) use tcp::resolve;

/// The build number inside a ConfigMgr version (5.00.9128.1000 -> 9128), for flag validation.
pub fn configmgr_build(version: &str) -> Option<u32> {
    configmgr::releases::build_of(version)
}
