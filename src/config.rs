//! What to scan and how: a TOML file (`--config`) merged with command-line flags.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{line_col, SCOPES};

pub const DEFAULT_SCOPES: &[&str] = &["core", "intune"];
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
pub const DEFAULT_CONCURRENCY: usize = 64;
pub const DEFAULT_PER_HOST: usize = 8;

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
    /// Configuration Manager management points (HOST or HOST:PORT).
    pub mps: Vec<String>,
    /// A ConfigMgr version typed by the admin: shown as declared, not observed.
    pub configmgr_version: Option<String>,
    /// LDAP bind user; the password never enters the config (environment or stdin only).
    pub bind_user: Option<String>,
    pub ldap_security: LdapSecurity,
    /// Extra CA certificates (PEM) to trust for LDAPS / HTTPS.
    pub ca_certs: Vec<String>,
    /// Certificate checks switched off by the admin; reports state it prominently.
    pub insecure_tls: bool,
    /// Names mapped to addresses, so cloud endpoints can be pointed at lab stand-ins.
    pub resolve: BTreeMap<String, IpAddr>,
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
            mps: Vec::new(),
            configmgr_version: None,
            bind_user: None,
            ldap_security: LdapSecurity::Auto,
            ca_certs: Vec::new(),
            insecure_tls: false,
            resolve: BTreeMap::new(),
        }
    }
}

/// The config file as written; every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub scopes: Option<Vec<String>>,
    pub timeout: Option<String>,
    pub concurrency: Option<usize>,
    pub per_host: Option<usize>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub dcs: Vec<String>,
    #[serde(default)]
    pub dns_servers: Vec<String>,
    #[serde(default)]
    pub upn_suffixes: Vec<String>,
    #[serde(default)]
    pub adfs: Vec<String>,
    #[serde(default)]
    pub mps: Vec<String>,
    pub configmgr_version: Option<String>,
    pub bind_user: Option<String>,
    pub ldap_security: Option<LdapSecurity>,
    #[serde(default)]
    pub ca_certs: Vec<String>,
    pub insecure_tls: Option<bool>,
    #[serde(default)]
    pub resolve: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| {
            let (line, column) = line_col(&text, e.span().map(|s| s.start).unwrap_or(0));
            ConfigError::Parse {
                file,
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })
    }

    /// Applies the file onto defaults; `origin` names the file in errors.
    pub fn apply(self, config: &mut ScanConfig, origin: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            message,
        };
        if let Some(scopes) = self.scopes {
            config.scopes = parse_scopes(&scopes).map_err(invalid)?;
        }
        if let Some(t) = self.timeout {
            config.timeout = parse_timeout(&t).map_err(|e| invalid(format!("timeout: {e}")))?;
        }
        if let Some(c) = self.concurrency {
            config.concurrency =
                check_concurrency(c).map_err(|e| invalid(format!("concurrency: {e}")))?;
        }
        if let Some(c) = self.per_host {
            config.per_host =
                check_concurrency(c).map_err(|e| invalid(format!("per_host: {e}")))?;
        }
        config.domains.extend(self.domains);
        config.dcs.extend(self.dcs);
        for server in &self.dns_servers {
            crate::probes::resolver::parse_dns_server(server)
                .map_err(|e| invalid(format!("dns_servers: {e}")))?;
        }
        config.dns_servers.extend(self.dns_servers);
        config.upn_suffixes.extend(self.upn_suffixes);
        config.adfs.extend(self.adfs);
        config.mps.extend(self.mps);
        config.ca_certs.extend(self.ca_certs);
        if self.configmgr_version.is_some() {
            config.configmgr_version = self.configmgr_version;
        }
        if self.bind_user.is_some() {
            config.bind_user = self.bind_user;
        }
        if let Some(s) = self.ldap_security {
            config.ldap_security = s;
        }
        if let Some(i) = self.insecure_tls {
            config.insecure_tls = i;
        }
        for (name, addr) in self.resolve {
            let ip = addr.parse().map_err(|_| {
                invalid(format!(
                    "resolve.\"{name}\": \"{addr}\" is not an IP address"
                ))
            })?;
            config.resolve.insert(name.to_ascii_lowercase(), ip);
        }
        Ok(())
    }
}

pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("\"{s}\" is not a duration like 2s or 500ms ({e})"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

pub fn check_concurrency(n: usize) -> Result<usize, String> {
    if n == 0 {
        return Err("must be at least 1".into());
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

/// Parses `HOST=ADDR` as given to `--target`.
pub fn parse_target(s: &str) -> Result<(String, IpAddr), String> {
    let (host, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("\"{s}\" is not HOST=ADDR"))?;
    let host = host.trim();
    if host.is_empty() {
        return Err(format!("\"{s}\" has an empty host name"));
    }
    let ip = addr
        .trim()
        .parse()
        .map_err(|_| format!("\"{}\" in \"{s}\" is not an IP address", addr.trim()))?;
    Ok((host.to_ascii_lowercase(), ip))
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
    }

    #[test]
    fn targets() {
        let (h, ip) = parse_target("Login.Example=10.231.0.2").unwrap();
        assert_eq!(h, "login.example");
        assert_eq!(ip.to_string(), "10.231.0.2");
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
