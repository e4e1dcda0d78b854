//! The plugin seam: a sink connector plugin has a class name, validates its own keys, and
//! starts [`SinkTask`]s that write converted records (the worker keeps the registry). A sink knows
//! no HTTP and no
//! Kafka consumer: the worker feeds it records and commits offsets once `put` acknowledges.
//!
//! Crate `cassink-connector`. May depend on `cassink-record` and `cassink-config` only.

use async_trait::async_trait;
use cassink_config::{ConfigDef, ConfigMap, ConfigValue};
use cassink_record::SinkRecord;

/// Where in the pipeline an error happened (the `__connect.errors.stage` header values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    Transformation,
    Task,
}

impl Stage {
    pub fn as_connect_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::Task => "TASK_PUT",
        }
    }
}

/// What kind of problem a sink error is, which decides what the worker does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDomain {
    /// This record cannot be written (a bad value, a missing key field): it fails alone, and
    /// `errors.tolerance` decides between failing the task and the dead-letter queue.
    BadRecord,
    /// The connector or the table is wrong (bad mapping, dropped table or column, refused
    /// credentials or permissions): the task fails. Never per record: under
    /// `errors.tolerance=all` it must not dead-letter the whole topic.
    Misconfigured,
    /// Cassandra is out for now (Unavailable, WriteTimeout, Overloaded, no answer in time):
    /// retry with backoff; nothing may be assumed written.
    Outage,
    /// The connection is gone below the CQL level (reset, refused, no node left): retry
    /// on a new session.
    ConnectionLost,
}

/// An error from a sink task, with its [`ErrorDomain`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub domain: ErrorDomain,
    /// A Java-like class name for `__connect.errors.exception.class.name` and traces.
    pub kind: &'static str,
    pub message: String,
}

impl SinkError {
    fn new(domain: ErrorDomain, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            domain,
            kind,
            message: message.into(),
        }
    }
    pub fn outage(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorDomain::Outage, kind, message)
    }
    pub fn misconfigured(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorDomain::Misconfigured, kind, message)
    }
    pub fn bad_record(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorDomain::BadRecord, kind, message)
    }
    pub fn connection_lost(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorDomain::ConnectionLost, kind, message)
    }
    /// An outage: worth retrying.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self.domain,
            ErrorDomain::Outage | ErrorDomain::ConnectionLost
        )
    }
}

/// A record that `put` could not write for a permanent reason; `index` is its position in the
/// slice given to `put`. The worker routes it by `errors.tolerance` (fail the task or DLQ).
#[derive(Debug, Clone)]
pub struct RecordFailure {
    pub index: usize,
    pub error: SinkError,
}

/// Who a task is, for logs, errors and metrics, and what the worker makes of its framework
/// keys.
#[derive(Debug, Clone)]
pub struct TaskContext {
    pub connector: String,
    pub task: u32,
    pub framework: Framework,
}

#[async_trait]
pub trait SinkTask: Send {
    /// Writes `records` and returns once every write the sink made for them is acknowledged.
    /// `Ok(failures)` lists records rejected for permanent reasons (everything else is written);
    /// `Err` with `retriable` means nothing can be assumed written and the same records may be
    /// put again (writes are idempotent); `Err` without it fails the task.
    async fn put(&mut self, records: &[SinkRecord]) -> Result<Vec<RecordFailure>, SinkError>;

    /// Releases connections. Called after the last `put` returned.
    async fn stop(&mut self) {}
}

/// What the worker makes of a connector's framework keys (`transforms`, ...) that a plugin's
/// own validation depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Framework {
    /// The transforms may rename topics (`RegexRouter`, `TimestampRouter`, Debezium's
    /// `route.by.field`): per-topic keys then name the topics the transforms give, and which
    /// topic read ends where is known only per record.
    pub routes_topics: bool,
}

#[async_trait]
pub trait SinkConnector: Send + Sync + 'static {
    /// The fully qualified class name users put in `connector.class`.
    fn class_name(&self) -> &'static str;
    /// Short names also accepted in `connector.class`.
    fn aliases(&self) -> &'static [&'static str];
    fn version(&self) -> &'static str;
    /// The plugin's own keys (the framework keys live in the worker).
    fn config_def(&self) -> &ConfigDef;
    /// Static checks of the plugin keys (no network): one entry per key checked, errors naming
    /// the key. Pattern keys (per topic/table) get their own entries. `framework` is what the
    /// worker makes of the framework keys that bears on the plugin's.
    fn validate(&self, config: &ConfigMap, framework: Framework) -> Vec<ConfigValue>;
    /// Warnings for accepted-but-unimplemented keys, shown in validate output and logs.
    fn warnings(&self, _config: &ConfigMap) -> Vec<String> {
        Vec::new()
    }
    /// Starts one task: connects, reads the live table definitions, validates the mapping
    /// against them, prepares statements.
    async fn start_task(
        &self,
        ctx: TaskContext,
        config: ConfigMap,
    ) -> Result<Box<dyn SinkTask>, SinkError>;
}
