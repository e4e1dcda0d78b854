//! Restarts (`POST /connectors/{c}/restart`, `POST /connectors/{c}/tasks/{t}/restart`).
//! Standalone applies them at once; distributed mode publishes them in the config topic and
//! every worker applies them to the tasks it runs.

use super::{stop_handles, Connector, Herder, HerderError, Result};
use crate::worker::status::ConnectorStateInfo;
use crate::worker::task::State;
use crate::worker::validation::plugin_for;

impl Herder {
    /// `POST /connectors/{c}/tasks/{t}/restart`.
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<()> {
        self.sync()?;
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        if task >= c.task_count {
            return Err(HerderError::TaskNotFound {
                connector: name.into(),
                task,
            });
        }
        match &self.cluster {
            Some(m) => {
                drop(map);
                m.request_task_restart(name, task)?;
            }
            None => self.restart_tasks(name, c, &[task]).await,
        }
        Ok(())
    }

    /// Restarts the tasks among `ids` this worker runs.
    pub(super) async fn restart_tasks(&self, name: &str, c: &mut Connector, ids: &[u32]) {
        let here: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|id| c.tasks.contains_key(id))
            .collect();
        for id in &here {
            tracing::info!(connector = name, task = id, "restarting task");
        }
        self.replace_tasks(name, c, &here, &here).await;
    }

    /// Stops the local tasks `stop` (draining and committing), then starts those of `start`
    /// not running here.
    pub(super) async fn replace_tasks(
        &self,
        name: &str,
        c: &mut Connector,
        stop: &[u32],
        start: &[u32],
    ) {
        let old = stop
            .iter()
            .filter_map(|id| c.tasks.remove(id).map(|h| (*id, h)))
            .collect();
        stop_handles(name, old).await;
        let Some(plugin) = plugin_for(&c.config) else {
            return;
        };
        let config = self.task_config(name, &c.config);
        for id in start {
            if !c.tasks.contains_key(id) {
                let handle = self.spawn_task(name, *id, c.task_count, &config, &plugin, c.target);
                c.tasks.insert(*id, handle);
            }
        }
    }

    /// `POST /connectors/{c}/restart`. Returns the status to answer with (`RESTARTING` for
    /// what was restarted) when tasks are involved, `None` for a plain connector restart.
    pub async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>> {
        self.sync()?;
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        let mut answer = self.status_of(name, c);
        let connector_failed = c.failure.is_some();
        if !connector_failed && include_tasks {
            for t in answer
                .tasks
                .iter_mut()
                .filter(|t| !only_failed || t.state == State::Failed)
            {
                t.state = State::Restarting;
                t.trace = None;
            }
        }
        match &self.cluster {
            Some(m) => {
                drop(map);
                m.request_restart(name, include_tasks, only_failed)?;
            }
            None => {
                self.apply_restart(name, c, include_tasks, only_failed)
                    .await
            }
        }
        if !include_tasks && !only_failed {
            return Ok(None);
        }
        if !only_failed || connector_failed {
            answer.connector.state = State::Restarting;
            answer.connector.trace = None;
        }
        Ok(Some(answer))
    }

    /// Applies a restart request to the tasks this worker runs. A failed connector (it has
    /// no tasks) is re-validated and its tasks started.
    pub(super) async fn apply_restart(
        &self,
        name: &str,
        c: &mut Connector,
        include_tasks: bool,
        only_failed: bool,
    ) {
        if c.failure.is_some() {
            stop_handles(name, std::mem::take(&mut c.tasks)).await;
            self.start_tasks(name, c);
        } else if include_tasks {
            let ids: Vec<u32> = c
                .tasks
                .iter()
                .filter(|(_, h)| !only_failed || h.status().state == State::Failed)
                .map(|(id, _)| *id)
                .collect();
            self.restart_tasks(name, c, &ids).await;
        }
    }
}
