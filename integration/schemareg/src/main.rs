//! `schemareg`: run the test schema registry.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A small Confluent-compatible schema registry (Avro and JSON Schema) for cassink's tests.
#[derive(Debug, Parser)]
#[command(name = "schemareg", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "SCHEMAREG_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Directory where the registry state is persisted (registry.json); in memory when unset.
    #[arg(long, env = "SCHEMAREG_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let config = schemareg::Config {
        listen: cli.listen,
        data_dir: cli.data_dir,
    };
    let (_, serve) = match schemareg::bind(config).await {
        Ok(bound) => bound,
        Err(e) => {
            tracing::error!(error = %e, "schema registry failed to start");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        result = serve => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "schema registry stopped");
                ExitCode::FAILURE
            }
        },
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            ExitCode::SUCCESS
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
