//! The records of the config and status topics, and the view a worker builds by reading
//! them in order. Pure: no Kafka here, so the rules are unit-tested.
//!
//! Config topic (compacted, 1 partition), Connect's layout:
//! - `connector-<name>`: `{"properties": {...}}`
//! - `target-state-<name>`: `{"state": "PAUSED"}`
//! - `restart-connector-<name>`: `{"include-tasks": bool, "only-failed": bool}`
//! - `restart-task-<name>-<id>`: `{}` (cassink's; Connect forwards task restarts instead)
//!
//! Status topic: `status-connector-<name>` and `status-task-<name>-<id>` (Connect's), plus
//! `worker-<worker id>` heartbeats (`{"state": "UP", "at_ms": ...}`; a tombstone on leave).
//! Deletes are tombstones; the last record per key wins.

use crate::{StatusSnapshot, StoreEvent, StoredConnector, TargetState, TaskStatus};
use cassink_config::ConfigMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Default)]
pub(super) struct View {
    pub configs: BTreeMap<String, ConfigMap>,
    pub targets: BTreeMap<String, TargetState>,
    pub statuses: BTreeMap<String, StatusSnapshot>,
    pub task_statuses: BTreeMap<String, BTreeMap<u32, TaskStatus>>,
    /// Worker id → time of its last heartbeat (ms since the epoch).
    pub workers: BTreeMap<String, i64>,
    /// Next offset to read, per topic (partition 0).
    pub positions: BTreeMap<String, i64>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ConnectorRecord {
    pub properties: ConfigMap,
}

#[derive(Serialize, Deserialize)]
pub(super) struct TargetRecord {
    pub state: TargetState,
}

#[derive(Serialize, Deserialize)]
pub(super) struct RestartRecord {
    #[serde(rename = "include-tasks", default)]
    pub include_tasks: bool,
    #[serde(rename = "only-failed", default)]
    pub only_failed: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct HeartbeatRecord {
    pub state: String,
    pub at_ms: i64,
}

/// Connect's status value, with the whole snapshot kept for connector records.
#[derive(Serialize, Deserialize)]
pub(super) struct StatusRecord {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub worker_id: String,
    pub generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<StatusSnapshot>,
}

/// Splits `<name>-<id>` at its last dash (connector names may contain dashes).
fn name_and_task(rest: &str) -> Option<(&str, u32)> {
    let (name, id) = rest.rsplit_once('-')?;
    Some((name, id.parse().ok()?))
}

fn parse<'a, T: Deserialize<'a>>(key: &str, payload: &'a [u8]) -> Option<T> {
    serde_json::from_slice(payload)
        .map_err(|e| tracing::warn!(key, error = %e, "unreadable record in a worker topic"))
        .ok()
}

/// Applies one config-topic record and says what it means for the herder. Restart requests
/// are events only: `live` is false while catching up on history, which must not restart.
pub(super) fn apply_config(
    view: &mut View,
    key: &str,
    payload: Option<&[u8]>,
    live: bool,
) -> Option<StoreEvent> {
    if let Some(name) = key.strip_prefix("connector-") {
        match payload {
            None => {
                view.configs.remove(name);
            }
            Some(p) => {
                let r: ConnectorRecord = parse(key, p)?;
                view.configs.insert(name.to_string(), r.properties);
            }
        }
        return Some(StoreEvent::Connector(name.to_string()));
    }
    if let Some(name) = key.strip_prefix("target-state-") {
        match payload {
            None => {
                view.targets.remove(name);
            }
            Some(p) => {
                let r: TargetRecord = parse(key, p)?;
                view.targets.insert(name.to_string(), r.state);
            }
        }
        return Some(StoreEvent::Connector(name.to_string()));
    }
    if !live {
        return None;
    }
    if let Some(name) = key.strip_prefix("restart-connector-") {
        let r: RestartRecord = parse(key, payload?)?;
        return Some(StoreEvent::Restart {
            connector: name.to_string(),
            include_tasks: r.include_tasks,
            only_failed: r.only_failed,
        });
    }
    if let Some(rest) = key.strip_prefix("restart-task-") {
        payload?;
        let (name, task) = name_and_task(rest)?;
        return Some(StoreEvent::RestartTask {
            connector: name.to_string(),
            task,
        });
    }
    None
}

/// Applies one status-topic record.
pub(super) fn apply_status(view: &mut View, key: &str, payload: Option<&[u8]>) {
    if let Some(name) = key.strip_prefix("status-connector-") {
        match payload {
            None => {
                view.statuses.remove(name);
                view.task_statuses.remove(name);
            }
            Some(p) => {
                if let Some(StatusRecord {
                    snapshot: Some(s), ..
                }) = parse(key, p)
                {
                    view.statuses.insert(name.to_string(), s);
                }
            }
        }
    } else if let Some((name, task)) = key.strip_prefix("status-task-").and_then(name_and_task) {
        let tasks = view.task_statuses.entry(name.to_string()).or_default();
        match payload.and_then(|p| parse::<StatusRecord>(key, p)) {
            None => {
                tasks.remove(&task);
            }
            Some(r) => {
                tasks.insert(
                    task,
                    TaskStatus {
                        state: r.state,
                        trace: r.trace,
                        worker_id: r.worker_id,
                    },
                );
            }
        }
    } else if let Some(worker) = key.strip_prefix("worker-") {
        match payload.and_then(|p| parse::<HeartbeatRecord>(key, p)) {
            Some(h) if h.state == "UP" => {
                view.workers.insert(worker.to_string(), h.at_ms);
            }
            _ => {
                view.workers.remove(worker);
            }
        }
    }
}

/// Workers whose heartbeat is at most `session_ms` old at `now_ms`, sorted.
pub(super) fn live_workers(view: &View, now_ms: i64, session_ms: i64) -> Vec<String> {
    view.workers
        .iter()
        .filter(|(_, at)| now_ms - **at <= session_ms)
        .map(|(id, _)| id.clone())
        .collect()
}

pub(super) fn stored(view: &View, name: &str) -> Option<StoredConnector> {
    let config = view.configs.get(name)?;
    Some(StoredConnector {
        name: name.to_string(),
        config: config.clone(),
        target_state: view
            .targets
            .get(name)
            .copied()
            .unwrap_or(TargetState::Running),
        status: view.statuses.get(name).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(props: &[(&str, &str)]) -> Vec<u8> {
        let properties = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        serde_json::to_vec(&ConnectorRecord { properties }).unwrap()
    }

    fn changed(name: &str) -> Option<StoreEvent> {
        Some(StoreEvent::Connector(name.into()))
    }

    #[test]
    fn last_record_per_key_wins_and_tombstones_delete() {
        let mut view = View::default();
        let first = connector(&[("tasks.max", "1")]);
        let second = connector(&[("tasks.max", "2")]);
        assert_eq!(
            apply_config(&mut view, "connector-a", Some(&first), true),
            changed("a")
        );
        apply_config(&mut view, "connector-a", Some(&second), true);
        apply_config(
            &mut view,
            "target-state-a",
            Some(br#"{"state":"PAUSED"}"#),
            true,
        );
        let a = stored(&view, "a").expect("stored");
        assert_eq!(a.config["tasks.max"], "2");
        assert_eq!(a.target_state, TargetState::Paused);

        // A connector without a target-state record runs.
        apply_config(&mut view, "connector-b", Some(&first), true);
        assert_eq!(
            stored(&view, "b").unwrap().target_state,
            TargetState::Running
        );

        apply_config(&mut view, "target-state-a", None, true);
        apply_config(&mut view, "connector-a", None, true);
        assert!(stored(&view, "a").is_none());
        // Unknown keys (e.g. Connect's task configs) are ignored, and so are bad records.
        assert_eq!(apply_config(&mut view, "task-b-0", Some(b"{}"), true), None);
        assert_eq!(
            apply_config(&mut view, "connector-c", Some(b"not json"), true),
            None
        );
        assert!(stored(&view, "c").is_none());
    }

    #[test]
    fn restart_requests_are_events_only_once_caught_up() {
        let mut view = View::default();
        let request = br#"{"include-tasks":true,"only-failed":false}"#;
        assert_eq!(
            apply_config(&mut view, "restart-connector-my-sink", Some(request), false),
            None,
            "history must not restart anything"
        );
        assert_eq!(
            apply_config(&mut view, "restart-connector-my-sink", Some(request), true),
            Some(StoreEvent::Restart {
                connector: "my-sink".into(),
                include_tasks: true,
                only_failed: false
            })
        );
        assert_eq!(
            apply_config(&mut view, "restart-task-my-sink-12", Some(b"{}"), true),
            Some(StoreEvent::RestartTask {
                connector: "my-sink".into(),
                task: 12
            })
        );
        assert_eq!(
            apply_config(&mut view, "restart-task-my-sink-x", Some(b"{}"), true),
            None
        );
    }

    #[test]
    fn statuses_keep_snapshots_and_per_task_owners() {
        let mut view = View::default();
        let snapshot = StatusSnapshot {
            connector_state: "RUNNING".into(),
            connector_trace: None,
            tasks: vec![],
            at_ms: 1,
        };
        let record = |state: &str, worker: &str, snapshot: Option<StatusSnapshot>| {
            serde_json::to_vec(&StatusRecord {
                state: state.into(),
                trace: None,
                worker_id: worker.into(),
                generation: 0,
                snapshot,
            })
            .unwrap()
        };
        apply_status(
            &mut view,
            "status-connector-a-b",
            Some(&record("RUNNING", "w1:8083", Some(snapshot.clone()))),
        );
        apply_status(
            &mut view,
            "status-task-a-b-1",
            Some(&record("FAILED", "w2:8083", None)),
        );
        assert_eq!(view.statuses.get("a-b"), Some(&snapshot));
        let task = &view.task_statuses["a-b"][&1];
        assert_eq!(
            (task.state.as_str(), task.worker_id.as_str()),
            ("FAILED", "w2:8083")
        );
        apply_status(&mut view, "status-connector-a-b", None);
        assert!(view.statuses.is_empty());
        assert!(view.task_statuses.is_empty());
    }

    #[test]
    fn workers_live_until_their_session_ends_or_they_leave() {
        let mut view = View::default();
        let up = |at: i64| format!(r#"{{"state":"UP","at_ms":{at}}}"#).into_bytes();
        apply_status(&mut view, "worker-127.0.0.1:8083", Some(&up(1_000)));
        apply_status(&mut view, "worker-127.0.0.1:8084", Some(&up(9_000)));
        assert_eq!(
            live_workers(&view, 10_000, 10_000),
            vec!["127.0.0.1:8083", "127.0.0.1:8084"]
        );
        assert_eq!(live_workers(&view, 12_000, 10_000), vec!["127.0.0.1:8084"]);
        apply_status(&mut view, "worker-127.0.0.1:8084", None);
        assert!(live_workers(&view, 12_000, 10_000).is_empty());
    }
}
