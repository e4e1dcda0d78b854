//! Topics and partitions that appear while a task runs: a topic created later that matches
//! `topics.regex` is consumed, and so is a partition added to a topic, without a restart (as
//! Kafka Connect's pattern-subscribed consumers do, on the consumer's metadata refresh).
//! Runs against the local stack (`integration/stack.sh up`) or KAFKA_BOOTSTRAP /
//! CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT.

mod common;

use common::sink::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn topics_matching_the_regex_later_and_new_partitions_are_consumed_without_a_restart() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let prefix = unique("disc").replace('-', "_");
    let first = format!("{prefix}_a");
    let later = format!("{prefix}_b");
    common::create_topic(&first, 1).await;
    send_meter(&first, Some(0), 0, 50).await;

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
    send_meter(&later, Some(0), 1_000, 40).await;
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
    send_meter(&first, Some(1), 2_000, 30).await;
    wait_for_rows(&session, &table, 120, &tasks).await;

    let group = format!("connect-{name}");
    wait_for_commit(&group, &first, 2, 80, &tasks).await;
    wait_for_commit(&group, &later, 1, 40, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
}

/// `auto.offset.reset` (here as a connector override) decides where a group without
/// committed offsets starts: with `latest`, the records already in the topic are not written,
/// the ones produced afterwards are.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auto_offset_reset_latest_skips_what_was_there_before_the_group_existed() {
    let session = cql().await;
    let ks = keyspace_with(
        &session,
        "reset",
        &["CREATE TABLE {ks}.seen (id int PRIMARY KEY, v int)"],
    )
    .await;
    let topic = unique("reset");
    common::create_topic(&topic, 1).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    let send = |id: i32| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            let payload = format!(r#"{{"id":{id},"v":1}}"#);
            producer
                .send(
                    FutureRecord::<str, str>::to(&topic).payload(&payload),
                    Duration::from_secs(10),
                )
                .await
                .map_err(|(e, _)| e)
                .expect("produce");
        }
    };
    for id in 0..5 {
        send(id).await;
    }
    let config = json_config(
        &topic,
        &ks,
        "seen",
        "id=value.id, v=value.v",
        &[("consumer.override.auto.offset.reset", "latest")],
    );
    let tasks = spawn_tasks(&unique("reset-sink"), &config, 1);
    // New records until one lands: the consumer has found its start by then.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut next = 100;
    while count(&session, &format!("{ks}.seen")).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no record produced after the start landed: {:?}",
            tasks.iter().map(|t| t.status()).collect::<Vec<_>>()
        );
        send(next).await;
        next += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    let ids: Vec<i32> = rows(&session, &format!("SELECT id FROM {ks}.seen"))
        .await
        .iter()
        .filter_map(|r| {
            cdrs_tokio::types::IntoRustByName::<i32>::get_by_name(r, "id")
                .ok()
                .flatten()
        })
        .collect();
    assert!(
        ids.iter().all(|id| *id >= 100),
        "records from before the start were written: {ids:?}"
    );
}
