//! Settings as given: every value optional and tagged with where it came from, so the TOML
//! file and the flags fill the same type and one validation names the flag or file:line:column.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::{
    check_concurrency, check_sync_page_size, configmgr_build, parse_addr, parse_dns_server,
    parse_scopes, parse_target, parse_timeout, BindMethod, LdapSecurity, ScanConfig,
};
use crate::diagnostic::{line_col, Diagnostic, Diagnostics};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    File {
        file: String,
        line: usize,
        column: usize,
        key: String,
    },
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Given<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Given<T> {
    pub fn flag(flag: &'static str, value: T) -> Given<T> {
        Given {
            value,
            origin: Origin::Flag(flag),
        }
    }

    /// The value's problem as a diagnostic: `--timeout: ...` or `scan.toml:2:11: timeout: ...`.
    fn problem(&self, code: &'static str, message: String) -> Diagnostic {
        match &self.origin {
            Origin::Flag(flag) => Diagnostic::whole(flag, code, message),
            Origin::File {
                file,
                line,
                column,
                key,
            } => Diagnostic {
                file: file.clone(),
                line: *line,
                column: *column,
                code,
                message: format!("{key}: {message}"),
            },
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => f.write_str(flag),
            Origin::File {
                file, line, column, ..
            } => write!(f, "{file}:{line}:{column}"),
        }
    }
}

/// Scan settings as given by a config file or flags; [`Settings::then`] layers them and
/// [`Settings::into_config`] validates the result.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub scopes: Option<Given<Vec<String>>>,
    pub timeout: Option<Given<String>>,
    pub concurrency: Option<Given<usize>>,
    pub per_host: Option<Given<usize>>,
    pub sync_page_size: Option<Given<u32>>,
    pub domains: Vec<Given<String>>,
    pub dcs: Vec<Given<String>>,
    pub dns_servers: Vec<Given<String>>,
    pub upn_suffixes: Vec<Given<String>>,
    pub adfs: Vec<Given<String>>,
    pub adfs_servers: Vec<Given<String>>,
    pub mps: Vec<Given<String>>,
    pub configmgr_version: Option<Given<String>>,
    pub bind_user: Option<Given<String>>,
    pub bind: Option<Given<BindMethod>>,
    pub ldap_security: Option<LdapSecurity>,
    pub ca_certs: Vec<Given<String>>,
    pub insecure_tls: Option<bool>,
    pub cloud_endpoints: Option<bool>,
    /// `HOST=ADDR[:PORT]` from `--target`.
    pub targets: Vec<Given<String>>,
    /// `[resolve]` entries of a file: host and address.
    pub resolve: Vec<Given<(String, String)>>,
}

/// The config file as written; every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    scopes: Option<Spanned<Vec<String>>>,
    timeout: Option<Spanned<String>>,
    concurrency: Option<Spanned<usize>>,
    per_host: Option<Spanned<usize>>,
    sync_page_size: Option<Spanned<u32>>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    #[serde(default)]
    dcs: Vec<Spanned<String>>,
    #[serde(default)]
    dns_servers: Vec<Spanned<String>>,
    #[serde(default)]
    upn_suffixes: Vec<Spanned<String>>,
    #[serde(default)]
    adfs: Vec<Spanned<String>>,
    #[serde(default)]
    adfs_servers: Vec<Spanned<String>>,
    #[serde(default)]
    mps: Vec<Spanned<String>>,
    configmgr_version: Option<Spanned<String>>,
    bind_user: Option<Spanned<String>>,
    bind: Option<Spanned<BindMethod>>,
    ldap_security: Option<LdapSecurity>,
    #[serde(default)]
    ca_certs: Vec<Spanned<String>>,
    insecure_tls: Option<bool>,
    #[serde(default)]
    resolve: BTreeMap<String, Spanned<String>>,
    cloud_endpoints: Option<bool>,
}

/// A value of a config file, with its place.
fn given_of<T>(text: &str, file: &str, key: &str, v: Spanned<T>) -> Given<T> {
    let (line, column) = line_col(text, v.span().start);
    Given {
        origin: Origin::File {
            file: file.to_string(),
            line,
            column,
            key: key.to_string(),
        },
        value: v.into_inner(),
    }
}

impl Settings {
    /// Reads a config file's text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Settings, Diagnostics> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            Diagnostic::at(
                file,
                text,
                e.span().map(|s| s.start).unwrap_or(0),
                "config-syntax",
                e.message().trim(),
            )
        })?;
        let list = |key: &str, v: Vec<Spanned<String>>| -> Vec<Given<String>> {
            v.into_iter()
                .map(|s| given_of(text, file, key, s))
                .collect()
        };
        Ok(Settings {
            scopes: raw.scopes.map(|v| given_of(text, file, "scopes", v)),
            timeout: raw.timeout.map(|v| given_of(text, file, "timeout", v)),
            concurrency: raw
                .concurrency
                .map(|v| given_of(text, file, "concurrency", v)),
            per_host: raw.per_host.map(|v| given_of(text, file, "per_host", v)),
            sync_page_size: raw
                .sync_page_size
                .map(|v| given_of(text, file, "sync_page_size", v)),
            domains: list("domains", raw.domains),
            dcs: list("dcs", raw.dcs),
            dns_servers: list("dns_servers", raw.dns_servers),
            upn_suffixes: list("upn_suffixes", raw.upn_suffixes),
            adfs: list("adfs", raw.adfs),
            adfs_servers: list("adfs_servers", raw.adfs_servers),
            mps: list("mps", raw.mps),
            configmgr_version: raw
                .configmgr_version
                .map(|v| given_of(text, file, "configmgr_version", v)),
            bind_user: raw.bind_user.map(|v| given_of(text, file, "bind_user", v)),
            bind: raw.bind.map(|v| given_of(text, file, "bind", v)),
            ldap_security: raw.ldap_security,
            ca_certs: list("ca_certs", raw.ca_certs),
            insecure_tls: raw.insecure_tls,
            cloud_endpoints: raw.cloud_endpoints,
            targets: Vec::new(),
            resolve: raw
                .resolve
                .into_iter()
                .map(|(host, addr)| {
                    let key = format!("resolve.\"{host}\"");
                    let g = given_of(text, file, &key, addr);
                    Given {
                        value: (host, g.value),
                        origin: g.origin,
                    }
                })
                .collect(),
        })
    }

    /// `later` over `self`: its single values win, its lists add to ours.
    pub fn then(mut self, later: Settings) -> Settings {
        fn over<T>(base: &mut Option<T>, later: Option<T>) {
            if later.is_some() {
                *base = later;
            }
        }
        over(&mut self.scopes, later.scopes);
        over(&mut self.timeout, later.timeout);
        over(&mut self.concurrency, later.concurrency);
        over(&mut self.per_host, later.per_host);
        over(&mut self.sync_page_size, later.sync_page_size);
        over(&mut self.configmgr_version, later.configmgr_version);
        over(&mut self.bind_user, later.bind_user);
        over(&mut self.bind, later.bind);
        over(&mut self.ldap_security, later.ldap_security);
        // A switch on the command line is Some(true) when given, None otherwise.
        over(&mut self.insecure_tls, later.insecure_tls);
        over(&mut self.cloud_endpoints, later.cloud_endpoints);
        self.domains.extend(later.domains);
        self.dcs.extend(later.dcs);
        self.dns_servers.extend(later.dns_servers);
        self.upn_suffixes.extend(later.upn_suffixes);
        self.adfs.extend(later.adfs);
        self.adfs_servers.extend(later.adfs_servers);
        self.mps.extend(later.mps);
        self.ca_certs.extend(later.ca_certs);
        self.targets.extend(later.targets);
        self.resolve.extend(later.resolve);
        self
    }

    /// Validates every value onto the defaults; all problems are reported at once.
    pub fn into_config(self) -> Result<ScanConfig, Diagnostics> {
        let mut config = ScanConfig::default();
        let mut problems = Vec::new();
        fn note<T>(
            problems: &mut Vec<Diagnostic>,
            g: &Given<T>,
            code: &'static str,
            r: Result<(), String>,
        ) {
            if let Err(e) = r {
                problems.push(g.problem(code, e));
            }
        }
        macro_rules! check {
            ($g:expr, $code:expr, $r:expr $(,)?) => {
                note(&mut problems, $g, $code, $r)
            };
        }
        if let Some(g) = &self.scopes {
            match parse_scopes(&g.value) {
                Ok(s) => config.scopes = s,
                Err(e) => check!(g, "unknown-scope", Err(e)),
            }
        }
        if let Some(g) = &self.timeout {
            match parse_timeout(&g.value) {
                Ok(t) => config.timeout = t,
                Err(e) => check!(g, "bad-timeout", Err(e)),
            }
        }
        if let Some(g) = &self.concurrency {
            match check_concurrency(g.value) {
                Ok(n) => config.concurrency = n,
                Err(e) => check!(g, "bad-concurrency", Err(e)),
            }
        }
        if let Some(g) = &self.per_host {
            match check_concurrency(g.value) {
                Ok(n) => config.per_host = n,
                Err(e) => check!(g, "bad-concurrency", Err(e)),
            }
        }
        if let Some(g) = &self.sync_page_size {
            match check_sync_page_size(g.value) {
                Ok(n) => config.sync_page_size = n,
                Err(e) => check!(g, "bad-sync-page-size", Err(e)),
            }
        }
        for g in &self.dns_servers {
            check!(g, "bad-dns-server", parse_dns_server(&g.value).map(|_| ()));
        }
        for g in &self.ca_certs {
            let readable = std::path::Path::new(&g.value).is_file();
            check!(
                g,
                "unreadable-ca-cert",
                if readable {
                    Ok(())
                } else {
                    Err(format!("{} is not a readable file", g.value))
                },
            );
        }
        if let Some(g) = &self.configmgr_version {
            let ok = configmgr_build(&g.value).is_some();
            check!(
                g,
                "bad-configmgr-version",
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "\"{}\" is not a version like 5.00.9128.1000",
                        g.value
                    ))
                },
            );
        }
        if let Some(g) = &self.bind {
            let user = self.bind_user.is_some();
            let r = match g.value {
                BindMethod::Simple if !user => Err(
                    "a simple bind needs --bind-user USER (user@domain or DOMAIN\\user)"
                        .to_string(),
                ),
                BindMethod::Kerberos | BindMethod::Anonymous if user => Err(format!(
                    "{} binds without --bind-user: drop it, or use --bind simple or auto",
                    match g.value {
                        BindMethod::Kerberos => "kerberos uses the current sign-in and",
                        _ => "anonymous",
                    }
                )),
                _ => Ok(()),
            };
            check!(g, "bind-user-mismatch", r);
        }
        for g in &self.resolve {
            match parse_addr(&g.value.1) {
                Ok((ip, port)) => config.add_target(&g.value.0, ip, port),
                Err(e) => check!(g, "bad-target", Err(e)),
            }
        }
        for g in &self.targets {
            match parse_target(&g.value) {
                Ok((host, ip, port)) => config.add_target(&host, ip, port),
                Err(e) => check!(g, "bad-target", Err(e)),
            }
        }
        if !problems.is_empty() {
            // In file order; flag problems (no position) first.
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            return Err(Diagnostics(problems));
        }
        let values = |v: Vec<Given<String>>| v.into_iter().map(|g| g.value);
        config.domains.extend(values(self.domains));
        config.dcs.extend(values(self.dcs));
        config.dns_servers.extend(values(self.dns_servers));
        config.upn_suffixes.extend(values(self.upn_suffixes));
        config.adfs.extend(values(self.adfs));
        config.adfs_servers.extend(values(self.adfs_servers));
        config.mps.extend(values(self.mps));
        config.ca_certs.extend(values(self.ca_certs));
        config.configmgr_version = self.configmgr_version.map(|g| g.value);
        config.bind_user = self.bind_user.map(|g| g.value);
        if let Some(g) = self.bind {
            config.bind = g.value;
        }
        if let Some(s) = self.ldap_security {
            config.ldap_security = s;
        }
        config.insecure_tls = self.insecure_tls.unwrap_or(false);
        config.cloud_endpoints = self.cloud_endpoints.unwrap_or(false);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_table_takes_ports_and_cloud_opt_in() {
        let s = Settings::from_toml(
            "cloud_endpoints = true\n[resolve]\n\"Manage.Example\" = \"127.0.0.1:8443\"\n\"dc1\" = \"10.231.0.2\"\n",
            "scan.toml",
        )
        .unwrap();
        let c = s.into_config().unwrap();
        assert!(c.cloud_endpoints);
        assert_eq!(
            c.mapped("manage.example", 443).unwrap().to_string(),
            "127.0.0.1:8443"
        );
        assert_eq!(c.mapped("dc1", 389).unwrap().to_string(), "10.231.0.2:389");
    }

    #[test]
    fn every_problem_with_its_place() {
        let text =
            "timeout = \"soon\"\nscopes = [\"cloud\"]\n[resolve]\n\"a\" = \"127.0.0.1:99999\"\n";
        let e = Settings::from_toml(text, "scan.toml")
            .unwrap()
            .into_config()
            .unwrap_err();
        let lines: Vec<String> = e.0.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("scan.toml:1:11: timeout: \"soon\""),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("scan.toml:2:10: scopes: unknown scope"),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("scan.toml:4:7: resolve.\"a\": "),
            "{lines:?}"
        );
        assert_eq!(e.0[2].code, "bad-target");
    }

    #[test]
    fn flags_override_the_file_and_add_to_its_lists() {
        let file = Settings::from_toml("timeout = \"9s\"\ndcs = [\"dc1\"]\n", "f.toml").unwrap();
        let flags = Settings {
            timeout: Some(Given::flag("--timeout", "2s".into())),
            dcs: vec![Given::flag("--dc", "dc2".into())],
            insecure_tls: Some(true),
            ..Settings::default()
        };
        let c = file.then(flags).into_config().unwrap();
        assert_eq!(c.timeout, std::time::Duration::from_secs(2));
        assert_eq!(c.dcs, ["dc1", "dc2"]);
        // A --target replaces a [resolve] entry whole, its port override too.
        let file =
            Settings::from_toml("[resolve]\n\"dc1\" = \"127.0.0.1:8443\"\n", "f.toml").unwrap();
        let flags = Settings {
            targets: vec![Given::flag("--target", "dc1=10.0.0.5".into())],
            ..Settings::default()
        };
        let c2 = file.then(flags).into_config().unwrap();
        assert_eq!(c2.mapped("dc1", 389).unwrap().to_string(), "10.0.0.5:389");
        assert!(c.insecure_tls);
        let bad = Settings {
            per_host: Some(Given::flag("--per-host", 0)),
            ..Settings::default()
        };
        assert_eq!(
            bad.into_config().unwrap_err().to_string(),
            "--per-host: must be at least 1"
        );
    }
}
