//! The TLS client configuration every probe uses: system roots, `--ca-cert` files, and the
//! `--insecure-tls` opt-in.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::ScanConfig;

/// Builds the client config over the scan's trust roots.
pub fn client_config(
    config: &ScanConfig,
    roots: Arc<RootCertStore>,
) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let tls = if config.insecure_tls {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(tls))
}

/// Trust anchors: the operating system's store (Windows certificate store, including CAs
/// pushed by group policy; macOS keychain; on Linux the distribution bundle, or `SSL_CERT_FILE`
/// / `SSL_CERT_DIR`) plus every `--ca-cert` file (each must add one).
pub fn roots(config: &ScanConfig) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!("system trust store: {e}");
    }
    let (added, _) = store.add_parsable_certificates(native.certs);
    tracing::debug!("system trust store: {added} roots");
    for file in &config.ca_certs {
        // Read like every other input: a regular file, size-capped.
        let bytes = crate::files::read_bytes(std::path::Path::new(file))
            .map_err(|e| format!("--ca-cert {e}"))?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--ca-cert {file}: {e}"))?;
        if certs.is_empty() {
            return Err(format!("--ca-cert {file}: no PEM certificate in the file"));
        }
        let (added, _) = store.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("--ca-cert {file}: no usable CA certificate"));
        }
    }
    Ok(store)
}

/// Used only when the admin passes --insecure-tls; the report then says so.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
