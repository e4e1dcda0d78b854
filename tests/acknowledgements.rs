//! What a task commits when records fail: never past a record that was neither written nor
//! deliberately skipped, on any partition; one failure per record however many tables it goes
//! to; a task that panics is FAILED with a trace. Runs against the local stack
//! (`integration/stack.sh up`) or KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT.

mod common;

use async_trait::async_trait;
use cassink::config::{ConfigDef, ConfigMap, ConfigValue};
use cassink::connector::{Framework, SinkConnector, SinkError, SinkTask, TaskContext};
use cassink::produce::{self, Workload};
use cassink::record::SinkRecord;
use cassink::worker::task::{State, TaskHandle, TaskSpec};
use common::sink::*;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A meter reading no table can take: its `id` is not a uuid (the sink rejects it; it
/// converts fine).
const BAD_READING: &str = r#"{"id":"not-a-uuid","timestamp":1612891980000,"P_1":1.0,"P_2":1.0,"P_3":1.0,"Q_1":1.0,"Q_2":1.0,"Q_3":1.0,"HARM":[1]}"#;

/// Produces `per_partition` records to each partition of `topic`; the records at
/// `bad[partition]` are [`BAD_READING`], the others good meter readings. Everything is in
/// the topic before a task starts, so a task reads records of every partition in one chunk.
async fn produce_with_bad(
    topic: &str,
    partitions: i32,
    per_partition: i64,
    bad: &BTreeMap<i32, i64>,
) {
    common::create_topic(topic, partitions).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    let mut rng = produce::Rng::new(11);
    let mut index = 0u64;
    for partition in 0..partitions {
        for offset in 0..per_partition {
            let (key, value) = produce::record(Workload::Meter, index, &mut rng);
            index += 1;
            let value = if bad.get(&partition) == Some(&offset) {
                BAD_READING.to_string()
            } else {
                value.to_string()
            };
            producer
                .send(
                    FutureRecord::to(topic)
                        .partition(partition)
                        .key(key.as_bytes())
                        .payload(value.as_bytes()),
                    Duration::from_secs(10),
                )
                .await
                .map_err(|(e, _)| e)
                .expect("produce");
        }
    }
}

fn positions(dead: Vec<DeadLetter>) -> Vec<(i32, i64)> {
    dead.into_iter().map(|d| (d.partition, d.offset)).collect()
}

fn with(mut config: ConfigMap, extra: &[(&str, &str)]) -> ConfigMap {
    for (k, v) in extra {
        config.insert(k.to_string(), v.to_string());
    }
    config
}

async fn stop_all(tasks: Vec<TaskHandle>) {
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_record_on_any_partition_is_never_committed_past_and_is_dead_lettered_after_a_restart(
) {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("acks_none");
    let partitions = 3;
    let per_partition = 10;
    // Rejected records on two partitions; the third has none.
    let bad: BTreeMap<i32, i64> = [(0, 4), (1, 7)].into();
    produce_with_bad(&topic, partitions, per_partition, &bad).await;
    let name = unique("acks-none-sink");
    let group = format!("connect-{name}");

    // errors.tolerance=none: the task fails on the first rejected record.
    let tasks = spawn_tasks(&name, &meter_config(&topic, &keyspace), 1);
    let status = wait_for_failure(&tasks[0], Duration::from_secs(60)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(
        bad.iter()
            .any(|(p, o)| trace.contains(&format!("topic={topic} partition={p} offset={o}"))),
        "the trace names a rejected record: {trace}"
    );
    stop_all(tasks).await;
    let after_failure = committed_by_partition(&group, &topic, partitions);
    for (partition, offset) in &after_failure {
        let limit = bad.get(partition).copied().unwrap_or(per_partition);
        assert!(
            *offset <= limit,
            "partition {partition} committed {offset}, past its rejected record at {limit}: {after_failure:?}"
        );
    }

    // The same connector restarted with errors.tolerance=all: both rejected records reach the
    // dead-letter queue (neither was skipped by the commit), and every good record lands.
    let dlq = unique("acks_none_dlq");
    let config = with(
        meter_config(&topic, &keyspace),
        &[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", dlq.as_str()),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    let tasks = spawn_tasks(&name, &config, 1);
    let total = partitions as i64 * per_partition;
    wait_for_commit(&group, &topic, partitions, total, &tasks).await;
    stop_all(tasks).await;
    assert_eq!(
        count(&session, &format!("{keyspace}.meter_data")).await,
        total - bad.len() as i64
    );
    let expected: Vec<(i32, i64)> = bad.into_iter().collect();
    assert_eq!(positions(dead_letters(&dlq, expected.len())), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_record_rejected_by_two_tables_is_one_failure() {
    let session = cql().await;
    let first = meter_table(&session).await;
    let second = meter_table(&session).await;
    let topic = unique("acks_two_tables");
    let per_partition = 6;
    let bad: BTreeMap<i32, i64> = [(0, 2)].into();
    produce_with_bad(&topic, 1, per_partition, &bad).await;
    let name = unique("acks-two-tables-sink");
    let dlq = unique("acks_two_tables_dlq");
    let mut config = with(
        meter_config(&topic, &first),
        &[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", dlq.as_str()),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    let mapping = config[&format!("topic.{topic}.{first}.meter_data.mapping")].clone();
    config.insert(
        format!("topic.{topic}.{second}.meter_data.mapping"),
        mapping,
    );
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_commit(&format!("connect-{name}"), &topic, 1, per_partition, &tasks).await;
    for t in &tasks {
        assert_eq!(t.status().state, State::Running, "{:?}", t.status().trace);
    }
    stop_all(tasks).await;
    for ks in [&first, &second] {
        assert_eq!(
            count(&session, &format!("{ks}.meter_data")).await,
            per_partition - 1,
            "{ks}"
        );
    }
    assert_eq!(
        positions(dead_letters(&dlq, 1)),
        vec![(0, 2)],
        "one dead-letter record for one record"
    );
}

/// A sink whose `put` panics, to check the task ends FAILED instead of staying RUNNING.
struct PanickingSink;

#[async_trait]
impl SinkTask for PanickingSink {
    async fn put(
        &mut self,
        records: &[SinkRecord],
    ) -> Result<Vec<cassink::connector::RecordFailure>, SinkError> {
        panic!("a bug in the sink, at {}", records[0].position);
    }
}

struct PanickingConnector(ConfigDef);

#[async_trait]
impl SinkConnector for PanickingConnector {
    fn class_name(&self) -> &'static str {
        "test.PanickingSinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    fn version(&self) -> &'static str {
        "0"
    }
    fn config_def(&self) -> &ConfigDef {
        &self.0
    }
    fn validate(&self, _config: &ConfigMap, _framework: Framework) -> Vec<ConfigValue> {
        Vec::new()
    }
    async fn start_task(
        &self,
        _ctx: TaskContext,
        _config: ConfigMap,
    ) -> Result<Box<dyn SinkTask>, SinkError> {
        Ok(Box::new(PanickingSink))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_that_panics_is_failed_with_a_trace() {
    let topic = unique("acks_panic");
    produce_with_bad(&topic, 1, 3, &BTreeMap::new()).await;
    let name = unique("acks-panic-sink");
    let mut config = ConfigMap::new();
    config.insert("topics".into(), topic.clone());
    for part in ["key.converter", "value.converter"] {
        config.insert(
            part.into(),
            "org.apache.kafka.connect.storage.StringConverter".into(),
        );
    }
    let task = TaskHandle::spawn(TaskSpec {
        connector: name.clone(),
        task_id: 0,
        tasks: 1,
        config,
        worker: worker(),
        plugin: Arc::new(PanickingConnector(ConfigDef::default())),
        paused: false,
    });
    let status = wait_for_failure(&task, Duration::from_secs(60)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(trace.contains("a bug in the sink"), "{trace}");
    assert!(trace.contains(&format!("{topic}-0@0")), "{trace}");
    task.stop(Duration::from_secs(10)).await;
    assert_eq!(
        committed_by_partition(&format!("connect-{name}"), &topic, 1)[&0],
        0,
        "nothing written, nothing committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_override_librdkafka_rejects_fails_the_task_with_its_reason() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("acks_override");
    produce_with_bad(&topic, 1, 1, &BTreeMap::new()).await;
    let config = with(
        meter_config(&topic, &keyspace),
        &[("consumer.override.fetch.min.bytes", "-5")],
    );
    let tasks = spawn_tasks(&unique("acks-override-sink"), &config, 1);
    let status = wait_for_failure(&tasks[0], Duration::from_secs(30)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(trace.contains("fetch.min.bytes"), "{trace}");
    assert!(trace.contains("-5"), "librdkafka's reason: {trace}");
    stop_all(tasks).await;
}
