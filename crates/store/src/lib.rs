//! Where connector configs, target states and last statuses live. [`ConfigStore`] is the
//! seam: [`FileStore`] keeps them as JSON files under `state.dir` (standalone); [`KafkaStore`]
//! keeps them in the config and status topics (distributed). The store knows no HTTP and no tasks.
//!
//! Crate `cassink-store`. May depend on `cassink-config` and `cassink-kafka` only: the store knows
//! no HTTP and no tasks.

mod file;
mod kafka;

pub use file::FileStore;
pub use kafka::{Distributed, KafkaStore, StoreClients};

use cassink_config::ConfigMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What the user asked a connector to be (Connect's target state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    Running,
    Paused,
    Stopped,
}

impl TargetState {
    /// Parses `RUNNING`/`PAUSED`/`STOPPED` (any case).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "RUNNING" => Some(Self::Running),
            "PAUSED" => Some(Self::Paused),
            "STOPPED" => Some(Self::Stopped),
            _ => None,
        }
    }
}

/// The last status seen for a connector and its tasks, kept for diagnosis after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSnapshot {
    pub connector_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_trace: Option<String>,
    pub tasks: Vec<TaskSnapshot>,
    /// Milliseconds since the epoch.
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSnapshot {
    pub id: u32,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// One stored connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredConnector {
    pub name: String,
    pub config: ConfigMap,
    pub target_state: TargetState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSnapshot>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt connector state in {path}: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot {action} topic {topic}: {reason}")]
    Kafka {
        action: &'static str,
        topic: String,
        reason: String,
    },
    #[error("connector {0} is not stored")]
    NotFound(String),
    #[error("this worker has not read the config topic {topic} to its end within {waited:?}")]
    Stale { topic: String, waited: Duration },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Durable connector state. Every write is durable when the call returns.
pub trait ConfigStore: Send + Sync {
    /// Every stored connector, sorted by name.
    fn list(&self) -> Result<Vec<StoredConnector>>;
    fn get(&self, name: &str) -> Result<Option<StoredConnector>>;
    /// Creates or replaces a connector's config; a new connector gets `target_state`,
    /// an existing one keeps its own.
    fn put_config(&self, name: &str, config: &ConfigMap, target_state: TargetState) -> Result<()>;
    fn put_target_state(&self, name: &str, state: TargetState) -> Result<()>;
    fn put_status(&self, name: &str, status: &StatusSnapshot) -> Result<()>;
    /// Removes a connector; deleting an unknown one is not an error.
    fn delete(&self, name: &str) -> Result<()>;
}

/// A task's last status as one worker reported it (distributed mode's status topic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub worker_id: String,
}

/// What a [`Cluster`] store announces as it reads records other workers (or this one) wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreEvent {
    /// A connector's config or target state changed, or it was deleted.
    Connector(String),
    /// `POST /connectors/{c}/restart` issued on some worker: each worker restarts its tasks.
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    /// `POST /connectors/{c}/tasks/{t}/restart`: the worker that runs the task restarts it.
    RestartTask { connector: String, task: u32 },
}

/// Distributed mode: the workers sharing the config and status topics, as the topics tell.
/// Membership is a heartbeat record per worker in the status topic; every worker reads the
/// same records, so every worker derives the same task assignment from them.
pub trait Cluster: Send + Sync {
    /// Records that this worker is alive (also at start-up, read back before returning).
    fn heartbeat(&self) -> Result<()>;
    /// Records that this worker left (graceful shutdown), so others take its tasks at once.
    fn leave(&self) -> Result<()>;
    /// Workers whose last heartbeat is younger than `session`, sorted; this worker included.
    fn live_workers(&self, session: Duration) -> Vec<String>;
    /// The last status each task of `connector` reported, by task id.
    fn task_statuses(&self, connector: &str) -> BTreeMap<u32, TaskStatus>;
    /// Returns once this worker has read the config topic up to its current end; `Stale`
    /// when it cannot within `timeout` (the REST API then answers 409, as Connect does).
    fn sync(&self, timeout: Duration) -> Result<()>;
    /// Publishes a restart request every worker applies to the tasks it runs.
    fn request_restart(
        &self,
        connector: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<()>;
    /// Publishes a restart request for one task, applied by the worker that runs it.
    fn request_task_restart(&self, connector: &str, task: u32) -> Result<()>;
}
