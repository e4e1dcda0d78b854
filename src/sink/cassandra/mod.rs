//! The DataStax-compatible Cassandra sink (`com.datastax.oss.kafka.sink.CassandraSinkConnector`).

use crate::config::{ConfigDef, ConfigMap, ConfigValue};
use crate::connector::{SinkConnector, SinkError, SinkTask, TaskContext};
use async_trait::async_trait;

#[derive(Default)]
pub struct CassandraSinkConnector {
    def: ConfigDef,
}

#[async_trait]
impl SinkConnector for CassandraSinkConnector {
    fn class_name(&self) -> &'static str {
        "com.datastax.oss.kafka.sink.CassandraSinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["CassandraSinkConnector", "cassandra"]
    }
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn validate(&self, _config: &ConfigMap) -> Vec<ConfigValue> {
        Vec::new()
    }
    async fn start_task(
        &self,
        _ctx: TaskContext,
        _config: ConfigMap,
    ) -> Result<Box<dyn SinkTask>, SinkError> {
        Err(SinkError::permanent(
            "NotImplemented",
            "the Cassandra sink is not implemented yet",
        ))
    }
}
