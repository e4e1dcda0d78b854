//! A TLS terminator in front of a plain TCP server (cqlmem): rustls with the test PKI's
//! server certificate, optionally requiring a client certificate signed by the test CA. Each
//! accepted connection is decrypted and piped to `upstream`. It runs on a thread of its own,
//! so test code that blocks (rdkafka calls, child processes) cannot stall it.

use super::pki::Pki;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use std::net::SocketAddr;
use std::sync::Arc;

fn server_config(pki: &Pki, require_client_cert: bool) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_file_iter(&pki.server_cert)
        .expect("server cert")
        .collect::<Result<Vec<_>, _>>()
        .expect("server cert PEM");
    let key = PrivateKeyDer::from_pem_file(&pki.server_key).expect("server key");
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions");
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(&pki.ca).expect("CA") {
            roots.add(ca.expect("CA PEM")).expect("CA root");
        }
        builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .expect("client verifier"),
        )
    } else {
        builder.with_no_client_auth()
    };
    builder
        .with_single_cert(certs, key)
        .expect("server certificate and key")
}

/// Starts a TLS front on `ip` (ephemeral port) for `upstream`; returns its address.
pub fn start(pki: &Pki, ip: &str, upstream: SocketAddr, require_client_cert: bool) -> SocketAddr {
    let acceptor =
        tokio_rustls::TlsAcceptor::from(Arc::new(server_config(pki, require_client_cert)));
    let listener = std::net::TcpListener::bind((ip, 0)).expect("bind TLS front");
    let addr = listener.local_addr().expect("TLS front address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::Builder::new()
        .name(format!("tls-front-{}", addr.port()))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("TLS front runtime");
            runtime.block_on(async move {
                let front = tokio::net::TcpListener::from_std(listener).expect("TLS front");
                loop {
                    let Ok((tcp, _)) = front.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    });
                }
            })
        })
        .expect("spawn TLS front");
    addr
}
