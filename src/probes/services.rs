//! What every probe of a scan shares, built once before probing: the DNS resolver, the TLS
//! trust roots and client configuration, and the HTTP client for management points. A bad
//! `--ca-cert` fails here, once, instead of in every probe.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpStream;

use rustls::{ClientConfig, RootCertStore};

use crate::config::ScanConfig;
use crate::probes::kerberos::BindPlan;
use crate::probes::resolver::Dns;
use crate::probes::{tls, ProbeError};

/// A problem with the scan's own inputs that stops it before any traffic.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    TrustRoots(String),
    #[error("{0}")]
    Tls(String),
}

pub struct Services {
    /// The scan's resolver, or why it could not be built (DNS probes then report it).
    dns: Result<Arc<Dns>, String>,
    /// The system roots plus every `--ca-cert`.
    pub roots: Arc<RootCertStore>,
    /// Verifies against `roots`, or accepts anything with `--insecure-tls`.
    pub tls: Arc<ClientConfig>,
    /// For management points: no proxy, no redirects, `--target` names pinned.
    http: Result<reqwest::Client, String>,
    /// The scan's first bind, shared by every bound probe (see [`BindGate`]).
    pub bind_gate: BindGate,
    /// Which binds the bound probes try (Kerberos, simple), decided once.
    pub bind: BindPlan,
    /// Addresses a connect of this scan waited a whole timeout on, and source addresses.
    connects: Connects,
}

/// What this scan learned about connecting: a faulty port costs one timeout per scan, not one
/// per probe that touches it, and the route to a destination is looked up once.
#[derive(Default)]
struct Connects {
    silent: Mutex<HashSet<SocketAddr>>,
    sources: Mutex<HashMap<IpAddr, Option<IpAddr>>>,
}

/// A connect that got no answer within the timeout.
#[derive(Debug, Clone, Copy)]
pub struct Silent {
    pub timeout: Duration,
    /// An earlier probe of this scan waited on the same address already; this one did not.
    pub earlier: bool,
}

impl std::fmt::Display for Silent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no answer within {}",
            humantime::format_duration(self.timeout)
        )?;
        if self.earlier {
            write!(f, " (an earlier probe of this scan waited on it)")?;
        }
        Ok(())
    }
}

/// Lockout policies count failed binds: the first bind of a scan runs alone, and once a DC has
/// rejected the credentials no probe sends them again. Later probes bind only after a success.
#[derive(Default)]
pub struct BindGate(tokio::sync::Mutex<BindState>);

#[derive(Default, Clone)]
pub enum BindState {
    /// Nobody has bound yet.
    #[default]
    Untried,
    /// A bind succeeded: the credentials are good.
    Accepted,
    /// A DC rejected the credentials (result 49); the message says who and why.
    Rejected(String),
}

impl BindGate {
    /// Runs `bind` unless the credentials were rejected already; the first call holds the gate
    /// until it knows the answer, so concurrent probes never send a wrong password twice.
    pub async fn pass<T, F, Fut>(&self, bind: F) -> Result<T, ProbeError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = (Result<T, ProbeError>, BindState)>,
    {
        let mut state = self.0.lock().await;
        if let BindState::Rejected(why) = &*state {
            return Err(ProbeError::BindRejected(why.clone()));
        }
        if matches!(*state, BindState::Accepted) {
            drop(state);
            return bind().await.0;
        }
        let (answer, learned) = bind().await;
        if !matches!(learned, BindState::Untried) {
            *state = learned;
        }
        answer
    }
}

impl Services {
    /// Builds the shared services. Only the trust roots and TLS setup can fail the scan.
    pub fn build(config: &ScanConfig) -> Result<Services, ServiceError> {
        let roots = Arc::new(tls::roots(config).map_err(ServiceError::TrustRoots)?);
        let tls = tls::client_config(config, roots.clone()).map_err(ServiceError::Tls)?;
        let dns = Dns::new(config, config.timeout).map(Arc::new);
        let http = http_client(config, &tls, dns.as_ref().ok().cloned());
        Ok(Services {
            dns,
            roots,
            tls,
            http,
            bind_gate: BindGate::default(),
            bind: BindPlan::decide(config),
            connects: Connects::default(),
        })
    }

    /// A TCP connect within `timeout`; an address that stayed silent for a whole timeout
    /// earlier in the scan is answered at once (a dropped port is not waited on again).
    pub async fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<std::io::Result<TcpStream>, Silent> {
        let known = |s: &Mutex<HashSet<SocketAddr>>| s.lock().is_ok_and(|s| s.contains(&addr));
        if known(&self.connects.silent) {
            return Err(Silent {
                timeout,
                earlier: true,
            });
        }
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(r) => Ok(r),
            Err(_) => {
                if let Ok(mut silent) = self.connects.silent.lock() {
                    silent.insert(addr);
                }
                Err(Silent {
                    timeout,
                    earlier: false,
                })
            }
        }
    }

    /// Records that `addr` accepted a connect but then did not answer within a timeout (a
    /// frozen server): later connects of the scan to it are answered at once too.
    pub fn mark_silent(&self, addr: SocketAddr) {
        if let Ok(mut silent) = self.connects.silent.lock() {
            silent.insert(addr);
        }
    }

    /// The source address the kernel would pick for `dest`, looked up once per destination.
    pub fn source_address(&self, dest: SocketAddr) -> Option<IpAddr> {
        if let Some(known) = self
            .connects
            .sources
            .lock()
            .ok()
            .and_then(|m| m.get(&dest.ip()).copied())
        {
            return known;
        }
        let found = crate::probes::net::source_address(dest);
        if let Ok(mut m) = self.connects.sources.lock() {
            m.insert(dest.ip(), found);
        }
        found
    }

    pub fn dns(&self) -> Result<Arc<Dns>, ProbeError> {
        self.dns.clone().map_err(ProbeError::Failed)
    }

    pub fn http(&self) -> Result<&reqwest::Client, ProbeError> {
        self.http
            .as_ref()
            .map_err(|e| ProbeError::Failed(e.clone()))
    }
}

fn http_client(
    config: &ScanConfig,
    tls: &ClientConfig,
    dns: Option<Arc<Dns>>,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        // Management points are internal: a proxy from the environment would only get in the way.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("readyscan/", env!("CARGO_PKG_VERSION")));
    // `--target` names first (reqwest's overrides), then the scan's own resolution order.
    for (name, ip) in &config.resolve {
        builder = builder.resolve(name, std::net::SocketAddr::new(*ip, 0));
    }
    if !config.dns_servers.is_empty() {
        let dns = dns.ok_or("HTTP client: the --dns-server resolver could not be built")?;
        builder = builder.dns_resolver(ScanResolver(dns));
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

/// Names of management points resolve through `--dns-server` when given, like every other
/// probe's names: lab names never reach the system resolver.
struct ScanResolver(Arc<Dns>);

impl reqwest::dns::Resolve for ScanResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let dns = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let (_, ips) = dns
                .addresses(&host)
                .await
                .map_err(|e| format!("{host} not resolved: {e}"))?;
            if ips.is_empty() {
                return Err(format!("{host} has no address (asked {})", dns.servers()).into());
            }
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| std::net::SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
