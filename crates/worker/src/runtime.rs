//! The worker as `cassink worker` and `cassink standalone` run it: opens where connectors are
//! kept (`state.dir`, or the config and status topics in distributed mode), brings the stored
//! connectors back, applies connector files, persists statuses every few seconds, and stops
//! every task on shutdown. The REST API is served beside it, from the [`Herder`] it holds.

use super::config::WorkerConfig;
use super::herder::{Herder, HerderError};
use cassink_config::properties::parse_properties;
use cassink_config::{self as config, ConfigMap};
use cassink_kafka::client::Role;
use cassink_store::{Cluster, ConfigStore, FileStore, KafkaStore, StoreClients, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown may take (tasks drain in-flight writes and commit).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the statuses of what this worker runs are stored.
const STATUS_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open state.dir {dir}: {source}")]
    StateDir { dir: PathBuf, source: StoreError },
    #[error("cannot open the config topic {topic} (distributed mode): {source}")]
    ConfigTopic { topic: String, source: StoreError },
    #[error("cannot announce this worker in the status topic: {0}")]
    Heartbeat(StoreError),
    #[error("cannot bring back the stored connectors: {0}")]
    Restore(HerderError),
    #[error("connector {name}: {source}")]
    Connector { name: String, source: HerderError },
}

/// A connector file that cannot be read as a connector config.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct ConnectorFileError {
    pub path: PathBuf,
    pub problem: String,
}

/// A running worker: its herder, and the loop that persists statuses.
pub struct Runtime {
    herder: Arc<Herder>,
    status_loop: tokio::task::JoinHandle<()>,
}

impl Runtime {
    /// Opens the store, restores the stored connectors, then creates or updates
    /// `connectors` (name, config), as connect-standalone does with its connector files.
    pub async fn start(
        worker: Arc<WorkerConfig>,
        connectors: Vec<(String, ConfigMap)>,
    ) -> Result<Self, StartError> {
        let (store, cluster, changes): (Arc<dyn ConfigStore>, Option<Arc<dyn Cluster>>, _) =
            match worker.distributed() {
                Some(d) => {
                    tracing::info!(group_id = %d.group_id, config_topic = %d.config_topic, "distributed mode");
                    let topic = d.config_topic.clone();
                    let (store, changes) =
                        KafkaStore::open(store_clients(&worker), worker.worker_id.clone(), d)
                            .await
                            .map_err(|source| StartError::ConfigTopic { topic, source })?;
                    store.heartbeat().map_err(StartError::Heartbeat)?;
                    let store = Arc::new(store);
                    (store.clone(), Some(store), Some(changes))
                }
                None => {
                    let store = FileStore::open(&worker.state_dir).map_err(|source| {
                        StartError::StateDir {
                            dir: worker.state_dir.clone(),
                            source,
                        }
                    })?;
                    (Arc::new(store), None, None)
                }
            };
        let herder = Herder::new(worker.clone(), store, cluster);
        let restored = herder.restore().await.map_err(StartError::Restore)?;
        if let Some(changes) = changes {
            herder.run_distributed(changes);
        }
        tracing::info!(restored, state_dir = %worker.state_dir.display(), "connector state loaded");
        for (name, config) in connectors {
            match herder.put_config(&name, config).await {
                Ok((created, _)) => {
                    tracing::info!(connector = %name, created, "connector from file")
                }
                Err(source) => return Err(StartError::Connector { name, source }),
            }
        }
        let status_loop = {
            let herder = herder.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(STATUS_INTERVAL);
                loop {
                    tick.tick().await;
                    herder.persist_statuses().await;
                }
            })
        };
        Ok(Self {
            herder,
            status_loop,
        })
    }

    pub fn herder(&self) -> &Arc<Herder> {
        &self.herder
    }

    /// Stops every task (each drains its in-flight writes and commits), within
    /// [`SHUTDOWN_TIMEOUT`].
    pub async fn shutdown(self) {
        self.status_loop.abort();
        tracing::info!("shutting down: stopping tasks");
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, self.herder.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("tasks did not stop within {SHUTDOWN_TIMEOUT:?}; exiting anyway");
        }
        tracing::info!("stopped");
    }
}

/// The Kafka clients of distributed mode's config store, as the worker configures them.
fn store_clients(worker: &WorkerConfig) -> StoreClients {
    StoreClients {
        admin: worker.kafka_client(Role::Admin),
        producer: worker.kafka_client(Role::Producer),
        consumer: worker.kafka_client(Role::Consumer),
    }
}

/// Reads a connector file as connect-standalone does: JSON `{name, config}`, a JSON config
/// map with `name`, or a `.properties` file.
pub fn read_connector_file(path: &Path) -> Result<(String, ConfigMap), ConnectorFileError> {
    let problem = |problem: String| ConnectorFileError {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| problem(format!("cannot read the connector config: {e}")))?;
    let is_properties = path.extension().and_then(|e| e.to_str()) == Some("properties");
    let config: ConfigMap = if is_properties {
        parse_properties(&text)
    } else {
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| problem(format!("not valid JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| problem("must hold a JSON object".into()))?;
        let (map, top_name) = match obj.get("config") {
            Some(serde_json::Value::Object(c)) => (c, obj.get("name").and_then(|n| n.as_str())),
            _ => (obj, None),
        };
        let mut config = config::from_json(map).map_err(|e| problem(e.to_string()))?;
        if let Some(n) = top_name {
            config.entry("name".into()).or_insert_with(|| n.to_string());
        }
        config
    };
    let name = config
        .get("name")
        .cloned()
        .ok_or_else(|| problem("the connector needs a name".into()))?;
    Ok((name, config))
}
