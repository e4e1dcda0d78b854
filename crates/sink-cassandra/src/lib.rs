//! The DataStax-compatible Cassandra sink (`com.datastax.oss.kafka.sink.CassandraSinkConnector`).
//!
//! Crate `cassink-sink-cassandra`. May depend on `cassink-connector` (the seam it implements),
//! `cassink-record`, `cassink-config`, `cassink-tls`, and `cassink-convert` for reading JSON text
//! in collection columns, as the DataStax codecs do; it knows no HTTP and no Kafka consumer.

pub mod clock;
pub mod codec;
pub mod config;
pub mod custom_query;
pub mod mapping;
pub mod schema;
pub mod session;
pub mod statement;
pub mod tls;
pub mod units;
pub mod writer;

use async_trait::async_trait;
use cassink_config::{ConfigDef, ConfigMap, ConfigValue};
use cassink_connector::{Framework, SinkConnector, SinkError, SinkTask, TaskContext};

#[derive(Debug, Default)]
pub struct CassandraSinkConnector;

#[async_trait]
impl SinkConnector for CassandraSinkConnector {
    fn class_name(&self) -> &'static str {
        "com.datastax.oss.kafka.sink.CassandraSinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        // The DataStax connector's older class name (its 1.x "DSE" connector), as configs
        // upgraded from it still name it.
        &[
            "CassandraSinkConnector",
            "cassandra",
            "com.datastax.kafkaconnector.DseSinkConnector",
            "DseSinkConnector",
        ]
    }
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn config_def(&self) -> &ConfigDef {
        config::definition()
    }
    fn validate(&self, config: &ConfigMap, framework: Framework) -> Vec<ConfigValue> {
        config::validate(config, framework)
    }
    fn warnings(&self, config: &ConfigMap) -> Vec<String> {
        config::warnings(config)
    }
    async fn start_task(
        &self,
        ctx: TaskContext,
        config: ConfigMap,
    ) -> Result<Box<dyn SinkTask>, SinkError> {
        let parsed = config::SinkConfig::parse(&config, ctx.framework)
            .map_err(|e| SinkError::misconfigured("ConfigException", e))?;
        for warning in config::warnings(&config) {
            tracing::warn!(connector = %ctx.connector, "{warning}");
        }
        Ok(Box::new(
            writer::CassandraSinkTask::start(ctx, parsed).await?,
        ))
    }
}
