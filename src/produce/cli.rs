//! `cassink produce`: its arguments and what it does with them.

use super::{ensure_topic, produce, produce_avro, produce_protobuf, Brokers, Format, Workload};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
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
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Schema registry for --format avro and protobuf.
    #[arg(
        long,
        alias = "schema-registry-url",
        env = "SCHEMA_REGISTRY_URL",
        default_value = "http://127.0.0.1:8081/apis/ccompat/v7"
    )]
    schema_registry: String,
}

/// Creates the topic when asked, then produces the records; returns how many were sent.
pub async fn run(args: ProduceArgs) -> anyhow::Result<u64> {
    let (producer, admin) = Brokers::from_settings(
        args.bootstrap,
        args.client_config.as_deref(),
        &args.client_property,
    )?;
    let topic = args
        .topic
        .unwrap_or_else(|| args.workload.topic().to_string());
    if args.create_topic {
        ensure_topic(&admin, &topic, args.partitions).await?;
    }
    let count = args.count.unwrap_or(u64::MAX);
    if count == 0 {
        return Ok(0);
    }
    let (workload, rate, seed) = (args.workload, args.rate, args.seed);
    let registry = args.schema_registry.as_str();
    let sent = match args.format {
        Format::Json => produce(&producer, workload, &topic, count, rate, seed).await?,
        Format::Avro => {
            produce_avro(&producer, registry, workload, &topic, count, rate, seed).await?
        }
        Format::Protobuf => {
            produce_protobuf(&producer, registry, workload, &topic, count, rate, seed).await?
        }
    };
    tracing::info!(topic = %topic, sent, "produced");
    Ok(sent)
}
