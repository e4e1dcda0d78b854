//! The composition root of `cassink worker` and `cassink standalone`: the REST listeners
//! (bound first, so `/health` answers 503 while the worker starts), the worker runtime, and
//! shutdown on SIGINT or SIGTERM.

use cassink_rest::Server;
use cassink_worker::config::WorkerConfig;
use cassink_worker::logging::LogControl;
use cassink_worker::runtime::{read_connector_file, Runtime};
use std::path::PathBuf;
use std::sync::Arc;

/// Runs a worker (its config loaded from its properties file and `CONNECT_*` variables),
/// creating or updating the connectors of `connector_files`, until a signal or a failed
/// listener.
pub async fn serve(
    worker: WorkerConfig,
    connector_files: &[PathBuf],
    logs: LogControl,
) -> anyhow::Result<()> {
    for key in &worker.unknown_keys {
        tracing::warn!(key = %key, "unknown worker config key (ignored)");
    }
    for key in &worker.kafka.ignored {
        tracing::info!(key = %key, "Kafka (Java) client key with no librdkafka equivalent (ignored)");
    }
    let connectors = connector_files
        .iter()
        .map(|p| read_connector_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let server = Server::bind(&worker).await?;
    let runtime = Runtime::start(Arc::new(worker), connectors).await?;
    server.ready(runtime.herder().clone(), Arc::new(logs))?;
    let served = server.serve_until(shutdown_signal()).await;
    runtime.shutdown().await;
    Ok(served?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
