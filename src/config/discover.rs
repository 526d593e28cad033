//! The machine's own domain, for a scan given no target: on Windows the signed-in user's DNS
//! domain (`USERDNSDOMAIN`) and the computer's DNS suffixes; elsewhere the Kerberos default
//! realm, the host's FQDN and the resolver's search list. Local reads only, no traffic.

use super::ScanConfig;

/// A domain found and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub domain: String,
    pub from: String,
}

/// What each source holds; filled by [`Sources::of_this_host`], or by hand in tests.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `USERDNSDOMAIN` (Windows).
    pub user_dns_domain: Option<String>,
    /// The Kerberos default realm and the file that set it.
    pub krb5_realm: Option<(String, String)>,
    /// The host's fully qualified name.
    pub host_fqdn: Option<String>,
    /// The resolver's domain and search list, and where they were read.
    pub search: Vec<String>,
    pub search_from: String,
}

/// Overrides where the resolver's search list is read (empty: none); tests and unusual hosts.
pub const RESOLV_CONF_ENV: &str = "READYSCAN_RESOLV_CONF";
/// Overrides the host's FQDN (empty: none); tests and hosts whose name is short.
pub const HOST_FQDN_ENV: &str = "READYSCAN_HOST_FQDN";

/// Whether the scan names nothing to look at while its scopes read the directory (`core`):
/// then the machine's domain is the target.
pub fn names_nothing(config: &ScanConfig) -> bool {
    config.scopes.iter().any(|s| s == "core")
        && config.domains.is_empty()
        && config.dcs.is_empty()
        && config.mps.is_empty()
        && config.adfs.is_empty()
        && config.adfs_servers.is_empty()
        && config.upn_suffixes.is_empty()
        && !config.cloud_endpoints
}

/// The first domain the sources give, in the documented order.
pub fn domain(sources: &Sources) -> Option<Found> {
    let found = |d: &str, from: String| {
        let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        // A single label is a host or a realm typo, not an AD DNS domain worth scanning.
        (d.contains('.') && !d.starts_with('.') && !d.contains(' '))
            .then_some(Found { domain: d, from })
    };
    let candidates = [
        sources
            .user_dns_domain
            .as_deref()
            .and_then(|d| found(d, "USERDNSDOMAIN (the signed-in user's domain)".into())),
        sources.krb5_realm.as_ref().and_then(|(realm, file)| {
            found(realm, format!("the Kerberos default realm in {file}"))
        }),
        sources.host_fqdn.as_deref().and_then(|fqdn| {
            let (_, domain) = fqdn.split_once('.')?;
            found(domain, format!("this host's name {fqdn}"))
        }),
    ];
    candidates.into_iter().flatten().next().or_else(|| {
        sources
            .search
            .iter()
            .filter(|d| !matches!(d.trim_end_matches('.'), "localdomain" | "local"))
            .find_map(|d| {
                found(
                    d,
                    format!("the resolver's search list ({})", sources.search_from),
                )
            })
    })
}

impl Sources {
    /// Reads this host's sources.
    pub fn of_this_host() -> Sources {
        let env = |k: &str| std::env::var(k).ok();
        let mut s = Sources {
            host_fqdn: match env(HOST_FQDN_ENV) {
                Some(v) => Some(v).filter(|v| !v.is_empty()),
                None => gethostname::gethostname().into_string().ok(),
            },
            ..Sources::default()
        };
        if cfg!(windows) {
            s.user_dns_domain = env("USERDNSDOMAIN").filter(|v| !v.is_empty());
        } else {
            s.krb5_realm = krb5_files().into_iter().find_map(|file| {
                let text = std::fs::read_to_string(&file).ok()?;
                Some((default_realm(&text)?, file))
            });
        }
        let (search, from) = search_list();
        s.search = search;
        s.search_from = from;
        s
    }
}

/// The krb5 configuration files, as libkrb5 reads them (`KRB5_CONFIG` is a colon list).
fn krb5_files() -> Vec<String> {
    match std::env::var("KRB5_CONFIG") {
        Ok(list) => list
            .split(':')
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => vec!["/etc/krb5.conf".to_string()],
    }
}

/// `default_realm` of the `[libdefaults]` section.
pub fn default_realm(text: &str) -> Option<String> {
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
            continue;
        }
        if section != "libdefaults" {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "default_realm" && !value.trim().is_empty() {
                return Some(value.trim().to_string());
            }
        }
    }
    None
}

#[cfg(all(unix, not(any(target_os = "android", target_vendor = "apple"))))]
fn search_list() -> (Vec<String>, String) {
    let path = std::env::var(RESOLV_CONF_ENV).unwrap_or_else(|_| "/etc/resolv.conf".into());
    if path.is_empty() {
        return (Vec::new(), String::new());
    }
    let parsed = std::fs::read(&path)
        .ok()
        .and_then(|data| hickory_resolver::system_conf::parse_resolv_conf(data).ok());
    (parsed.map(|(c, _)| names(&c)).unwrap_or_default(), path)
}

#[cfg(not(all(unix, not(any(target_os = "android", target_vendor = "apple")))))]
fn search_list() -> (Vec<String>, String) {
    if std::env::var(RESOLV_CONF_ENV).is_ok_and(|v| v.is_empty()) {
        return (Vec::new(), String::new());
    }
    let parsed = hickory_resolver::system_conf::read_system_conf().ok();
    let names = parsed.map(|(c, _)| names(&c)).unwrap_or_default();
    (names, "the network adapters' DNS suffixes".into())
}

fn names(c: &hickory_resolver::config::ResolverConfig) -> Vec<String> {
    c.domain()
        .into_iter()
        .chain(c.search())
        .map(|n| n.to_string())
        .collect()
}

/// The message when nothing names a target and nothing was found.
pub const NOTHING_FOUND: &str = "no domain to scan: this host names none (no USERDNSDOMAIN, \
    Kerberos default realm, FQDN or resolver search domain); give --domain NAME or --dc HOST";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_source_that_names_a_domain_wins() {
        let mut s = Sources {
            krb5_realm: Some(("LAB.EXAMPLE".into(), "/etc/krb5.conf".into())),
            host_fqdn: Some("ws1.corp.example".into()),
            search: vec!["localdomain".into(), "other.example.".into()],
            search_from: "/etc/resolv.conf".into(),
            ..Sources::default()
        };
        let f = domain(&s).unwrap();
        assert_eq!(f.domain, "lab.example");
        assert_eq!(f.from, "the Kerberos default realm in /etc/krb5.conf");
        s.user_dns_domain = Some("CORP.EXAMPLE".into());
        assert_eq!(domain(&s).unwrap().domain, "corp.example");
        s.user_dns_domain = None;
        s.krb5_realm = None;
        assert_eq!(
            domain(&s).unwrap().from,
            "this host's name ws1.corp.example"
        );
        s.host_fqdn = Some("ws1".into());
        let f = domain(&s).unwrap();
        assert_eq!(f.domain, "other.example");
        assert!(f.from.contains("search list (/etc/resolv.conf)"));
        s.search = vec!["localdomain".into(), "lan".into()];
        assert_eq!(domain(&s), None);
    }

    #[test]
    fn default_realm_is_read_from_libdefaults_only() {
        let text = "[realms]\n default_realm = WRONG.EXAMPLE\n[libdefaults]\n  # x\n  \
                    dns_lookup_kdc = false\n  default_realm = LAB.EXAMPLE\n";
        assert_eq!(default_realm(text).as_deref(), Some("LAB.EXAMPLE"));
        assert_eq!(default_realm("[libdefaults]\n default_realm =\n"), None);
        assert_eq!(default_realm(""), None);
    }

    #[test]
    fn anything_named_turns_discovery_off() {
        let mut c = ScanConfig::default();
        assert!(names_nothing(&c));
        c.mps.push("mp1".into());
        assert!(!names_nothing(&c));
        let c = ScanConfig {
            scopes: vec!["intune".into()],
            ..ScanConfig::default()
        };
        assert!(!names_nothing(&c), "only `core` reads the directory");
    }
}
