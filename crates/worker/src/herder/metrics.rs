//! What the worker's metrics say about what it runs: the OpenMetrics text of `GET /metrics`
//! (the task metrics, with the statuses of this worker's connectors and tasks) and the flows
//! of `GET /metrics/connectors[/{name}]`.

use super::{Herder, Result};
use crate::task::State;
use cassink_metrics::{self as metrics, ConnectorView, Flow, Status, WorkerView};
use std::collections::BTreeMap;

impl Herder {
    /// The OpenMetrics exposition of this worker.
    pub async fn openmetrics(&self) -> String {
        let worker_id = &self.worker().worker_id;
        let connectors = self
            .local_statuses()
            .await
            .into_iter()
            .map(|c| ConnectorView {
                status: (&c.connector.worker_id == worker_id).then(|| status(c.connector.state)),
                tasks: c.tasks.iter().map(|t| (t.id, status(t.state))).collect(),
                name: c.name,
            })
            .collect();
        metrics::global().encode_with(WorkerView { connectors })
    }

    /// The flow of every connector on this worker, by name.
    pub async fn flows(&self) -> BTreeMap<String, Flow> {
        self.names()
            .await
            .into_iter()
            .map(|name| {
                let flow = metrics::global().flow(&name);
                (name, flow)
            })
            .collect()
    }

    /// One connector's flow on this worker.
    pub async fn flow(&self, name: &str) -> Result<Flow> {
        self.info(name).await?;
        Ok(metrics::global().flow(name))
    }
}

fn status(state: State) -> Status {
    match state {
        State::Running => Status::Running,
        State::Paused => Status::Paused,
        State::Stopped => Status::Stopped,
        State::Failed => Status::Failed,
        State::Unassigned => Status::Unassigned,
        State::Restarting => Status::Restarting,
    }
}
