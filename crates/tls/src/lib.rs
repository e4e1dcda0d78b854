//! PEM loading (and, in [`store`], Java key stores) and rustls building blocks shared by the
//! REST listeners and the Cassandra connections. rustls runs on the `ring` provider (it builds
//! with only a C compiler) and is always passed explicitly, so no process-wide default provider
//! is needed.
//!
//! Crate `cassink-tls`. May depend on nothing of cassink's.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod store;

/// A TLS setting that cannot be used: which file or key, and why.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what} {path}: {reason}")]
    File {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A key that cannot be used as set (e.g. with another key it excludes).
    #[error("{key} {reason}")]
    Key { key: &'static str, reason: String },
    #[error("{0}")]
    Config(String),
}

pub type Result<T, E = TlsError> = std::result::Result<T, E>;

/// The crypto provider every rustls config of cassink uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub(crate) fn file_err(what: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        what,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Every `CERTIFICATE` block of a PEM file (a chain: leaf first).
pub fn load_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(what, path, e))?;
    if certs.is_empty() {
        return Err(file_err(
            what,
            path,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1, unencrypted) of a PEM file.
pub fn load_key(what: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        file_err(
            what,
            path,
            format!("no usable unencrypted PEM private key ({e})"),
        )
    })
}

/// A root store holding the CA certificates of a PEM file.
pub fn load_roots(what: &'static str, path: &Path) -> Result<RootCertStore> {
    roots_of(what, path, load_certs(what, path)?)
}

fn roots_of(
    what: &'static str,
    path: &Path,
    certs: Vec<CertificateDer<'static>>,
) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| file_err(what, path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// A truststore as Java configs name one: the file at `path_key` is PEM, or a JKS / PKCS#12
/// store (told by its content) opened with the value of `password_key`.
pub fn load_trust_store(
    path_key: &'static str,
    password_key: &'static str,
    path: &Path,
    password: &str,
) -> Result<RootCertStore> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path_key, path, e))?;
    let certs = match store::StoreFormat::detect(&bytes) {
        store::StoreFormat::Pem => load_certs(path_key, path)?,
        _ => store::Store {
            path_key,
            password_key,
            path,
            bytes: &bytes,
            password,
        }
        .trusted_certs()?,
    };
    roots_of(path_key, path, certs)
}

/// The client identity (certificate chain and key) of a JKS or PKCS#12 keystore, or of a
/// PEM file holding the chain and an unencrypted key.
pub fn load_key_store(
    path_key: &'static str,
    password_key: &'static str,
    path: &Path,
    password: &str,
) -> Result<store::Identity> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path_key, path, e))?;
    if store::StoreFormat::detect(&bytes) == store::StoreFormat::Pem {
        return Ok((load_certs(path_key, path)?, load_key(path_key, path)?));
    }
    store::Store {
        path_key,
        password_key,
        path,
        bytes: &bytes,
        password,
    }
    .identity()
}
