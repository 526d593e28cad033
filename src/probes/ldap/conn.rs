//! The only way readyscan talks LDAP: a read-only connection that can bind, search and unbind.
//! The ldap3 handle is private, so no modify, add, delete or extended operation can be sent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, StdStream};
use rustls::ClientConfig;

use crate::probes::ProbeContext;

/// Page size for searches; AD's MaxPageSize is 1000.
const PAGE_SIZE: i32 = 500;
/// A directory bigger than this is not read in full; the checks need far fewer entries.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Ldaps,
    StartTls,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Plain => "plain LDAP",
            Transport::Ldaps => "LDAPS",
            Transport::StartTls => "StartTLS",
        })
    }
}

impl Transport {
    fn port(self) -> u16 {
        match self {
            Transport::Ldaps => 636,
            _ => 389,
        }
    }
}

/// Why a bind failed, so the finding can say what to do.
#[derive(Debug)]
pub enum BindError {
    /// Result 8: the DC wants signing or TLS for a simple bind.
    StrongerAuthRequired(String),
    /// Result 49.
    InvalidCredentials(String),
    Other(String),
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::StrongerAuthRequired(dc) => write!(
                f,
                "{dc} refused a simple bind over plain LDAP (result 8, strongerAuthRequired): \
                 use --ldap-security ldaps or starttls (with --ca-cert for your CA), or Kerberos"
            ),
            BindError::InvalidCredentials(dc) => write!(
                f,
                "{dc} rejected the bind user's credentials (result 49, invalidCredentials): \
                 check --bind-user and the password in READYSCAN_PASSWORD / --password-stdin"
            ),
            BindError::Other(msg) => f.write_str(msg),
        }
    }
}

pub struct ReadOnlyLdap {
    ldap: Ldap,
    timeout: Duration,
    /// The DC this connection reached, as named in the scan.
    pub dc: String,
}

impl ReadOnlyLdap {
    pub async fn connect(
        dc: &str,
        transport: Transport,
        ctx: &ProbeContext,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<ReadOnlyLdap, String> {
        let port = transport.port();
        let place = format!("{dc}:{port} ({transport})");
        let addr = crate::probes::net::resolve(dc, port, ctx).await?;
        let tcp = tokio::time::timeout(ctx.timeout, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| {
                format!(
                    "{place}: no answer within {}",
                    humantime::format_duration(ctx.timeout)
                )
            })?
            .map_err(|e| format!("{place}: {e}"))?;
        let std = tcp.into_std().map_err(|e| format!("{place}: {e}"))?;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(ctx.timeout)
            .set_std_stream(StdStream::Tcp(std))
            .set_starttls(transport == Transport::StartTls);
        if let Some(config) = tls {
            settings = settings.set_config(config);
        }
        let scheme = if transport == Transport::Ldaps {
            "ldaps"
        } else {
            "ldap"
        };
        let host = if dc.contains(':') {
            format!("[{dc}]")
        } else {
            dc.to_string()
        };
        let url = format!("{scheme}://{host}:{port}");
        let setup = LdapConnAsync::with_settings(settings, &url);
        let (conn, ldap) = tokio::time::timeout(ctx.timeout, setup)
            .await
            .map_err(|_| {
                format!(
                    "{place}: no LDAP answer within {}",
                    humantime::format_duration(ctx.timeout)
                )
            })?
            .map_err(|e| format!("{place}: {e}"))?;
        ldap3::drive!(conn);
        Ok(ReadOnlyLdap {
            ldap,
            timeout: ctx.timeout,
            dc: dc.to_string(),
        })
    }

    /// A simple bind. The password is only handed to ldap3; it is never logged or returned.
    pub async fn bind(&mut self, user: &str, password: &str) -> Result<(), BindError> {
        let result = self
            .ldap
            .with_timeout(self.timeout)
            .simple_bind(user, password)
            .await
            .map_err(|e| BindError::Other(format!("{}: bind failed: {e}", self.dc)))?;
        match result.rc {
            0 => Ok(()),
            8 => Err(BindError::StrongerAuthRequired(self.dc.clone())),
            49 => Err(BindError::InvalidCredentials(self.dc.clone())),
            rc => Err(BindError::Other(format!(
                "{}: bind failed with result {rc}: {}",
                self.dc, result.text
            ))),
        }
    }

    /// One entry by DN; `None` when it does not exist (noSuchObject).
    pub async fn read_entry(
        &mut self,
        dn: &str,
        attrs: &[&str],
    ) -> Result<Option<SearchEntry>, String> {
        let result = self
            .ldap
            .with_timeout(self.timeout)
            .search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec())
            .await
            .map_err(|e| format!("{}: search {dn}: {e}", self.dc))?;
        match result.1.rc {
            0 => Ok(result
                .0
                .into_iter()
                .find(|e| !e.is_ref())
                .map(SearchEntry::construct)),
            32 => Ok(None),
            rc => Err(format!(
                "{}: search {dn}: result {rc}: {}",
                self.dc, result.1.text
            )),
        }
    }

    /// A paged search; referrals are skipped, not chased.
    pub async fn search(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, String> {
        let fail = |e: &dyn fmt::Display| format!("{}: search under {base}: {e}", self.dc);
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let mut stream = self
            .ldap
            .with_timeout(self.timeout)
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs.to_vec())
            .await
            .map_err(|e| fail(&e))?;
        let mut entries = Vec::new();
        while let Some(entry) = stream.next().await.map_err(|e| fail(&e))? {
            if entries.len() < MAX_ENTRIES {
                entries.push(SearchEntry::construct(entry));
            }
        }
        let done = stream.finish().await;
        match done.rc {
            0 | 10 => Ok(entries),
            32 => Ok(Vec::new()),
            rc => Err(fail(&format!("result {rc}: {}", done.text))),
        }
    }

    pub async fn unbind(mut self) {
        // Best effort: the server drops the connection anyway.
        let _ = self.ldap.unbind().await;
    }
}
