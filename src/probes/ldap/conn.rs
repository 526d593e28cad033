//! The only way readyscan talks LDAP: a read-only connection that sends bind, search and unbind
//! requests, and the StartTLS extended operation when `--ldap-security starttls` asks for it
//! (ldap3 sends it while connecting). The ldap3 handle is private, so no modify, add, delete or
//! other extended operation can be sent.
//!
//! Every search is streamed and bounded (see [`super::limits`]): past a limit the read stops,
//! the connection is closed and the error names the limit. When the server's answer ends the
//! connection (a decoding error, a limit of the BER parser, a panic inside ldap3), the error
//! says which, from the driver task's outcome.

use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::time::Duration;

use ldap3::controls::{Control, ControlType, PagedResults};
use ldap3::result::LdapError;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, StdStream};
use rustls::ClientConfig;

use super::contain::{Task, MALFORMED};
use super::limits::{self, ReadBudget, ReadError, ENTRIES_PER_READ, ENTRIES_PER_SEARCH};
use crate::probes::ProbeContext;

/// Page size for searches; AD's MaxPageSize is 1000.
const PAGE_SIZE: i32 = 500;
/// How long to wait for a connection's driver to report why it ended.
const DRIVER_REPORT: Duration = Duration::from_secs(2);

/// How the connection's driver task ended, and the BER parser's limit if one stopped it.
type DriverEnd = (ldap3::result::Result<()>, Option<lber::parse::Limit>);

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

    /// The global catalog's port for this transport: 3269 for LDAPS, else 3268.
    pub fn gc_port(self) -> u16 {
        match self {
            Transport::Ldaps => 3269,
            _ => 3268,
        }
    }

    /// The domain's port, or the global catalog's.
    pub fn port_for(self, global_catalog: bool) -> u16 {
        if global_catalog {
            self.gc_port()
        } else {
            self.port()
        }
    }

    /// `dc:port (transport)`, as errors name an attempt.
    pub fn place(self, dc: &str) -> String {
        self.place_at(dc, self.port())
    }

    pub fn place_at(self, dc: &str, port: u16) -> String {
        format!("{dc}:{port} ({self})")
    }
}

/// Why a bind failed, so the finding can say what to do.
#[derive(Debug)]
pub enum BindError {
    /// Result 8: the DC wants signing or TLS for a simple bind.
    StrongerAuthRequired(String),
    /// Result 49.
    InvalidCredentials(String),
    /// No bind result: the read failed or went past a limit.
    Read(ReadError),
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
            BindError::Read(e) => e.fmt(f),
        }
    }
}

pub struct ReadOnlyLdap {
    ldap: Ldap,
    /// The connection's driver; aborted (the socket closed) when this handle is dropped.
    driver: Option<Task<DriverEnd>>,
    timeout: Duration,
    budget: ReadBudget,
    /// The DC this connection reached, as named in the scan.
    pub dc: String,
    /// How it is bound ("Kerberos as P", "simple bind as U"), once it is.
    pub bound_as: Option<String>,
    /// Where it is connected, and the scan's services: an operation that times out marks the
    /// address silent for the rest of the scan.
    addr: std::net::SocketAddr,
    services: Arc<crate::probes::Services>,
}

impl ReadOnlyLdap {
    pub async fn connect(
        dc: &str,
        transport: Transport,
        ctx: &ProbeContext,
        tls: Option<Arc<ClientConfig>>,
        budget: ReadBudget,
    ) -> Result<ReadOnlyLdap, ReadError> {
        Self::connect_at(dc, transport, transport.port(), ctx, tls, budget).await
    }

    /// [`Self::connect`] to another port: the global catalog's (3268/3269).
    pub async fn connect_at(
        dc: &str,
        transport: Transport,
        port: u16,
        ctx: &ProbeContext,
        tls: Option<Arc<ClientConfig>>,
        budget: ReadBudget,
    ) -> Result<ReadOnlyLdap, ReadError> {
        let place = transport.place_at(dc, port);
        let addr = crate::probes::net::resolve(dc, port, ctx).await?;
        let tcp = ctx
            .services
            .connect(addr, ctx.timeout)
            .await
            .map_err(|silent| format!("{place}: {silent}"))?
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
                // Connected, then silent (a frozen DC, a stalled TLS handshake): once per scan.
                ctx.services.mark_silent(addr);
                format!(
                    "{place}: no LDAP answer within {}",
                    humantime::format_duration(ctx.timeout)
                )
            })?
            .map_err(|e| match e {
                // ldap3's own timeout (the same length) may fire first: as silent as above.
                LdapError::Timeout { .. } => {
                    ctx.services.mark_silent(addr);
                    ReadError::Failed(format!(
                        "{place}: no LDAP answer within {}",
                        humantime::format_duration(ctx.timeout)
                    ))
                }
                // The StartTLS answer is read in a task of ldap3's own: dropped unanswered,
                // it panicked on the answer.
                LdapError::ResultRecv { .. } => ReadError::Failed(format!("{place}: {MALFORMED}")),
                e if decoding_error(&e) => limits::undecodable(&place),
                e => ReadError::Failed(format!("{place}: {e}")),
            })?;
        // The driver, polled with the parser's limit cleared before each poll: when it ends on
        // a limit, the limit is what that last poll left behind (same thread, same poll).
        let driver = Task::spawn(async move {
            let mut drive = std::pin::pin!(conn.drive());
            poll_fn(move |cx| {
                lber::parse::take_limit_hit();
                drive
                    .as_mut()
                    .poll(cx)
                    .map(|end| (end, lber::parse::take_limit_hit()))
            })
            .await
        });
        Ok(ReadOnlyLdap {
            ldap,
            driver: Some(driver),
            timeout: ctx.timeout,
            budget,
            dc: dc.to_string(),
            bound_as: None,
            addr,
            services: ctx.services.clone(),
        })
    }

    /// Why an operation failed: when the connection's driver has ended (the error is only
    /// "channel closed" then), the driver's own reason.
    async fn explain(&mut self, what: &str, e: LdapError) -> ReadError {
        if matches!(e, LdapError::Timeout { .. }) {
            self.services.mark_silent(self.addr);
        }
        let dc = &self.dc;
        let closed = matches!(
            e,
            LdapError::OpSend { .. }
                | LdapError::ResultRecv { .. }
                | LdapError::EndOfStream
                | LdapError::IdScrubSend { .. }
        );
        let Some(driver) = self.driver.take().filter(|_| closed) else {
            return ReadError::Failed(format!("{dc}: {what}: {e}"));
        };
        match tokio::time::timeout(DRIVER_REPORT, driver.join()).await {
            Ok(Ok((_, Some(limit)))) => limits::parser_limit(dc, limit),
            Ok(Ok((Err(e), None))) if decoding_error(&e) => limits::undecodable(dc),
            Ok(Ok((Err(e), None))) => ReadError::Failed(format!("{dc}: {what}: {e}")),
            Ok(Ok((Ok(()), None))) => ReadError::Failed(format!(
                "{dc}: {what}: the server closed the connection before answering"
            )),
            Ok(Err(join)) if join.is_panic() => ReadError::Failed(format!("{dc}: {MALFORMED}")),
            _ => ReadError::Failed(format!("{dc}: {what}: {e}")),
        }
    }

    /// A simple bind. The password is only handed to ldap3; it is never logged or returned.
    pub async fn bind(&mut self, user: &str, password: &str) -> Result<(), BindError> {
        let result = self
            .ldap
            .with_timeout(self.timeout)
            .simple_bind(user, password)
            .await;
        let result = match result {
            Ok(r) => r,
            Err(e) => return Err(BindError::Read(self.explain("bind failed", e).await)),
        };
        match result.rc {
            0 => Ok(()),
            8 => Err(BindError::StrongerAuthRequired(self.dc.clone())),
            49 => Err(BindError::InvalidCredentials(self.dc.clone())),
            rc => Err(BindError::Read(ReadError::Failed(format!(
                "{}: bind failed with result {rc}: {}",
                self.dc, result.text
            )))),
        }
    }

    /// A Kerberos (SASL GSSAPI) bind with the current sign-in, for the SPN `ldap/<host>`. Over
    /// TLS no SASL security layer is needed; the TLS channel binding is sent when there is one.
    pub async fn kerberos_bind(&mut self, host: &str) -> Result<(), String> {
        let host = host.trim_end_matches('.');
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Err(format!(
                "{host}: Kerberos needs the DC's host name, not its address (give --dc NAME or \
                 --domain NAME)"
            ));
        }
        let result = self
            .ldap
            .with_timeout(self.timeout)
            .sasl_gssapi_bind(host)
            .await;
        match result {
            Ok(r) if r.rc == 0 => Ok(()),
            Ok(r) => Err(format!(
                "{}: the Kerberos bind failed with result {}: {}{}",
                self.dc,
                r.rc,
                crate::text::visible(&r.text, &[]),
                if r.rc == 8 {
                    " (the DC wants Kerberos signing even over TLS; on a Samba DC set \
                     \"ldap server require strong auth = allow_sasl_over_tls\", as Windows \
                     DCs behave)"
                } else {
                    ""
                }
            )),
            Err(LdapError::GssapiOperationError(e)) => Err(format!(
                "{}: Kerberos: {}",
                self.dc,
                e.split_whitespace().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => Err(self.explain("Kerberos bind failed", e).await.to_string()),
        }
    }

    /// One entry by DN; `None` when it does not exist (noSuchObject).
    pub async fn read_entry(
        &mut self,
        dn: &str,
        attrs: &[&str],
    ) -> Result<Option<SearchEntry>, ReadError> {
        let what = if dn.is_empty() {
            "read of the rootDSE".to_string()
        } else {
            format!("read of {dn}")
        };
        let mut entries = Vec::new();
        let stream = self
            .stream(&what, dn, Scope::Base, "(objectClass=*)", attrs, None)
            .await?;
        let done = self
            .collect(&what, stream, ENTRIES_PER_READ, &mut entries)
            .await?;
        match done.rc {
            0 => Ok(entries.pop()),
            32 => Ok(None),
            rc => Err(ReadError::Failed(format!(
                "{}: {what}: result {rc}: {}",
                self.dc, done.text
            ))),
        }
    }

    /// A paged subtree search; referrals are skipped, not chased.
    pub async fn search(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, ReadError> {
        let what = format!("search under {base}");
        let mut entries = Vec::new();
        let mut cookie = Vec::new();
        for _ in 0..limits::PAGES_PER_SEARCH {
            let page = PagedResults {
                size: PAGE_SIZE,
                cookie,
            };
            let stream = self
                .stream(&what, base, Scope::Subtree, filter, attrs, Some(page))
                .await?;
            let done = self
                .collect(&what, stream, ENTRIES_PER_SEARCH, &mut entries)
                .await?;
            match done.rc {
                0 => {}
                10 => return Ok(entries),
                32 => return Ok(Vec::new()),
                rc => {
                    return Err(ReadError::Failed(format!(
                        "{}: {what}: result {rc}: {}",
                        self.dc, done.text
                    )))
                }
            }
            cookie = next_cookie(&done.ctrls);
            if cookie.is_empty() {
                return Ok(entries);
            }
        }
        Err(limits::too_many_pages(&self.dc, &what))
    }

    /// A paged subtree search that hands each entry to `each` as it arrives and keeps none, for
    /// reads of every object of a kind (users, computers): memory stays at one page however large
    /// the directory. Entries count against `limits::BYTES_PER_STREAMED_ENTRY` each, not against
    /// the probe's byte budget (they are not kept); `each` may stop the read with an error.
    pub async fn search_each<F>(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
        page_size: i32,
        mut each: F,
    ) -> Result<Streamed, ReadError>
    where
        F: FnMut(SearchEntry) -> Result<(), ReadError>,
    {
        let what = format!("search under {base}");
        let mut cookie = Vec::new();
        let mut totals = Streamed::default();
        for _ in 0..limits::PAGES_PER_STREAM {
            let page = PagedResults {
                size: page_size.max(1),
                cookie,
            };
            let mut stream = self
                .stream(&what, base, Scope::Subtree, filter, attrs, Some(page))
                .await?;
            loop {
                let item = match stream.next().await {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(e) => return Err(self.explain(&what, e).await),
                };
                let size = limits::entry_size(&item.0);
                if size > limits::BYTES_PER_STREAMED_ENTRY {
                    return Err(limits::entry_too_large(&self.dc, &what));
                }
                totals.bytes += size as u64;
                if !item.is_ref() && !item.is_intermediate() {
                    totals.entries += 1;
                    each(SearchEntry::construct(item))?;
                }
            }
            let done = stream.finish().await;
            totals.pages += 1;
            match done.rc {
                0 => {}
                10 => return Ok(totals),
                32 if totals.entries == 0 => return Ok(totals),
                rc => {
                    return Err(ReadError::Failed(format!(
                        "{}: {what}: result {rc}: {}",
                        self.dc, done.text
                    )))
                }
            }
            cookie = next_cookie(&done.ctrls);
            if cookie.is_empty() {
                return Ok(totals);
            }
        }
        Err(limits::too_many_pages_streamed(&self.dc, &what))
    }

    /// Starts a streaming search.
    async fn stream(
        &mut self,
        what: &str,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        page: Option<PagedResults>,
    ) -> Result<ldap3::SearchStream<'static, String, Vec<String>>, ReadError> {
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        let ldap = self.ldap.with_timeout(self.timeout);
        if let Some(page) = page {
            ldap.with_controls(page);
        }
        match ldap.streaming_search(base, scope, filter, attrs).await {
            Ok(stream) => Ok(stream),
            Err(e) => Err(self.explain(what, e).await),
        }
    }

    /// Reads a search's items into `entries`, at most `max` of them and within the probe's byte
    /// budget; returns the search's result.
    async fn collect(
        &mut self,
        what: &str,
        mut stream: ldap3::SearchStream<'static, String, Vec<String>>,
        max: usize,
        entries: &mut Vec<SearchEntry>,
    ) -> Result<ldap3::LdapResult, ReadError> {
        let mut seen = 0;
        loop {
            let item = match stream.next().await {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) => return Err(self.explain(what, e).await),
            };
            self.budget.take(&self.dc, limits::entry_size(&item.0))?;
            seen += 1;
            if seen > max {
                return Err(limits::too_many_entries(&self.dc, what, max));
            }
            if !item.is_ref() && !item.is_intermediate() {
                entries.push(SearchEntry::construct(item));
            }
        }
        Ok(stream.finish().await)
    }

    /// Unbinds and closes the connection; best effort, the server drops it anyway.
    pub async fn unbind(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.ldap.unbind()).await;
    }
}

/// What a streamed search read: entries handed on, result pages, bytes as [`limits::entry_size`]
/// counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streamed {
    pub entries: u64,
    pub pages: u64,
    pub bytes: u64,
}

/// The paged-results cookie of a search result; empty when the search is complete.
fn next_cookie(ctrls: &[Control]) -> Vec<u8> {
    ctrls
        .iter()
        .find_map(|c| match c {
            Control(Some(ControlType::PagedResults), raw) => {
                Some(raw.parse::<PagedResults>().cookie)
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// ldap3's "decoding error": the BER parser refused the server's bytes.
fn decoding_error(e: &LdapError) -> bool {
    matches!(e, LdapError::Io { source } if source.to_string() == "decoding error")
}
