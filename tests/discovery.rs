//! Topics and partitions that appear while a task runs: a topic created later that matches
//! `topics.regex` is consumed, and so is a partition added to a topic, without a restart (as
//! Kafka Connect's pattern-subscribed consumers do, on the consumer's metadata refresh).
//! Runs against the local stack (`integration/stack.sh up`) or KAFKA_BOOTSTRAP /
//! CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT.

mod common;

use cassink::produce::{self, Workload};
use common::sink::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::time::Duration;

async fn send(topic: &str, partition: i32, from: u64, count: u64) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    let mut rng = produce::Rng::new(from);
    for i in from..from + count {
        let (key, value) = produce::record(Workload::Meter, i, &mut rng);
        let payload = value.to_string();
        producer
            .send(
                FutureRecord::to(topic)
                    .partition(partition)
                    .key(key.as_bytes())
                    .payload(payload.as_bytes()),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn topics_matching_the_regex_later_and_new_partitions_are_consumed_without_a_restart() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let prefix = unique("disc").replace('-', "_");
    let first = format!("{prefix}_a");
    let later = format!("{prefix}_b");
    common::create_topic(&first, 1).await;
    send(&first, 0, 0, 50).await;

    let mut config = meter_config(&first, &keyspace);
    let mapping = config[&format!("topic.{first}.{keyspace}.meter_data.mapping")].clone();
    config.remove("topics");
    config.insert("topics.regex".into(), format!("{prefix}_.*"));
    config.insert(
        format!("topic.{later}.{keyspace}.meter_data.mapping"),
        mapping,
    );
    // Look for new topics and partitions every second (Connect's consumers: 5 minutes).
    config.insert(
        "consumer.override.metadata.max.age.ms".into(),
        "1000".into(),
    );
    let name = unique("disc-sink");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_rows(&session, &table, 50, &tasks).await;

    // A topic created after the task started, matching the regex.
    common::create_topic(&later, 1).await;
    send(&later, 0, 1_000, 40).await;
    wait_for_rows(&session, &table, 90, &tasks).await;

    // A partition added to the first topic.
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("admin");
    let added = admin
        .create_partitions(&[NewPartitions::new(&first, 2)], &AdminOptions::new())
        .await
        .expect("create partitions");
    assert!(added.iter().all(|r| r.is_ok()), "{added:?}");
    send(&first, 1, 2_000, 30).await;
    wait_for_rows(&session, &table, 120, &tasks).await;

    let group = format!("connect-{name}");
    wait_for_commit(&group, &first, 2, 80, &tasks).await;
    wait_for_commit(&group, &later, 1, 40, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
}
