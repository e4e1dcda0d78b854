//! A small Confluent-compatible schema registry for cassink's tests.
//!
//! It speaks the Confluent Schema Registry REST API (subjects, versions, global ids,
//! compatibility, config) for Avro and JSON Schema, keeps its state in memory, and with a data
//! directory persists it so schema ids are stable across restarts.
//!
//! ```no_run
//! # async fn run() -> Result<(), schemareg::StartError> {
//! let (addr, serve) = schemareg::bind(schemareg::Config {
//!     listen: "127.0.0.1:0".parse().expect("literal address"),
//!     data_dir: None,
//! })
//! .await?;
//! tokio::spawn(serve);
//! println!("registry at http://{addr}");
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod compat;
pub mod error;
pub mod registry;
pub mod schema;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use error::Error;
pub use registry::Registry;

/// Where the registry listens and where it keeps its state.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Directory for `registry.json`; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
}

/// Why the registry could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load the registry state: {0}")]
    Store(#[from] Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Loads the state, binds the listener, and returns the bound address with the future that
/// serves requests until it fails or is dropped.
pub async fn bind(
    config: Config,
) -> Result<
    (
        SocketAddr,
        impl Future<Output = std::io::Result<()>> + Send + 'static,
    ),
    StartError,
> {
    let registry = match &config.data_dir {
        Some(dir) => Registry::open(dir)?,
        None => Registry::in_memory(),
    };
    let bind_error = |source| StartError::Bind {
        addr: config.listen,
        source,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    tracing::info!(%addr, data_dir = ?config.data_dir, "schema registry listening");
    let app = api::router(Arc::new(registry));
    Ok((addr, async move { axum::serve(listener, app).await }))
}
