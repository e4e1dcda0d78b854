//! The `cassink` command: parse arguments, load the worker config, run the worker.

/// mimalloc: the worker allocates many small, short-lived values per record.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cassink::produce::cli::ProduceArgs;
use cassink::serve::serve;
use cassink::worker::logging::{self, LogFormat};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "cassink",
    version,
    about = "A Kafka Connect-compatible sink worker that moves Kafka records into Apache Cassandra"
)]
struct Cli {
    /// Log output format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the worker with the Connect REST API (default port 8083). Connectors are managed
    /// over REST and kept under `state.dir`.
    Worker {
        /// Connect-style worker properties; `CONNECT_*` env variables override it.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Like connect-standalone: run the worker and create (or update) the given connectors.
    Standalone {
        /// Worker properties file.
        worker_properties: PathBuf,
        /// Connector configs: JSON `{name, config}`, a JSON config map with `name`, or
        /// `.properties`.
        #[arg(required = true)]
        connectors: Vec<PathBuf>,
    },
    /// Print the connector configuration reference (markdown) generated from the typed
    /// definitions; with --worker, the worker's.
    ConfigReference {
        #[arg(long)]
        worker: bool,
    },
    /// Produce sample records for one of the reference pipelines (tweets, weather, meter).
    Produce(ProduceArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let logs = logging::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, logs));
    // A client library call stuck in a blocking section (seen once in a revoke-time commit
    // during shutdown) must not keep the process alive after the bounded shutdown.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, logs: logging::LogControl) -> anyhow::Result<()> {
    match command {
        Command::Worker { config } => serve(config.as_deref(), &[], logs).await,
        Command::Standalone {
            worker_properties,
            connectors,
        } => serve(Some(&worker_properties), &connectors, logs).await,
        Command::Produce(args) => cassink::produce::cli::run(args).await.map(|_| ()),
        Command::ConfigReference { worker: false } => {
            print!("{}", cassink::worker::plugins::connector_reference());
            Ok(())
        }
        Command::ConfigReference { worker: true } => {
            print!("{}", cassink::worker::config::keys::worker_reference());
            Ok(())
        }
    }
}
