//! Standalone mode's tasks are members of the connector's consumer group, as Kafka Connect's
//! standalone tasks are: two standalone workers running the same connector share its
//! partitions (each task of each worker is one member of `connect-<name>`), and between them
//! every record lands once and is committed once.

mod common;

use cassink::produce::{self, Workload};
use common::sink::{committed_total, count, cql, meter_config, meter_table};
use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::{json, Value};
use std::time::Duration;

/// The members of consumer group `group` as the broker describes it.
fn group_members(group: &str) -> usize {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("consumer");
    consumer
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .map(|list| list.groups().iter().map(|g| g.members().len()).sum())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_standalone_workers_running_one_connector_share_its_partitions() {
    require_broker();
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("smeter");
    let partitions = 4;
    produce::ensure_topic(&bootstrap(), &topic, partitions)
        .await
        .expect("create topic");
    let records = 20_000u64;
    produce::produce(&bootstrap(), Workload::Meter, &topic, records, None, 11)
        .await
        .expect("produce");

    let dir = tempfile::tempdir().expect("tempdir");
    let name = unique("ssink");
    let mut config: Value = serde_json::to_value(meter_config(&topic, &keyspace)).unwrap();
    config["tasks.max"] = json!("2");
    let mut workers = Vec::new();
    for i in 0..2 {
        let w = Worker::start_with(
            dir.path(),
            &dir.path().join(format!("state-{i}")),
            free_port(),
        )
        .await;
        w.create_connector(&name, &config).await;
        workers.push(w);
    }

    let group = format!("connect-{name}");
    wait_until(
        "both workers' tasks are members of the connector's group",
        Duration::from_secs(60),
        || async { tokio::task::block_in_place(|| group_members(&group)) == 4 },
    )
    .await;
    wait_until("every record lands", Duration::from_secs(120), || async {
        count(&session, &table).await == records as i64
    })
    .await;
    wait_until(
        "every record committed once",
        Duration::from_secs(60),
        || async { committed_total(&group, &topic, partitions) == records as i64 },
    )
    .await;
    assert_eq!(count(&session, &table).await, records as i64);
    for mut w in workers {
        let (exit, _) = w.terminate(Duration::from_secs(60));
        assert!(exit.success(), "worker exit: {exit}");
    }
}
