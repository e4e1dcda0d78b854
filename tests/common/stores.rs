//! Java key stores made from the test PKI's PEM files with the crates cassink reads them
//! with (no keytool here): JKS via `jks`, PKCS#12 via `p12-keystore`.

use super::pki::Pki;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn der_cert(path: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(path)
        .expect("PEM certificate")
        .to_vec()
}

fn der_key(path: &Path) -> Vec<u8> {
    PrivateKeyDer::from_pem_file(path)
        .expect("PEM key")
        .secret_der()
        .to_vec()
}

fn jks_cert(der: Vec<u8>) -> jks::Certificate {
    jks::Certificate {
        cert_type: "X.509".into(),
        content: der,
    }
}

fn write_jks(dir: &Path, name: &str, password: &str, store: &jks::KeyStore) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create JKS");
    store.store(file, password.as_bytes()).expect("write JKS");
    path
}

/// A JKS truststore with the test CA as its one trusted-certificate entry.
pub fn jks_truststore(pki: &Pki, dir: &Path, password: &str) -> PathBuf {
    let mut store = jks::KeyStore::new();
    store
        .set_trusted_certificate_entry(
            "cassink-test-ca",
            jks::TrustedCertificateEntry {
                creation_time: SystemTime::now(),
                certificate: jks_cert(der_cert(&pki.ca)),
            },
        )
        .expect("CA entry");
    write_jks(dir, "truststore.jks", password, &store)
}

/// A JKS keystore with the client key, protected with the store password as keytool does,
/// and its chain (client certificate, CA).
pub fn jks_keystore(pki: &Pki, dir: &Path, password: &str) -> PathBuf {
    let mut store = jks::KeyStore::new();
    store
        .set_private_key_entry(
            "client",
            jks::PrivateKeyEntry {
                creation_time: SystemTime::now(),
                private_key: der_key(&pki.client_key),
                certificate_chain: vec![
                    jks_cert(der_cert(&pki.client_cert)),
                    jks_cert(der_cert(&pki.ca)),
                ],
            },
            password.as_bytes(),
        )
        .expect("key entry");
    write_jks(dir, "keystore.jks", password, &store)
}

/// A PKCS#12 truststore with the test CA as a trusted certificate.
pub fn p12_truststore(pki: &Pki, dir: &Path, password: &str) -> PathBuf {
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "cassink-test-ca",
        p12_keystore::KeyStoreEntry::Certificate(
            p12_keystore::Certificate::from_der(&der_cert(&pki.ca)).expect("CA"),
        ),
    );
    let path = dir.join("truststore.p12");
    std::fs::write(
        &path,
        store.writer(password).write().expect("write PKCS#12"),
    )
    .expect("write PKCS#12");
    path
}
