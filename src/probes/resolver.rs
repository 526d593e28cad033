//! The DNS resolver the probes share: `--dns-server ADDR[:PORT]` (repeatable) or the system
//! resolver, the scan's timeout per attempt, and a retry only when a query timed out.
//!
//! Every answer is classified so reports can tell "the record is missing" (NXDOMAIN, NODATA)
//! from "the server could not say" (SERVFAIL, REFUSED, timeout): only the first is a failure of
//! the environment, the second is a finding that could not be assessed.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

use crate::config::{parse_dns_server, ScanConfig};

/// Queries sent per name and type when the server does not answer (the first try included).
pub const ATTEMPTS: u32 = 2;

pub use super::names::normalise as normalize;

/// How the server answered a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Records of the asked type (CNAMEs on the way included).
    Answer(Vec<Record>),
    /// The name does not exist.
    NxDomain,
    /// The name exists, but has no record of this type.
    NoData,
}

impl Outcome {
    /// `answer`, `nxdomain` or `nodata`, as stored in observations.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Answer(_) => "answer",
            Outcome::NxDomain => "nxdomain",
            Outcome::NoData => "nodata",
        }
    }

    pub fn records(&self) -> &[Record] {
        match self {
            Outcome::Answer(r) => r,
            _ => &[],
        }
    }
}

/// Why a query gave no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Timeout,
    ServFail,
    Refused,
    Other,
}

/// A query the server could not answer; becomes an `error` finding, never a `fail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A resolver with the scan's servers and timeout.
pub struct Dns {
    resolver: TokioResolver,
    /// "10.0.0.53:53" or "the system resolver", for reasons in reports.
    servers: String,
    timeout: Duration,
    heard: Mutex<Heard>,
    /// Each (name, type) asked in this scan, with its answer once it came.
    asked: Mutex<HashMap<(String, RecordType), Arc<Answer>>>,
}

/// A query's answer, filled by the first caller; later callers wait on it.
type Answer = OnceCell<Result<Outcome, DnsFailure>>;

/// What the servers said so far in this scan. A query that timed out on every attempt while
/// no other query got any answer means the servers are gone (a frozen DC): later queries are
/// not sent, so a chain of lookups costs one timeout, not one each. A server that answers some
/// names and times out on others (a dead forwarder) keeps being asked.
#[derive(Default)]
struct Heard {
    last_answer: Option<Instant>,
    silent: bool,
}

/// The (host, port) targets of an SRV answer, normalised; a "." target (service deliberately
/// not offered) is left out.
pub fn srv_targets(outcome: &Outcome) -> std::collections::BTreeSet<(String, u16)> {
    outcome
        .records()
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some((normalize(&srv.target.to_ascii()), srv.port)),
            _ => None,
        })
        .filter(|(host, _)| !host.is_empty())
        .collect()
}

impl Dns {
    /// Builds the resolver: the configured servers, else /etc/resolv.conf.
    pub fn new(config: &ScanConfig, timeout: Duration) -> Result<Dns, String> {
        let provider = TokioRuntimeProvider::default();
        let (mut builder, servers) = if config.dns_servers.is_empty() {
            let builder = Resolver::builder(provider)
                .map_err(|e| format!("cannot read the system resolver configuration: {e}"))?;
            (builder, "the system resolver".to_string())
        } else {
            let mut names = Vec::new();
            let mut servers = Vec::new();
            for s in &config.dns_servers {
                let addr = parse_dns_server(s).map_err(|e| format!("--dns-server: {e}"))?;
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                servers.push(ns);
                names.push(addr.to_string());
            }
            let builder =
                Resolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider);
            (builder, names.join(", "))
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = timeout;
        // Retries are ours, and only on timeout (hickory would also retry SERVFAIL and REFUSED).
        opts.attempts = 0;
        // Health of DNS itself is checked: /etc/hosts must not hide a missing record.
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot build the DNS resolver: {e}"))?;
        Ok(Dns {
            resolver,
            servers,
            timeout,
            heard: Mutex::default(),
            asked: Mutex::default(),
        })
    }

    /// The servers asked, as shown in reasons.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// One query for `name`/`rtype`, retried only when no answer came in time. Asked once per
    /// scan: a second caller (a read-ahead, then the probe) waits on the first one's answer.
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<Outcome, DnsFailure> {
        let cell = {
            let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
            asked.entry((normalize(name), rtype)).or_default().clone()
        };
        cell.get_or_init(|| self.ask(name, rtype)).await.clone()
    }

    async fn ask(&self, name: &str, rtype: RecordType) -> Result<Outcome, DnsFailure> {
        let fqdn = format!("{}.", normalize(name));
        let parsed = Name::from_ascii(&fqdn).map_err(|e| DnsFailure {
            kind: FailureKind::Other,
            message: format!("\"{name}\" is not a valid DNS name: {e}"),
        })?;
        let started = Instant::now();
        if self.heard().silent {
            return Err(DnsFailure {
                kind: FailureKind::Timeout,
                message: format!(
                    "timeout: not asked for {} {rtype}: {} answered no query for {} earlier \
                     in this scan",
                    normalize(name),
                    self.servers,
                    humantime::format_duration(self.timeout * ATTEMPTS)
                ),
            });
        }
        let mut tries = 0;
        while tries < ATTEMPTS {
            tries += 1;
            // The resolver enforces the timeout; this one only guards against a stuck future.
            let result = tokio::time::timeout(
                self.timeout + Duration::from_millis(100),
                self.resolver.lookup(parsed.clone(), rtype),
            )
            .await
            .unwrap_or(Err(NetError::Timeout));
            let class = classify(result);
            // A SERVFAIL or REFUSED came from the server too; local errors did not.
            if matches!(
                class,
                Ok(_) | Err(FailureKind::ServFail | FailureKind::Refused)
            ) {
                self.heard().last_answer = Some(Instant::now());
            }
            match class {
                Err(FailureKind::Timeout) => {}
                Err(kind) => return Err(self.failure(kind, name, rtype, None)),
                Ok(outcome) => return Ok(outcome),
            }
            // Another query found the servers gone while this one waited: no second try.
            let heard = self.heard();
            if heard.silent && heard.last_answer.is_none_or(|t| t < started) {
                break;
            }
        }
        let mut heard = self.heard();
        if heard.last_answer.is_none_or(|t| t < started) {
            heard.silent = true;
        }
        drop(heard);
        Err(self.failure(FailureKind::Timeout, name, rtype, Some(tries)))
    }

    fn heard(&self) -> std::sync::MutexGuard<'_, Heard> {
        self.heard.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failure(
        &self,
        kind: FailureKind,
        name: &str,
        rtype: RecordType,
        tries: Option<u32>,
    ) -> DnsFailure {
        let name = normalize(name);
        let message = match kind {
            FailureKind::Timeout => format!(
                "timeout: no answer from {} within {} for {name} {rtype} ({})",
                self.servers,
                humantime::format_duration(self.timeout),
                match tries.unwrap_or(1) {
                    1 => "tried once; the servers answered no other query meanwhile".to_string(),
                    n => format!("tried {n} times"),
                }
            ),
            FailureKind::ServFail => {
                format!("SERVFAIL from {} for {name} {rtype}", self.servers)
            }
            FailureKind::Refused => format!("REFUSED by {} for {name} {rtype}", self.servers),
            FailureKind::Other => format!("query {name} {rtype} failed at {}", self.servers),
        };
        DnsFailure { kind, message }
    }

    /// A and AAAA of a host, both asked at once. `Ok(outcome)` is `answer` with the addresses
    /// when either type has one, else `nxdomain` or `nodata`.
    pub async fn addresses(&self, host: &str) -> Result<(Outcome, Vec<IpAddr>), DnsFailure> {
        let (a, aaaa) = tokio::join!(
            self.query(host, RecordType::A),
            self.query(host, RecordType::AAAA)
        );
        let (a, aaaa) = (a?, aaaa?);
        let ips: Vec<IpAddr> = a
            .records()
            .iter()
            .chain(aaaa.records())
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect();
        let outcome = if !ips.is_empty() {
            Outcome::Answer(Vec::new())
        } else if a == Outcome::NxDomain || aaaa == Outcome::NxDomain {
            Outcome::NxDomain
        } else {
            Outcome::NoData
        };
        Ok((outcome, ips))
    }
}

/// Maps the resolver's result onto the outcomes reports distinguish.
fn classify(
    result: Result<hickory_resolver::lookup::Lookup, NetError>,
) -> Result<Outcome, FailureKind> {
    match result {
        Ok(lookup) if lookup.answers().is_empty() => Ok(Outcome::NoData),
        Ok(lookup) => Ok(Outcome::Answer(lookup.answers().to_vec())),
        Err(NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. }))) => {
            match response_code {
                ResponseCode::NXDomain => Ok(Outcome::NxDomain),
                ResponseCode::NoError => Ok(Outcome::NoData),
                ResponseCode::ServFail => Err(FailureKind::ServFail),
                ResponseCode::Refused => Err(FailureKind::Refused),
                _ => Err(FailureKind::Other),
            }
        }
        Err(NetError::Dns(DnsError::ResponseCode(code))) => Err(match code {
            ResponseCode::ServFail => FailureKind::ServFail,
            ResponseCode::Refused => FailureKind::Refused,
            ResponseCode::NXDomain => return Ok(Outcome::NxDomain),
            _ => FailureKind::Other,
        }),
        Err(NetError::Timeout) => Err(FailureKind::Timeout),
        Err(_) => Err(FailureKind::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_server_values() {
        assert_eq!(
            parse_dns_server("10.0.0.53").unwrap(),
            "10.0.0.53:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("[fd00::53]:54").unwrap(),
            "[fd00::53]:54".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("fd00::53").unwrap(),
            "[fd00::53]:53".parse().unwrap()
        );
        assert!(parse_dns_server("dns.corp.example").is_err());
        assert!(parse_dns_server("10.0.0.53:0").is_err());
        assert!(parse_dns_server("10.0.0.53:99999").is_err());
    }

    #[test]
    fn names_are_compared_lowercase_without_trailing_dot() {
        assert_eq!(
            normalize("EnterpriseEnrollment.Contoso.TEST."),
            "enterpriseenrollment.contoso.test"
        );
    }
}
