//! `cqlmem --listen 127.0.0.1:9042 --admin 127.0.0.1:9044 [--data-dir DIR]`

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// In-memory CQL (native protocol v4) server for cassink's tests.
#[derive(Debug, Parser)]
#[command(name = "cqlmem", version)]
struct Args {
    /// Address of the CQL native protocol listener.
    #[arg(long, env = "CQLMEM_LISTEN", default_value = "127.0.0.1:9042")]
    listen: SocketAddr,
    /// Address of the admin HTTP endpoint (/health, /faults, /stats).
    #[arg(long, env = "CQLMEM_ADMIN", default_value = "127.0.0.1:9044")]
    admin: SocketAddr,
    /// Directory for the snapshot; loaded on start, written every second when dirty and on exit.
    #[arg(long, env = "CQLMEM_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = cqlmem::Config {
        listen: args.listen,
        admin: Some(args.admin),
        data_dir: args.data_dir,
    };
    cqlmem::serve(config, shutdown_signal()).await
}
