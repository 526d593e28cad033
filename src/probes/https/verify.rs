//! The certificate verifier of `https.endpoint`: it records the trust verdict instead of
//! enforcing it, so an untrusted or inspecting certificate can still be described.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::probes::ProbeError;

pub(super) fn client_config(
    roots: Arc<rustls::RootCertStore>,
    verdict: Arc<Mutex<Option<Result<(), String>>>>,
) -> Result<rustls::ClientConfig, ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = if roots.is_empty() {
        None
    } else {
        WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .ok()
    };
    let verifier = Recording {
        inner,
        provider: provider.clone(),
        verdict,
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Failed(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// Verifies the chain as rustls would, records the outcome and lets the handshake finish, so
/// the report can say who issued an untrusted certificate. Handshake signatures stay enforced.
#[derive(Debug)]
struct Recording {
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    verdict: Arc<Mutex<Option<Result<(), String>>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
                .map(|_| ())
                .map_err(|e| {
                    format!(
                        "certificate not trusted: {e}; trust your CA with --ca-cert FILE (or add \
                         it to the system store), or skip certificate checks with --insecure-tls"
                    )
                }),
            None => Err("certificate not trusted: no CA certificates to trust (system store empty; give --ca-cert)".into()),
        };
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(result);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
