//! The JSON shapes of connector info and status, exactly as Connect's REST API returns them.

use crate::task::State;
use cassink_config::ConfigMap;
use cassink_store::{StatusSnapshot, TaskSnapshot};
use serde::Serialize;

/// `{connector, task}`: a task id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskId {
    pub connector: String,
    pub task: u32,
}

/// `GET /connectors/{c}`: `{name, config, tasks, type}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: ConfigMap,
    pub tasks: Vec<TaskId>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One element of `GET /connectors/{c}/tasks`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskInfo {
    pub id: TaskId,
    pub config: ConfigMap,
}

/// The `connector` part of a status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectorState {
    pub state: State,
    pub worker_id: String,
    /// The connector plugin's version (Connect 4 reports it per connector and task).
    pub version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// One task of a status (`GET /connectors/{c}/tasks/{t}/status` too).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskState {
    pub id: u32,
    pub state: State,
    pub worker_id: String,
    /// The connector plugin's version.
    pub version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// `GET /connectors/{c}/status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectorStateInfo {
    pub name: String,
    pub connector: ConnectorState,
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

pub fn state_name(state: State) -> &'static str {
    match state {
        State::Unassigned => "UNASSIGNED",
        State::Running => "RUNNING",
        State::Paused => "PAUSED",
        State::Failed => "FAILED",
        State::Restarting => "RESTARTING",
        State::Stopped => "STOPPED",
    }
}

impl ConnectorStateInfo {
    /// What the store keeps of a status (times in ms since the epoch).
    pub fn snapshot(&self) -> StatusSnapshot {
        StatusSnapshot {
            connector_state: state_name(self.connector.state).to_string(),
            connector_trace: self.connector.trace.clone(),
            tasks: self
                .tasks
                .iter()
                .map(|t| TaskSnapshot {
                    id: t.id,
                    state: state_name(t.state).to_string(),
                    trace: t.trace.clone(),
                })
                .collect(),
            at_ms: chrono::Utc::now().timestamp_millis(),
        }
    }
}
