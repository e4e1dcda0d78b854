//! https listeners: a rustls server config from the worker's PEM files and an axum
//! [`Listener`] that hands over connections once their TLS handshake is done.

use axum::serve::Listener;
use cassink_tls::{load_certs, load_key, load_roots, provider, Result, TlsError};
use cassink_worker::listeners::{ClientAuth, RestTls};
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the HTTP server to take them.
const ACCEPT_QUEUE: usize = 64;

/// The rustls server config of the https listeners (HTTP/1.1: axum serves no h2 here).
pub fn server_config(tls: &RestTls) -> Result<Arc<ServerConfig>> {
    let certs = load_certs("listeners.https certificate", &tls.certificate)?;
    let key = load_key("listeners.https private key", &tls.key)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match (tls.client_auth, &tls.truststore) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (auth, Some(truststore)) => {
            let roots = load_roots("listeners.https truststore", truststore)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider());
            let verifier = if auth == ClientAuth::Requested {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|e| TlsError::Config(format!("client verifier: {e}")))?,
            )
        }
        (_, None) => {
            return Err(TlsError::Config(
                "listeners.https.ssl.client.auth needs listeners.https.ssl.truststore.location"
                    .into(),
            ))
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        TlsError::Config(format!(
            "{} and {} do not form a usable certificate and key: {e}",
            tls.certificate.display(),
            tls.key.display()
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An https listener: accepts TCP connections and runs each handshake in its own task, so a
/// slow or failing client never holds up the others; failed handshakes are logged and dropped.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let tls = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(ACCEPT_QUEUE);
        let acceptor = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("https accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            local,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
