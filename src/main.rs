//! The `cassink` command: parse arguments, load the worker config, run the worker.

/// mimalloc: the worker allocates many small, short-lived values per record.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cassink::produce::cli::ProduceArgs;
use cassink::serve::serve;
use cassink::worker::config::{WorkerConfig, WorkerConfigError};
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
    let job = match Job::of(cli.command) {
        Ok(job) => job,
        Err(e) => {
            tracing::error!("{:#}", anyhow::Error::from(e));
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // tokio reads TOKIO_WORKER_THREADS itself when no count is given.
    if let Job::Serve { worker, .. } = &job {
        if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
            builder.worker_threads(worker.runtime_threads());
        }
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(job, logs));
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

/// A command, with the worker's config read before the runtime starts (it sizes the runtime).
enum Job {
    Serve {
        worker: Box<WorkerConfig>,
        connectors: Vec<PathBuf>,
    },
    Produce(ProduceArgs),
    ConfigReference {
        worker: bool,
    },
}

impl Job {
    fn of(command: Command) -> Result<Job, WorkerConfigError> {
        Ok(match command {
            Command::Worker { config } => Job::Serve {
                worker: Box::new(WorkerConfig::load(config.as_deref())?),
                connectors: Vec::new(),
            },
            Command::Standalone {
                worker_properties,
                connectors,
            } => Job::Serve {
                worker: Box::new(WorkerConfig::load(Some(&worker_properties))?),
                connectors,
            },
            Command::Produce(args) => Job::Produce(args),
            Command::ConfigReference { worker } => Job::ConfigReference { worker },
        })
    }
}

async fn run(job: Job, logs: logging::LogControl) -> anyhow::Result<()> {
    match job {
        Job::Serve { worker, connectors } => serve(*worker, &connectors, logs).await,
        Job::Produce(args) => cassink::produce::cli::run(args).await.map(|_| ()),
        Job::ConfigReference { worker: false } => {
            print!("{}", cassink::worker::plugins::connector_reference());
            Ok(())
        }
        Job::ConfigReference { worker: true } => {
            print!("{}", cassink::worker::config::keys::worker_reference());
            Ok(())
        }
    }
}
