//! PEM loading and rustls building blocks shared by the REST listeners and the Cassandra
//! connections. rustls runs on the `ring` provider (it builds with only a C compiler) and is
//! always passed explicitly, so no process-wide default provider is needed.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A TLS setting that cannot be used: which file or key, and why.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what} {path}: {reason}")]
    File {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{0}")]
    Config(String),
}

pub type Result<T, E = TlsError> = std::result::Result<T, E>;

/// The crypto provider every rustls config of cassink uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_err(what: &'static str, path: &Path, reason: impl ToString) -> TlsError {
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
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----); JKS/PKCS12 stores are not \
             supported, convert them to PEM",
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
    let mut roots = RootCertStore::empty();
    for cert in load_certs(what, path)? {
        roots
            .add(cert)
            .map_err(|e| file_err(what, path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}
