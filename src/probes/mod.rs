//! Probes query the environment. Each is registered by name; checks name the probe and a field.
//!
//! To add a probe: make a folder `probes/<family>/` with its spec in `spec.rs` (name, fields,
//! stage, time budget: what checks are validated against), list the spec in [`index`],
//! implement [`Probe`] beside it, and add it to [`registry`].

pub mod adfs;
pub mod configmgr;
pub mod dns;
pub mod https;
pub mod index;
pub mod kerberos;
pub mod ldap;
pub mod names;
pub mod net;
pub mod resolver;
pub mod services;
pub mod spec;
pub mod sync;
pub mod tcp;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::config::ScanConfig;
use crate::observation::Observation;
use crate::vocab::CONFIGMGR_SCOPE;

pub use services::{ServiceError, Services};
pub use spec::{Ask, ProbeSpec};

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
    /// What the in-scope checks that name this probe ask of it.
    pub checks: &'a [Ask<'a>],
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
#[derive(Clone)]
pub struct ProbeContext {
    pub config: Arc<ScanConfig>,
    /// The resolver, TLS roots and clients, built once per scan.
    pub services: Arc<Services>,
    pub secrets: Secrets,
    pub timeout: Duration,
    /// Where the scan runs from: host name, so reports from several places can be told apart.
    pub vantage: String,
    /// The scan's progress line (hidden unless stderr is a terminal and not --quiet): a long
    /// probe such as the synchronization pass says how far it is in its message.
    pub progress: indicatif::ProgressBar,
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
    /// A DC rejected the bind credentials (result 49): no bound probe of the scan binds again.
    #[error("{0}")]
    BindRejected(String),
    /// The server's answer went past one of readyscan's limits (nesting depth, message size,
    /// entries per search, bytes per probe); the text names it.
    #[error("{0}")]
    Limit(String),
    /// The subject does not need the check (e.g. a non-routable UPN suffix); not an error.
    #[error("{0}")]
    NotApplicable(String),
    /// Not tested on purpose from this host (Microsoft's public endpoints without
    /// `--cloud-endpoints`); not applicable, and not an error.
    #[error("{0}")]
    NotTested(String),
}

/// Why cloud checks are not applicable in a scan without `--cloud-endpoints`.
pub const CLOUD_NOT_TESTED: &str = "not tested from this host: Microsoft's public endpoints are \
    probed only with --cloud-endpoints";

/// The one request a network probe makes for its cloud checks when `--cloud-endpoints` is not
/// given: no traffic, an observation that says they were not tested. Every cloud check
/// applies to it (see the probes' `applies`).
pub fn cloud_not_tested(mut hosts: Vec<String>) -> Request {
    hosts.sort();
    hosts.dedup();
    Request {
        subject: "cloud endpoints".into(),
        fields: fields(
            serde_json::json!({ "roles": ["cloud"], "hosts": hosts, "not_tested": true }),
        ),
    }
}

impl ProbeError {
    /// Stable, machine-readable kind for report.json.
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeError::Timeout(_) => "timeout",
            ProbeError::NeedsBind(_) => "needs_bind",
            ProbeError::Failed(_) => "failed",
            ProbeError::BindRejected(_) => "bind_rejected",
            ProbeError::Limit(_) => "limit",
            ProbeError::NotApplicable(_) => "not_applicable",
            ProbeError::NotTested(_) => "not_tested",
        }
    }
}

#[async_trait]
pub trait Probe: Send + Sync {
    fn spec(&self) -> &'static ProbeSpec;
    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request>;
    async fn observe(
        &self,
        request: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError>;

    /// Whether a request still unanswered after a short while gives its host slot back
    /// (`--per-host` then caps answered work only). True for single connects: a filtered port
    /// must not hold one of a DC's slots for a whole timeout, as nmap's congestion control
    /// does not let unanswered probes count against a host's window.
    fn frees_host_slot_when_slow(&self) -> bool {
        false
    }

    /// Whether the runner also plans this probe in the first stage, from the configuration
    /// alone (a `--dc`'s ports are known before anything runs); its own stage then adds only
    /// the subjects that discovery brought in.
    fn plans_early(&self) -> bool {
        false
    }

    /// DNS queries this probe will send in its own stage that the configuration alone names
    /// (the DC locator records of a `--domain`): the runner sends them in the first stage, so
    /// their answers, or the servers' silence, are known by the time the probe runs.
    fn read_ahead(
        &self,
        _input: &PlanInput<'_>,
    ) -> Vec<(String, hickory_resolver::proto::rr::RecordType)> {
        Vec::new()
    }
}

/// The probes this version collects.
pub fn registry() -> Vec<Arc<dyn Probe>> {
    vec![
        Arc::new(tcp::TcpConnect),
        Arc::new(https::HttpsEndpoint),
        Arc::new(ldap::RootDse),
        Arc::new(ldap::Directory),
        Arc::new(ldap::Dc),
        Arc::new(ldap::Computers),
        Arc::new(ldap::OsRelease),
        Arc::new(ldap::Forest),
        Arc::new(ldap::Domain),
        Arc::new(ldap::SyncObjects),
        Arc::new(ldap::SyncRule),
        Arc::new(configmgr::AdSites),
        Arc::new(configmgr::MpList),
        Arc::new(configmgr::Site),
        Arc::new(dns::DnsSrv),
        Arc::new(dns::DnsCname),
        Arc::new(dns::DnsM365),
        Arc::new(dns::DnsAdfsName),
        Arc::new(adfs::AdfsMetadata),
        Arc::new(adfs::AdfsSan),
        Arc::new(ldap::Services),
        Arc::new(ldap::ServiceHost),
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
        add(CONFIGMGR_SCOPE);
    }
    for obs in observations {
        if let Some(Value::Array(extra)) = obs.fields.get("adds_scopes") {
            extra.iter().filter_map(Value::as_str).for_each(&mut add);
        }
    }
    scopes
}
