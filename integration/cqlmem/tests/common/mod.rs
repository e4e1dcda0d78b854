//! Shared setup: an in-process cqlmem (or CASSANDRA_CONTACT_POINTS), a cdrs-tokio session,
//! and a tiny HTTP client for the admin endpoint.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use cdrs_tokio::authenticators::NoneAuthenticatorProvider;
use cdrs_tokio::cluster::session::{Session, SessionBuilder, TcpSessionBuilder};
use cdrs_tokio::cluster::{NodeTcpConfigBuilder, TcpConnectionManager};
use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
use cdrs_tokio::transport::TransportTcp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

pub type CdrsSession = Session<
    TransportTcp,
    TcpConnectionManager,
    RoundRobinLoadBalancingStrategy<TransportTcp, TcpConnectionManager>,
>;

pub struct Running {
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops the server (writing its final snapshot) and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }
}

pub async fn start(data_dir: Option<PathBuf>) -> Running {
    let server = cqlmem::Server::bind(cqlmem::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin: Some("127.0.0.1:0".parse().unwrap()),
        data_dir,
    })
    .await
    .expect("bind cqlmem");
    let addr = server.local_addr().unwrap();
    let admin = server.admin_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        server
            .run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("cqlmem run");
    });
    Running {
        addr,
        admin,
        stop: Some(tx),
        done: Some(done),
    }
}

/// The endpoint to test: CASSANDRA_CONTACT_POINTS if set, else an in-process cqlmem.
pub async fn endpoint() -> (String, Option<Running>) {
    if let Ok(cp) = std::env::var("CASSANDRA_CONTACT_POINTS") {
        let host = cp
            .split(',')
            .next()
            .unwrap_or("127.0.0.1")
            .trim()
            .to_string();
        let port = std::env::var("CASSANDRA_PORT").unwrap_or_else(|_| "9042".into());
        return (format!("{host}:{port}"), None);
    }
    let r = start(None).await;
    (r.addr.to_string(), Some(r))
}

pub async fn session(addr: &str) -> CdrsSession {
    let config = NodeTcpConfigBuilder::new()
        .with_contact_point(addr.to_string().into())
        .with_authenticator_provider(Arc::new(NoneAuthenticatorProvider))
        .build()
        .await
        .expect("cdrs config");
    let fut = TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), config).build();
    tokio::time::timeout(std::time::Duration::from_secs(20), fut)
        .await
        .expect("cdrs connect timed out")
        .expect("cdrs connect")
}

/// Minimal HTTP/1.1 request; returns (status, body).
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("admin connect");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..8)
            .unwrap_or("x")
    )
}
