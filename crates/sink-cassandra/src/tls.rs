//! TLS to Cassandra from the DataStax `ssl.*` keys: a rustls client config with the CAs of
//! `ssl.truststore.path` (PEM, JKS or PKCS#12) or the system bundle, an optional client
//! certificate (`ssl.keystore.path`, or `ssl.openssl.keyCertChain` + `ssl.openssl.privateKey`)
//! and `ssl.hostnameValidation`.

use cassink_tls::{
    load_certs, load_key, load_key_store, load_roots, load_trust_store, provider, Result, TlsError,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

/// CA bundles tried when `ssl.truststore.path` is not set (after `$SSL_CERT_FILE`).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The parsed `ssl.*` settings (present when `ssl.provider` is not `None`).
#[derive(Clone, PartialEq, Eq)]
pub struct SslConfig {
    /// `ssl.truststore.path`: CA certificates (PEM, JKS or PKCS#12); none: the system bundle.
    pub truststore: Option<PathBuf>,
    /// `ssl.truststore.password`: opens a JKS / PKCS#12 truststore.
    pub truststore_password: String,
    /// `ssl.keystore.path`: JKS / PKCS#12 (or PEM) store of the client key and chain.
    pub keystore: Option<PathBuf>,
    /// `ssl.keystore.password`: opens it and its key entry.
    pub keystore_password: String,
    /// `ssl.openssl.keyCertChain`: client certificate chain (PEM) for mutual TLS.
    pub key_cert_chain: Option<PathBuf>,
    /// `ssl.openssl.privateKey`: its unencrypted PEM private key.
    pub private_key: Option<PathBuf>,
    /// `ssl.hostnameValidation`: check the node certificate names the host connected to.
    pub hostname_validation: bool,
}

/// Debug leaves the passwords out.
impl std::fmt::Debug for SslConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslConfig")
            .field("truststore", &self.truststore)
            .field("keystore", &self.keystore)
            .field("key_cert_chain", &self.key_cert_chain)
            .field("private_key", &self.private_key)
            .field("hostname_validation", &self.hostname_validation)
            .finish_non_exhaustive()
    }
}

impl SslConfig {
    /// The rustls client config; errors name the key and the file.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let roots = match &self.truststore {
            Some(path) => load_trust_store(
                "ssl.truststore.path",
                "ssl.truststore.password",
                path,
                &self.truststore_password,
            )?,
            None => {
                let bundle = std::env::var_os("SSL_CERT_FILE")
                    .map(PathBuf::from)
                    .into_iter()
                    .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
                    .find(|p| p.is_file())
                    .ok_or_else(|| {
                        TlsError::Config(
                            "ssl.provider is set but ssl.truststore.path is not, and no system \
                             CA bundle was found: set ssl.truststore.path to the CA of the \
                             Cassandra nodes (PEM, JKS or PKCS#12)"
                                .into(),
                        )
                    })?;
                load_roots("system CA bundle", &bundle)?
            }
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = if self.hostname_validation {
            builder.with_root_certificates(roots)
        } else {
            let inner = WebPkiServerVerifier::builder_with_provider(roots.into(), provider())
                .build()
                .map_err(|e| TlsError::Config(format!("ssl.truststore.path: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName(inner)))
        };
        let config = match (&self.key_cert_chain, &self.private_key) {
            (None, None) => match &self.keystore {
                None => builder.with_no_client_auth(),
                Some(path) => {
                    let (chain, key) = load_key_store(
                        "ssl.keystore.path",
                        "ssl.keystore.password",
                        path,
                        &self.keystore_password,
                    )?;
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(|e| TlsError::File {
                            what: "ssl.keystore.path",
                            path: path.clone(),
                            reason: format!("its key entry does not match its certificate: {e}"),
                        })?
                }
            },
            _ if self.keystore.is_some() => {
                return Err(TlsError::Key {
                    key: "ssl.keystore.path",
                    reason: "cannot be set together with ssl.openssl.keyCertChain / \
                             ssl.openssl.privateKey: both name the client certificate, keep one"
                        .into(),
                })
            }
            (Some(chain), Some(key)) => builder
                .with_client_auth_cert(
                    load_certs("ssl.openssl.keyCertChain", chain)?,
                    load_key("ssl.openssl.privateKey", key)?,
                )
                .map_err(|e| {
                    TlsError::Config(format!(
                        "ssl.openssl.keyCertChain and ssl.openssl.privateKey do not match: {e}"
                    ))
                })?,
            (Some(_), None) => {
                return Err(TlsError::Config(
                    "ssl.openssl.keyCertChain needs ssl.openssl.privateKey".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(TlsError::Config(
                    "ssl.openssl.privateKey needs ssl.openssl.keyCertChain".into(),
                ))
            }
        };
        Ok(Arc::new(config))
    }
}

/// The name the node certificates are checked against: the host of the first contact point
/// (cdrs-tokio uses one name for every node).
pub fn server_name(contact_point: &str) -> Result<ServerName<'static>> {
    let host = match contact_point.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None if contact_point.matches(':').count() == 1 => {
            contact_point.split(':').next().unwrap_or(contact_point)
        }
        None => contact_point,
    };
    ServerName::try_from(host.to_string()).map_err(|e| {
        TlsError::Config(format!(
            "contactPoints: {host:?} is no TLS server name: {e}"
        ))
    })
}

/// `ssl.hostnameValidation=false`: the chain must still lead to a trusted CA, but the name
/// in the certificate is not compared with the host.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_of_contact_points() {
        let name = |s: &str| server_name(s).unwrap().to_str().to_string();
        assert_eq!(name("cass1.example.com"), "cass1.example.com");
        assert_eq!(name("cass1.example.com:9142"), "cass1.example.com");
        assert_eq!(name("10.0.0.1:9042"), "10.0.0.1");
        assert_eq!(name("[::1]:9042"), "::1");
        assert_eq!(name("::1"), "::1");
    }

    #[test]
    fn key_without_chain_is_an_error() {
        let dir = std::env::temp_dir();
        let cfg = SslConfig {
            truststore: None,
            truststore_password: String::new(),
            keystore: None,
            keystore_password: String::new(),
            key_cert_chain: None,
            private_key: Some(dir.join("k.pem")),
            hostname_validation: true,
        };
        // The system bundle may be missing in a container: either error is a config error.
        let err = cfg.client_config().unwrap_err().to_string();
        assert!(err.contains("ssl."), "{err}");
    }
}
