//! Bound connections: the first DC and transport that accept the bind, and the reads run on
//! one. Each attempt runs in a task of its own (see [`super::contain`]).

use crate::config::LdapSecurity;
use crate::probes::services::BindState;
use crate::probes::{ProbeContext, ProbeError, Request};

use super::contain;
use super::{dcs_for, BindError, ReadBudget, ReadError, ReadOnlyLdap, Transport};

/// Runs `read` on a bound connection in a task of its own, then unbinds: a panic inside ldap3
/// fails the probe with a clear reason.
pub async fn read_bound<T, F>(mut ldap: ReadOnlyLdap, read: F) -> Result<T, ProbeError>
where
    T: Send + 'static,
    F: for<'a> FnOnce(&'a mut ReadOnlyLdap) -> BoxedRead<'a, T> + Send + 'static,
{
    let dc = ldap.dc.clone();
    let answer = contain::attempt(dc, async move {
        let answer = read(&mut ldap).await;
        ldap.unbind().await;
        answer
    });
    Ok(answer.await?)
}

/// What [`read_bound`] runs: a read that borrows the connection.
pub type BoxedRead<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ReadError>> + Send + 'a>>;

/// A bound connection to the first DC of the request that accepts the bind, over the
/// transports `--ldap-security` allows, with the binds the scan's [`BindPlan`] allows.
///
/// [`BindPlan`]: crate::probes::kerberos::BindPlan
pub async fn connect_bound(
    req: &Request,
    ctx: &ProbeContext,
) -> Result<(ReadOnlyLdap, Transport), ProbeError> {
    usable(ctx)?;
    bind_first(dcs_for(req, ctx).await?.dcs, ctx, false).await
}

/// Why no bind can be tried, before any traffic.
fn usable(ctx: &ProbeContext) -> Result<(), ProbeError> {
    let plan = &ctx.services.bind;
    if !plan.binds() {
        return Err(ProbeError::NeedsBind(plan.said.clone()));
    }
    if plan.kerberos.is_none() && ctx.secrets.bind_password.is_none() {
        return Err(ProbeError::NeedsBind(
            "give the password of --bind-user in READYSCAN_PASSWORD or --password-stdin".into(),
        ));
    }
    Ok(())
}

/// [`connect_bound`] to the global catalog port of the request's DCs (3269 LDAPS, 3268 plain
/// or StartTLS): a read of every domain of the forest.
pub async fn connect_bound_gc(
    req: &Request,
    ctx: &ProbeContext,
) -> Result<(ReadOnlyLdap, Transport), ProbeError> {
    usable(ctx)?;
    bind_first(dcs_for(req, ctx).await?.dcs, ctx, true).await
}

/// A bound connection to the domain `dns_name` itself (its name resolves to its DCs), with the
/// scan's credentials: how a scan bound in a child domain reads the forest root.
pub(crate) async fn connect_bound_to(
    dns_name: &str,
    ctx: &ProbeContext,
) -> Result<ReadOnlyLdap, ProbeError> {
    usable(ctx)?;
    Ok(bind_first(vec![dns_name.to_string()], ctx, false).await?.0)
}

/// The binds to try on each connection, in order.
#[derive(Clone)]
enum Method {
    Kerberos(String),
    Simple(String, String),
}

/// A bound connection to the first of `dcs` that accepts the bind.
async fn bind_first(
    dcs: Vec<String>,
    ctx: &ProbeContext,
    gc: bool,
) -> Result<(ReadOnlyLdap, Transport), ProbeError> {
    let plan = &ctx.services.bind;
    let mut methods = Vec::new();
    if let Some(who) = &plan.kerberos {
        methods.push(Method::Kerberos(who.clone()));
    }
    if let (Some(user), Some(password)) = (&plan.simple, &ctx.secrets.bind_password) {
        methods.push(Method::Simple(user.clone(), password.clone()));
    }
    let transports: &[Transport] = match ctx.config.ldap_security {
        LdapSecurity::Auto => &[Transport::Ldaps, Transport::StartTls],
        LdapSecurity::Ldaps => &[Transport::Ldaps],
        LdapSecurity::Starttls => &[Transport::StartTls],
        LdapSecurity::Plain => &[Transport::Plain],
    };
    ctx.services
        .bind_gate
        .pass(|| try_dcs(dcs, transports, methods, ctx, gc))
        .await
}

/// Binds `ldap` with the first method that works; a simple bind's rejection ends the search.
async fn bind_with(ldap: &mut ReadOnlyLdap, dc: &str, methods: &[Method]) -> Result<(), BindError> {
    let mut errors = Vec::new();
    for method in methods {
        match method {
            Method::Kerberos(who) => match ldap.kerberos_bind(dc).await {
                Ok(()) => {
                    ldap.bound_as = Some(format!("Kerberos as {}", crate::text::visible(who, &[])));
                    return Ok(());
                }
                Err(e) => {
                    tracing::info!("{e}");
                    errors.push(e);
                }
            },
            Method::Simple(user, password) => {
                ldap.bind(user, password).await?;
                ldap.bound_as = Some(format!(
                    "simple bind as {}",
                    crate::text::visible(user, &[])
                ));
                return Ok(());
            }
        }
    }
    Err(BindError::Read(ReadError::Failed(errors.join("; "))))
}

/// Tries each DC and transport in turn; the state says what the bind taught about the
/// credentials (a rejection ends the loop: wrong credentials are wrong on every DC).
async fn try_dcs(
    dcs: Vec<String>,
    transports: &[Transport],
    methods: Vec<Method>,
    ctx: &ProbeContext,
    gc: bool,
) -> (Result<(ReadOnlyLdap, Transport), ProbeError>, BindState) {
    let tls = ctx.services.tls.clone();
    let budget = ReadBudget::default();
    let mut errors = Vec::new();
    let mut limited = false;
    for dc in dcs {
        for &transport in transports {
            let (ctx, tls, budget) = (ctx.clone(), tls.clone(), budget.clone());
            let these = methods.clone();
            let port = transport.port_for(gc);
            let attempt = contain::attempt(transport.place_at(&dc, port), {
                let dc = dc.clone();
                async move {
                    let mut ldap =
                        ReadOnlyLdap::connect_at(&dc, transport, port, &ctx, Some(tls), budget)
                            .await?;
                    match bind_with(&mut ldap, &dc, &these).await {
                        Ok(()) => Ok(Ok(ldap)),
                        Err(e) => {
                            ldap.unbind().await;
                            Ok(Err(e))
                        }
                    }
                }
            });
            match attempt.await {
                Ok(Ok(ldap)) => return (Ok((ldap, transport)), BindState::Accepted),
                Ok(Err(BindError::InvalidCredentials(dc))) => {
                    let user = methods.iter().find_map(|m| match m {
                        Method::Simple(u, _) => Some(u.as_str()),
                        Method::Kerberos(_) => None,
                    });
                    let why = format!(
                        "bind as {} rejected by {dc}: invalid credentials (49); check --bind-user \
                         and the password in READYSCAN_PASSWORD / --password-stdin (no other \
                         bind was tried, so the account is not locked out)",
                        crate::text::visible(user.unwrap_or_default(), &[])
                    );
                    return (
                        Err(ProbeError::BindRejected(why.clone())),
                        BindState::Rejected(why),
                    );
                }
                // One hostile or broken DC must not hide the healthy ones: note it, go on.
                Ok(Err(BindError::Read(ReadError::Limit(e)))) | Err(ReadError::Limit(e)) => {
                    errors.push(e.to_string());
                    limited = true;
                }
                Ok(Err(e)) => errors.push(e.to_string()),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    let answer = if limited {
        ProbeError::Limit(errors.join("; "))
    } else {
        ProbeError::Failed(errors.join("; "))
    };
    (Err(answer), BindState::Untried)
}
