//! ldap3 panics on some malformed answers (`expect("element")` and the like). Each LDAP attempt
//! and each connection's driver runs in a task of its own, so such a panic fails that attempt
//! with a clear reason, and the next transport or DC is still tried.

use std::future::Future;

use tokio::task::{JoinError, JoinHandle};

use super::limits::ReadError;

/// The reason given when ldap3 panicked on the server's answer.
pub const MALFORMED: &str = "the server's answer could not be decoded (malformed LDAP message)";

/// A spawned task that is aborted when dropped: when a probe's budget runs out, what it
/// started stops with it.
pub struct Task<T>(JoinHandle<T>);

impl<T: Send + 'static> Task<T> {
    pub fn spawn<F>(future: F) -> Task<T>
    where
        F: Future<Output = T> + Send + 'static,
    {
        Task(tokio::spawn(future))
    }

    pub async fn join(mut self) -> Result<T, JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs one LDAP attempt in its own task; a panic in it fails the attempt as `place: MALFORMED`.
pub async fn attempt<T, F>(place: String, future: F) -> Result<T, ReadError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, ReadError>> + Send + 'static,
{
    match Task::spawn(future).join().await {
        Ok(answer) => answer,
        Err(e) if e.is_panic() => Err(ReadError::Failed(format!("{place}: {MALFORMED}"))),
        Err(_) => Err(ReadError::Failed(format!("{place}: cancelled"))),
    }
}

/// Whether a panic at `file` (the panic's location) is in the LDAP client's code: ldap3 or lber,
/// from the registry (`…/ldap3-0.12.1/src/…`) or vendored (`vendor/lber/…`). The binary's panic
/// hook logs those at debug level: they are answered by [`attempt`] and reported in the
/// finding, and a panic anywhere else is still printed as a bug.
pub fn in_ldap_client(file: &str) -> bool {
    file.split(['/', '\\'])
        .any(|part| part == "lber" || part.starts_with("ldap3-") || part.starts_with("lber-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldap_client_sources() {
        assert!(in_ldap_client(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/ldap3-0.12.1/src/result.rs"
        ));
        assert!(in_ldap_client("vendor/lber/src/parse.rs"));
        assert!(in_ldap_client(
            r"C:\Users\a\.cargo\registry\src\x\lber-0.5.1\src\parse.rs"
        ));
        assert!(!in_ldap_client("src/probes/ldap/conn.rs"));
        assert!(!in_ldap_client(
            "/root/.cargo/registry/src/x/tokio-1.0.0/src/runtime/task.rs"
        ));
    }

    #[tokio::test]
    async fn a_panicking_attempt_fails_alone() {
        let failed =
            attempt::<(), _>("dc1:389 (plain LDAP)".into(), async { panic!("element") }).await;
        assert_eq!(
            failed.unwrap_err().to_string(),
            format!("dc1:389 (plain LDAP): {MALFORMED}")
        );
        let ok = attempt("dc1:636 (LDAPS)".into(), async { Ok::<_, ReadError>(7) }).await;
        assert_eq!(ok.unwrap(), 7);
    }
}
