//! The connector lifecycle: create/update/delete, target states (RUNNING/PAUSED/STOPPED),
//! restarts, statuses and offsets. Every change is written to the [`ConfigStore`] before it
//! takes effect, so a restarted worker brings each connector back in its target state.
//! The herder knows no HTTP: `rest/` maps [`HerderError`] to status codes.
//!
//! Locking: every change to a connector holds that connector's change lock
//! ([`Herder::changing`]) from start to end, task drains and store writes included, so
//! changes to one connector happen one after the other. The map of connectors is locked only
//! for in-memory work, never across I/O or a drain: reads (`status`, `config`, `tasks`, the
//! list) answer at once while another connector restarts or a store write is slow.

pub use cassink_kafka::offsets::OffsetChange;
pub use cassink_store::TargetState;

use crate::config::WorkerConfig;
use crate::status::{
    ConnectorInfo, ConnectorState, ConnectorStateInfo, TaskId, TaskInfo, TaskState,
};
use crate::task::{State, TaskHandle, TaskSpec};
use crate::validation::{self, plugin_for, tasks_max};
use cassink_config::ConfigMap;
use cassink_kafka::client::Role;
use cassink_kafka::offsets::{OffsetsAdmin, OffsetsError};
use cassink_store::{Cluster, ConfigStore, StoreError};
use std::collections::{BTreeMap, BTreeSet};
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
    /// Distributed mode: this worker's view of the config topic is behind (Connect's 409).
    #[error("Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change): {0}")]
    Stale(StoreError),
}

pub type Result<T, E = HerderError> = std::result::Result<T, E>;

/// What kind of refusal a [`HerderError`] is, for the REST API's status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such connector or task (404).
    NotFound,
    /// The request clashes with the current state (an existing name, a stale view: 409).
    Conflict,
    /// The request itself is wrong (an invalid config, offsets for unknown partitions: 400).
    BadRequest,
    /// The worker could not do it (its stores or Kafka failed: 500).
    Failed,
}

impl HerderError {
    pub fn refusal(&self) -> Refusal {
        match self {
            HerderError::NotFound(_) | HerderError::TaskNotFound { .. } => Refusal::NotFound,
            HerderError::AlreadyExists(_) | HerderError::Stale(_) => Refusal::Conflict,
            HerderError::Invalid(_) | HerderError::BadRequest(_) | HerderError::NotStopped(_) => {
                Refusal::BadRequest
            }
            HerderError::Offsets(OffsetsError::UnknownPartition { .. })
            | HerderError::Offsets(OffsetsError::Regex(..)) => Refusal::BadRequest,
            HerderError::Store(_) | HerderError::Offsets(_) => Refusal::Failed,
        }
    }
}

mod cluster;
mod metrics;
mod offsets;
mod restart;

struct Connector {
    config: ConfigMap,
    target: TargetState,
    /// The connector's tasks (`0..task_count`) across the cluster; 0 when stopped or failed.
    task_count: u32,
    /// The tasks this worker runs, by id (all of them in standalone mode).
    tasks: BTreeMap<u32, TaskHandle>,
    /// Tasks being stopped to be started again: reported RESTARTING meanwhile.
    restarting: BTreeSet<u32>,
    /// Set when the connector itself cannot run (invalid stored config, unknown plugin).
    failure: Option<String>,
    /// The committed offsets at the last `PUT /connectors/{c}/topics/reset`: a topic is
    /// reported again once records past these are consumed.
    topics_baseline: BTreeMap<(String, i32), i64>,
}

impl Connector {
    fn new(config: ConfigMap, target: TargetState) -> Self {
        Self {
            config,
            target,
            task_count: 0,
            tasks: BTreeMap::new(),
            restarting: BTreeSet::new(),
            failure: None,
            topics_baseline: BTreeMap::new(),
        }
    }
}

pub struct Herder {
    worker: Arc<WorkerConfig>,
    store: Arc<dyn ConfigStore>,
    /// Distributed mode: the other workers, and the task assignment derived from them.
    cluster: Option<cluster::Membership>,
    offsets: OffsetsAdmin,
    connectors: Mutex<BTreeMap<String, Connector>>,
    /// The change lock of each connector (see the module's comment).
    changes: std::sync::Mutex<BTreeMap<String, Arc<Mutex<()>>>>,
    /// Last status written per connector (time zeroed), to skip unchanged writes.
    persisted: std::sync::Mutex<BTreeMap<String, cassink_store::StatusSnapshot>>,
    /// Why the last write to the worker's storage (status records, heartbeats) failed; `None`
    /// once one succeeds again. `GET /health` answers 500 while it is set.
    storage_problem: std::sync::Mutex<Option<String>>,
}

async fn stop_handles(connector: &str, handles: BTreeMap<u32, TaskHandle>) {
    let stops = handles.into_iter().map(|(i, h)| async move {
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
    /// `cluster`: distributed mode's view of the other workers (`None`: standalone).
    pub fn new(
        worker: Arc<WorkerConfig>,
        store: Arc<dyn ConfigStore>,
        cluster: Option<Arc<dyn Cluster>>,
    ) -> Arc<Self> {
        let offsets = OffsetsAdmin::new(
            worker.kafka_client(Role::Consumer),
            worker.kafka_client(Role::Admin),
        );
        // Distributed settings exist whenever a cluster is given (both come from the same keys).
        let cluster = cluster
            .zip(worker.distributed())
            .map(|(c, d)| cluster::Membership::new(c, &d));
        Arc::new(Self {
            worker,
            store,
            cluster,
            offsets,
            connectors: Mutex::new(BTreeMap::new()),
            changes: std::sync::Mutex::new(BTreeMap::new()),
            persisted: std::sync::Mutex::new(BTreeMap::new()),
            storage_problem: std::sync::Mutex::new(None),
        })
    }

    /// Waits for, and holds until dropped, the change lock of connector `name`.
    async fn changing(&self, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// Why the worker cannot write to its storage right now, if it cannot.
    pub fn storage_problem(&self) -> Option<String> {
        self.storage_problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn storage_result(&self, problem: Option<String>) {
        *self
            .storage_problem
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = problem;
    }

    pub fn worker(&self) -> &WorkerConfig {
        &self.worker
    }

    /// The Kafka cluster's id, when the brokers answer.
    pub async fn kafka_cluster_id(&self) -> Option<String> {
        self.offsets.cluster_id().await
    }

    /// Brings back every stored connector in its target state.
    pub async fn restore(&self) -> Result<usize> {
        let stored = self.store.list()?;
        let mut map = self.connectors.lock().await;
        for s in &stored {
            let mut c = Connector::new(s.config.clone(), s.target_state);
            self.start_tasks(&s.name, &mut c);
            tracing::info!(connector = %s.name, target_state = ?s.target_state, "restored connector");
            map.insert(s.name.clone(), c);
        }
        Ok(stored.len())
    }

    /// Spawns this worker's share of `tasks.max` tasks for the target state (none when
    /// STOPPED); records a connector failure instead when the config no longer validates.
    fn start_tasks(&self, name: &str, c: &mut Connector) {
        c.failure = None;
        c.task_count = 0;
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
        c.task_count = tasks;
        c.tasks = self
            .my_tasks(name, tasks)
            .into_iter()
            .map(|id| {
                let handle = self.spawn_task(name, id, tasks, &config, &plugin, c.target);
                (id, handle)
            })
            .collect();
        tracing::info!(
            connector = name,
            tasks,
            here = ?c.tasks.keys().collect::<Vec<_>>(),
            target_state = ?c.target,
            "started connector tasks"
        );
    }

    /// The ids of `name`'s tasks this worker runs: all in standalone mode, its share of the
    /// live workers' in distributed mode.
    fn my_tasks(&self, name: &str, tasks: u32) -> Vec<u32> {
        match &self.cluster {
            None => (0..tasks).collect(),
            Some(m) => m.tasks_of(&self.worker.worker_id, name, tasks),
        }
    }

    /// Distributed mode: fails with 409 when this worker has not caught up with the config
    /// topic, so no change is made from a stale view.
    fn sync(&self) -> Result<()> {
        match &self.cluster {
            Some(m) => m.sync().map_err(HerderError::Stale),
            None => Ok(()),
        }
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
        plugin: &Arc<dyn cassink_connector::SinkConnector>,
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
        config: ConfigMap,
        initial: TargetState,
    ) -> Result<ConnectorInfo> {
        let config = named(name, config)?;
        self.validated(&config)?;
        let _change = self.changing(name).await;
        self.create_changing(name, config, initial).await
    }

    /// Creates a connector; the caller holds its change lock.
    async fn create_changing(
        &self,
        name: &str,
        config: ConfigMap,
        initial: TargetState,
    ) -> Result<ConnectorInfo> {
        self.sync()?;
        if self.connectors.lock().await.contains_key(name) || self.store.get(name)?.is_some() {
            return Err(HerderError::AlreadyExists(name.to_string()));
        }
        self.store.put_config(name, &config, initial)?;
        let mut c = Connector::new(config, initial);
        self.start_tasks(name, &mut c);
        let info = info_of(name, &c);
        self.connectors.lock().await.insert(name.to_string(), c);
        tracing::info!(connector = name, "created connector");
        Ok(info)
    }

    /// `PUT /connectors/{c}/config`: creates (returns `true`) or replaces the config and
    /// restarts the tasks with it.
    pub async fn put_config(&self, name: &str, config: ConfigMap) -> Result<(bool, ConnectorInfo)> {
        let config = named(name, config)?;
        self.validated(&config)?;
        let _change = self.changing(name).await;
        self.sync()?;
        let target = self.connectors.lock().await.get(name).map(|c| c.target);
        let Some(target) = target else {
            return self
                .create_changing(name, config, TargetState::Running)
                .await
                .map(|info| (true, info));
        };
        self.store.put_config(name, &config, target)?;
        let draining = self
            .with_connector(name, |c| {
                c.restarting = c.tasks.keys().copied().collect();
                std::mem::take(&mut c.tasks)
            })
            .await?;
        stop_handles(name, draining).await;
        let info = self
            .with_connector(name, |c| {
                c.config = config;
                c.restarting.clear();
                self.start_tasks(name, c);
                info_of(name, c)
            })
            .await?;
        tracing::info!(connector = name, "updated connector config");
        Ok((false, info))
    }

    /// Runs `f` on connector `name` under the map lock (in-memory work only).
    async fn with_connector<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut Connector) -> T,
    ) -> Result<T> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        Ok(f(c))
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
        let local = |id: u32, h: &TaskHandle| {
            let s = h.status();
            TaskState {
                version: env!("CARGO_PKG_VERSION"),
                id,
                state: s.state,
                worker_id: self.worker.worker_id.clone(),
                trace: s.trace,
            }
        };
        let restarting = |id: u32| TaskState {
            version: env!("CARGO_PKG_VERSION"),
            id,
            state: State::Restarting,
            worker_id: self.worker.worker_id.clone(),
            trace: None,
        };
        let (worker_id, tasks) = match &self.cluster {
            None => (
                self.worker.worker_id.clone(),
                (0..c.task_count)
                    .filter_map(|id| match c.tasks.get(&id) {
                        Some(h) => Some(local(id, h)),
                        None => c.restarting.contains(&id).then(|| restarting(id)),
                    })
                    .collect(),
            ),
            Some(m) => {
                let remote = m.task_statuses(name);
                let tasks = (0..c.task_count)
                    .map(|id| match c.tasks.get(&id) {
                        Some(h) => local(id, h),
                        None if c.restarting.contains(&id) => restarting(id),
                        None => m.remote_task_state(name, id, &remote),
                    })
                    .collect();
                (m.connector_owner(name), tasks)
            }
        };
        ConnectorStateInfo {
            name: name.to_string(),
            connector: ConnectorState {
                version: env!("CARGO_PKG_VERSION"),
                state,
                worker_id,
                trace: c.failure.clone(),
            },
            tasks,
            kind: "sink",
        }
    }

    /// The status of what this worker runs (what it publishes to the status topic).
    fn local_status_of(&self, name: &str, c: &Connector) -> ConnectorStateInfo {
        let mut status = self.status_of(name, c);
        status
            .tasks
            .retain(|t| c.tasks.contains_key(&t.id) || c.restarting.contains(&t.id));
        status
    }

    pub async fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        let mut config = self.worker.converter_defaults.clone();
        config.extend(c.config.clone());
        Ok((0..c.task_count)
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

    async fn set_target(&self, name: &str, target: TargetState) -> Result<()> {
        let _change = self.changing(name).await;
        if self.with_connector(name, |c| c.target).await? == target {
            return Ok(());
        }
        self.sync()?;
        self.store.put_target_state(name, target)?;
        let draining = self
            .with_connector(name, |c| self.transition(name, c, target))
            .await?;
        stop_handles(name, draining).await;
        Ok(())
    }

    /// Moves a connector's tasks from its current target state to `target`. Returns the
    /// tasks to drain (when stopping), which the caller stops after releasing the map.
    fn transition(
        &self,
        name: &str,
        c: &mut Connector,
        target: TargetState,
    ) -> BTreeMap<u32, TaskHandle> {
        let previous = c.target;
        c.target = target;
        tracing::info!(connector = name, target_state = ?target, "target state changed");
        match target {
            TargetState::Stopped => {
                c.task_count = 0;
                return std::mem::take(&mut c.tasks);
            }
            TargetState::Paused if previous == TargetState::Running => {
                c.tasks.values().for_each(TaskHandle::pause);
            }
            TargetState::Running if previous == TargetState::Paused => {
                c.tasks.values().for_each(TaskHandle::resume);
            }
            // From STOPPED (no tasks): start them in the new state.
            _ => self.start_tasks(name, c),
        }
        BTreeMap::new()
    }

    /// Distributed mode: brings connector `name` in line with the store after a config
    /// record arrived from the config topic (written by this worker or another). Creates,
    /// reconfigures, pauses/resumes/stops or deletes the local tasks as needed; a record this
    /// worker wrote itself finds nothing to do.
    pub async fn reconcile(&self, name: &str) {
        // Under the change lock: a local change cannot be overtaken by older state.
        let _change = self.changing(name).await;
        let stored = match self.store.get(name) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(connector = name, "cannot read the stored connector: {e}");
                return;
            }
        };
        let mut map = self.connectors.lock().await;
        match (stored, map.get_mut(name)) {
            (None, None) => {}
            (None, Some(_)) => {
                let gone = map.remove(name);
                drop(map);
                if let Some(c) = gone {
                    stop_handles(name, c.tasks).await;
                }
                cassink_metrics::global().remove_connector(name);
                tracing::info!(connector = name, "deleted connector (config topic)");
            }
            (Some(s), None) => {
                let mut c = Connector::new(s.config, s.target_state);
                self.start_tasks(name, &mut c);
                map.insert(name.to_string(), c);
                tracing::info!(connector = name, "created connector (config topic)");
            }
            (Some(s), Some(c)) if c.config != s.config => {
                c.restarting = c.tasks.keys().copied().collect();
                let draining = std::mem::take(&mut c.tasks);
                drop(map);
                stop_handles(name, draining).await;
                let started = self.with_connector(name, |c| {
                    c.config = s.config;
                    c.target = s.target_state;
                    c.restarting.clear();
                    self.start_tasks(name, c);
                });
                if started.await.is_ok() {
                    tracing::info!(connector = name, "updated connector config (config topic)");
                }
            }
            (Some(s), Some(c)) if c.target != s.target_state => {
                let draining = self.transition(name, c, s.target_state);
                drop(map);
                stop_handles(name, draining).await;
            }
            (Some(_), Some(_)) => {}
        }
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
        let _change = self.changing(name).await;
        self.sync()?;
        let c = self
            .connectors
            .lock()
            .await
            .remove(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        stop_handles(name, c.tasks).await;
        self.store.delete(name)?;
        cassink_metrics::global().remove_connector(name);
        tracing::info!(connector = name, "deleted connector");
        Ok(())
    }

    /// The status of every connector as far as this worker runs it (for the metrics).
    pub async fn local_statuses(&self) -> Vec<ConnectorStateInfo> {
        let map = self.connectors.lock().await;
        map.iter()
            .map(|(name, c)| self.local_status_of(name, c))
            .collect()
    }

    /// Stores each connector's current status (for diagnosis after a restart).
    pub async fn persist_statuses(&self) {
        let snapshots: Vec<(String, cassink_store::StatusSnapshot)> = {
            let map = self.connectors.lock().await;
            map.iter()
                .map(|(name, c)| (name.clone(), self.local_status_of(name, c).snapshot()))
                .collect()
        };
        let mut persisted = self.persisted.lock().unwrap_or_else(|p| p.into_inner());
        persisted.retain(|name, _| snapshots.iter().any(|(n, _)| n == name));
        for (name, snapshot) in &snapshots {
            let timeless = cassink_store::StatusSnapshot {
                at_ms: 0,
                ..snapshot.clone()
            };
            // Distributed mode: another worker may have reported one of these tasks while
            // it ran it; the record must name this worker again.
            let published = self
                .cluster
                .as_ref()
                .is_none_or(|m| m.reports_match(&self.worker.worker_id, name, &snapshot.tasks));
            if persisted.get(name) == Some(&timeless) && published {
                continue;
            }
            match self.store.put_status(name, snapshot) {
                Ok(()) => {
                    persisted.insert(name.clone(), timeless);
                    self.storage_result(None);
                }
                Err(e) => {
                    tracing::warn!(connector = %name, "cannot store status: {e}");
                    self.storage_result(Some(format!("cannot store the status of {name}: {e}")));
                }
            }
        }
    }

    /// Stops every task (draining and committing), keeping target states as stored; in
    /// distributed mode, then tells the other workers to take this one's tasks over.
    pub async fn shutdown(&self) {
        self.persist_statuses().await;
        let draining: Vec<(String, BTreeMap<u32, TaskHandle>)> = {
            let mut map = self.connectors.lock().await;
            map.iter_mut()
                .map(|(name, c)| (name.clone(), std::mem::take(&mut c.tasks)))
                .collect()
        };
        let stops = draining
            .into_iter()
            .map(|(name, handles)| async move { stop_handles(&name, handles).await });
        futures::future::join_all(stops).await;
        if let Some(m) = &self.cluster {
            m.leave();
        }
    }
}

/// `config` with its `name` set to `name`; a different name in it is a 400, as in Connect.
fn named(name: &str, mut config: ConfigMap) -> Result<ConfigMap> {
    match config.get("name") {
        Some(n) if n != name => Err(HerderError::BadRequest(format!(
            "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
        ))),
        _ => {
            config.insert("name".into(), name.to_string());
            Ok(config)
        }
    }
}

fn info_of(name: &str, c: &Connector) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_string(),
        config: c.config.clone(),
        tasks: (0..c.task_count)
            .map(|task| TaskId {
                connector: name.to_string(),
                task,
            })
            .collect(),
        kind: "sink",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_config_view_is_a_conflict_as_in_connect() {
        let stale = HerderError::Stale(StoreError::Stale {
            topic: "cassink-configs".into(),
            waited: Duration::from_secs(3),
        });
        assert_eq!(stale.refusal(), Refusal::Conflict);
        let message = stale.to_string();
        assert!(message.contains("stale configuration"), "{message}");
        assert!(message.contains("cassink-configs"), "{message}");
    }
}
