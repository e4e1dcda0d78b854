//! Where connector configs, target states and last statuses live. [`ConfigStore`] is the
//! seam: [`FileStore`] keeps them as JSON files under `state.dir` (standalone); [`KafkaStore`]
//! keeps them in the config and status topics (distributed). The store knows no HTTP and no tasks.

mod file;
mod kafka;

pub use file::FileStore;
pub use kafka::KafkaStore;

use crate::config::ConfigMap;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
