//! What to scan and how. A TOML file (`--config`) and the command-line flags each fill a
//! [`Settings`]; flags are layered over the file and the result is validated once into a
//! [`ScanConfig`], with every problem named by its flag or file:line:column.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod discover;
mod settings;

pub use settings::{Given, Origin, Settings};

use crate::vocab::{DEFAULT_SCOPES, SCOPES};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Probes in flight: a filtered port holds one for a whole timeout, so this bounds how many
/// filtered ports are waited on at once (and the sockets open: well under a 1,024 file limit).
pub const DEFAULT_CONCURRENCY: usize = 256;
pub const DEFAULT_PER_HOST: usize = 8;
/// Entries per page of the synchronization pass's paged search (AD's default MaxPageSize; a DC
/// returns at most its own MaxPageSize per page whatever is asked).
pub const DEFAULT_SYNC_PAGE_SIZE: u32 = 1000;
/// The largest page accepted: more is a typo, and a page is held in memory while it is judged.
pub const MAX_SYNC_PAGE_SIZE: u32 = 100_000;

/// The scan target and limits. Serialized into the report: it must never hold a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct ScanConfig {
    pub scopes: Vec<String>,
    #[serde(with = "humantime_serde_str")]
    #[schemars(with = "String")]
    pub timeout: Duration,
    pub concurrency: usize,
    /// Probes to the same host running at once (keeps a DC's intrusion detection calm).
    pub per_host: usize,
    pub domains: Vec<String>,
    pub dcs: Vec<String>,
    /// DNS servers to ask (ADDR or ADDR:PORT); empty means the system resolver.
    pub dns_servers: Vec<String>,
    /// UPN suffixes to check besides those the directory reports.
    pub upn_suffixes: Vec<String>,
    /// AD FS service names.
    pub adfs: Vec<String>,
    /// AD FS servers (host names) whose operating system is read from their computer objects,
    /// besides those a gMSA names. Left out of report.json when empty (its shape stays).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adfs_servers: Vec<String>,
    /// Configuration Manager management points (HOST or HOST:PORT).
    pub mps: Vec<String>,
    /// A ConfigMgr version typed by the admin: shown as declared, not observed.
    pub configmgr_version: Option<String>,
    /// LDAP bind user; the password never enters the config (environment or stdin only).
    pub bind_user: Option<String>,
    /// How to bind: auto (Kerberos with a ticket or Windows sign-in, else simple with
    /// --bind-user, else anonymous). Left out of report.json when auto (its shape stays).
    #[serde(default, skip_serializing_if = "BindMethod::is_auto")]
    pub bind: BindMethod,
    pub ldap_security: LdapSecurity,
    /// Extra CA certificates (PEM) to trust for LDAPS / HTTPS.
    pub ca_certs: Vec<String>,
    /// Certificate checks switched off by the admin; reports state it prominently.
    pub insecure_tls: bool,
    /// Names mapped to addresses, so cloud endpoints can be pointed at lab stand-ins.
    pub resolve: BTreeMap<String, IpAddr>,
    /// Ports given with `--target HOST=ADDR:PORT`: every port probed on HOST goes to PORT, so
    /// a lab stand-in listening on one port can play a cloud endpoint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resolve_port: BTreeMap<String, u16>,
    /// Probe Microsoft's public cloud endpoints (checks with role "cloud"); off unless asked,
    /// so no scan reaches the Internet without the admin saying so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cloud_endpoints: bool,
    /// Page size of the synchronization pass (`--sync-page-size`); left out of report.json at
    /// its default.
    #[serde(
        default = "default_sync_page_size",
        skip_serializing_if = "is_default_page"
    )]
    pub sync_page_size: u32,
}

fn default_sync_page_size() -> u32 {
    DEFAULT_SYNC_PAGE_SIZE
}

fn is_default_page(n: &u32) -> bool {
    *n == DEFAULT_SYNC_PAGE_SIZE
}

/// How readyscan binds to a DC for the reads beyond the rootDSE.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum BindMethod {
    /// Kerberos when a ticket or Windows sign-in is there, else simple with --bind-user, else
    /// anonymous.
    #[default]
    Auto,
    /// Kerberos (GSSAPI, SSPI on Windows) with the current sign-in.
    Kerberos,
    /// A simple bind as --bind-user with the password from the environment or stdin.
    Simple,
    /// No bind: the anonymous rootDSE reads only.
    Anonymous,
}

impl BindMethod {
    pub fn is_auto(&self) -> bool {
        *self == BindMethod::Auto
    }
}

/// How LDAP is protected. `Auto` tries LDAPS, then StartTLS.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum LdapSecurity {
    #[default]
    Auto,
    Ldaps,
    Starttls,
    Plain,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            per_host: DEFAULT_PER_HOST,
            domains: Vec::new(),
            dcs: Vec::new(),
            dns_servers: Vec::new(),
            upn_suffixes: Vec::new(),
            adfs: Vec::new(),
            adfs_servers: Vec::new(),
            mps: Vec::new(),
            configmgr_version: None,
            bind_user: None,
            bind: BindMethod::Auto,
            ldap_security: LdapSecurity::Auto,
            ca_certs: Vec::new(),
            insecure_tls: false,
            resolve: BTreeMap::new(),
            resolve_port: BTreeMap::new(),
            cloud_endpoints: false,
            sync_page_size: DEFAULT_SYNC_PAGE_SIZE,
        }
    }
}

/// The longest per-probe timeout accepted: longer is a typo, and budgets multiply it.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The most probes (or probes per host) at once: beyond it the runtime's limits, not the network's.
pub const MAX_CONCURRENCY: usize = 65_536;

pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("\"{s}\" is not a duration like 2s or 500ms ({e})"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    if d > MAX_TIMEOUT {
        return Err(format!("\"{s}\" is longer than the 1h maximum"));
    }
    Ok(d)
}

pub fn check_sync_page_size(n: u32) -> Result<u32, String> {
    if n == 0 || n > MAX_SYNC_PAGE_SIZE {
        return Err(format!(
            "{n} is not a page size from 1 to {MAX_SYNC_PAGE_SIZE} (default {DEFAULT_SYNC_PAGE_SIZE})"
        ));
    }
    Ok(n)
}

pub fn check_concurrency(n: usize) -> Result<usize, String> {
    if n == 0 {
        return Err("must be at least 1".into());
    }
    if n > MAX_CONCURRENCY {
        return Err(format!("{n} is more than the maximum of {MAX_CONCURRENCY}"));
    }
    Ok(n)
}

pub fn parse_scopes(scopes: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if !SCOPES.contains(&s) {
            return Err(format!(
                "unknown scope \"{s}\", expected one of {}",
                SCOPES.join(", ")
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err("at least one scope is needed".into());
    }
    Ok(out)
}

impl ScanConfig {
    /// Records a `--target` / `[resolve]` mapping.
    pub fn add_target(&mut self, host: &str, ip: IpAddr, port: Option<u16>) {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        // A later mapping replaces an earlier one whole, port override included.
        match port {
            Some(p) => self.resolve_port.insert(host.clone(), p),
            None => self.resolve_port.remove(&host),
        };
        self.resolve.insert(host, ip);
    }

    /// The address the admin mapped `host` to, with the port override if one was given.
    pub fn mapped(&self, host: &str, port: u16) -> Option<SocketAddr> {
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        let ip = self.resolve.get(&key)?;
        Some(SocketAddr::new(
            *ip,
            self.resolve_port.get(&key).copied().unwrap_or(port),
        ))
    }
}

/// `ADDR`, `ADDR:PORT` or `[V6]:PORT`.
pub fn parse_addr(addr: &str) -> Result<(IpAddr, Option<u16>), String> {
    let addr = addr.trim();
    if let Ok(ip) = addr.parse() {
        return Ok((ip, None));
    }
    match addr.parse::<SocketAddr>() {
        Ok(sa) if sa.port() != 0 => Ok((sa.ip(), Some(sa.port()))),
        Ok(_) => Err(format!("\"{addr}\": port 0 is outside 1-65535")),
        Err(_) => Err(format!(
            "\"{addr}\" is not an IP address (ADDR or ADDR:PORT, port 1-65535)"
        )),
    }
}

/// Parses `HOST=ADDR` or `HOST=ADDR:PORT` as given to `--target`.
pub fn parse_target(s: &str) -> Result<(String, IpAddr, Option<u16>), String> {
    let (host, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("\"{s}\" is not HOST=ADDR or HOST=ADDR:PORT"))?;
    let host = host.trim();
    if host.is_empty() {
        return Err(format!("\"{s}\" has an empty host name"));
    }
    let (ip, port) = parse_addr(addr).map_err(|e| format!("{e} in \"{s}\""))?;
    Ok((host.to_ascii_lowercase(), ip, port))
}

/// Parses a `--dns-server` value: `10.0.0.53`, `10.0.0.53:5353`, `[fd00::53]:53` or `fd00::53`.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        if addr.port() == 0 {
            return Err(format!("\"{s}\": port 0 is not a DNS server port"));
        }
        return Ok(addr);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "\"{s}\" is not ADDR or ADDR:PORT (an IP address, e.g. 10.0.0.53 or 10.0.0.53:5353)"
    ))
}

/// The build number inside a ConfigMgr version (5.00.9128.1000 -> 9128; a bare build too).
pub fn configmgr_build(version: &str) -> Option<u32> {
    let parts: Vec<&str> = version.trim().split('.').collect();
    let build = match parts.len() {
        1 => parts[0],
        n if n >= 3 => parts[2],
        _ => return None,
    };
    build.parse().ok()
}

/// Serializes a Duration as "2s" / "500ms".
mod humantime_serde_str {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_timeout("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("fast").is_err());
        assert!(parse_timeout("2h").unwrap_err().contains("1h maximum"));
        assert!(parse_timeout("500000000000years").is_err());
        assert!(check_concurrency(1 << 62).is_err());
        assert_eq!(check_concurrency(65_536), Ok(65_536));
    }

    #[test]
    fn targets() {
        let (h, ip, port) = parse_target("Login.Example=10.231.0.2").unwrap();
        assert_eq!(h, "login.example");
        assert_eq!(ip.to_string(), "10.231.0.2");
        assert_eq!(port, None);
        let (_, ip, port) = parse_target("a=127.0.0.1:8443").unwrap();
        assert_eq!((ip.to_string(), port), ("127.0.0.1".into(), Some(8443)));
        assert!(parse_target("a=127.0.0.1:0").is_err());
        assert!(parse_target("a=127.0.0.1:70000").is_err());
        let mut c = ScanConfig::default();
        c.add_target("Manage.Example.", "127.0.0.1".parse().unwrap(), Some(9));
        assert_eq!(
            c.mapped("manage.example", 443).unwrap().to_string(),
            "127.0.0.1:9"
        );
        assert_eq!(c.mapped("other.example", 443), None);
        assert!(parse_target("nohost").is_err());
        assert!(parse_target("=10.0.0.1").is_err());
        assert!(parse_target("a=999.1.1.1").is_err());
    }

    #[test]
    fn scopes() {
        assert_eq!(
            parse_scopes(&["core,intune".into(), "core".into()]).unwrap(),
            vec!["core", "intune"]
        );
        assert!(parse_scopes(&["cloud".into()]).is_err());
    }
}
