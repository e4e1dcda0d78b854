//! One running sink task: owns a Kafka consumer for its share of the connector's partitions,
//! converts records, hands them to the [`SinkTask`](cassink_connector::SinkTask), and commits
//! offsets to group `connect-<name>` only for acknowledged records.

use crate::config::WorkerConfig;
use cassink_config::ConfigMap;
use cassink_connector::SinkConnector;
use futures::FutureExt;
use serde::Serialize;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::watch;
use tracing::Instrument;

/// Connect's task/connector states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Failed,
    Restarting,
    Stopped,
}

impl State {
    /// Parses Connect's upper-case state names (as the status topic holds them).
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "UNASSIGNED" => Self::Unassigned,
            "RUNNING" => Self::Running,
            "PAUSED" => Self::Paused,
            "FAILED" => Self::Failed,
            "RESTARTING" => Self::Restarting,
            "STOPPED" => Self::Stopped,
            _ => return None,
        })
    }
}

/// What a task reports: its state and, when failed (or retrying an outage), a readable trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskStatus {
    pub state: State,
    pub trace: Option<String>,
}

/// Everything needed to run one task.
#[derive(Clone)]
pub struct TaskSpec {
    pub connector: String,
    pub task_id: u32,
    /// Number of tasks of this connector (this task takes partitions `p` with `p % tasks == task_id`).
    pub tasks: u32,
    /// The connector config with worker converter defaults merged in.
    pub config: ConfigMap,
    pub worker: Arc<WorkerConfig>,
    pub plugin: Arc<dyn SinkConnector>,
    /// Start paused (target state PAUSED).
    pub paused: bool,
}

/// A handle on a running task. Dropping it does not stop the task: call [`TaskHandle::stop`].
pub struct TaskHandle {
    status: watch::Receiver<TaskStatus>,
    control: watch::Sender<Control>,
    join: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    Run,
    Pause,
    Stop,
}

impl TaskHandle {
    /// Starts the task in the background.
    pub fn spawn(spec: TaskSpec) -> TaskHandle {
        let initial = if spec.paused {
            Control::Pause
        } else {
            Control::Run
        };
        let (control, control_rx) = watch::channel(initial);
        let (status_tx, status) = watch::channel(TaskStatus {
            state: State::Unassigned,
            trace: None,
        });
        let join = tokio::spawn(run(spec, control_rx, status_tx));
        TaskHandle {
            status,
            control,
            join,
        }
    }

    /// A task that could not start (e.g. an unresolvable config provider reference): FAILED
    /// with `trace` until restarted.
    pub fn failed(trace: String) -> TaskHandle {
        let (control, _) = watch::channel(Control::Stop);
        let (_, status) = watch::channel(TaskStatus {
            state: State::Failed,
            trace: Some(trace),
        });
        TaskHandle {
            status,
            control,
            join: tokio::spawn(async {}),
        }
    }

    pub fn status(&self) -> TaskStatus {
        self.status.borrow().clone()
    }

    /// Stops fetching; offsets stay where they are. State becomes PAUSED.
    pub fn pause(&self) {
        let _ = self.control.send(Control::Pause);
    }

    pub fn resume(&self) {
        let _ = self.control.send(Control::Run);
    }

    /// Stops consuming, finishes in-flight writes, commits, releases the consumer. A task
    /// that has not finished within `grace` is aborted (its uncommitted tail is replayed by
    /// whoever runs it next: writes are idempotent).
    pub async fn stop(self, grace: std::time::Duration) -> bool {
        let _ = self.control.send(Control::Stop);
        let mut join = self.join;
        match tokio::time::timeout(grace, &mut join).await {
            Ok(_) => true,
            Err(_) => {
                join.abort();
                false
            }
        }
    }
}

async fn run(spec: TaskSpec, control: watch::Receiver<Control>, status: watch::Sender<TaskStatus>) {
    let span = tracing::info_span!("task", connector = %spec.connector, task = spec.task_id);
    let config = spec.config.clone();
    let on_panic = status.clone();
    let ran = AssertUnwindSafe(super::runner::run(spec, control, status).instrument(span.clone()))
        .catch_unwind()
        .await;
    // A bug must not leave the task RUNNING for ever with nothing happening.
    if let Err(panic) = ran {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        let trace = cassink_config::secrets::redact(
            &format!("org.apache.kafka.connect.errors.ConnectException: the task panicked: {what}"),
            &config,
        );
        span.in_scope(|| tracing::error!(%trace, "task failed"));
        on_panic.send_replace(TaskStatus {
            state: State::Failed,
            trace: Some(trace),
        });
    }
}
