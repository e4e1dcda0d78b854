//! Restarts (`POST /connectors/{c}/restart`, `POST /connectors/{c}/tasks/{t}/restart`).
//! Standalone applies them at once; distributed mode publishes them in the config topic and
//! every worker applies them to the tasks it runs.

use super::{stop_handles, Herder, HerderError, Result};
use crate::status::ConnectorStateInfo;
use crate::task::{State, TaskHandle};
use crate::validation::plugin_for;
use std::collections::BTreeMap;

impl Herder {
    /// `POST /connectors/{c}/tasks/{t}/restart`.
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<()> {
        let _change = self.changing(name).await;
        self.sync()?;
        if task >= self.with_connector(name, |c| c.task_count).await? {
            return Err(HerderError::TaskNotFound {
                connector: name.into(),
                task,
            });
        }
        match &self.cluster {
            Some(m) => m.request_task_restart(name, task)?,
            None => self.restart_tasks(name, &[task]).await,
        }
        Ok(())
    }

    /// Restarts the tasks among `ids` this worker runs. The caller holds the change lock.
    pub(super) async fn restart_tasks(&self, name: &str, ids: &[u32]) {
        let here: Vec<u32> = self
            .with_connector(name, |c| {
                ids.iter()
                    .copied()
                    .filter(|id| c.tasks.contains_key(id))
                    .collect()
            })
            .await
            .unwrap_or_default();
        for id in &here {
            tracing::info!(connector = name, task = id, "restarting task");
        }
        self.replace_tasks(name, &here, &here).await;
    }

    /// Stops the local tasks `stop` (draining and committing; those also in `start` are
    /// reported RESTARTING meanwhile), then starts those of `start` not running here. The
    /// caller holds the change lock; the map is not locked during the drain.
    pub(super) async fn replace_tasks(&self, name: &str, stop: &[u32], start: &[u32]) {
        let taken = self.with_connector(name, |c| {
            let old: BTreeMap<u32, TaskHandle> = stop
                .iter()
                .filter_map(|id| c.tasks.remove(id).map(|h| (*id, h)))
                .collect();
            c.restarting
                .extend(old.keys().copied().filter(|id| start.contains(id)));
            old
        });
        let Ok(old) = taken.await else { return };
        stop_handles(name, old).await;
        let _ = self
            .with_connector(name, |c| {
                c.restarting.clear();
                let Some(plugin) = plugin_for(&c.config) else {
                    return;
                };
                let config = self.task_config(name, &c.config);
                for id in start {
                    if !c.tasks.contains_key(id) {
                        let handle =
                            self.spawn_task(name, *id, c.task_count, &config, &plugin, c.target);
                        c.tasks.insert(*id, handle);
                    }
                }
            })
            .await;
    }

    /// `POST /connectors/{c}/restart`. Returns the status to answer with (`RESTARTING` for
    /// what was restarted) when tasks are involved, `None` for a plain connector restart.
    pub async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>> {
        let _change = self.changing(name).await;
        self.sync()?;
        let (mut answer, connector_failed) = self
            .with_connector(name, |c| (self.status_of(name, c), c.failure.is_some()))
            .await?;
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
            Some(m) => m.request_restart(name, include_tasks, only_failed)?,
            None => self.apply_restart(name, include_tasks, only_failed).await,
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
    /// no tasks) is re-validated and its tasks started. The caller holds the change lock.
    pub(super) async fn apply_restart(&self, name: &str, include_tasks: bool, only_failed: bool) {
        enum Plan {
            Revalidate(BTreeMap<u32, TaskHandle>),
            Tasks(Vec<u32>),
            Nothing,
        }
        let plan = self.with_connector(name, |c| {
            if c.failure.is_some() {
                Plan::Revalidate(std::mem::take(&mut c.tasks))
            } else if include_tasks {
                Plan::Tasks(
                    c.tasks
                        .iter()
                        .filter(|(_, h)| !only_failed || h.status().state == State::Failed)
                        .map(|(id, _)| *id)
                        .collect(),
                )
            } else {
                Plan::Nothing
            }
        });
        match plan.await {
            Ok(Plan::Revalidate(old)) => {
                stop_handles(name, old).await;
                let _ = self
                    .with_connector(name, |c| self.start_tasks(name, c))
                    .await;
            }
            Ok(Plan::Tasks(ids)) => self.restart_tasks(name, &ids).await,
            Ok(Plan::Nothing) | Err(_) => {}
        }
    }
}
