//! The REST listeners of a worker: binds every `listeners` entry (https with the worker's TLS
//! settings) at start, answers `/health` with 503 until the worker is ready (Connect's
//! start-up behaviour), then serves the API; on shutdown, lets open requests finish.

use super::auth::{AuthError, Users};
use super::tls::{server_config, TlsListener};
use super::{router, AppState, Front};
use cassink_tls::TlsError;
use cassink_worker::config::WorkerConfig;
use cassink_worker::herder::Herder;
use cassink_worker::listeners::Scheme;
use cassink_worker::logging::LogControl;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long in-flight HTTP requests may take to finish once shutdown began.
const HTTP_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot set up the https listener: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("a REST listener failed: {0}")]
    Serve(std::io::Error),
    #[error("a REST listener stopped unexpectedly")]
    Stopped,
}

/// The bound listeners, serving from [`Server::bind`] on.
pub struct Server {
    front: Front,
    servers: JoinSet<std::io::Result<()>>,
    stopping: watch::Sender<bool>,
    /// Some listener accepts connections from beyond loopback.
    exposed: bool,
}

impl Server {
    /// Binds and serves every listener of `worker` (the API answers 503 until [`Server::ready`]).
    pub async fn bind(worker: &WorkerConfig) -> Result<Self, ServerError> {
        let tls = match &worker.rest_tls {
            Some(tls) => Some(server_config(tls)?),
            None => None,
        };
        let front = Front::default();
        let (stopping, _) = watch::channel(false);
        let mut servers = JoinSet::new();
        let mut exposed = false;
        for l in &worker.rest_listeners {
            let bind = l.bind();
            let tcp = tokio::net::TcpListener::bind(&bind)
                .await
                .map_err(|source| ServerError::Bind {
                    bind: bind.clone(),
                    source,
                })?;
            let local: SocketAddr = tcp
                .local_addr()
                .map_err(|source| ServerError::Bind { bind, source })?;
            exposed |= !local.ip().is_loopback();
            tracing::info!(
                %local,
                scheme = ?l.scheme,
                worker_id = %worker.worker_id,
                bootstrap = %worker.bootstrap_servers,
                "REST API listening"
            );
            let mut stop = stopping.subscribe();
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            match (l.scheme, &tls) {
                (Scheme::Https, Some(config)) => {
                    let listener = TlsListener::new(tcp, config.clone()).map_err(|source| {
                        ServerError::Bind {
                            bind: local.to_string(),
                            source,
                        }
                    })?;
                    let serve =
                        axum::serve(listener, front.router()).with_graceful_shutdown(shutdown);
                    servers.spawn(async move { serve.await });
                }
                _ => {
                    let serve = axum::serve(tcp, front.router()).with_graceful_shutdown(shutdown);
                    servers.spawn(async move { serve.await });
                }
            }
        }
        Ok(Self {
            front,
            servers,
            stopping,
            exposed,
        })
    }

    /// Serves the API of `herder` from now on, behind `rest.auth.credentials.file` when set.
    pub fn ready(&self, herder: Arc<Herder>, logs: Arc<LogControl>) -> Result<(), ServerError> {
        let mut state = AppState::new(herder.clone(), logs);
        match &herder.worker().rest_auth_file {
            Some(path) => {
                state = state.with_auth(Users::load(path)?);
                tracing::info!(file = %path.display(), "REST API requires HTTP basic authentication");
            }
            None if self.exposed => tracing::warn!(
                "the REST API listens beyond loopback without authentication: anyone who reaches \
                 it can create connectors; set rest.auth.credentials.file or bind to 127.0.0.1"
            ),
            None => {}
        }
        self.front.ready(router(state));
        Ok(())
    }

    /// Serves until `shutdown` completes (then lets open requests finish, within
    /// [`HTTP_DRAIN_TIMEOUT`]) or a listener fails.
    pub async fn serve_until(
        mut self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        tokio::select! {
            _ = shutdown => {
                let _ = self.stopping.send(true);
                let drained = tokio::time::timeout(HTTP_DRAIN_TIMEOUT, async {
                    while self.servers.join_next().await.is_some() {}
                });
                if drained.await.is_err() {
                    tracing::warn!("open HTTP connections did not close within {HTTP_DRAIN_TIMEOUT:?}");
                }
                Ok(())
            }
            Some(served) = self.servers.join_next() => match served {
                Ok(Ok(())) => Err(ServerError::Stopped),
                Ok(Err(e)) => Err(ServerError::Serve(e)),
                Err(panic) => Err(ServerError::Serve(std::io::Error::other(panic.to_string()))),
            },
        }
    }
}
