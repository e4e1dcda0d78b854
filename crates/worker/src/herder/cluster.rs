//! Distributed mode inside the herder: which worker runs which task, the heartbeat and
//! rebalance loop, statuses merged from the status topic, and the events other workers'
//! writes cause.
//!
//! The assignment is a pure function of the live workers (sorted ids, read by every worker
//! from the same status-topic records), so every worker derives the same one without a
//! leader. Kafka's group protocol stays the safety net: a connector's tasks consume as
//! members of `connect-<name>`, so two workers briefly running the same task id (while their
//! views of the membership converge) still never consume one partition twice.

use super::{Herder, Result};
use crate::status::TaskState;
use crate::task::State;
use cassink_store::Distributed;
use cassink_store::{Cluster, StoreError, StoreEvent, TaskSnapshot, TaskStatus};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often membership is re-read and this worker's statuses published.
const TICK: Duration = Duration::from_secs(1);

pub(super) struct Membership {
    cluster: Arc<dyn Cluster>,
    /// The live workers as of the last tick, sorted.
    members: Mutex<Vec<String>>,
    heartbeat: Duration,
    session: Duration,
    sync_timeout: Duration,
}

/// A stable 64-bit FNV-1a hash: every worker, whatever its build, spreads a connector's
/// tasks from the same starting worker.
fn spread(connector: &str) -> u64 {
    connector.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The worker that runs `task` of `connector`: round-robin over the sorted live workers,
/// starting at a per-connector offset so single-task connectors spread too.
fn owner<'a>(members: &'a [String], connector: &str, task: u32) -> Option<&'a str> {
    if members.is_empty() {
        return None;
    }
    let start = (spread(connector) % members.len() as u64) as usize;
    Some(&members[(start + task as usize) % members.len()])
}

impl Membership {
    pub(super) fn new(cluster: Arc<dyn Cluster>, settings: &Distributed) -> Self {
        let members = cluster.live_workers(settings.session);
        Self {
            cluster,
            members: Mutex::new(members),
            heartbeat: settings.heartbeat,
            session: settings.session,
            sync_timeout: settings.sync_timeout,
        }
    }

    fn members(&self) -> Vec<String> {
        self.members
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-reads the live workers; true when they changed.
    fn refresh(&self) -> bool {
        let live = self.cluster.live_workers(self.session);
        let mut members = self.members.lock().unwrap_or_else(|p| p.into_inner());
        if *members == live {
            return false;
        }
        tracing::info!(workers = ?live, previous = ?*members, "the live workers changed");
        *members = live;
        true
    }

    pub(super) fn tasks_of(&self, me: &str, connector: &str, tasks: u32) -> Vec<u32> {
        let members = self.members();
        (0..tasks)
            .filter(|t| owner(&members, connector, *t) == Some(me))
            .collect()
    }

    pub(super) fn connector_owner(&self, connector: &str) -> String {
        owner(&self.members(), connector, 0)
            .unwrap_or_default()
            .to_string()
    }

    pub(super) fn task_statuses(&self, connector: &str) -> BTreeMap<u32, TaskStatus> {
        self.cluster.task_statuses(connector)
    }

    /// A task another worker runs, as its status record says; UNASSIGNED until the worker
    /// the assignment names has reported it.
    pub(super) fn remote_task_state(
        &self,
        connector: &str,
        id: u32,
        remote: &BTreeMap<u32, TaskStatus>,
    ) -> TaskState {
        let owner = owner(&self.members(), connector, id)
            .unwrap_or_default()
            .to_string();
        match remote.get(&id) {
            Some(r) if r.worker_id == owner => TaskState {
                version: env!("CARGO_PKG_VERSION"),
                id,
                state: State::parse(&r.state).unwrap_or(State::Unassigned),
                worker_id: owner,
                trace: r.trace.clone(),
            },
            _ => TaskState {
                version: env!("CARGO_PKG_VERSION"),
                id,
                state: State::Unassigned,
                worker_id: owner,
                trace: None,
            },
        }
    }

    /// Whether the status topic shows `tasks` as this worker (`me`) runs them.
    pub(super) fn reports_match(&self, me: &str, connector: &str, tasks: &[TaskSnapshot]) -> bool {
        let reported = self.cluster.task_statuses(connector);
        tasks.iter().all(|t| {
            reported
                .get(&t.id)
                .is_some_and(|r| r.worker_id == me && r.state == t.state && r.trace == t.trace)
        })
    }

    pub(super) fn sync(&self) -> Result<(), StoreError> {
        self.cluster.sync(self.sync_timeout)
    }

    pub(super) fn request_restart(
        &self,
        connector: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<()> {
        Ok(self
            .cluster
            .request_restart(connector, include_tasks, only_failed)?)
    }

    pub(super) fn request_task_restart(&self, connector: &str, task: u32) -> Result<()> {
        Ok(self.cluster.request_task_restart(connector, task)?)
    }

    pub(super) fn leave(&self) {
        if let Err(e) = self.cluster.leave() {
            tracing::warn!("cannot tell the other workers this one leaves: {e}");
        }
    }
}

impl Herder {
    /// Distributed mode: applies what the store announces (other workers' writes and this
    /// one's), beats the heart, and moves tasks when workers join or leave; until the
    /// process ends.
    pub fn run_distributed(
        self: &Arc<Self>,
        mut changes: tokio::sync::mpsc::UnboundedReceiver<StoreEvent>,
    ) {
        let herder = self.clone();
        tokio::spawn(async move {
            while let Some(event) = changes.recv().await {
                herder.apply_event(event).await;
            }
        });
        let herder = self.clone();
        tokio::spawn(async move {
            let Some(m) = &herder.cluster else { return };
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_beat: Option<Instant> = None;
            loop {
                tick.tick().await;
                if last_beat.is_none_or(|t| t.elapsed() >= m.heartbeat) {
                    match m.cluster.heartbeat() {
                        Ok(()) => {
                            last_beat = Some(Instant::now());
                            herder.storage_result(None);
                        }
                        Err(e) => {
                            tracing::warn!("cannot send the worker heartbeat: {e}");
                            herder.storage_result(Some(format!(
                                "cannot send the worker heartbeat to the status topic: {e}"
                            )));
                        }
                    }
                }
                if m.refresh() {
                    herder.rebalance().await;
                }
                herder.persist_statuses().await;
            }
        });
    }

    async fn apply_event(&self, event: StoreEvent) {
        match event {
            StoreEvent::Connector(name) => self.reconcile(&name).await,
            StoreEvent::Restart {
                connector,
                include_tasks,
                only_failed,
            } => {
                let _change = self.changing(&connector).await;
                self.apply_restart(&connector, include_tasks, only_failed)
                    .await;
            }
            StoreEvent::RestartTask { connector, task } => {
                let _change = self.changing(&connector).await;
                self.restart_tasks(&connector, &[task]).await;
            }
        }
    }

    /// Brings every connector's local tasks in line with the current assignment: stops the
    /// tasks that moved away (draining and committing) and starts the ones that moved here.
    async fn rebalance(&self) {
        for name in self.names().await {
            let _change = self.changing(&name).await;
            self.align(&name).await;
        }
    }

    /// The caller holds the change lock of `name`.
    async fn align(&self, name: &str) {
        let plan = self.with_connector(name, |c| {
            if c.failure.is_some() || c.task_count == 0 {
                return None;
            }
            let wanted = self.my_tasks(name, c.task_count);
            let gone: Vec<u32> = c
                .tasks
                .keys()
                .copied()
                .filter(|id| !wanted.contains(id))
                .collect();
            Some((gone, wanted))
        });
        let Ok(Some((gone, wanted))) = plan.await else {
            return;
        };
        self.replace_tasks(name, &gone, &wanted).await;
        tracing::info!(connector = name, moved_away = ?gone, "tasks rebalanced");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("127.0.0.1:{}", 8083 + i)).collect()
    }

    #[test]
    fn tasks_spread_evenly_and_every_task_has_one_owner() {
        let members = workers(3);
        for connector in ["meter-sink", "tweets-sink", "weather-sink"] {
            let owners: Vec<&str> = (0..6)
                .map(|t| owner(&members, connector, t).expect("an owner"))
                .collect();
            for m in &members {
                assert_eq!(owners.iter().filter(|o| **o == m.as_str()).count(), 2);
            }
        }
        assert_eq!(owner(&[], "x", 0), None);
    }

    #[test]
    fn single_task_connectors_do_not_all_land_on_one_worker() {
        let members = workers(3);
        let firsts: std::collections::BTreeSet<&str> = (0..20)
            .map(|i| owner(&members, &format!("sink-{i}"), 0).expect("owner"))
            .collect();
        assert_eq!(firsts.len(), 3);
    }

    #[test]
    fn the_spread_is_stable_across_builds() {
        // FNV-1a of "a": fixed by the algorithm, not by the toolchain.
        assert_eq!(spread("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
