//! The connector lifecycle: create/update/delete, target states (RUNNING/PAUSED/STOPPED),
//! restarts, statuses and offsets. Every change is written to the [`ConfigStore`] before it
//! takes effect, so a restarted worker brings each connector back in its target state.
//! The herder knows no HTTP: `rest/` maps [`HerderError`] to status codes.

use crate::config::ConfigMap;
use crate::kafka::offsets::{OffsetsAdmin, OffsetsError};
use crate::store::{ConfigStore, StoreError, TargetState};
use crate::worker::config::WorkerConfig;
use crate::worker::status::{
    ConnectorInfo, ConnectorState, ConnectorStateInfo, TaskId, TaskInfo, TaskState,
};
use crate::worker::task::{State, TaskHandle, TaskSpec};
use crate::worker::validation::{self, plugin_for, tasks_max};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long one task may take to drain and commit when stopped.
const TASK_STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum HerderError {
    #[error("Connector {0} not found")]
    NotFound(String),
    #[error("Task {task} of connector {connector} not found")]
    TaskNotFound { connector: String, task: u32 },
    #[error("Connector {0} already exists")]
    AlreadyExists(String),
    #[error("Connector configuration is invalid and contains the following {count} error(s):\n{list}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`", count = .0.len(), list = .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("{0}")]
    BadRequest(String),
    #[error("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{0}/stop' endpoint")]
    NotStopped(String),
    #[error("cannot persist connector state: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Offsets(#[from] OffsetsError),
}

pub type Result<T, E = HerderError> = std::result::Result<T, E>;

mod offsets;

struct Connector {
    config: ConfigMap,
    target: TargetState,
    tasks: Vec<TaskHandle>,
    /// Set when the connector itself cannot run (invalid stored config, unknown plugin).
    failure: Option<String>,
    /// `PUT /connectors/{c}/topics/reset` empties the reported topics until tasks restart.
    topics_reset: bool,
}

pub struct Herder {
    worker: Arc<WorkerConfig>,
    store: Arc<dyn ConfigStore>,
    offsets: OffsetsAdmin,
    connectors: Mutex<BTreeMap<String, Connector>>,
    /// Last status written per connector (time zeroed), to skip unchanged writes.
    persisted: std::sync::Mutex<BTreeMap<String, crate::store::StatusSnapshot>>,
}

async fn stop_handles(connector: &str, handles: Vec<TaskHandle>) {
    let stops = handles.into_iter().enumerate().map(|(i, h)| async move {
        if !h.stop(TASK_STOP_TIMEOUT).await {
            tracing::warn!(
                connector,
                task = i,
                "task did not stop within {TASK_STOP_TIMEOUT:?}; aborted it"
            );
        }
    });
    futures::future::join_all(stops).await;
}

impl Herder {
    pub fn new(worker: Arc<WorkerConfig>, store: Arc<dyn ConfigStore>) -> Arc<Self> {
        let offsets = OffsetsAdmin::new(&worker.bootstrap_servers);
        Arc::new(Self {
            worker,
            store,
            offsets,
            connectors: Mutex::new(BTreeMap::new()),
            persisted: std::sync::Mutex::new(BTreeMap::new()),
        })
    }

    pub fn worker(&self) -> &WorkerConfig {
        &self.worker
    }

    pub fn offsets_admin(&self) -> &OffsetsAdmin {
        &self.offsets
    }

    /// Brings back every stored connector in its target state.
    pub async fn restore(&self) -> Result<usize> {
        let stored = self.store.list()?;
        let mut map = self.connectors.lock().await;
        for s in &stored {
            let mut c = Connector {
                config: s.config.clone(),
                target: s.target_state,
                tasks: Vec::new(),
                failure: None,
                topics_reset: false,
            };
            self.start_tasks(&s.name, &mut c);
            tracing::info!(connector = %s.name, target_state = ?s.target_state, "restored connector");
            map.insert(s.name.clone(), c);
        }
        Ok(stored.len())
    }

    /// Spawns `tasks.max` tasks for the target state (none when STOPPED); records a
    /// connector failure instead when the config no longer validates.
    fn start_tasks(&self, name: &str, c: &mut Connector) {
        c.failure = None;
        c.topics_reset = false;
        if c.target == TargetState::Stopped {
            return;
        }
        let infos = validation::validate_with(&c.config, &self.worker.override_policy);
        let plugin = match plugin_for(&c.config) {
            Some(p) if infos.error_count == 0 => p,
            _ => {
                let trace = HerderError::Invalid(infos.errors()).to_string();
                tracing::error!(connector = name, "{trace}");
                c.failure = Some(trace);
                return;
            }
        };
        let config = self.task_config(name, &c.config);
        let tasks = tasks_max(&c.config);
        c.tasks = (0..tasks)
            .map(|task_id| self.spawn_task(name, task_id, tasks, &config, &plugin, c.target))
            .collect();
        tracing::info!(connector = name, tasks, target_state = ?c.target, "started connector tasks");
    }

    /// The config tasks run with: worker converter defaults, the connector config, then
    /// `${provider:path:key}` references resolved (never stored nor returned over REST).
    /// An unresolvable reference is the start failure of every task, naming the key.
    fn task_config(&self, name: &str, stored: &ConfigMap) -> Result<ConfigMap, String> {
        let mut config = self.worker.converter_defaults.clone();
        config.extend(stored.clone());
        self.worker.providers.resolve(&config).map_err(|e| {
            let trace = format!("org.apache.kafka.common.config.ConfigException: {e}");
            tracing::error!(connector = name, "{trace}");
            trace
        })
    }

    fn spawn_task(
        &self,
        name: &str,
        task_id: u32,
        tasks: u32,
        config: &Result<ConfigMap, String>,
        plugin: &Arc<dyn crate::connector::SinkConnector>,
        target: TargetState,
    ) -> TaskHandle {
        match config {
            Ok(config) => TaskHandle::spawn(TaskSpec {
                connector: name.to_string(),
                task_id,
                tasks,
                config: config.clone(),
                worker: self.worker.clone(),
                plugin: plugin.clone(),
                paused: target == TargetState::Paused,
            }),
            Err(trace) => TaskHandle::failed(trace.clone()),
        }
    }

    fn validated(&self, config: &ConfigMap) -> Result<()> {
        let infos = validation::validate_with(config, &self.worker.override_policy);
        for w in &infos.warnings {
            tracing::warn!(connector = config.get("name").map(String::as_str), "{w}");
        }
        if infos.error_count > 0 {
            return Err(HerderError::Invalid(infos.errors()));
        }
        Ok(())
    }

    pub async fn names(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    /// `POST /connectors`.
    pub async fn create(
        &self,
        name: &str,
        mut config: ConfigMap,
        initial: TargetState,
    ) -> Result<ConnectorInfo> {
        match config.get("name") {
            Some(n) if n != name => {
                return Err(HerderError::BadRequest(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                )))
            }
            _ => {
                config.insert("name".into(), name.to_string());
            }
        }
        self.validated(&config)?;
        let mut map = self.connectors.lock().await;
        if map.contains_key(name) {
            return Err(HerderError::AlreadyExists(name.to_string()));
        }
        self.store.put_config(name, &config, initial)?;
        let mut c = Connector {
            config,
            target: initial,
            tasks: Vec::new(),
            failure: None,
            topics_reset: false,
        };
        self.start_tasks(name, &mut c);
        let info = info_of(name, &c);
        map.insert(name.to_string(), c);
        tracing::info!(connector = name, "created connector");
        Ok(info)
    }

    /// `PUT /connectors/{c}/config`: creates (returns `true`) or replaces the config and
    /// restarts the tasks with it.
    pub async fn put_config(
        &self,
        name: &str,
        mut config: ConfigMap,
    ) -> Result<(bool, ConnectorInfo)> {
        match config.get("name") {
            Some(n) if n != name => {
                return Err(HerderError::BadRequest(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                )))
            }
            _ => {
                config.insert("name".into(), name.to_string());
            }
        }
        self.validated(&config)?;
        let mut map = self.connectors.lock().await;
        let Some(c) = map.get_mut(name) else {
            drop(map);
            return self
                .create(name, config, TargetState::Running)
                .await
                .map(|info| (true, info));
        };
        self.store.put_config(name, &config, c.target)?;
        stop_handles(name, std::mem::take(&mut c.tasks)).await;
        c.config = config;
        self.start_tasks(name, c);
        tracing::info!(connector = name, "updated connector config");
        Ok((false, info_of(name, c)))
    }

    /// `PATCH /connectors/{c}/config`: `None` removes a key.
    pub async fn patch_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo> {
        let mut config = self.config(name).await?;
        for (k, v) in patch {
            match v {
                Some(v) => config.insert(k, v),
                None => config.remove(&k),
            };
        }
        self.put_config(name, config).await.map(|(_, info)| info)
    }

    pub async fn config(&self, name: &str) -> Result<ConfigMap> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        Ok(c.config.clone())
    }

    pub async fn info(&self, name: &str) -> Result<ConnectorInfo> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        Ok(info_of(name, c))
    }

    pub async fn status(&self, name: &str) -> Result<ConnectorStateInfo> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        Ok(self.status_of(name, c))
    }

    fn status_of(&self, name: &str, c: &Connector) -> ConnectorStateInfo {
        let state = match (&c.failure, c.target) {
            (Some(_), _) => State::Failed,
            (None, TargetState::Running) => State::Running,
            (None, TargetState::Paused) => State::Paused,
            (None, TargetState::Stopped) => State::Stopped,
        };
        ConnectorStateInfo {
            name: name.to_string(),
            connector: ConnectorState {
                state,
                worker_id: self.worker.worker_id.clone(),
                trace: c.failure.clone(),
            },
            tasks: c
                .tasks
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let s = h.status();
                    TaskState {
                        id: i as u32,
                        state: s.state,
                        worker_id: self.worker.worker_id.clone(),
                        trace: s.trace,
                    }
                })
                .collect(),
            kind: "sink",
        }
    }

    pub async fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        let mut config = self.worker.converter_defaults.clone();
        config.extend(c.config.clone());
        Ok((0..c.tasks.len() as u32)
            .map(|task| TaskInfo {
                id: TaskId {
                    connector: name.to_string(),
                    task,
                },
                config: config.clone(),
            })
            .collect())
    }

    pub async fn task_status(&self, name: &str, task: u32) -> Result<TaskState> {
        let status = self.status(name).await?;
        status
            .tasks
            .into_iter()
            .find(|t| t.id == task)
            .ok_or_else(|| HerderError::TaskNotFound {
                connector: name.into(),
                task,
            })
    }

    /// `POST /connectors/{c}/tasks/{t}/restart`.
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<()> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        if task as usize >= c.tasks.len() {
            return Err(HerderError::TaskNotFound {
                connector: name.into(),
                task,
            });
        }
        self.restart_tasks(name, c, &[task]).await;
        Ok(())
    }

    async fn restart_tasks(&self, name: &str, c: &mut Connector, ids: &[u32]) {
        let Some(plugin) = plugin_for(&c.config) else {
            return;
        };
        let config = self.task_config(name, &c.config);
        let total = c.tasks.len() as u32;
        let old = std::mem::take(&mut c.tasks);
        let mut kept = Vec::with_capacity(old.len());
        let mut to_stop = Vec::new();
        for (i, h) in old.into_iter().enumerate() {
            if ids.contains(&(i as u32)) {
                to_stop.push(h);
                kept.push(None);
            } else {
                kept.push(Some(h));
            }
        }
        stop_handles(name, to_stop).await;
        c.tasks = kept
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                h.unwrap_or_else(|| {
                    tracing::info!(connector = name, task = i, "restarting task");
                    self.spawn_task(name, i as u32, total, &config, &plugin, c.target)
                })
            })
            .collect();
    }

    /// `POST /connectors/{c}/restart`. Returns the status to answer with (`RESTARTING` for
    /// what was restarted) when tasks are involved, `None` for a plain connector restart.
    pub async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        let mut before = self.status_of(name, c);
        let connector_failed = c.failure.is_some();
        let restart_connector = !only_failed || connector_failed;
        if connector_failed {
            // A failed connector has no tasks: restarting it re-validates and starts them.
            stop_handles(name, std::mem::take(&mut c.tasks)).await;
            self.start_tasks(name, c);
        } else if include_tasks {
            let ids: Vec<u32> = before
                .tasks
                .iter()
                .filter(|t| !only_failed || t.state == State::Failed)
                .map(|t| t.id)
                .collect();
            for t in before.tasks.iter_mut().filter(|t| ids.contains(&t.id)) {
                t.state = State::Restarting;
                t.trace = None;
            }
            self.restart_tasks(name, c, &ids).await;
        }
        if !include_tasks && !only_failed {
            return Ok(None);
        }
        if restart_connector {
            before.connector.state = State::Restarting;
            before.connector.trace = None;
        }
        Ok(Some(before))
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<()> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        if c.target == target {
            return Ok(());
        }
        self.store.put_target_state(name, target)?;
        self.transition(name, c, target).await;
        Ok(())
    }

    /// Moves a connector's tasks from its current target state to `target`.
    async fn transition(&self, name: &str, c: &mut Connector, target: TargetState) {
        let previous = c.target;
        c.target = target;
        match target {
            TargetState::Stopped => {
                stop_handles(name, std::mem::take(&mut c.tasks)).await;
            }
            TargetState::Paused if previous == TargetState::Running => {
                c.tasks.iter().for_each(TaskHandle::pause);
            }
            TargetState::Running if previous == TargetState::Paused => {
                c.tasks.iter().for_each(TaskHandle::resume);
            }
            // From STOPPED (no tasks): start them in the new state.
            _ => self.start_tasks(name, c),
        }
        tracing::info!(connector = name, target_state = ?target, "target state changed");
    }

    /// Distributed mode: brings connector `name` in line with the store after a config
    /// record arrived from the config topic (written by this worker or another). Creates,
    /// reconfigures, pauses/resumes/stops or deletes the local tasks as needed; a record this
    /// worker wrote itself finds nothing to do.
    pub async fn reconcile(&self, name: &str) {
        // Read under the lock: a local change in between cannot be overtaken by older state.
        let mut map = self.connectors.lock().await;
        let stored = match self.store.get(name) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(connector = name, "cannot read the stored connector: {e}");
                return;
            }
        };
        match (stored, map.get_mut(name)) {
            (None, None) => {}
            (None, Some(_)) => {
                if let Some(c) = map.remove(name) {
                    stop_handles(name, c.tasks).await;
                }
                crate::metrics::global().remove_connector(name);
                tracing::info!(connector = name, "deleted connector (config topic)");
            }
            (Some(s), None) => {
                let mut c = Connector {
                    config: s.config,
                    target: s.target_state,
                    tasks: Vec::new(),
                    failure: None,
                    topics_reset: false,
                };
                self.start_tasks(name, &mut c);
                map.insert(name.to_string(), c);
                tracing::info!(connector = name, "created connector (config topic)");
            }
            (Some(s), Some(c)) if c.config != s.config => {
                stop_handles(name, std::mem::take(&mut c.tasks)).await;
                c.config = s.config;
                c.target = s.target_state;
                self.start_tasks(name, c);
                tracing::info!(connector = name, "updated connector config (config topic)");
            }
            (Some(s), Some(c)) if c.target != s.target_state => {
                self.transition(name, c, s.target_state).await;
            }
            (Some(_), Some(_)) => {}
        }
    }

    /// Distributed mode: reconciles every connector the store announces, until the store
    /// is dropped.
    pub fn follow(self: &Arc<Self>, mut changes: tokio::sync::mpsc::UnboundedReceiver<String>) {
        let herder = self.clone();
        tokio::spawn(async move {
            while let Some(name) = changes.recv().await {
                herder.reconcile(&name).await;
            }
        });
    }

    pub async fn pause(&self, name: &str) -> Result<()> {
        self.set_target(name, TargetState::Paused).await
    }

    pub async fn resume(&self, name: &str) -> Result<()> {
        self.set_target(name, TargetState::Running).await
    }

    pub async fn stop(&self, name: &str) -> Result<()> {
        self.set_target(name, TargetState::Stopped).await
    }

    /// `DELETE /connectors/{c}`: stops the tasks and forgets the connector.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let mut map = self.connectors.lock().await;
        let c = map
            .remove(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        stop_handles(name, c.tasks).await;
        self.store.delete(name)?;
        crate::metrics::global().remove_connector(name);
        tracing::info!(connector = name, "deleted connector");
        Ok(())
    }

    /// Stores each connector's current status (for diagnosis after a restart).
    pub async fn persist_statuses(&self) {
        let map = self.connectors.lock().await;
        let mut persisted = self.persisted.lock().unwrap_or_else(|p| p.into_inner());
        persisted.retain(|name, _| map.contains_key(name));
        for (name, c) in map.iter() {
            let snapshot = self.status_of(name, c).snapshot();
            let timeless = crate::store::StatusSnapshot {
                at_ms: 0,
                ..snapshot.clone()
            };
            if persisted.get(name) == Some(&timeless) {
                continue;
            }
            match self.store.put_status(name, &snapshot) {
                Ok(()) => {
                    persisted.insert(name.clone(), timeless);
                }
                Err(e) => tracing::warn!(connector = %name, "cannot store status: {e}"),
            }
        }
    }

    /// Stops every task (draining and committing), keeping target states as stored.
    pub async fn shutdown(&self) {
        self.persist_statuses().await;
        let mut map = self.connectors.lock().await;
        let stops = map.iter_mut().map(|(name, c)| {
            let handles = std::mem::take(&mut c.tasks);
            let name = name.clone();
            async move { stop_handles(&name, handles).await }
        });
        futures::future::join_all(stops).await;
    }
}

fn info_of(name: &str, c: &Connector) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_string(),
        config: c.config.clone(),
        tasks: (0..c.tasks.len() as u32)
            .map(|task| TaskId {
                connector: name.to_string(),
                task,
            })
            .collect(),
        kind: "sink",
    }
}
