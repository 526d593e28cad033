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
/// transports `--ldap-security` allows.
pub async fn connect_bound(
    req: &Request,
    ctx: &ProbeContext,
) -> Result<(ReadOnlyLdap, Transport), ProbeError> {
    if ctx.config.bind_user.is_none() || ctx.secrets.bind_password.is_none() {
        return Err(ProbeError::NeedsBind(
            "give --bind-user USER and the password in READYSCAN_PASSWORD or --password-stdin"
                .into(),
        ));
    }
    bind_first(dcs_for(req, ctx).await?.dcs, ctx, false).await
}

/// [`connect_bound`] to the global catalog port of the request's DCs (3269 LDAPS, 3268 plain
/// or StartTLS): a read of every domain of the forest.
pub async fn connect_bound_gc(
    req: &Request,
    ctx: &ProbeContext,
) -> Result<(ReadOnlyLdap, Transport), ProbeError> {
    if ctx.config.bind_user.is_none() || ctx.secrets.bind_password.is_none() {
        return Err(ProbeError::NeedsBind("give --bind-user USER".into()));
    }
    bind_first(dcs_for(req, ctx).await?.dcs, ctx, true).await
}

/// A bound connection to the domain `dns_name` itself (its name resolves to its DCs), with the
/// scan's credentials: how a scan bound in a child domain reads the forest root.
pub(crate) async fn connect_bound_to(
    dns_name: &str,
    ctx: &ProbeContext,
) -> Result<ReadOnlyLdap, ProbeError> {
    Ok(bind_first(vec![dns_name.to_string()], ctx, false).await?.0)
}

/// A bound connection to the first of `dcs` that accepts the bind.
async fn bind_first(
    dcs: Vec<String>,
    ctx: &ProbeContext,
    gc: bool,
) -> Result<(ReadOnlyLdap, Transport), ProbeError> {
    let (Some(user), Some(password)) = (&ctx.config.bind_user, &ctx.secrets.bind_password) else {
        return Err(ProbeError::NeedsBind("give --bind-user USER".into()));
    };
    let transports: &[Transport] = match ctx.config.ldap_security {
        LdapSecurity::Auto => &[Transport::Ldaps, Transport::StartTls],
        LdapSecurity::Ldaps => &[Transport::Ldaps],
        LdapSecurity::Starttls => &[Transport::StartTls],
        LdapSecurity::Plain => &[Transport::Plain],
    };
    let (user, password) = (user.clone(), password.clone());
    ctx.services
        .bind_gate
        .pass(|| try_dcs(dcs, transports, user, password, ctx, gc))
        .await
}

/// Tries each DC and transport in turn; the state says what the bind taught about the
/// credentials (a rejection ends the loop: wrong credentials are wrong on every DC).
async fn try_dcs(
    dcs: Vec<String>,
    transports: &[Transport],
    user: String,
    password: String,
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
            let (name, password) = (user.clone(), password.clone());
            let port = transport.port_for(gc);
            let attempt = contain::attempt(transport.place_at(&dc, port), {
                let dc = dc.clone();
                async move {
                    let mut ldap =
                        ReadOnlyLdap::connect_at(&dc, transport, port, &ctx, Some(tls), budget)
                            .await?;
                    match ldap.bind(&name, &password).await {
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
                    let why = format!(
                        "bind as {} rejected by {dc}: invalid credentials (49); check --bind-user \
                         and the password in READYSCAN_PASSWORD / --password-stdin (no other \
                         bind was tried, so the account is not locked out)",
                        crate::text::visible(&user, &[])
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
