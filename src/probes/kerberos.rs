//! The bind a scan will make, decided once before any traffic: Kerberos with the current
//! sign-in (a ticket cache on Unix, the Windows logon through SSPI), a simple bind with
//! `--bind-user`, or none. Checking for a sign-in is local: no KDC or DC is asked.

use crate::config::{BindMethod, ScanConfig};

/// What the bound probes may try, in order, and what was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindPlan {
    /// The Kerberos principal to bind as, when Kerberos is to be tried first.
    pub kerberos: Option<String>,
    /// A simple bind as this user may be tried (after Kerberos, under `--bind auto`).
    pub simple: Option<String>,
    /// One sentence for stderr and the not-assessed reasons: the method and why.
    pub said: String,
}

impl BindPlan {
    /// Decides from `--bind`, `--bind-user` and the sign-in found on this host.
    pub fn decide(config: &ScanConfig) -> BindPlan {
        Self::decide_with(config, sign_in)
    }

    /// [`BindPlan::decide`] with the sign-in check given (tests).
    pub fn decide_with(
        config: &ScanConfig,
        sign_in: impl FnOnce() -> Result<String, String>,
    ) -> BindPlan {
        let user = config.bind_user.clone();
        let shown = |u: &str| crate::text::visible(u, &[]).to_string();
        match config.bind {
            BindMethod::Anonymous => BindPlan {
                kerberos: None,
                simple: None,
                said: "no bind (--bind anonymous): rootDSE reads only".into(),
            },
            BindMethod::Simple => BindPlan {
                said: format!(
                    "simple bind as {}",
                    shown(user.as_deref().unwrap_or_default())
                ),
                kerberos: None,
                simple: user,
            },
            BindMethod::Kerberos => match sign_in() {
                Ok(who) => BindPlan {
                    said: format!("Kerberos as {}", shown(&who)),
                    kerberos: Some(who),
                    simple: None,
                },
                Err(why) => BindPlan {
                    kerberos: None,
                    simple: None,
                    said: format!(
                        "--bind kerberos, but {why}: run kinit (or sign in to the domain) first"
                    ),
                },
            },
            BindMethod::Auto => match (sign_in(), user) {
                (Ok(who), user) => BindPlan {
                    said: match &user {
                        Some(u) => format!(
                            "Kerberos as {} (a simple bind as {} if a DC refuses it)",
                            shown(&who),
                            shown(u)
                        ),
                        None => format!("Kerberos as {}", shown(&who)),
                    },
                    kerberos: Some(who),
                    simple: user,
                },
                (Err(why), Some(u)) => BindPlan {
                    said: format!("{why}: simple bind as {}", shown(&u)),
                    kerberos: None,
                    simple: Some(u),
                },
                (Err(why), None) => BindPlan {
                    kerberos: None,
                    simple: None,
                    said: format!(
                        "{why} and no --bind-user: rootDSE reads only (run kinit, or give \
                         --bind-user USER with the password in READYSCAN_PASSWORD or \
                         --password-stdin)"
                    ),
                },
            },
        }
    }

    /// Whether any bind will be tried.
    pub fn binds(&self) -> bool {
        self.kerberos.is_some() || self.simple.is_some()
    }
}

/// The current Kerberos sign-in's principal, or why there is none.
pub fn sign_in() -> Result<String, String> {
    use cross_krb5::{Cred, InitiateFlags, K5Cred};
    let cred = Cred::client_acquire(InitiateFlags::empty(), None)
        .map_err(|e| format!("no Kerberos ticket ({})", one_line(&format!("{e:#}"))))?;
    identity(cred)
}

#[cfg(unix)]
fn identity(cred: cross_krb5::Cred) -> Result<String, String> {
    let gss: libgssapi::credential::Cred = cred.into();
    let name = gss
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "the ticket's principal".into());
    match gss.lifetime() {
        Ok(left) if left.is_zero() => Err(format!("the Kerberos ticket of {name} has expired")),
        _ => Ok(name),
    }
}

#[cfg(not(unix))]
fn identity(_cred: cross_krb5::Cred) -> Result<String, String> {
    // SSPI binds as the Windows logon session's user.
    let var = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
    Ok(match (var("USERDOMAIN"), var("USERNAME")) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (_, Some(u)) => u,
        _ => "the current Windows sign-in".into(),
    })
}

/// GSSAPI messages come with newlines and tabs; reasons are one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(bind: BindMethod, user: Option<&str>) -> ScanConfig {
        ScanConfig {
            bind,
            bind_user: user.map(String::from),
            ..ScanConfig::default()
        }
    }

    #[test]
    fn auto_prefers_a_ticket_then_the_user_then_nothing() {
        let ticket = || Ok("admin@LAB.EXAMPLE".to_string());
        let none = || Err("no Kerberos ticket (cache not found)".to_string());
        let p = BindPlan::decide_with(&config(BindMethod::Auto, None), ticket);
        assert_eq!(p.kerberos.as_deref(), Some("admin@LAB.EXAMPLE"));
        assert_eq!(p.said, "Kerberos as admin@LAB.EXAMPLE");
        let p = BindPlan::decide_with(&config(BindMethod::Auto, Some("u@lab")), ticket);
        assert_eq!(
            (p.kerberos.is_some(), p.simple.as_deref()),
            (true, Some("u@lab"))
        );
        let p = BindPlan::decide_with(&config(BindMethod::Auto, Some("u@lab")), none);
        assert_eq!((p.kerberos, p.simple.as_deref()), (None, Some("u@lab")));
        assert!(p
            .said
            .starts_with("no Kerberos ticket (cache not found): simple bind"));
        let p = BindPlan::decide_with(&config(BindMethod::Auto, None), none);
        assert!(!p.binds());
        assert!(p.said.contains("rootDSE reads only"), "{}", p.said);
    }

    #[test]
    fn explicit_methods_do_not_fall_back() {
        let none = || Err("no Kerberos ticket (x)".to_string());
        let p = BindPlan::decide_with(&config(BindMethod::Kerberos, None), none);
        assert!(!p.binds());
        assert!(p.said.contains("kinit"), "{}", p.said);
        let p = BindPlan::decide_with(&config(BindMethod::Simple, Some("u@lab")), || {
            panic!("a simple bind must not look for a ticket")
        });
        assert_eq!(p.simple.as_deref(), Some("u@lab"));
        let p = BindPlan::decide_with(&config(BindMethod::Anonymous, None), || {
            panic!("no bind must not look for a ticket")
        });
        assert!(!p.binds());
    }

    #[cfg(unix)]
    #[test]
    fn an_empty_ticket_cache_is_no_sign_in() {
        // A cache file that does not exist: GSSAPI must say so, not panic or block.
        let dir = tempfile::tempdir().unwrap();
        let cache = format!("FILE:{}", dir.path().join("none").display());
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "probes::kerberos::tests::sign_in_child",
                "--nocapture",
            ])
            .env("KRB5CCNAME", cache)
            .env("READYSCAN_KRB5_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("sign-in: Err(\"no Kerberos ticket"), "{text}");
    }

    /// Run by [`an_empty_ticket_cache_is_no_sign_in`] in a child, so KRB5CCNAME is its own.
    #[cfg(unix)]
    #[test]
    fn sign_in_child() {
        if std::env::var_os("READYSCAN_KRB5_CHILD").is_some() {
            println!("sign-in: {:?}", sign_in());
        }
    }
}
