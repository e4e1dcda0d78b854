//! Java key stores (JKS, PKCS#12) as rustls material, for configs written for the JVM: the
//! trusted-certificate entries of a truststore become roots, the first private-key entry of a
//! keystore becomes the client identity. The format is read from the file's first bytes, so
//! the file name and any `*.type` key do not matter. Errors name the config keys and the file;
//! passwords never appear in them.

use super::{file_err, Result};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::Path;

/// What a store file holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFormat {
    /// Sun's JKS (magic 0xFEEDFEED).
    Jks,
    /// JCEKS (magic 0xCECECECE): not readable here.
    Jceks,
    /// DER, which for a key store means PKCS#12 (an ASN.1 SEQUENCE, 0x30).
    Pkcs12,
    /// Anything else: read as PEM text.
    Pem,
}

const JKS_MAGIC: [u8; 4] = [0xfe, 0xed, 0xfe, 0xed];
const JCEKS_MAGIC: [u8; 4] = [0xce, 0xce, 0xce, 0xce];

impl StoreFormat {
    pub fn detect(bytes: &[u8]) -> StoreFormat {
        match bytes {
            [a, b, c, d, ..] if [*a, *b, *c, *d] == JKS_MAGIC => StoreFormat::Jks,
            [a, b, c, d, ..] if [*a, *b, *c, *d] == JCEKS_MAGIC => StoreFormat::Jceks,
            [0x30, ..] => StoreFormat::Pkcs12,
            _ => StoreFormat::Pem,
        }
    }

    fn name(self) -> &'static str {
        match self {
            StoreFormat::Jks => "JKS",
            StoreFormat::Jceks => "JCEKS",
            StoreFormat::Pkcs12 => "PKCS#12",
            StoreFormat::Pem => "PEM",
        }
    }
}

/// A binary key store named by a config: the keys of its path and password, the file, its
/// bytes and the password that opens it.
pub struct Store<'a> {
    pub path_key: &'static str,
    pub password_key: &'static str,
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub password: &'a str,
}

/// The client identity of a keystore: a certificate chain (leaf first) and its key.
pub type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

impl Store<'_> {
    fn format(&self) -> StoreFormat {
        StoreFormat::detect(self.bytes)
    }

    fn fail(&self, reason: impl ToString) -> super::TlsError {
        file_err(self.path_key, self.path, reason)
    }

    /// The error for a store that the password does not open (or that is damaged: both
    /// fail the same integrity check).
    fn unopened(&self, detail: impl std::fmt::Display) -> super::TlsError {
        let password = if self.password.is_empty() {
            format!("{} is empty", self.password_key)
        } else {
            format!("wrong {}", self.password_key)
        };
        self.fail(format!(
            "cannot open this {} store: {password}, or the file is damaged ({detail})",
            self.format().name()
        ))
    }

    fn unsupported(&self) -> super::TlsError {
        self.fail(
            "is a JCEKS store, which cassink cannot read: convert it with keytool \
             -importkeystore -deststoretype pkcs12",
        )
    }

    fn open_jks(&self) -> Result<jks::KeyStore> {
        let mut store = jks::KeyStore::with_options(jks::KeyStoreOptions {
            // Deterministic "first" entry: the crate keeps entries in a hash map.
            ordered_aliases: true,
            ..Default::default()
        });
        // The crate sizes buffers from counts in the file before it checks the file's
        // digest, so a damaged file could make it allocate without bound: check the digest
        // first (keytool's: SHA-1 over the password in UTF-16BE, "Mighty Aphrodite", then
        // the store; stored in the last 20 bytes).
        if !jks_digest_matches(self.bytes, self.password) {
            return Err(self.unopened("integrity check failed"));
        }
        // The crate indexes into entry bytes unchecked; a crafted file must not take the
        // worker down, so a panic in it is a bad file like any other.
        guard(|| store.load(self.bytes, self.password.as_bytes()))
            .map_err(|e| self.fail(format!("is not a readable JKS store ({e})")))?
            .map_err(|e| match e {
                jks::KeyStoreError::InvalidDigest => self.unopened("integrity check failed"),
                jks::KeyStoreError::Io(io) => self.fail(format!("is a truncated JKS store ({io})")),
                other => self.fail(format!("is not a readable JKS store ({other})")),
            })?;
        Ok(store)
    }

    fn open_pkcs12(&self) -> Result<p12_keystore::Pkcs12Archive> {
        guard(|| p12_keystore::Pkcs12Archive::from_pkcs12(self.bytes, self.password))
            .map_err(|e| self.fail(format!("is not a readable PKCS#12 store ({e})")))?
            .map_err(|e| match e {
                p12_keystore::error::Error::MacError(_)
                | p12_keystore::error::Error::UnpadError => self.unopened("integrity check failed"),
                other => self.fail(format!("is not a readable PKCS#12 store ({other})")),
            })
    }

    /// Every trusted-certificate entry (the roots of a truststore). PKCS#12 certificates
    /// that belong to no key count as trusted too: `openssl pkcs12 -export -nokeys` does
    /// not mark them the way keytool does.
    pub fn trusted_certs(&self) -> Result<Vec<CertificateDer<'static>>> {
        let certs: Vec<CertificateDer<'static>> = match self.format() {
            StoreFormat::Jks => {
                let store = self.open_jks()?;
                store
                    .aliases()
                    .iter()
                    .filter_map(|alias| store.get_trusted_certificate_entry(alias).ok())
                    .map(|entry| CertificateDer::from(entry.certificate.content))
                    .collect()
            }
            StoreFormat::Pkcs12 => self
                .open_pkcs12()?
                .certs
                .into_iter()
                .filter(|bag| bag.trusted || bag.local_key_id.is_none())
                .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
                .collect(),
            StoreFormat::Jceks => return Err(self.unsupported()),
            StoreFormat::Pem => return Err(self.fail("is PEM, not a key store")),
        };
        if certs.is_empty() {
            return Err(self.fail(format!(
                "this {} store holds no trusted certificate entry (import the CA with keytool \
                 -importcert)",
                self.format().name()
            )));
        }
        Ok(certs)
    }

    /// The first private-key entry (alphabetically by alias for JKS, in file order for
    /// PKCS#12) with its certificate chain. A JKS key must be protected with the store
    /// password, as keytool does by default.
    pub fn identity(&self) -> Result<Identity> {
        let no_key = || {
            self.fail(format!(
                "this {} store holds no private-key entry with a certificate chain",
                self.format().name()
            ))
        };
        let (key, chain) = match self.format() {
            StoreFormat::Jks => {
                let store = self.open_jks()?;
                let alias = store
                    .aliases()
                    .into_iter()
                    .find(|a| store.is_private_key_entry(a))
                    .ok_or_else(no_key)?;
                let entry = guard(|| store.get_private_key_entry(&alias, self.password.as_bytes()))
                    .map_err(|e| self.fail(format!("key entry {alias:?} is damaged ({e})")))?
                    .map_err(|e| match e {
                        jks::KeyStoreError::InvalidDigest => self.fail(format!(
                            "key entry {alias:?} is not protected with {} (give it the store \
                             password: keytool -keypasswd)",
                            self.password_key
                        )),
                        other => self.fail(format!("key entry {alias:?} is unreadable ({other})")),
                    })?;
                let chain = entry
                    .certificate_chain
                    .into_iter()
                    .map(|c| CertificateDer::from(c.content))
                    .collect();
                (entry.private_key, chain)
            }
            StoreFormat::Pkcs12 => {
                let archive = self.open_pkcs12()?;
                let key = archive.keys.first().ok_or_else(no_key)?;
                // The chain: the certificate of the key, then its issuers found in the store.
                let leaf = archive
                    .certs
                    .iter()
                    .find(|c| {
                        c.local_key_id.as_deref() == key.local_key_id.as_ref().map(|k| k.as_ref())
                    })
                    .ok_or_else(no_key)?;
                let mut chain = vec![leaf.cert.clone()];
                while let Some(issuer) = chain.last().and_then(|last| {
                    archive.certs.iter().find(|c| {
                        c.cert.subject() == last.issuer()
                            && last.subject() != last.issuer()
                            && !chain.contains(&c.cert)
                    })
                }) {
                    chain.push(issuer.cert.clone());
                }
                let chain = chain
                    .into_iter()
                    .map(|c| CertificateDer::from(c.as_der().to_vec()))
                    .collect();
                (key.key.as_der().to_vec(), chain)
            }
            StoreFormat::Jceks => return Err(self.unsupported()),
            StoreFormat::Pem => return Err(self.fail("is PEM, not a key store")),
        };
        let chain: Vec<CertificateDer<'static>> = chain;
        if chain.is_empty() {
            return Err(no_key());
        }
        Ok((chain, PrivatePkcs8KeyDer::from(key).into()))
    }
}

/// Runs a store parser, turning a panic in it into an error.
/// Whether a JKS store's trailing digest matches its content under `password`.
fn jks_digest_matches(bytes: &[u8], password: &str) -> bool {
    use sha1::{Digest, Sha1};
    let Some(split) = bytes.len().checked_sub(20) else {
        return false;
    };
    let (content, stored) = bytes.split_at(split);
    let mut hash = Sha1::new();
    for unit in password.encode_utf16() {
        hash.update(unit.to_be_bytes());
    }
    hash.update(b"Mighty Aphrodite");
    hash.update(content);
    hash.finalize().as_slice() == stored
}

fn guard<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| "the store parser rejected its contents".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    const PASSWORD: &str = "changeit";

    fn cert_and_key() -> (Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.der().to_vec(), key.serialize_der())
    }

    fn jks_cert(der: &[u8]) -> jks::Certificate {
        jks::Certificate {
            cert_type: "X.509".into(),
            content: der.to_vec(),
        }
    }

    fn jks_bytes(fill: impl FnOnce(&mut jks::KeyStore)) -> Vec<u8> {
        let mut store = jks::KeyStore::new();
        fill(&mut store);
        let mut out = Vec::new();
        store.store(&mut out, PASSWORD.as_bytes()).unwrap();
        out
    }

    fn store<'a>(bytes: &'a [u8], password: &'a str) -> Store<'a> {
        Store {
            path_key: "ssl.truststore.path",
            password_key: "ssl.truststore.password",
            path: Path::new("/etc/cassink/store.jks"),
            bytes,
            password,
        }
    }

    #[test]
    fn formats_are_told_apart_by_their_first_bytes() {
        assert_eq!(
            StoreFormat::detect(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]),
            StoreFormat::Jks
        );
        assert_eq!(
            StoreFormat::detect(&[0xce, 0xce, 0xce, 0xce]),
            StoreFormat::Jceks
        );
        assert_eq!(
            StoreFormat::detect(&[0x30, 0x82, 0x01]),
            StoreFormat::Pkcs12
        );
        assert_eq!(
            StoreFormat::detect(b"-----BEGIN CERTIFICATE-----"),
            StoreFormat::Pem
        );
        assert_eq!(StoreFormat::detect(&[0xfe, 0xed]), StoreFormat::Pem);
        assert_eq!(StoreFormat::detect(&[]), StoreFormat::Pem);
    }

    #[test]
    fn jks_trusted_entries_and_key_entry() {
        let (ca, _) = cert_and_key();
        let (leaf, key) = cert_and_key();
        let bytes = jks_bytes(|s| {
            s.set_trusted_certificate_entry(
                "ca",
                jks::TrustedCertificateEntry {
                    creation_time: SystemTime::now(),
                    certificate: jks_cert(&ca),
                },
            )
            .unwrap();
            s.set_private_key_entry(
                "client",
                jks::PrivateKeyEntry {
                    creation_time: SystemTime::now(),
                    private_key: key.clone(),
                    certificate_chain: vec![jks_cert(&leaf), jks_cert(&ca)],
                },
                PASSWORD.as_bytes(),
            )
            .unwrap();
        });
        let s = store(&bytes, PASSWORD);
        // Only the trusted entry is a root, not the key entry's chain.
        assert_eq!(
            s.trusted_certs().unwrap(),
            vec![CertificateDer::from(ca.clone())]
        );
        let (chain, got_key) = s.identity().unwrap();
        assert_eq!(
            chain,
            vec![CertificateDer::from(leaf), CertificateDer::from(ca)]
        );
        assert_eq!(got_key.secret_der(), key.as_slice());
    }

    #[test]
    fn wrong_password_and_damage_are_named_without_the_password() {
        let (ca, _) = cert_and_key();
        let bytes = jks_bytes(|s| {
            s.set_trusted_certificate_entry(
                "ca",
                jks::TrustedCertificateEntry {
                    creation_time: SystemTime::now(),
                    certificate: jks_cert(&ca),
                },
            )
            .unwrap();
        });
        let err = store(&bytes, "hunter2-wrong")
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ssl.truststore.path /etc/cassink/store.jks"),
            "{err}"
        );
        assert!(err.contains("wrong ssl.truststore.password"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = store(&bytes, "").trusted_certs().unwrap_err().to_string();
        assert!(err.contains("ssl.truststore.password is empty"), "{err}");

        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        let err = store(&flipped, PASSWORD)
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("JKS") && err.contains("ssl.truststore.path"),
            "{err}"
        );
        // Truncated: caught by the digest check before the crate reads any count.
        let err = store(&bytes[..bytes.len() - 30], PASSWORD)
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(err.contains("integrity check failed"), "{err}");
        // A count blown up to 2^32-1 with the digest left as is: refused, not allocated.
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&[0xff; 4]);
        let err = store(&huge, PASSWORD)
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(err.contains("integrity check failed"), "{err}");
        let err = store(&[0xce, 0xce, 0xce, 0xce, 0, 0], PASSWORD)
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(err.contains("JCEKS") && err.contains("pkcs12"), "{err}");
    }

    #[test]
    fn empty_stores_are_refused_for_their_role() {
        let (ca, _) = cert_and_key();
        let trust_only = jks_bytes(|s| {
            s.set_trusted_certificate_entry(
                "ca",
                jks::TrustedCertificateEntry {
                    creation_time: SystemTime::now(),
                    certificate: jks_cert(&ca),
                },
            )
            .unwrap();
        });
        let err = store(&trust_only, PASSWORD)
            .identity()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no private-key entry"), "{err}");
        let empty = jks_bytes(|_| {});
        let err = store(&empty, PASSWORD)
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no trusted certificate entry"), "{err}");
    }

    /// A store written by Java's keytool (see tests/data/README.md): its key entry decrypts
    /// with the store password to a PKCS#8 RSA key, with the one certificate as the chain.
    #[test]
    fn a_keytool_made_jks_keystore_is_read() {
        let bytes = include_bytes!("../../../tests/data/keytool-keystore.jks");
        let s = Store {
            path_key: "ssl.keystore.path",
            password_key: "ssl.keystore.password",
            ..store(bytes, "password")
        };
        let (chain, key) = s.identity().unwrap();
        assert_eq!(chain.len(), 1);
        let subject = p12_keystore::Certificate::from_der(&chain[0]).unwrap();
        assert!(
            subject.subject().contains("CN=Betamax"),
            "{}",
            subject.subject()
        );
        // PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier { rsaEncryption ... } ... }
        let der = key.secret_der();
        let rsa_oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert!(
            der.windows(rsa_oid.len()).take(20).any(|w| w == rsa_oid),
            "{der:02x?}"
        );
        assert!(s
            .trusted_certs()
            .unwrap_err()
            .to_string()
            .contains("no trusted certificate"));
        let err = store(bytes, "passw0rd").identity().unwrap_err().to_string();
        assert!(err.contains("wrong ssl.truststore.password"), "{err}");
    }

    #[test]
    fn pkcs12_roots_and_identity() {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let (ca, _) = cert_and_key();
        let (leaf, key) = cert_and_key();
        let mut ks = KeyStore::new();
        ks.add_entry(
            "ca",
            KeyStoreEntry::Certificate(Certificate::from_der(&ca).unwrap()),
        );
        ks.add_entry(
            "client",
            KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(
                b"k1".as_slice(),
                PrivateKey::from_der(&key).unwrap(),
                [Certificate::from_der(&leaf).unwrap()],
            )),
        );
        let bytes = ks.writer(PASSWORD).write().unwrap();
        assert_eq!(StoreFormat::detect(&bytes), StoreFormat::Pkcs12);
        let s = store(&bytes, PASSWORD);
        assert_eq!(s.trusted_certs().unwrap(), vec![CertificateDer::from(ca)]);
        let (chain, got_key) = s.identity().unwrap();
        assert_eq!(chain, vec![CertificateDer::from(leaf)]);
        assert_eq!(got_key.secret_der(), key.as_slice());
        let err = store(&bytes, "nope-nope")
            .trusted_certs()
            .unwrap_err()
            .to_string();
        assert!(err.contains("wrong ssl.truststore.password"), "{err}");
        assert!(!err.contains("nope-nope"), "{err}");
    }
}
