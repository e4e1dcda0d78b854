//! The `cassink` command: parse arguments, load the worker config, run the worker.

use anyhow::Context;

/// mimalloc: the worker allocates many small, short-lived values per record.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cassink::config::properties::parse_properties;
use cassink::config::ConfigMap;
use cassink::logging::{self, LogFormat};
use cassink::produce::{self, Workload};
use cassink::rest::{router, AppState, Front};
use cassink::store::{Cluster, ConfigStore, FileStore, KafkaStore, StoreClients};
use cassink::worker::config::WorkerConfig;
use cassink::worker::herder::{Herder, HerderError};
use cassink::worker::listeners::Scheme;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown may take (tasks drain in-flight writes and commit) before exiting.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight HTTP requests may take to finish once a signal arrived.
const HTTP_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// Print the connector configuration reference (markdown) generated from the typed definitions.
    ConfigReference,
    /// Produce sample records for one of the reference pipelines (tweets, weather, meter).
    Produce {
        workload: Workload,
        /// Topic to write to (default: the workload's name).
        #[arg(long)]
        topic: Option<String>,
        /// Create the topic first (with --partitions) when it does not exist.
        #[arg(long)]
        create_topic: bool,
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// Number of records (default: keep producing until stopped; 0 with --create-topic
        /// only creates the topic).
        #[arg(long)]
        count: Option<u64>,
        /// At most this many records per second.
        #[arg(long)]
        rate: Option<u64>,
        /// Kafka bootstrap servers (default: `bootstrap.servers` of --client-config, else
        /// localhost:9092).
        #[arg(long, env = "KAFKA_BOOTSTRAP")]
        bootstrap: Option<String>,
        /// Kafka client settings as a properties file, with the keys a worker config takes:
        /// `security.protocol`, `ssl.*`, `sasl.*` (Connect's names such as `sasl.jaas.config`
        /// and PEM `ssl.truststore.location` included), `producer.*` and `admin.*`. A worker
        /// properties file works as it is.
        #[arg(long, env = "CASSINK_CLIENT_CONFIG")]
        client_config: Option<PathBuf>,
        /// One client setting `key=value` (repeatable; after --client-config).
        #[arg(short = 'X', long = "client-property", value_name = "KEY=VALUE")]
        client_property: Vec<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Record format: plain JSON, or Avro / Protobuf (meter only) registered in the
        /// schema registry.
        #[arg(long, value_enum, default_value_t = produce::Format::Json)]
        format: produce::Format,
        /// Schema registry for --format avro and protobuf.
        #[arg(
            long,
            alias = "schema-registry-url",
            env = "SCHEMA_REGISTRY_URL",
            default_value = "http://127.0.0.1:8081/apis/ccompat/v7"
        )]
        schema_registry: String,
    },
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
    let (worker_file, connector_files) = match command {
        Command::Produce {
            workload,
            topic,
            create_topic,
            partitions,
            count,
            rate,
            bootstrap,
            client_config,
            client_property,
            seed,
            format,
            schema_registry,
        } => {
            let (producer, admin) = produce::Brokers::from_settings(
                bootstrap,
                client_config.as_deref(),
                &client_property,
            )?;
            let topic = topic.unwrap_or_else(|| workload.topic().to_string());
            if create_topic {
                produce::ensure_topic(&admin, &topic, partitions).await?;
            }
            let count = count.unwrap_or(u64::MAX);
            if count > 0 {
                let sent = match format {
                    produce::Format::Json => {
                        produce::produce(&producer, workload, &topic, count, rate, seed).await?
                    }
                    produce::Format::Avro => {
                        let registry = schema_registry.as_str();
                        produce::produce_avro(
                            &producer, registry, workload, &topic, count, rate, seed,
                        )
                        .await?
                    }
                    produce::Format::Protobuf => {
                        let registry = schema_registry.as_str();
                        produce::produce_protobuf(
                            &producer, registry, workload, &topic, count, rate, seed,
                        )
                        .await?
                    }
                };
                tracing::info!(topic = %topic, sent, "produced");
            }
            return Ok(());
        }
        Command::ConfigReference => {
            print!("{}", cassink::worker::plugins::connector_reference());
            return Ok(());
        }
        Command::Worker { config } => (config, Vec::new()),
        Command::Standalone {
            worker_properties,
            connectors,
        } => (Some(worker_properties), connectors),
    };
    let worker = WorkerConfig::load(worker_file.as_deref())?;
    for key in &worker.unknown_keys {
        tracing::warn!(key = %key, "unknown worker config key (ignored)");
    }
    for key in &worker.kafka.ignored {
        tracing::info!(key = %key, "Kafka (Java) client key with no librdkafka equivalent (ignored)");
    }
    let connectors = connector_files
        .iter()
        .map(|p| read_connector(p))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let tls_config = match &worker.rest_tls {
        Some(tls) => Some(
            cassink::rest::tls::server_config(tls).context("cannot set up the https listener")?,
        ),
        None => None,
    };
    let mut listeners = Vec::new();
    for l in &worker.rest_listeners {
        let tcp = tokio::net::TcpListener::bind(l.bind())
            .await
            .with_context(|| format!("cannot listen on {}", l.bind()))?;
        let local = tcp.local_addr()?;
        tracing::info!(
            %local,
            scheme = ?l.scheme,
            worker_id = %worker.worker_id,
            bootstrap = %worker.bootstrap_servers,
            "REST API listening"
        );
        listeners.push((l.scheme, tcp, local));
    }
    let exposed = listeners
        .iter()
        .any(|(_, _, local)| !local.ip().is_loopback());
    // Serve from now on: /health answers 503 until the connectors are read (Connect's
    // start-up behaviour), then the real API.
    let front = Front::default();
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for (scheme, tcp, _) in listeners {
        let mut stop = stopping.clone();
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        match (scheme, &tls_config) {
            (Scheme::Https, Some(config)) => {
                let tls = cassink::rest::tls::TlsListener::new(tcp, config.clone())?;
                let serve = axum::serve(tls, front.router()).with_graceful_shutdown(shutdown);
                servers.spawn(async move { serve.await });
            }
            _ => {
                let serve = axum::serve(tcp, front.router()).with_graceful_shutdown(shutdown);
                servers.spawn(async move { serve.await });
            }
        }
    }
    drop(stopping);
    let (store, cluster, changes): (Arc<dyn ConfigStore>, Option<Arc<dyn Cluster>>, _) =
        match worker.distributed() {
            Some(d) => {
                tracing::info!(group_id = %d.group_id, config_topic = %d.config_topic, "distributed mode");
                let (store, changes) =
                    KafkaStore::open(store_clients(&worker), worker.worker_id.clone(), d.clone())
                        .await
                        .with_context(|| {
                            format!(
                                "cannot open the config topic {} (distributed mode)",
                                d.config_topic
                            )
                        })?;
                store
                    .heartbeat()
                    .context("cannot announce this worker in the status topic")?;
                let store = Arc::new(store);
                (store.clone(), Some(store), Some(changes))
            }
            None => {
                let store = FileStore::open(&worker.state_dir).with_context(|| {
                    format!("cannot open state.dir {}", worker.state_dir.display())
                })?;
                (Arc::new(store), None, None)
            }
        };
    let worker = Arc::new(worker);
    let herder = Herder::new(worker.clone(), store, cluster);
    let restored = herder.restore().await?;
    if let Some(changes) = changes {
        herder.run_distributed(changes);
    }
    tracing::info!(restored, state_dir = %worker.state_dir.display(), "connector state loaded");
    for (name, config) in connectors {
        match herder.put_config(&name, config).await {
            Ok((created, _)) => tracing::info!(connector = %name, created, "connector from file"),
            Err(e @ HerderError::Invalid(_)) => anyhow::bail!("connector {name}: {e}"),
            Err(e) => return Err(e.into()),
        }
    }

    let mut state = AppState::new(herder.clone(), Arc::new(logs));
    match &worker.rest_auth_file {
        Some(path) => {
            let users = cassink::rest::auth::Users::load(path)?;
            tracing::info!(file = %path.display(), "REST API requires HTTP basic authentication");
            state = state.with_auth(users);
        }
        None if exposed => tracing::warn!(
            "the REST API listens beyond loopback without authentication: anyone who reaches \
             it can create connectors; set rest.auth.credentials.file or bind to 127.0.0.1"
        ),
        None => {}
    }
    let app = router(state);
    front.ready(app);

    let status_loop = {
        let herder = herder.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                herder.persist_statuses().await;
            }
        })
    };

    tokio::select! {
        _ = shutdown_signal() => {
            let _ = stopping_tx.send(true);
            let drained = tokio::time::timeout(HTTP_DRAIN_TIMEOUT, async {
                while servers.join_next().await.is_some() {}
            });
            if drained.await.is_err() {
                tracing::warn!("open HTTP connections did not close within {HTTP_DRAIN_TIMEOUT:?}");
            }
        }
        Some(served) = servers.join_next() => {
            served.context("REST server panicked")?.context("REST server failed")?;
            anyhow::bail!("a REST listener stopped unexpectedly");
        }
    }
    status_loop.abort();

    tracing::info!("shutting down: stopping tasks");
    if tokio::time::timeout(SHUTDOWN_TIMEOUT, herder.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("tasks did not stop within {SHUTDOWN_TIMEOUT:?}; exiting anyway");
    }
    tracing::info!("stopped");
    Ok(())
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

/// Reads a connector file as connect-standalone does: JSON `{name, config}`, a JSON config
/// map with `name`, or a `.properties` file.
fn read_connector(path: &Path) -> anyhow::Result<(String, ConfigMap)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read connector config {}", path.display()))?;
    let is_properties = path.extension().and_then(|e| e.to_str()) == Some("properties");
    let config: ConfigMap = if is_properties {
        parse_properties(&text)
    } else {
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let obj = value
            .as_object()
            .with_context(|| format!("{} must hold a JSON object", path.display()))?;
        let (map, top_name) = match obj.get("config") {
            Some(serde_json::Value::Object(c)) => (c, obj.get("name").and_then(|n| n.as_str())),
            _ => (obj, None),
        };
        let mut config =
            cassink::config::from_json(map).with_context(|| format!("{}", path.display()))?;
        if let Some(n) = top_name {
            config.entry("name".into()).or_insert_with(|| n.to_string());
        }
        config
    };
    let name = config
        .get("name")
        .cloned()
        .with_context(|| format!("{}: the connector needs a name", path.display()))?;
    Ok((name, config))
}

/// The Kafka clients of distributed mode's config store, as the worker configures them.
fn store_clients(worker: &WorkerConfig) -> StoreClients {
    use cassink::kafka::client::Role;
    StoreClients {
        admin: worker.kafka_client(Role::Admin),
        producer: worker.kafka_client(Role::Producer),
        consumer: worker.kafka_client(Role::Consumer),
    }
}
