//! cqlmem: an in-memory server speaking the Cassandra native protocol v4, for tests.
//!
//! [`Server::bind`] binds the CQL and admin listeners (port 0 picks a free port) and
//! [`Server::run`] serves; [`serve`] does both.

pub mod admin;
pub mod codec;
pub mod cql;
pub mod error;
pub mod exec;
pub mod faults;
pub mod frame;
pub mod json;
pub mod literal;
pub mod protocol;
pub mod server;
pub mod snapshot;
pub mod storage;
pub mod system;
pub mod types;

pub use server::{Config, Server};

/// Binds and serves until `shutdown` resolves, then writes a final snapshot.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    Server::bind(config).await?.run_until(shutdown).await
}
